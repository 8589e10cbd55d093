/**
 * If branches decided by the feeds are inlined for calibration (nested Ifs in turn), the branches
 * not taken and Loop bodies are listed with why, and renestBranches puts every inlined If back:
 * the round trip computes what the original computes for either condition (onnxruntime).
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import type { Feeds } from '../../base/ports.ts';
import { DataType, encodeModel, float32Tensor, type GraphProto, type ModelProto } from '../../onnx/index.ts';
import { createNodeInferenceEngine, node, valueInfo } from '../../../testing/index.ts';
import { findLayers } from '../layers/index.ts';
import { inlineTakenBranches } from './inlineTakenBranches.ts';
import { renestBranches } from './renestBranches.ts';

const weights = (name: string, dims: number[], offset: number) =>
  float32Tensor(
    name,
    dims,
    Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => ((i + offset) % 5) / 5 - 0.4),
  );

const graphAttr = (name: string, g: GraphProto) => ({ name, type: 5, g });

/** then: Conv, then a nested If on cond2 (MatMul or Mul by 2); else: one Conv. */
function model(): ModelProto {
  const inner = (label: string, withWeight: boolean): GraphProto => ({
    name: label,
    node: withWeight
      ? [node('MatMul', ['t_y', `${label}_w`], [`${label}_out`], [], `${label}_mm`)]
      : [node('Add', ['t_y', 't_y'], [`${label}_out`], [], `${label}_add`)],
    initializer: withWeight ? [weights(`${label}_w`, [4, 4], 1)] : [],
    input: [],
    output: [valueInfo(`${label}_out`, DataType.FLOAT, [1, 2, 4, 4])],
  });
  const thenBranch: GraphProto = {
    name: 'then',
    node: [
      node('Conv', ['x', 't_w'], ['t_y'], [], 't_conv'),
      {
        opType: 'If',
        name: 'inner',
        input: ['cond2'],
        output: ['t_out'],
        attribute: [
          graphAttr('then_branch', inner('in_then', false)),
          graphAttr('else_branch', inner('in_else', true)),
        ],
      },
    ],
    initializer: [weights('t_w', [2, 1, 1, 1], 2)],
    input: [],
    output: [valueInfo('t_out', DataType.FLOAT, [1, 2, 4, 4])],
  };
  const elseBranch: GraphProto = {
    name: 'else',
    node: [node('Conv', ['x', 'e_w'], ['e_out'], [], 'e_conv')],
    initializer: [weights('e_w', [2, 1, 1, 1], 3)],
    input: [],
    output: [valueInfo('e_out', DataType.FLOAT, [1, 2, 4, 4])],
  };
  const loopBody: GraphProto = {
    name: 'body',
    node: [
      node('Identity', ['c_in'], ['c_out'], [], 'keep'),
      node('Conv', ['v_in', 'l_w'], ['v_out'], [], 'l_conv'),
    ],
    initializer: [weights('l_w', [1, 1, 1, 1], 4)],
    input: [
      valueInfo('i', DataType.INT64, []),
      valueInfo('c_in', DataType.BOOL, []),
      valueInfo('v_in', DataType.FLOAT, [1, 1, 4, 4]),
    ],
    output: [valueInfo('c_out', DataType.BOOL, []), valueInfo('v_out', DataType.FLOAT, [1, 1, 4, 4])],
  };
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'nested',
      node: [
        {
          opType: 'If',
          name: 'outer',
          input: ['cond'],
          output: ['y'],
          attribute: [graphAttr('then_branch', thenBranch), graphAttr('else_branch', elseBranch)],
        },
        {
          opType: 'Loop',
          name: 'loop',
          input: ['trips', '', 'x'],
          output: ['z'],
          attribute: [graphAttr('body', loopBody)],
        },
      ],
      input: [
        valueInfo('x', DataType.FLOAT, [1, 1, 4, 4]),
        valueInfo('cond', DataType.BOOL, []),
        valueInfo('cond2', DataType.BOOL, []),
        valueInfo('trips', DataType.INT64, []),
      ],
      output: [valueInfo('y', DataType.FLOAT, [1, 2, 4, 4]), valueInfo('z', DataType.FLOAT, [1, 1, 4, 4])],
    },
  };
}

function feeds(cond: boolean, cond2: boolean): Feeds {
  return {
    x: {
      type: 'float32',
      data: Float32Array.from({ length: 16 }, (_, i) => Math.cos(i)),
      dims: [1, 1, 4, 4],
    },
    cond: { type: 'bool', data: Uint8Array.from([cond ? 1 : 0]), dims: [] },
    cond2: { type: 'bool', data: Uint8Array.from([cond2 ? 1 : 0]), dims: [] },
    trips: { type: 'int64', data: BigInt64Array.from([2n]), dims: [] },
  };
}

async function run(m: ModelProto, f: Feeds): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(encodeModel(m));
  const ortFeeds = Object.fromEntries(
    Object.entries(f).map(([k, v]) => [k, new ort.Tensor(v.type, v.data as Float32Array, v.dims)]),
  );
  const out = await session.run(ortFeeds);
  return ['y', 'z'].map((n) => Float32Array.from(out[n].data as Float32Array));
}

describe('inlineTakenBranches / renestBranches', () => {
  it('inlines the decided branches (nested too), lists the rest, and the round trip keeps the outputs', async () => {
    const original = model();
    const result = await inlineTakenBranches(original, feeds(true, false), createNodeInferenceEngine());
    expect(result.inlined).toEqual(['outer/then_branch', 'outer/then_branch/inner/else_branch']);
    expect(findLayers(result.model).layers.map((l) => l.name)).toEqual([
      'outer/then_branch/t_conv',
      'outer/then_branch/inner/else_branch/in_else_mm',
    ]);
    expect(result.notTaken.map((n) => [n.name, n.reason.split(':')[0].slice(0, 30)])).toEqual([
      ['outer/else_branch/e_conv', "If 'outer' takes its then_bran"],
      ['loop/body/l_conv', 'inside a Loop body'],
    ]);
    // Inlined, the model computes the original for the calibration's feeds.
    expect(await run(result.model, feeds(true, false))).toEqual(await run(original, feeds(true, false)));
    // Put back, it computes the original for every condition.
    const renested = renestBranches(result.model, { original, inlined: result.inlined });
    expect(renested.graph!.node!.map((n) => n.opType)).toEqual(['If', 'Loop']);
    for (const [a, b] of [
      [true, false],
      [true, true],
      [false, false],
    ] as const)
      expect(await run(renested, feeds(a, b))).toEqual(await run(original, feeds(a, b)));
  });
});
