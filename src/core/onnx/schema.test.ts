import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Long from 'long';
import { describe, expect, it } from 'vitest';
import { renderStaticSchema } from './scripts/renderStatic.ts';
import {
  AttributeType,
  DataType,
  decodeModel,
  encodeModel,
  float32Tensor,
  integerTensor,
  type ModelProto,
} from './index.ts';
import { node, tinyModel, valueInfo } from '../../testing/index.ts';

const here = dirname(fileURLToPath(import.meta.url));

describe('onnx.proto schema', () => {
  it('the committed static codec (onnxProto.js, onnxProto.d.ts) is generated from the committed onnx.proto', async () => {
    const fresh = await renderStaticSchema(join(here, 'onnx.proto'));
    const regenerate = 'run: npx tsx src/core/onnx/scripts/generateSchema.ts';
    expect(readFileSync(join(here, 'generated', 'onnxProto.js'), 'utf8'), regenerate).toBe(fresh.js);
    expect(readFileSync(join(here, 'generated', 'onnxProto.d.ts'), 'utf8'), regenerate).toBe(fresh.dts);
  });

  it('round-trips IR 10/11 fields a stale schema would drop', () => {
    const base = tinyModel({
      opset: 21,
      nodes: [
        {
          ...node('MyFn', ['x'], ['y']),
          domain: 'local',
          overload: 'v2',
          metadataProps: [{ key: 'k', value: 'node' }],
        },
      ],
      inputs: [valueInfo('x', DataType.FLOAT, ['batch', 4])],
      outputs: [
        { ...valueInfo('y', DataType.FLOAT, ['batch', 4]), metadataProps: [{ key: 'vi', value: '1' }] },
      ],
      initializers: [
        {
          ...float32Tensor('seg', [2], Float32Array.of(1, 2)),
          segment: { begin: 0, end: 2 },
          metadataProps: [{ key: 't', value: 'm' }],
        },
        integerTensor('q4', [3], [1, -2, 3], DataType.INT4),
        { name: 'f4', dims: [2], dataType: DataType.FLOAT4E2M1, rawData: Uint8Array.of(0x21) },
        { name: 'e8m0', dims: [1], dataType: 24, rawData: Uint8Array.of(127) },
      ],
    });
    const model: ModelProto = {
      ...base,
      irVersion: 11,
      metadataProps: [{ key: 'author', value: 'test' }],
      opsetImport: [...base.opsetImport!, { domain: 'local', version: 1 }],
      graph: {
        ...base.graph!,
        sparseInitializer: [
          {
            values: float32Tensor('sp', [2], Float32Array.of(5, 6)),
            indices: { name: 'sp_idx', dims: [2], dataType: DataType.INT64, int64Data: [1, 3] },
            dims: [4],
          },
        ],
        quantizationAnnotation: [
          { tensorName: 'y', quantParameterTensorNames: [{ key: 'SCALE_TENSOR', value: 's' }] },
        ],
        metadataProps: [{ key: 'g', value: 'graph' }],
      },
      functions: [
        {
          name: 'MyFn',
          domain: 'local',
          overload: 'v2',
          input: ['a'],
          output: ['b'],
          attributeProto: [{ name: 'alpha', type: AttributeType.FLOAT, f: 0.5 }],
          node: [node('Relu', ['a'], ['b'])],
          opsetImport: [{ domain: '', version: 21 }],
          valueInfo: [valueInfo('b', DataType.FLOAT, [4])],
          metadataProps: [{ key: 'fn', value: 'meta' }],
        },
      ],
      trainingInfo: [
        {
          algorithm: { name: 'algo', node: [node('Identity', ['x'], ['z'])] },
          updateBinding: [{ key: 'seg', value: 'z' }],
        },
      ],
      configuration: [{ name: 'cfg', numDevices: 2, device: ['gpu0', 'gpu1'] }],
    };
    const bytes = encodeModel(model);
    const decoded = decodeModel(bytes);
    expect(Buffer.compare(Buffer.from(encodeModel(decoded)), Buffer.from(bytes))).toBe(0);
    const g = decoded.graph!;
    expect(decoded.metadataProps).toEqual([{ key: 'author', value: 'test' }]);
    expect(decoded.graph!.node![0]).toMatchObject({
      overload: 'v2',
      domain: 'local',
      metadataProps: [{ key: 'k', value: 'node' }],
    });
    expect(decoded.graph!.output![0]).toMatchObject({ metadataProps: [{ key: 'vi', value: '1' }] });
    expect(decoded.graph!.initializer![0].segment).toMatchObject({
      begin: Long.fromNumber(0),
      end: Long.fromNumber(2),
    });
    expect(decoded.graph!.initializer!.map((t) => t.dataType)).toEqual([
      DataType.FLOAT,
      DataType.INT4,
      DataType.FLOAT4E2M1,
      24,
    ]);
    expect(g.sparseInitializer![0].values!.name).toBe('sp');
    expect(g.quantizationAnnotation![0].quantParameterTensorNames![0].value).toBe('s');
    expect(g.metadataProps![0].value).toBe('graph');
    expect(decoded.functions![0]).toMatchObject({
      name: 'MyFn',
      overload: 'v2',
      attributeProto: [{ name: 'alpha', f: 0.5 }],
    });
    expect(decoded.functions![0].metadataProps![0].value).toBe('meta');
    expect(decoded.trainingInfo![0].updateBinding![0].value).toBe('z');
    expect(decoded.configuration![0]).toMatchObject({ name: 'cfg', numDevices: 2, device: ['gpu0', 'gpu1'] });
  });
});
