/**
 * Progress of `comq quantize` on stderr: a cli-progress bar per stage on a terminal, plain lines
 * otherwise (logs and pipes get one line per stage, per capture pass and per layer, no control
 * characters). stdout stays for the final table.
 */
import { safeText } from '../core/base/safeText.ts';
import cliProgress from 'cli-progress';
import type { ProgressEvent } from '../core/pipeline/types.ts';

export interface ProgressSink {
  event(event: ProgressEvent): void;
  /** A free-form note (e.g. which images were held out). */
  note(text: string): void;
  /** Evaluation progress, one call per sample. */
  evalSample(done: number, total: number): void;
  stop(): void;
}

const fmt = (x: number): string => (Number.isFinite(x) ? x.toPrecision(3) : String(x));

/**
 * A pass's estimated forward cost, as the capture reports it: " (0.12 of a forward pass; all 6
 * passes 2.40)", the total said on the first pass only.
 */
function passCost(event: Extract<ProgressEvent, { type: 'capture' }>): string {
  if (event.forwardShare === undefined) return '';
  const total =
    event.pass === 1 && event.forwardTotal !== undefined && event.passes > 1
      ? `; all ${event.passes} passes ${event.forwardTotal.toFixed(2)}`
      : '';
  return ` (${event.forwardShare.toFixed(2)} of a forward pass${total})`;
}

/** Plain lines: for non-TTY stderr, and what the tests read. */
export function plainProgress(write: (text: string) => void): ProgressSink {
  let lastPass = -1;
  return {
    event(event) {
      switch (event.type) {
        case 'stage':
          write(`[${event.stage}] ${event.message}\n`);
          break;
        case 'skip':
          write(`skipped ${event.what} ${safeText(event.name)}: ${safeText(event.reason)}\n`);
          break;
        case 'capture':
          // One line per pass (at its first sample), not one per sample; pass and sample are 1-based.
          if (event.pass !== lastPass) {
            lastPass = event.pass;
            write(`capture pass ${event.pass}/${event.passes}${passCost(event)}: ${event.samples} samples\n`);
          }
          break;
        case 'layer-done':
          write(
            `layer ${event.index + 1}/${event.count} ${safeText(event.layer.name)}: rel. error ${fmt(event.layer.relError)} (RTN ${fmt(event.layer.rtnRelError)}), ${event.layer.seconds.toFixed(2)} s\n`,
          );
          break;
        case 'timing':
          write(`[${event.stage}] ${event.seconds.toFixed(2)} s\n`);
          break;
        default:
          break;
      }
    },
    note(text) {
      write(`${text}\n`);
    },
    evalSample(done, total) {
      if (done === total || done === 1) write(`evaluate: ${done}/${total} samples\n`);
    },
    stop() {},
  };
}

/** A bar per long stage (capture passes × samples, solve layers, evaluation samples). */
export function barProgress(stream: NodeJS.WriteStream): ProgressSink {
  let bar: cliProgress.SingleBar | undefined;
  let barKey = '';
  const stopBar = () => {
    bar?.stop();
    bar = undefined;
    barKey = '';
  };
  const ensureBar = (key: string, label: string, total: number) => {
    if (barKey === key && bar) return bar;
    stopBar();
    bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${label.padEnd(9)} [{bar}] {value}/{total} {detail}`,
        hideCursor: true,
        clearOnComplete: false,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { detail: '' });
    barKey = key;
    return bar;
  };
  const line = (text: string) => {
    // Print above the bar: stop it, write, and let the next event start a fresh one.
    stopBar();
    stream.write(`${text}\n`);
  };
  return {
    event(event) {
      switch (event.type) {
        case 'stage':
          line(`[${event.stage}] ${event.message}`);
          break;
        case 'skip':
          line(`skipped ${event.what} ${safeText(event.name)}: ${safeText(event.reason)}`);
          break;
        case 'capture':
          ensureBar('capture', 'capture', event.passes * event.samples).update(
            (event.pass - 1) * event.samples + event.sample,
            {
              detail: `pass ${event.pass}/${event.passes}${passCost(event)}`,
            },
          );
          break;
        case 'layer-start':
          ensureBar('solve', 'solve', event.count).update(event.index, { detail: safeText(event.layer) });
          break;
        case 'sweep':
          bar?.update({
            detail: `${safeText(event.layer)} sweep ${event.sweep} rel. error ${fmt(event.relError)}`,
          });
          break;
        case 'layer-done':
          ensureBar('solve', 'solve', event.count).update(event.index + 1, {
            detail: `${safeText(event.layer.name)} ${fmt(event.layer.relError)}`,
          });
          break;
        default:
          break;
      }
    },
    note(text) {
      line(text);
    },
    evalSample(done, total) {
      ensureBar('evaluate', 'evaluate', total).update(done, { detail: '' });
    },
    stop: stopBar,
  };
}

/** The bar on an interactive stderr (unless disabled), plain lines everywhere else. */
export function createProgress(enabled: boolean, stderr: (text: string) => void): ProgressSink {
  if (enabled && process.stderr.isTTY) return barProgress(process.stderr);
  return plainProgress(stderr);
}
