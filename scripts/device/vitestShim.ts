/**
 * A minimal stand-in for the `vitest` module, so that the GPU test files can run from one
 * esbuild bundle under plain `node` on a machine with no npm registry (a lent GPU machine; see
 * scripts/device/bundle.ts). It implements only what those files use: describe (and
 * describe.each), it, beforeAll, afterAll, and the real matchers of @vitest/expect on chai.
 * Tests run in registration order, one at a time, each under a time limit; `runRegistered` prints
 * one line per test and returns the number that failed.
 */
import * as chai from 'chai';
import {
  ASYMMETRIC_MATCHERS_OBJECT,
  getState,
  JestAsymmetricMatchers,
  JestChaiExpect,
  JestExtend,
  setState,
} from '@vitest/expect';

chai.use(JestExtend);
chai.use(JestChaiExpect);
chai.use(JestAsymmetricMatchers);

type Hook = () => unknown;
interface Suite {
  name: string;
  beforeAll: Hook[];
  afterAll: Hook[];
  children: (Suite | Test)[];
}
interface Test {
  name: string;
  fn: Hook;
}

const root: Suite = { name: '', beforeAll: [], afterAll: [], children: [] };
let current = root;

// The shape vitest's expect has: a function with chai's statics and the asymmetric matchers.
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the test files type-check against vitest's own types
export const expect: any = (value: unknown, message?: string) => {
  const state = getState(expect);
  setState({ assertionCalls: (state?.assertionCalls ?? 0) + 1 }, expect);
  return chai.expect(value, message);
};
Object.assign(expect, chai.expect);
Object.assign(expect, (globalThis as Record<symbol, unknown>)[ASYMMETRIC_MATCHERS_OBJECT]);
expect.getState = () => getState(expect);
expect.setState = (state: object) => setState(state, expect);
setState({ assertionCalls: 0, isExpectingAssertions: false, expectedAssertionsNumber: null }, expect);

function describeImpl(name: string, body: () => void): void {
  const suite: Suite = { name, beforeAll: [], afterAll: [], children: [] };
  current.children.push(suite);
  const parent = current;
  current = suite;
  try {
    body();
  } finally {
    current = parent;
  }
}

/** `$key` takes an object row's field; `%s`, `%d`, `%i`, `%j` take the row's values in turn. */
function title(template: string, row: unknown): string {
  const values = Array.isArray(row) ? [...row] : [row];
  const named = template.replace(/\$(\w+)/g, (_, key: string) =>
    String((row as Record<string, unknown> | null)?.[key]),
  );
  return named.replace(/%[sdij]/g, () => {
    const value = values.shift();
    return typeof value === 'object' ? JSON.stringify(value) : String(value);
  });
}

export const describe = Object.assign(describeImpl, {
  each:
    (rows: unknown[]) =>
    (name: string, body: (...args: unknown[]) => void): void => {
      for (const row of rows)
        describeImpl(title(name, row), () => body(...(Array.isArray(row) ? row : [row])));
    },
});

export function it(name: string, fn: Hook): void {
  current.children.push({ name, fn });
}
export const test = it;
export const beforeAll = (fn: Hook): void => void current.beforeAll.push(fn);
export const afterAll = (fn: Hook): void => void current.afterAll.push(fn);

async function withLimit(fn: Hook, seconds: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no result within ${seconds} s`)), seconds * 1000);
  });
  try {
    await Promise.race([Promise.resolve().then(fn), limit]);
  } finally {
    clearTimeout(timer);
  }
}

async function runSuite(
  suite: Suite,
  path: string,
  seconds: number,
  tally: { passed: number; failed: number },
): Promise<void> {
  const where = suite.name ? (path ? `${path} › ${suite.name}` : suite.name) : path;
  try {
    for (const hook of suite.beforeAll) await withLimit(hook, seconds);
  } catch (error) {
    const count = countTests(suite);
    tally.failed += count;
    console.log(`FAIL ${where} (beforeAll, ${count} tests not run): ${String(error).split('\n')[0]}`);
    return;
  }
  for (const child of suite.children) {
    if ('children' in child) {
      await runSuite(child, where, seconds, tally);
      continue;
    }
    const start = performance.now();
    try {
      await withLimit(child.fn, seconds);
      tally.passed++;
      console.log(`ok   ${where} › ${child.name} (${((performance.now() - start) / 1000).toFixed(2)} s)`);
    } catch (error) {
      tally.failed++;
      console.log(`FAIL ${where} › ${child.name}: ${String(error).split('\n').slice(0, 3).join(' | ')}`);
    }
  }
  for (const hook of suite.afterAll) await withLimit(hook, seconds).catch(() => undefined);
}

function countTests(suite: Suite): number {
  return suite.children.reduce((sum, child) => sum + ('children' in child ? countTests(child) : 1), 0);
}

/** Runs every registered test; resolves to the number of failures. */
export async function runRegistered(secondsPerTest: number): Promise<number> {
  const tally = { passed: 0, failed: 0 };
  await runSuite(root, '', secondsPerTest, tally);
  console.log(`${tally.passed} passed, ${tally.failed} failed`);
  return tally.failed;
}
