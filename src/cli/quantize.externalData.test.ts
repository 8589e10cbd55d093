/**
 * `comq quantize --data FILE`: a model whose weights sit in an external data file quantizes like the
 * same model with inline weights (the studio accepted such models; the command line now does too),
 * and without the file the command names the flag to give (exit 2).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeModel, float32Tensor } from '../core/onnx/index.ts';
import { outputLayerClassifier, patternValues } from '../testing/classifierModels.ts';
import { npyFloat32 } from '../testing/npy.ts';
import { externalFloatTensor } from '../testing/onnxBuilders.ts';
import { comqInProcess as comq } from '../testing/cliProcess.ts';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-external-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('comq quantize --data', () => {
  it('quantizes a model with an external weight file exactly as the inline model, and asks for --data without it', async () => {
    const spec = { input: [3, 8, 8] as [number, number, number], features: 6, classes: 5 };
    const inline = outputLayerClassifier(spec);
    const weights = inline.graph!.initializer!.find((t) => t.name === 'fc_w')!;
    const values = patternValues(spec.classes * spec.features, 3, 0.8);
    expect(weights).toEqual(float32Tensor('fc_w', [spec.classes, spec.features], values));
    const external = {
      ...inline,
      graph: {
        ...inline.graph,
        initializer: inline.graph!.initializer!.map((t) =>
          t.name === 'fc_w' ? externalFloatTensor('fc_w', [spec.classes, spec.features], 'fc.bin') : t,
        ),
      },
    };
    writeFileSync(join(work, 'inline.onnx'), encodeModel(inline));
    writeFileSync(join(work, 'external.onnx'), encodeModel(external));
    writeFileSync(join(work, 'fc.bin'), new Uint8Array(values.buffer));
    const calib = join(work, 'calib');
    mkdirSync(calib);
    for (let i = 0; i < 6; i++)
      writeFileSync(join(calib, `s${i}.npy`), npyFloat32(patternValues(3 * 64, 20 + i), [1, 3, 8, 8]));

    const args = (model: string, label: string) => [
      'quantize',
      join(work, model),
      '--inputs',
      calib,
      '--bits',
      '4',
      '--out',
      join(work, `${label}.q.onnx`),
      '--report',
      join(work, `${label}.json`),
      '--backend',
      'cpu',
      '--no-progress',
    ];
    // The same model in a folder without fc.bin: nothing beside it, so the command asks for --data.
    mkdirSync(join(work, 'alone'));
    writeFileSync(join(work, 'alone', 'external.onnx'), encodeModel(external));
    const missing = await comq(args(join('alone', 'external.onnx'), 'missing'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/external data files; give them with --data/);

    const a = await comq(args('inline.onnx', 'inline'));
    const b = await comq([...args('external.onnx', 'external'), '--data', join(work, 'fc.bin')]);
    expect([a.code, b.code]).toEqual([0, 0]);
    const layers = (label: string) =>
      (
        JSON.parse(readFileSync(join(work, `${label}.json`), 'utf8')) as { layers: { relError: number }[] }
      ).layers.map((l) => l.relError);
    expect(layers('external')).toEqual(layers('inline'));
    expect(readFileSync(join(work, 'external.q.onnx'))).toEqual(readFileSync(join(work, 'inline.q.onnx')));

    // Without --data, fc.bin beside the model is found (the tests run from the repository root,
    // another folder than the model's: the location is resolved against the model's folder).
    expect(process.cwd()).not.toBe(work);
    const beside = await comq(args('external.onnx', 'beside'));
    expect(beside.code).toBe(0);
    expect(readFileSync(join(work, 'beside.q.onnx'))).toEqual(readFileSync(join(work, 'inline.q.onnx')));

    // A location that leaves the model's folder is refused, even when the file exists there.
    const escaping = {
      ...inline,
      graph: {
        ...inline.graph,
        initializer: inline.graph!.initializer!.map((t) =>
          t.name === 'fc_w' ? externalFloatTensor('fc_w', [spec.classes, spec.features], '../fc.bin') : t,
        ),
      },
    };
    writeFileSync(join(work, 'alone', 'escaping.onnx'), encodeModel(escaping));
    const refused = await comq(args(join('alone', 'escaping.onnx'), 'escaping'));
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim().split('\n')).toHaveLength(1);
    expect(refused.stderr).toMatch(/external data location '\.\.\/fc\.bin' is outside the model's folder/);
    expect(existsSync(join(work, 'escaping.q.onnx'))).toBe(false);
  });
});
