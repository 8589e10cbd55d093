/**
 * loadModel's external data (issue 12): without --data the files a model names are read from the
 * model's folder; a location outside it (absolute, '..') is refused, and a named file that is not a
 * readable regular file is refused naming it. Models are built here; nothing is run.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInputError } from '../core/base/inputError.ts';
import { encodeModel, type ModelProto } from '../core/onnx/index.ts';
import { outputLayerClassifier } from '../testing/classifierModels.ts';
import { externalFloatTensor } from '../testing/onnxBuilders.ts';
import { loadModel } from './readModel.ts';

const spec = { input: [3, 8, 8] as [number, number, number], features: 6, classes: 5 };
const inline = outputLayerClassifier(spec);
const withLocation = (location: string): ModelProto => ({
  ...inline,
  graph: {
    ...inline.graph,
    initializer: inline.graph!.initializer!.map((t) =>
      t.name === 'fc_w' ? externalFloatTensor('fc_w', [spec.classes, spec.features], location) : t,
    ),
  },
});

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-readmodel-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function refusal(modelPath: string): string {
  try {
    loadModel(modelPath, []);
  } catch (error) {
    expect(isInputError(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`${modelPath} was loaded`);
}

describe('loadModel external data beside the model', () => {
  it('reads the file the model names from the model folder, whatever the current directory', () => {
    const dir = join(work, 'beside');
    mkdirSync(dir);
    writeFileSync(join(dir, 'm.onnx'), encodeModel(withLocation('fc.bin')));
    writeFileSync(
      join(dir, 'fc.bin'),
      new Uint8Array(new Float32Array(spec.classes * spec.features).fill(0.5).buffer),
    );
    expect(process.cwd()).not.toBe(dir);
    const loaded = loadModel(join(dir, 'm.onnx'), []);
    const fc = loaded.resolved?.graph?.initializer?.find((t) => t.name === 'fc_w');
    expect(fc?.rawData?.length).toBe(4 * spec.classes * spec.features);
    expect(fc?.externalData).toBeUndefined();
  });

  it('refuses an absolute location and a ../ location, naming the model and the location', () => {
    const dir = join(work, 'escape');
    mkdirSync(dir);
    writeFileSync(join(dir, 'abs.onnx'), encodeModel(withLocation('/etc/passwd')));
    writeFileSync(join(dir, 'up.onnx'), encodeModel(withLocation('../x.bin')));
    expect(refusal(join(dir, 'abs.onnx'))).toMatch(
      /abs\.onnx: external data location '\/etc\/passwd' is outside the model's folder/,
    );
    expect(refusal(join(dir, 'up.onnx'))).toMatch(
      /up\.onnx: external data location '\.\.\/x\.bin' is outside the model's folder/,
    );
  });

  it('refuses an external-data file that is a named pipe or a directory, naming it', () => {
    const dir = join(work, 'unreadable');
    mkdirSync(dir);
    writeFileSync(join(dir, 'pipe.onnx'), encodeModel(withLocation('pipe.bin')));
    execFileSync('mkfifo', [join(dir, 'pipe.bin')]);
    writeFileSync(join(dir, 'dir.onnx'), encodeModel(withLocation('dir.bin')));
    mkdirSync(join(dir, 'dir.bin'));
    expect(refusal(join(dir, 'pipe.onnx'))).toMatch(/pipe\.bin: is a named pipe \(FIFO\), not a file/);
    expect(refusal(join(dir, 'dir.onnx'))).toMatch(/dir\.bin: is a directory/);
  });
});
