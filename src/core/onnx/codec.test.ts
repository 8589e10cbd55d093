import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeModel,
  encodeModel,
  OnnxFormatError,
  tensorToFloat32,
  type ModelProto,
  type NodeProto,
} from './index.ts';
import { createRandom } from '../base/random.ts';
import {
  ppocrInput,
  ppocrModelNames,
  readPpocrModel,
  runOnnx,
  testImagePath,
  type PpocrModelName,
} from '../../testing/index.ts';

/** Everything about a node that a round trip must keep, with tensor attributes as raw bytes. */
function nodeSignature(n: NodeProto): unknown {
  return {
    opType: n.opType,
    name: n.name,
    input: n.input,
    output: n.output,
    attribute: (n.attribute ?? []).map((a) => ({
      name: a.name,
      type: a.type,
      f: a.f,
      i: a.i === undefined ? undefined : String(a.i),
      s: a.s && Array.from(a.s),
      ints: a.ints?.map(String),
      floats: a.floats,
      t: a.t && {
        dims: a.t.dims?.map(String),
        dataType: a.t.dataType,
        values: Array.from(tensorToFloat32(a.t)),
      },
    })),
  };
}

function graphSummary(m: ModelProto) {
  const g = m.graph!;
  return {
    irVersion: String(m.irVersion),
    opsets: m.opsetImport?.map((o) => `${o.domain}:${String(o.version)}`),
    inputs: JSON.stringify(g.input),
    outputs: JSON.stringify(g.output),
    nodes: g.node!.map(nodeSignature),
    initializers: (g.initializer ?? []).map((t) => [t.name, Array.from(t.rawData ?? [])]),
  };
}

const imageFor: Record<PpocrModelName, string> = {
  det: 'scenetext01',
  rec: 'scenetext_word01',
  cls: 'scenetext_word01',
};

describe.each(ppocrModelNames)('round trip of the real PP-OCR %s model', (name) => {
  it('decode -> encode -> decode keeps the graph (nodes, op types, attributes, tensor bytes)', () => {
    const original = readPpocrModel(name);
    const first = decodeModel(original);
    const reencoded = encodeModel(first);
    const second = decodeModel(reencoded);
    expect(first.graph!.node!.length).toBeGreaterThan(400);
    expect(graphSummary(second)).toEqual(graphSummary(first));
    // These files are written in canonical field order, so the bytes themselves come back.
    expect(Buffer.compare(Buffer.from(reencoded), Buffer.from(original))).toBe(0);
  });

  it('onnxruntime gives identical outputs for the original and the re-encoded bytes on a real image', async () => {
    const original = readPpocrModel(name);
    const reencoded = encodeModel(decodeModel(original));
    const input = await ppocrInput(name, testImagePath(imageFor[name]));
    const before = await runOnnx(original, { x: input });
    const after = await runOnnx(reencoded, { x: input });
    const outputName = Object.keys(before)[0];
    expect(after[outputName].dims).toEqual(before[outputName].dims);
    expect(before[outputName].data.some((v) => v !== 0)).toBe(true);
    expect(Array.from(after[outputName].data)).toEqual(Array.from(before[outputName].data));
  });
});

describe('bad inputs', () => {
  const expectFormatError = (bytes: Uint8Array, message: string | RegExp) => {
    let caught: unknown;
    try {
      decodeModel(bytes);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OnnxFormatError);
    expect((caught as Error).message).toMatch(message);
  };

  it('rejects an empty file', () => {
    expectFormatError(new Uint8Array(0), 'This file is not an ONNX model: it is empty (0 bytes).');
  });

  it('rejects a PNG image and names it', () => {
    const png = new Uint8Array(readFileSync(testImagePath('coffee')));
    expectFormatError(png, 'This file is not an ONNX model: it is a PNG image.');
  });

  it('rejects a real model truncated at half its length', () => {
    for (const name of ppocrModelNames) {
      const bytes = readPpocrModel(name);
      expectFormatError(bytes.subarray(0, Math.floor(bytes.length / 2)), /^The ONNX model is truncated: /);
    }
  });

  it('rejects a model cut after its last complete top-level record (graph missing)', () => {
    const bytes = readPpocrModel('cls');
    // The first 2 bytes are the ir_version record (field 1 varint): a valid protobuf, no graph.
    expectFormatError(bytes.subarray(0, 2), 'The model has no graph.');
  });

  it('rejects random bytes of many sizes, never returning a model', () => {
    // The project's seeded PRNG with a fixed seed: deterministic, varied first bytes.
    const random = createRandom(0x9e3779b9);
    const next = () => Math.floor(random.next() * 2 ** 32);
    for (let trial = 0; trial < 200; trial++) {
      const bytes = new Uint8Array(1 + (next() % 4096)).map(() => next() & 0xff);
      expectFormatError(
        bytes,
        /^(This file is not an ONNX model|This file is not a valid ONNX model|The ONNX model is truncated|The ONNX model is incomplete|The model has no graph|The model has an empty graph)/,
      );
    }
  });
});
