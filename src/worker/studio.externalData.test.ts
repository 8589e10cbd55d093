/**
 * External data in the studio (issue 12 item 4): the data file is dropped with the model; a missing
 * file is named; a location outside the model's folder ('../x', an absolute path) is refused even
 * when a dropped file has the same last part (the CLI's check, src/core/onnx/externalLocations.ts).
 */
import { describe, expect, it } from 'vitest';
import { encodeModel, type ModelProto } from '../core/onnx/index.ts';
import { outputLayerClassifier, patternValues } from '../testing/classifierModels.ts';
import { externalFloatTensor } from '../testing/onnxBuilders.ts';
import { StudioError } from './errors.ts';
import type { InputFile } from './protocol.ts';
import { createStudio } from './studio.ts';
import { createNodeDeps } from './test/nodeDeps.ts';

const spec = { input: [3, 8, 8] as [number, number, number], features: 6, classes: 5 };
const values = patternValues(spec.classes * spec.features, 3, 0.8);
const data: InputFile = { name: 'fc.bin', bytes: new Uint8Array(values.buffer) };

/** The classifier with its Gemm weight stored at `location`. */
function modelFile(location: string, name = 'net.onnx'): InputFile {
  const inline = outputLayerClassifier(spec);
  const model: ModelProto = {
    ...inline,
    graph: {
      ...inline.graph,
      initializer: inline.graph!.initializer!.map((t) =>
        t.name === 'fc_w' ? externalFloatTensor('fc_w', [spec.classes, spec.features], location) : t,
      ),
    },
  };
  return { name, bytes: encodeModel(model) };
}

async function refusal(promise: Promise<unknown>): Promise<StudioError['info']> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(StudioError);
  return (error as StudioError).info;
}

describe('studio: external data', () => {
  it('loads the model with its dropped data file (also for a ./ or sub-folder location)', async () => {
    const studio = createStudio(createNodeDeps());
    for (const location of ['fc.bin', './fc.bin', 'weights/fc.bin']) {
      const summary = await studio.loadModel([modelFile(location), data]);
      expect(summary.fileName).toBe('net.onnx');
      expect(summary.layers.map((l) => l.name)).toContain('fc');
    }
  });

  it('names the data file that was not dropped', async () => {
    const studio = createStudio(createNodeDeps());
    const info = await refusal(studio.loadModel([modelFile('fc.bin')]));
    expect(info).toMatchObject({ kind: 'model', subject: 'net.onnx' });
    expect(info.message).toMatch(
      /^net\.onnx keeps weights in external data file 'fc\.bin', which was not dropped/,
    );
    const other = await refusal(
      studio.loadModel([modelFile('fc.bin'), { name: 'other.bin', bytes: data.bytes }]),
    );
    expect(other.message).toMatch(/'fc\.bin'/);
  });

  it("refuses a location outside the model's folder, even when a file of that name is dropped", async () => {
    const studio = createStudio(createNodeDeps());
    for (const location of ['../fc.bin', '/etc/fc.bin', 'C:\\data\\fc.bin', 'weights/../../fc.bin']) {
      const info = await refusal(studio.loadModel([modelFile(location), data]));
      expect(info, location).toMatchObject({ kind: 'model', subject: 'net.onnx' });
      expect(info.message).toMatch(/external data location '.*' is outside the model's folder/);
    }
  });
});
