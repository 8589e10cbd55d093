/**
 * Issue 17: a model whose weights sit inside If branches (as Silero VAD's do) or in recurrent ops:
 * `inspect` prints the model facts, says where weights were seen but not taken and why, and exits
 * 2 because nothing can be quantized; `quantize` refuses with the same explanation.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DataType,
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
        reason: expect.stringMatching(/If\/Loop\/Scan bodies/),
      },
      {
        where: "If 'branch'/else_branch",
        ops: { Conv: 1 },
        reason: expect.stringMatching(/If\/Loop\/Scan bodies/),
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

  it('quantize refuses it with the same explanation (exit 2, nothing written)', async () => {
    const out = join(work, 'out.onnx');
    const inputs = join(work, 'inputs');
    mkdirSync(inputs);
    writeFileSync(join(inputs, 'x.npy'), npyFloat32(new Float32Array(16), [1, 1, 4, 4]));
    const run = await comq(['quantize', modelPath, '--inputs', inputs, '--out', out, '--backend', 'cpu']);
    expect(run.code).toBe(2);
    expect(errorLines(run.stderr).join('\n')).toMatch(
      /no quantizable layer .*Weights were seen but not taken: 1 Conv in If 'branch'\/then_branch/,
    );
    expect(existsSync(out)).toBe(false);
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
