import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DataType, encodeModel, float32Tensor, type ModelProto } from '../core/onnx/index.ts';
import { badModelCases, validConvModel } from '../testing/badModels.ts';
import { spawnComq, type CliRun } from '../testing/cliProcess.ts';
import { ppocrModelPath, readPpocrModel } from '../testing/models.ts';
import { externalFloatTensor } from '../testing/onnxBuilders.ts';
import { main } from './main.ts';

function tinyValue(name: string) {
  return {
    name,
    type: { tensorType: { elemType: DataType.FLOAT, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } },
  };
}

/** A valid ONNX model with nothing to quantize: y = Relu(x). */
function reluOnlyModel(): Uint8Array {
  const model: ModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'relu',
      node: [{ opType: 'Relu', input: ['x'], output: ['y'], name: 'relu' }],
      input: [tinyValue('x')],
      output: [tinyValue('y')],
    },
  };
  return encodeModel(model);
}

/** y = x·W with W [4, 3] stored in an external file `weights.bin`. */
function externalDataModel(): ModelProto {
  return {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'external',
      node: [{ opType: 'MatMul', input: ['x', 'W'], output: ['y'], name: 'mm' }],
      initializer: [externalFloatTensor('W', [4, 3], 'weights.bin', 0)],
      input: [tinyValue('x')],
      output: [{ name: 'y', type: { tensorType: { elemType: DataType.FLOAT } } }],
    },
  };
}

let dir = '';
const bad: Record<string, string> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'comq-cli-'));
  bad.directory = join(dir, 'a-directory.onnx');
  mkdirSync(bad.directory);
  bad.empty = join(dir, 'empty.onnx');
  writeFileSync(bad.empty, new Uint8Array(0));
  // Deterministic noise (a linear congruential sequence), not a real file format.
  bad.noise = join(dir, 'noise.onnx');
  let state = 12345;
  writeFileSync(
    bad.noise,
    Uint8Array.from({ length: 4096 }, () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24),
  );
  const cls = readPpocrModel('cls');
  bad.truncated = join(dir, 'truncated.onnx');
  writeFileSync(bad.truncated, cls.subarray(0, cls.length >> 1));
  bad.reluOnly = join(dir, 'relu-only.onnx');
  writeFileSync(bad.reluOnly, reluOnlyModel());
  bad.missing = join(dir, 'does-not-exist.onnx');
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function expectOneLineError(run: CliRun, mentions: RegExp): void {
  expect(run.code).toBe(2);
  expect(run.stdout).toBe('');
  const lines = run.stderr.split('\n').filter((line) => line.trim() !== '');
  expect(lines.length, run.stderr).toBe(1);
  expect(lines[0]).toMatch(/^comq: error: /);
  expect(lines[0]).toMatch(mentions);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe('comq inspect (spawned)', () => {
  it('--json on the three real models: layer counts and the documented shape', async () => {
    const [det, rec, cls] = await Promise.all(
      (['det', 'rec', 'cls'] as const).map((name) => spawnComq(['inspect', ppocrModelPath(name), '--json'])),
    );
    for (const run of [det, rec, cls]) {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toBe('');
    }
    const parsed = [det, rec, cls].map((run) => JSON.parse(run.stdout));
    for (const report of parsed) {
      expect(Object.keys(report)).toEqual(['model', 'layers', 'skipped', 'notTaken']);
      for (const layer of report.layers) {
        expect(Object.keys(layer).slice(0, 7)).toEqual([
          'name',
          'op',
          'weightShape',
          'rows',
          'reduction',
          'groups',
          'params',
        ]);
      }
      for (const entry of report.skipped) expect(Object.keys(entry)).toEqual(['name', 'op', 'reason']);
    }
    const countOps = (report: { layers: { op: string }[] }) =>
      report.layers.reduce<Record<string, number>>(
        (counts, layer) => ({ ...counts, [layer.op]: (counts[layer.op] ?? 0) + 1 }),
        {},
      );
    const [detReport, recReport, clsReport] = parsed;
    expect(countOps(detReport)).toEqual({ Conv: 62, ConvTranspose: 2 });
    expect(
      detReport.layers.filter(
        (layer: { op: string; groups: number }) => layer.op === 'Conv' && layer.groups > 1,
      ).length,
    ).toBe(14);
    expect(countOps(recReport)).toEqual({ Conv: 38, MatMul: 9 });
    expect(recReport.skipped.length).toBe(4);
    expect(countOps(clsReport)).toEqual({ Conv: 53, MatMul: 1 });
    expect(detReport.model.opCounts.Conv).toBe(62);
    expect(clsReport.model.inputs[0].shape[1]).toBe(3);
  });

  it('human output: facts, an aligned layer table and the skipped list', async () => {
    const run = await spawnComq(['inspect', ppocrModelPath('rec')]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines[0]).toMatch(/^Model\s+ch_PP-OCRv4_rec_infer\.onnx \(10\.\d MiB\)$/);
    expect(run.stdout).toMatch(/^Quantizable layers: 47 /m);
    const header = lines.findIndex((line) =>
      /^\s+name\s+op\s+weight\s+rows\s+reduction\s+groups\s+params\s+source$/.test(line),
    );
    expect(header).toBeGreaterThan(0);
    const table = lines.slice(header + 2, header + 2 + 47);
    // Right-aligned numeric columns end where their header ends.
    const rowsEnd = lines[header].indexOf('rows') + 'rows'.length;
    const reductionEnd = lines[header].indexOf('reduction') + 'reduction'.length;
    for (const line of table) {
      expect(line[rowsEnd - 1]).toMatch(/\d/);
      expect(line[rowsEnd]).toBe(' ');
      expect(line[reductionEnd - 1]).toMatch(/\d/);
    }
    expect(table.find((line) => line.includes('p2o.MatMul.24'))).toMatch(
      /MatMul\s+\[120, 6625\]\s+6625\s+120\s+1\s+795,000\s+constant-node$/,
    );
    expect(run.stdout).toMatch(/^Skipped: 4$/m);
    expect(run.stdout).toMatch(/^ {2}p2o\.MatMul\.2 \(MatMul\): both inputs are activations/m);
  });

  it('bad inputs: exit 2 and one line on stderr naming the file and the problem', async () => {
    const [noPath, missing, directory, empty, noise, truncated, reluOnly] = await Promise.all([
      spawnComq(['inspect']),
      spawnComq(['inspect', bad.missing]),
      spawnComq(['inspect', bad.directory]),
      spawnComq(['inspect', bad.empty]),
      spawnComq(['inspect', bad.noise]),
      spawnComq(['inspect', bad.truncated]),
      spawnComq(['inspect', bad.reluOnly]),
    ]);
    expectOneLineError(noPath, /missing required argument 'model'.*usage: comq inspect MODEL\.onnx/);
    expectOneLineError(missing, /does-not-exist\.onnx: no such file/);
    expectOneLineError(directory, /a-directory\.onnx: is a directory/);
    expectOneLineError(empty, /empty\.onnx: the file is empty/);
    expectOneLineError(noise, /noise\.onnx: .*not an ONNX model|noise\.onnx: .*not a valid ONNX/);
    expectOneLineError(truncated, /truncated\.onnx: .*(truncated|incomplete)/);
    // Nothing to quantize: the facts are still printed (stdout), then one error line, exit 2.
    expect(reluOnly.code).toBe(2);
    expect(reluOnly.stdout).toMatch(/^Inputs {6}x: float32 \[1, 4\]$/m);
    expect(reluOnly.stdout).toMatch(/^Quantizable layers: 0 /m);
    expect(reluOnly.stderr.trim().split('\n')).toHaveLength(1);
    expect(reluOnly.stderr).toMatch(/^comq: error: .*relu-only\.onnx: no quantizable layer: .*ops: Relu/);
  });
});

describe('comq main (in process)', () => {
  function capture() {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: {
        stdout: (text: string) => void (out.stdout += text),
        stderr: (text: string) => void (out.stderr += text),
        debug: false,
      },
    };
  }

  it('--data: external weights are optional for inspect, but given files must hold them', async () => {
    const modelDir = join(dir, 'external');
    mkdirSync(modelDir);
    const modelPath = join(modelDir, 'model.onnx');
    writeFileSync(modelPath, encodeModel(externalDataModel()));
    const weights = float32Tensor('W', [4, 3], new Float32Array(12).fill(1)).rawData!;
    writeFileSync(join(modelDir, 'weights.bin'), weights);
    writeFileSync(join(modelDir, 'short.bin'), weights.subarray(0, 20));

    const withData = capture();
    expect(
      await main(['inspect', modelPath, '--json', '--data', join(modelDir, 'weights.bin')], withData.io),
    ).toBe(0);
    const report = JSON.parse(withData.out.stdout);
    expect(report.model.weightStorage.externalTensors).toBe(1);
    expect(
      report.layers.map((layer: { name: string; rows: number; reduction: number }) => [
        layer.name,
        layer.rows,
        layer.reduction,
      ]),
    ).toEqual([['mm', 3, 4]]);

    const withoutData = capture();
    expect(await main(['inspect', modelPath, '--json'], withoutData.io)).toBe(0);

    const shortData = capture();
    expect(await main(['inspect', modelPath, '--data', join(modelDir, 'short.bin')], shortData.io)).toBe(2);
    expect(shortData.out.stderr).toMatch(/^comq: error: .*model\.onnx: .*external file 'weights\.bin'/);

    const missingData = capture();
    expect(await main(['inspect', modelPath, '--data', join(modelDir, 'nope.bin')], missingData.io)).toBe(2);
    expect(missingData.out.stderr).toMatch(
      /^comq: error: .*nope\.bin: no such file; check the path of an external-data file\.\n$/,
    );
  });

  it('an unexpected internal error exits 1 with one line and the COMQ_DEBUG hint', async () => {
    const failing = capture();
    const io = {
      ...failing.io,
      stdout: () => {
        throw new TypeError('stdout exploded');
      },
    };
    expect(await main(['inspect', ppocrModelPath('cls')], io)).toBe(1);
    expect(failing.out.stderr).toBe(
      'comq: internal error: TypeError: stdout exploded (this is a bug; rerun with COMQ_DEBUG=1 to print the stack)\n',
    );
  });

  it('unknown commands and options are usage errors (exit 2)', async () => {
    const unknown = capture();
    expect(await main(['frobnicate'], unknown.io)).toBe(2);
    expect(unknown.out.stderr).toMatch(/^comq: error: unknown command 'frobnicate'; run `comq --help`/);
    const help = capture();
    expect(await main(['--help'], help.io)).toBe(0);
    expect(help.out.stdout).toMatch(/inspect \[options\] <model>/);
  });
});

describe('comq inspect runs the model check first', () => {
  function capture() {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: {
        stdout: (text: string) => void (out.stdout += text),
        stderr: (text: string) => void (out.stderr += text),
        debug: false,
      },
    };
  }

  it('a model with a cycle (spawned): exit 2, nothing on stdout, one line naming the nodes and what to do', async () => {
    const cyclic = badModelCases.find((c) => c.id === 'cycle')!;
    const path = join(dir, 'cycle.onnx');
    writeFileSync(path, encodeModel(cyclic.build()));
    const run = await spawnComq(['inspect', path]);
    expectOneLineError(
      run,
      /cycle\.onnx: invalid model: the graph has a cycle: 'relu1' \(Relu\) → 'add1' \(Add\) feed each other.*re-export/,
    );
  });

  it('every model of the bad-model corpus: exit 2 with one line naming the file and the problem', async () => {
    mkdirSync(join(dir, 'corpus'), { recursive: true });
    for (const badCase of badModelCases) {
      const path = join(dir, 'corpus', `${badCase.id}.onnx`);
      writeFileSync(path, encodeModel(badCase.build()));
      const { out, io } = capture();
      expect(await main(['inspect', path], io), `${badCase.id}: ${out.stderr}`).toBe(2);
      expect(out.stdout).toBe('');
      expect(out.stderr.split('\n').filter(Boolean)).toHaveLength(1);
      expect(out.stderr).toContain(`comq: error: ${path}: `);
      // The decoder refuses some of them first; the rest get the check's message.
      if (!badCase.codecRefuses) expect(out.stderr).toMatch(badCase.mentions);
    }
  });

  it('prints names from the model with control characters escaped', async () => {
    const model = validConvModel();
    const evil = 'conv\x1b[2J\nFAKE LINE';
    model.graph!.node![0].name = evil;
    const path = join(dir, 'evil-names.onnx');
    writeFileSync(path, encodeModel(model));
    const { out, io } = capture();
    expect(await main(['inspect', path], io)).toBe(0);
    expect(out.stdout).toContain('conv\\x1b[2J\\nFAKE LINE');
    expect(out.stdout).not.toContain('\x1b');
    expect(out.stdout.split('\n').some((line) => line.startsWith('FAKE LINE'))).toBe(false);
  });
});
