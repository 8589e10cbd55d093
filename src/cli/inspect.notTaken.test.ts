/**
 * Issue 17: a model whose weights sit inside If branches (as Silero VAD's do) or in recurrent ops:
 * `inspect` prints the model facts, says where weights were seen but not taken and why, and exits
 * 2 because nothing in the main graph can be quantized; `quantize` takes the branch the calibration
 * feeds decide (here the condition is given with --const) and lists the other branch as float.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataType,
  decodeModel,
  encodeModel,
  float32Tensor,
  type GraphProto,
  type ModelProto,
} from '../core/onnx/index.ts';
import { weightsNotTaken } from '../core/graph/layers/index.ts';
import { comqInProcess as comq, errorLines } from '../testing/cliProcess.ts';
import { node, valueInfo } from '../testing/index.ts';
import { npyFloat32 } from '../testing/npy.ts';

const weights = (name: string, dims: number[]) =>
  float32Tensor(
    name,
    dims,
    Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (i % 7) / 7 - 0.4),
  );

/** A branch: y = Conv(x, w) with its own constant weight (subgraphs read x from the outer scope). */
function convBranch(label: string): GraphProto {
  return {
    name: label,
    node: [node('Conv', ['x', `${label}_w`], [`${label}_y`], [], `${label}_conv`)],
    initializer: [weights(`${label}_w`, [2, 1, 1, 1])],
    input: [],
    output: [valueInfo(`${label}_y`, DataType.FLOAT, [1, 2, 4, 4])],
  };
}

function ifModel(): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'vad-like',
      node: [
        {
          opType: 'If',
          name: 'branch',
          input: ['cond'],
          output: ['y'],
          attribute: [
            { name: 'then_branch', type: 5, g: convBranch('then') },
            { name: 'else_branch', type: 5, g: convBranch('else') },
          ],
        },
      ],
      input: [valueInfo('x', DataType.FLOAT, [1, 1, 4, 4]), valueInfo('cond', DataType.BOOL, [])],
      output: [valueInfo('y', DataType.FLOAT, [1, 2, 4, 4])],
    },
  };
}

let work: string;
let modelPath: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'comq-not-taken-'));
  modelPath = join(work, 'vad-like.onnx');
  writeFileSync(modelPath, encodeModel(ifModel()));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('weights inside subgraphs are found and named, not silently missed', () => {
  it('weightsNotTaken lists each branch with its ops', () => {
    expect(weightsNotTaken(ifModel())).toEqual([
      {
        where: "If 'branch'/then_branch",
        ops: { Conv: 1 },
        reason: expect.stringMatching(
          /inside an If branch: quantize takes them when the calibration feeds decide/,
        ),
      },
      {
        where: "If 'branch'/else_branch",
        ops: { Conv: 1 },
        reason: expect.stringMatching(
          /inside an If branch: quantize takes them when the calibration feeds decide/,
        ),
      },
    ]);
  });

  it('inspect prints the facts and where weights were seen, then exits 2', async () => {
    const run = await comq(['inspect', modelPath]);
    expect(run.code).toBe(2);
    expect(run.stdout).toMatch(/^Inputs {6}x: float32 \[1, 1, 4, 4\]$/m);
    expect(run.stdout).toMatch(/cond: bool/);
    expect(run.stdout).toMatch(/^Weights seen but not taken:$/m);
    expect(run.stdout).toMatch(/1 Conv in If 'branch'\/then_branch/);
    expect(errorLines(run.stderr).join('\n')).toMatch(
      /no quantizable layer: .*weights were seen but not taken: 1 Conv in If 'branch'\/then_branch/,
    );
  });

  it('quantize takes the branch the feeds decide: its Conv quantized by path, the other listed float', async () => {
    const out = join(work, 'out.onnx');
    const reportPath = join(work, 'out.json');
    const inputs = join(work, 'inputs');
    mkdirSync(join(inputs, 'x'), { recursive: true });
    for (let i = 0; i < 4; i++)
      writeFileSync(
        join(inputs, 'x', `s${i}.npy`),
        npyFloat32(
          Float32Array.from({ length: 16 }, (_, k) => Math.sin(k + i)),
          [1, 1, 4, 4],
        ),
      );
    const run = await comq([
      'quantize',
      modelPath,
      '--inputs',
      inputs,
      '--const',
      'cond=1',
      '--out',
      out,
      '--report',
      reportPath,
      '--backend',
      'cpu',
      '--no-progress',
      '--no-eval',
    ]);
    expect(errorLines(run.stderr)).toEqual([]);
    expect(run.code).toBe(0);
    const report = JSON.parse(readFileSync(reportPath, 'utf8')) as {
      layers: { name: string; bits: number | 'float' }[];
      model: { skipped: { name: string; reason: string }[] };
    };
    expect(report.layers.map((l) => [l.name, l.bits])).toEqual([['branch/then_branch/then_conv', 8]]);
    expect(report.model.skipped).toEqual([
      {
        name: 'branch/else_branch/else_conv',
        reason: expect.stringMatching(/If 'branch' takes its then_branch .* stays float/),
      },
    ]);
    // The export keeps the If: the then branch reads a DequantizeLinear, the else branch its float weight.
    const exported = decodeModel(readFileSync(out));
    const ifNode = exported.graph!.node!.find((n) => n.opType === 'If')!;
    const branch = (name: string) => ifNode.attribute!.find((a) => a.name === name)!.g!;
    expect(branch('then_branch').node!.map((n) => n.opType)).toEqual(['DequantizeLinear', 'Conv']);
    expect(branch('else_branch').node!.map((n) => n.opType)).toEqual(['Conv']);
  });

  it('inspect --json carries notTaken', async () => {
    const run = await comq(['inspect', modelPath, '--json']);
    const report = JSON.parse(run.stdout) as { notTaken: { where: string }[] };
    expect(report.notTaken.map((group) => group.where)).toEqual([
      "If 'branch'/then_branch",
      "If 'branch'/else_branch",
    ]);
  });
});
