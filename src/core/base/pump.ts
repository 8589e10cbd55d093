/**
 * Turns callback-style progress (evaluateModels' onSample/onSkip, the solver's onDescent) into
 * events a generator can yield while the work runs, so a shell's progress moves during the work,
 * not after it.
 */
export async function* pump<E, R>(work: (emit: (event: E) => void) => Promise<R>): AsyncGenerator<E, R> {
  const queue: E[] = [];
  let wake: (() => void) | undefined;
  let finished = false;
  const emit = (event: E): void => {
    queue.push(event);
    wake?.();
  };
  const running = work(emit).finally(() => {
    finished = true;
    wake?.();
  });
  // A rejection is rethrown by `await running` below; this keeps it from being reported as unhandled meanwhile.
  running.catch(() => undefined);
  for (;;) {
    while (queue.length > 0) yield queue.shift()!;
    if (finished) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  return await running;
}
