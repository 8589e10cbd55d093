/**
 * Issue 12: names from a model reach the terminal escaped. A layer named with an escape sequence and
 * a newline is printed as visible `\x1b` and `\n`, never as raw control characters.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeModel } from '../core/onnx/index.ts';
import { outputLayerClassifier, patternValues } from '../testing/classifierModels.ts';
import { comqInProcess } from '../testing/cliProcess.ts';
import { npyFloat32 } from '../testing/npy.ts';

const work = mkdtempSync(join(tmpdir(), 'comq-names-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('comq quantize prints model names safely', () => {
  it('escapes control characters in layer names on stdout and stderr', async () => {
    const model = outputLayerClassifier({ input: [3, 8, 8], features: 4, classes: 3 });
    const evil = 'fc\u001b[2J\nFAKE LINE';
    model.graph!.node!.find((n) => n.name === 'fc')!.name = evil;
    const modelPath = join(work, 'evil.onnx');
    writeFileSync(modelPath, encodeModel(model));
    const inputs = join(work, 'inputs');
    mkdirSync(inputs);
    for (let i = 0; i < 4; i++)
      writeFileSync(join(inputs, `s${i}.npy`), npyFloat32(patternValues(3 * 64, i), [1, 3, 8, 8]));
    const run = await comqInProcess([
      'quantize',
      modelPath,
      '--inputs',
      inputs,
      '--out',
      join(work, 'out.onnx'),
      '--backend',
      'cpu',
      '--no-progress',
    ]);
    expect(run.code).toBe(0);
    const printed = run.stdout + run.stderr;
    expect(printed).toContain('fc\\x1b[2J\\nFAKE LINE');
    expect(printed).not.toContain('\u001b');
    expect(printed.split('\n').some((line) => line.startsWith('FAKE LINE'))).toBe(false);
  });
});
