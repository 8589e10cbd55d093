/**
 * `comq quantize MODEL.onnx (--images DIR | --inputs DIR) --out OUT.onnx [--report REPORT.json] ...`:
 * the shell around the core run (src/core/run): flags → request, folders → sample sources, Node
 * host deps (onnxruntime-node, Dawn when WebGPU may be used), events → progress lines, and the
 * verified export and the JSON report → files. OUT.onnx is written only after it matched the float
 * model carrying the dequantized weights in onnxruntime-node.
 */
import type { BackendChoice, BackendPreference } from '../core/backend/select.ts';
import type { InferenceEngine } from '../core/base/ports.ts';
import { describeModel } from '../core/graph/modelFacts.ts';
import { describePreprocess, describeSummary } from '../core/calibration/inputs/index.ts';
import { OpsetUpgradeError } from '../core/graph/opset/index.ts';
import {
  ExportRefusedError,
  openBackend,
  RunInputError,
  runQuantization,
  type FinishedRun,
  type RunEvent,
  type RunReport,
  type SampleSource,
} from '../core/run/index.ts';
import { createNodeGramEngine, createNodeInferenceEngine } from '../hosts/node/ortNode.ts';
import { CliUsageError } from './errors.ts';
import { checkWritable, writeOutput } from './outputFiles.ts';
import { folderSource, textCropSources } from './quantizeData.ts';
import { parseQuantizeFlags, type QuantizeCommand, type QuantizeFlags } from './quantizeOptions.ts';
import { createProgress, type ProgressSink } from './quantizeProgress.ts';
import { formatBrecqSummary, formatQuantizeSummary, formatWarnings } from './quantizeReport.ts';
import { formatBudgetTable } from './budgetTable.ts';
import { worstOutputSqnrDb } from '../core/evaluation/warnings.ts';
import { loadModel } from './readModel.ts';

export interface QuantizeIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The Node host's backend: Dawn only when WebGPU may be used (its bindings load native code). */
async function chooseBackend(preference: BackendPreference, engine: InferenceEngine): Promise<BackendChoice> {
  let gpu: GPU | undefined;
  if (preference !== 'cpu') {
    try {
      // Dawn's node bindings load native code: only when WebGPU may be used.
      const { createNodeGpu } = await import('../hosts/node/nodeGpu.ts');
      gpu = createNodeGpu();
    } catch (error) {
      if (preference === 'webgpu')
        throw new CliUsageError(
          `--backend webgpu: WebGPU is not available here (${reasonOf(error)}); use --backend cpu.`,
        );
    }
  }
  try {
    // onnxruntime-node: its dgemm also serves GPTQ's Float64 factor (quant/choleskyEngine.ts)
    return await openBackend(gpu, preference, engine, engine);
  } catch (error) {
    if (preference === 'webgpu')
      throw new CliUsageError(`--backend webgpu: ${reasonOf(error)} Use --backend cpu.`);
    throw error;
  }
}

/** The core's refusals in the command line's words (exit 2), naming the flag to change. */
function usageError(error: unknown, command: QuantizeCommand): unknown {
  if (error instanceof RunInputError) {
    if (error.kind === 'model')
      return new CliUsageError(
        `${error.message.replace(/only single-input models can be fed\.$/, 'comq quantize feeds single-input models.')}`,
      );
    if (error.kind === 'device') return new CliUsageError(`${error.message} Use --backend cpu.`);
    return new CliUsageError(`${command.modelPath}: ${error.message.replace(/\.$/, '')}.`);
  }
  if (error instanceof ExportRefusedError) {
    const format = error.format;
    if (error.stage === 'write') {
      if (error.cause instanceof OpsetUpgradeError)
        return new CliUsageError(
          `--format ${format}: ${error.cause.message.replace(/Export as fake-quant/, 'Rerun with --format fake-quant to export')}`,
        );
      return error.cause ?? error;
    }
    return new CliUsageError(
      `export refused (--format ${format}): ${error.reason} Nothing was written; ${format === 'fake-quant' ? 'please report this model.' : 'try --format fake-quant.'}`,
    );
  }
  return error;
}

async function sources(
  command: QuantizeCommand,
  inputNames: readonly string[],
  crops?: { engine: InferenceEngine; note: (line: string) => void },
): Promise<{ calibration: SampleSource; evaluation?: SampleSource }> {
  if (command.cropsFrom && crops) {
    if (command.evaluation?.kind === 'inputs')
      throw new CliUsageError('--calib-crops-from cuts crops from images; evaluate with --eval-images DIR.');
    return textCropSources(
      command.cropsFrom,
      {
        calibration: { dir: command.calibration.dir, flag: '--images' },
        ...(command.evaluation && command.evaluate
          ? { evaluation: { dir: command.evaluation.dir, flag: '--eval-images' } }
          : {}),
      },
      crops.engine,
      crops.note,
    );
  }
  const calibration = await folderSource(
    command.calibration,
    command.calibration.kind === 'images' ? '--images' : '--inputs',
    command.labelsPath,
    inputNames,
  );
  if (!command.evaluation || !command.evaluate) return { calibration };
  if (command.evaluation.kind === 'images' && command.calibration.kind === 'inputs') {
    throw new CliUsageError(
      '--eval-images: the model is fed with .npy tensors (--inputs); evaluate with --eval-inputs DIR.',
    );
  }
  const evaluation = await folderSource(
    command.evaluation,
    command.evaluation.kind === 'images' ? '--eval-images' : '--eval-inputs',
    command.labelsPath,
    inputNames,
  );
  return { calibration, evaluation };
}

/**
 * The chosen preset and its full preprocessing (as the report's inputs.preprocess records it),
 * printed once before capture; a guess says so and names the flags that state the values.
 */
function presetLines(event: Extract<RunEvent, { type: 'preset' }>): string[] {
  const why =
    event.source === 'named'
      ? '--preset'
      : event.source === 'guessed'
        ? `${event.reason}; --preset overrides`
        : 'no preset fits the model';
  const spec = event.spec;
  if (!spec) return [`Preset ${event.preset} (${why}).`];
  const provenance = event.provenance;
  const from = [
    provenance?.metadata ? `values from ${provenance.metadata}` : '',
    provenance?.stated.length ? `stated: ${provenance.stated.join(', ')}` : '',
  ].filter(Boolean);
  const lines = [
    `Preprocessing: preset ${event.preset} (${why}${from.length ? `; ${from.join('; ')}` : ''}): ${describePreprocess(spec)}.`,
  ];
  if (provenance?.guessed)
    lines.push(
      `warning: the preprocessing above is a GUESS (no preset named, nothing in the model's metadata). If the model was trained with other values, state them: --mean, --std, --scale, --channel-order, --color, --resize (or --preset); wrong values make every figure below misleading.`,
    );
  return lines;
}

/** Renders one run event as progress lines (or a bar), and writes the verified export's bytes. */
function render(event: RunEvent, progress: ProgressSink, command: QuantizeCommand): void {
  switch (event.type) {
    case 'preset':
      if (command.calibration.kind !== 'images') break;
      for (const line of presetLines(event)) progress.note(line);
      break;
    case 'input-summary':
      progress.note(`First calibration input as the model sees it: ${describeSummary(event.summary)}.`);
      break;
    case 'split':
      if (!event.heldOut || !command.evaluate) break;
      progress.note(
        event.evaluation > 0
          ? `No --eval-images/--eval-inputs: held out ${event.evaluation} of ${event.files} file(s) for evaluation (seeded split, disjoint from the ${event.calibration} calibration file(s)).`
          : `No --eval-images/--eval-inputs and no file left to hold out from ${event.files}: evaluation skipped; give --eval-images DIR or a smaller --calib.`,
      );
      break;
    case 'backend':
      progress.note(`Backend: ${event.reason}`);
      break;
    case 'eval-sample':
      progress.evalSample(event.done, event.total);
      break;
    case 'export':
      writeOutput(command.outPath, event.bytes, 'the quantized model');
      break;
    case 'budget':
      if (event.phase === 'start') progress.note(event.message);
      else if (event.phase === 'done')
        progress.note(
          `Size budget: bits chosen in ${event.seconds.toFixed(1)} s (predicted ${event.report.predictedRatio.toFixed(3)}× of the float file).`,
        );
      break;
    case 'brecq':
      if (event.progress.iteration === event.progress.iterations)
        progress.note(
          `BRECQ ${event.progress.name}: block error ${(event.progress.relError ?? Number.NaN).toExponential(3)} after ${event.progress.iterations} iteration(s) (${event.progress.block + 1}/${event.progress.blocks}).`,
        );
      break;
    case 'evaluation':
    case 'done':
      break;
    default:
      progress.event(event);
  }
}

export async function runQuantize(
  modelPath: string,
  flags: QuantizeFlags,
  io: QuantizeIo,
  engine: InferenceEngine = createNodeInferenceEngine(),
): Promise<RunReport> {
  const command = parseQuantizeFlags(modelPath, flags);
  const progress = createProgress(
    command.progress && !command.quiet,
    command.quiet ? () => undefined : io.stderr,
  );
  try {
    const loaded = loadModel(modelPath, command.dataPaths);
    const proto = loaded.resolved ?? loaded.model;
    const external = describeModel(proto).weightStorage.externalTensors;
    if (external > 0)
      throw new CliUsageError(
        `${modelPath}: ${external} weight tensor(s) are stored in external data files; give them with --data FILE ...`,
      );
    // Before the run: an output that cannot be written is refused now, not after the quantization.
    checkWritable(command.outPath, 'the quantized model');
    if (command.reportPath) checkWritable(command.reportPath, 'the report');
    let run: FinishedRun | undefined;
    try {
      const request = {
        model: { name: modelPath, proto, fileBytes: loaded.fileBytes },
        ...(await sources(
          command,
          describeModel(proto).inputs.map((input) => input.name),
          { engine, note: (line) => progress.note(line) },
        )),
        constants: command.constants,
        evaluate: command.evaluate,
        ...(command.evalCount !== undefined ? { evaluationCount: command.evalCount } : {}),
        ...(command.preset !== undefined ? { preset: command.preset } : {}),
        ...(command.size ? { size: command.size } : {}),
        preprocess: command.preprocess,
        options: command.options,
        backend: command.backend,
        export: command.format,
        ...(command.budget ? { budget: command.budget } : {}),
      };
      let evaluated = false;
      for await (const event of runQuantization(request, {
        engine,
        // The Gram's sgemm gets its own engine (2 threads on ≥ 2 cores, ortNode.ts); capture keeps `engine`.
        chooseBackend: (preference) => chooseBackend(preference, createNodeGramEngine()),
      })) {
        // --min-sqnr is decided before the export event writes OUT (and before the report).
        if (event.type === 'evaluation') {
          evaluated = true;
          checkMinSqnr(command, event.evaluation);
        }
        if (event.type === 'export' && command.minSqnrDb !== undefined && !evaluated)
          throw new CliUsageError(
            `--min-sqnr ${command.minSqnrDb}: no held-out sample was evaluated, so the output SQNR is unknown; nothing was written. Give --eval-images/--eval-inputs DIR or a smaller --calib.`,
          );
        render(event, progress, command);
        if (event.type === 'done') run = event.run;
      }
    } catch (error) {
      throw usageError(error, command);
    }
    if (!run) throw new Error('the run ended without its done event');
    const { report } = run;
    progress.stop();
    if (command.reportPath)
      writeOutput(command.reportPath, `${JSON.stringify(report, jsonNumbers, 2)}\n`, 'the report');
    io.stdout(`${formatQuantizeSummary(report, report.eval, command.outPath, report.export).join('\n')}\n`);
    if (report.budget) io.stdout(`${formatBudgetTable(report.budget).join('\n')}\n`);
    if (report.brecq) io.stdout(`${formatBrecqSummary(report.brecq).join('\n')}\n`);
    const narrow = report.layers.filter((layer) => layer.bits === 2 || layer.bits === 3).length;
    if (narrow > 0 && command.format !== 'fake-quant') {
      // Packed where it pays (src/core/export/packedCodes.ts); the others' export notes say why not.
      const contained = (report.export?.notes ?? []).filter((n) => /4-bit container/.test(n.note)).length;
      io.stdout(
        `Note: ${narrow} layer(s) at 2 or 3 bits: ${narrow - contained} packed at 2 or 3 bits a weight (unpacked in the graph with BitShift/BitwiseAnd), ${contained} in 4-bit containers (too small for packing to pay for its decoding nodes).\n`,
      );
    }
    return report;
  } finally {
    progress.stop();
  }
}

/** `--min-sqnr DB`: a model output SQNR below DB (or NaN) is an input error, exit 2, nothing written. */
function checkMinSqnr(
  command: QuantizeCommand,
  evaluation: Extract<RunEvent, { type: 'evaluation' }>['evaluation'],
): void {
  const min = command.minSqnrDb;
  if (min === undefined) return;
  const worst = worstOutputSqnrDb(evaluation);
  if (worst >= min) return;
  const output = evaluation.outputs.find((o) => !(o.sqnrDb > worst))?.name ?? '?';
  const warnings = formatWarnings(evaluation)
    .slice(1)
    .map((line) => line.trim());
  throw new CliUsageError(
    `model output '${output}' SQNR ${Number.isFinite(worst) ? worst.toFixed(1) : String(worst)} dB is below --min-sqnr ${min} dB; nothing was written.` +
      (warnings.length > 0 ? ` ${warnings.join(' ')}` : ''),
  );
}

/** JSON has no Infinity/NaN: an exact layer (SQNR +∞) is written as the string "Infinity". */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
