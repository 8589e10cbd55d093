import { describe, expect, it } from 'vitest';
import type { BackendChoice } from '../backend/select.ts';
import { npySampleSet } from '../calibration/inputs/index.ts';
import { decodeModel, encodeModel } from '../onnx/index.ts';
import { createNodeInferenceEngine } from '../../testing/index.ts';
import { outputLayerClassifier, patternValues } from '../../testing/classifierModels.ts';
import { npyFloat32 } from '../../testing/npy.ts';
import {
  ExportRefusedError,
  RunInputError,
  exportRun,
  openBackend,
  runQuantization,
  type RunDeps,
  type RunEvent,
  type RunRequest,
  type SampleSource,
} from './index.ts';

const shape = [1, 3, 8, 8];
const engine = createNodeInferenceEngine();
const deps: RunDeps = { engine, chooseBackend: (preference) => openBackend(undefined, preference, engine) };

/** Ten in-memory .npy inputs of the tiny classifier. */
function tensors(count = 10): SampleSource {
  const names = Array.from({ length: count }, (_, i) => `x${i}.npy`);
  return {
    kind: 'npy',
    origin: 'memory',
    names,
    open: (chosen, how) =>
      npySampleSet(
        chosen.map((name) => ({
          name,
          load: async () => npyFloat32(patternValues(3 * 8 * 8, 10 + names.indexOf(name)), shape),
        })),
        how.input,
      ),
  };
}

function request(overrides: Partial<RunRequest> = {}): RunRequest {
  const bytes = encodeModel(outputLayerClassifier({ input: [3, 8, 8], features: 6, classes: 5 }));
  return {
    model: { name: 'tiny.onnx', proto: decodeModel(bytes), fileBytes: bytes.length },
    calibration: tensors(),
    evaluate: true,
    options: { method: 'comq', bits: 4, firstLastBits: null },
    backend: 'cpu',
    ...overrides,
  };
}

async function drain(run: AsyncGenerator<RunEvent>): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for await (const event of run) events.push(event);
  return events;
}

describe('runQuantization (the one core run of the CLI and the studio)', () => {
  it('method brecq: the layer-wise COMQ start, then the block stage; its report and the exported codes agree', async () => {
    const events = await drain(
      runQuantization(
        request({
          export: 'qdq',
          options: { method: 'brecq', bits: 2, firstLastBits: null, brecqIterations: 20 },
        }),
        deps,
      ),
    );
    const done = events[events.length - 1] as Extract<RunEvent, { type: 'done' }>;
    const { report } = done.run;
    expect(report.options.method).toBe('brecq');
    expect(report.layers.every((l) => l.bits === 2)).toBe(true);
    expect(report.brecq?.blocks.length).toBeGreaterThan(0);
    for (const block of report.brecq!.blocks) {
      expect(block.status).not.toBe('skipped');
      expect(block.finalRelError!).toBeLessThanOrEqual(block.startRelError!);
    }
    expect(events.some((e) => e.type === 'brecq')).toBe(true);
    // The QDQ file is built from run.layers' codes and verified against run.models.quantized.
    expect(report.export).toMatchObject({ verified: true });
  });

  it('streams preset → split → backend → solve → evaluation → export → done, ending with a typed report', async () => {
    const events = await drain(runQuantization(request({ export: 'qdq' }), deps));
    const at = (type: RunEvent['type']) => events.findIndex((e) => e.type === type);
    const order = [
      'preset',
      'split',
      'backend',
      'layer-start',
      'layer-done',
      'evaluation',
      'export',
      'done',
    ] as const;
    const positions = order.map(at);
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(at('done')).toBe(events.length - 1);
    const done = events[events.length - 1] as Extract<RunEvent, { type: 'done' }>;
    const { report } = done.run;
    expect(report.eval).toMatchObject({ task: 'classifier', samples: 2 });
    expect(report.eval!.classifier!.samples).toBe(2);
    expect(report.eval!.layers!.map((l) => l.name).sort()).toEqual(['conv', 'fc']);
    expect(report.export).toMatchObject({
      format: 'qdq',
      verified: true,
      floatBytes: request().model.fileBytes,
    });
    expect(report.exports).toEqual([report.export]);
    const exported = events.find((e): e is Extract<RunEvent, { type: 'export' }> => e.type === 'export')!;
    expect(exported.bytes.length).toBe(report.export!.bytes);
    expect(report.timings.evaluate).toBeGreaterThan(0);
    // An export and its verification count in 'write' (they are most of a big model's tail).
    const writeBefore = report.timings.write ?? 0;
    await exportRun(done.run, 'qdq');
    expect(done.run.report.timings.write).toBeGreaterThan(writeBefore);
  });

  it('splits the calibration source by the counts and seed, and records the names it used', async () => {
    const events = await drain(
      runQuantization(
        request({ evaluationCount: 3, options: { method: 'rtn', bits: 8, calibrationCount: 5, seed: 2 } }),
        deps,
      ),
    );
    const split = events.find((e): e is Extract<RunEvent, { type: 'split' }> => e.type === 'split')!;
    expect(split).toMatchObject({ files: 10, calibration: 5, evaluation: 3, heldOut: true });
    const { report } = (events[events.length - 1] as Extract<RunEvent, { type: 'done' }>).run;
    expect(report.inputs).toMatchObject({ kind: 'npy', seed: 2 });
    expect(report.inputs.calibration).toHaveLength(5);
    expect(report.inputs.evaluation).toHaveLength(3);
    expect(report.inputs.evaluation.filter((n) => report.inputs.calibration.includes(n))).toEqual([]);
    expect(report.calibration.used).toBe(5);
    expect(report.eval!.samples).toBe(3);
    const noEval = await drain(
      runQuantization(
        request({ evaluate: false, options: { method: 'rtn', bits: 8, calibrationCount: 5, seed: 2 } }),
        deps,
      ),
    );
    const quiet = (noEval[noEval.length - 1] as Extract<RunEvent, { type: 'done' }>).run.report;
    expect(quiet.eval).toBeUndefined();
    expect(quiet.inputs.calibration).toEqual(report.inputs.calibration);
  });

  it('refuses a GPU whose buffers cannot hold the largest Gram, before any work, and disposes the backend', async () => {
    let disposed = 0;
    const cpu = (await openBackend(undefined, 'cpu', engine)).backend;
    const tiny: BackendChoice = {
      kind: 'webgpu',
      reason: 'test adapter',
      backend: {
        ...cpu,
        dispose: async () => {
          disposed++;
          await cpu.dispose();
        },
      },
      probe: {
        name: 'tiny gpu',
        vendor: 't',
        architecture: 't',
        isSoftware: false,
        features: [],
        limits: {
          maxStorageBufferBindingSize: 512,
          maxBufferSize: 512,
          maxStorageBuffersPerShaderStage: 8,
          maxComputeWorkgroupsPerDimension: 65535,
          maxComputeInvocationsPerWorkgroup: 256,
          maxComputeWorkgroupStorageSize: 16384,
        },
      },
    };
    const events: RunEvent[] = [];
    const error = await (async () => {
      for await (const event of runQuantization(request({ backend: 'webgpu' }), {
        engine,
        chooseBackend: async () => tiny,
      }))
        events.push(event);
    })().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RunInputError);
    // conv: 3×3×3 = 27 inputs → 27² × 4 B = 2916 B > 512 B; fc: 6 inputs.
    expect(error).toMatchObject({ kind: 'device', subject: 'conv' });
    expect(events.some((e) => e.type === 'layer-start' || e.type === 'backend')).toBe(false);
    expect(disposed).toBe(1);
  });

  it('exports a finished run on demand per format, from the shared decoded model, unchanged by earlier exports', async () => {
    const events = await drain(runQuantization(request(), deps));
    const { run } = events[events.length - 1] as Extract<RunEvent, { type: 'done' }>;
    const first = await exportRun(run, 'qdq');
    const fake = await exportRun(run, 'fake-quant');
    const again = await exportRun(run, 'qdq');
    expect(again.bytes).toEqual(first.bytes);
    expect(run.report.exports!.map((e) => e.format)).toEqual(['fake-quant', 'qdq']);
    expect(run.report.export).toEqual(again.record);
    expect(fake.record.opset).toBe(13);
    await expect(exportRun(run, 'nope' as never)).rejects.toBeInstanceOf(ExportRefusedError);
  });
});
