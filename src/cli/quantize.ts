/**
 * `comq quantize MODEL.onnx (--images DIR | --inputs DIR) --out OUT.onnx [--report REPORT.json] ...`:
 * calibration sets from folders, quantizeModel() over the chosen backend and onnxruntime-node,
 * then float vs quantized evaluation on held-out inputs, a layer table on stdout and the JSON
 * report (issue 4, "Command line"). OUT.onnx is the export chosen by --format (issue 5,
 * src/cli/quantizeExport.ts), written only after it matched the float model carrying the dequantized
 * weights in onnxruntime-node.
 */
import { writeFileSync } from 'node:fs';
import { selectBackend, type BackendChoice } from '../core/backend/select.ts';
import { guessPreset, isPresetName, presetNames, resolvePreprocess, type PreprocessSpec } from '../core/calibration/inputs/index.ts';
import { evaluateModels, type EvaluationResult, type EvaluationTask } from '../core/evaluation/index.ts';
import { findLayers } from '../core/graph/layers/index.ts';
import { describeModel, type ModelFacts } from '../core/graph/modelFacts.ts';
import { decodeModel } from '../core/onnx/index.ts';
import { quantizeModel } from '../core/pipeline/quantizeModel.ts';
import type { InferenceEngine, SampleSet } from '../core/base/ports.ts';
import type { ProgressEvent, QuantizeReport } from '../core/pipeline/types.ts';
import { createNodeInferenceEngine } from '../hosts/node/ortNode.ts';
import { CliUsageError } from './errors.ts';
import { folderSampleSet, listDataFolder, splitFiles, type DataFolder } from './quantizeData.ts';
import { parseQuantizeFlags, type QuantizeCommand, type QuantizeFlags } from './quantizeOptions.ts';
import { buildVerifiedExport, type ExportReport } from './quantizeExport.ts';
import { createProgress, type ProgressSink } from './quantizeProgress.ts';
import { formatQuantizeSummary } from './quantizeReport.ts';
import { loadModel, readUserFile } from './readModel.ts';

export interface QuantizeIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** What the report's `eval` holds: the evaluation result plus where its inputs came from. */
export interface EvalReport extends EvaluationResult {
  task: EvaluationTask;
  source: string;
}

/** The preset (named, or guessed from the model's shapes) and the task it implies. */
function choosePreset(command: QuantizeCommand, facts: ModelFacts, notes: string[]): { preset: string; task: EvaluationTask } {
  let preset = command.preset;
  if (preset !== undefined && !isPresetName(preset)) {
    throw new CliUsageError(`--preset ${preset}: unknown preset; choose one of ${presetNames.join(', ')}.`);
  }
  if (preset === undefined) {
    const guess = guessPreset({ inputs: facts.inputs, outputs: facts.outputs });
    preset = guess?.preset ?? 'imagenet';
    if (command.calibration.kind === 'images') {
      notes.push(guess ? `Preset ${guess.preset} (${guess.reason}); --preset overrides.` : 'Preset imagenet (no better guess from the model); --preset overrides.');
    }
  }
  const outputRank = facts.outputs[0]?.shape.length ?? 0;
  let task: EvaluationTask = 'generic';
  if (preset === 'ppocr-det') task = 'detector';
  else if (preset === 'ppocr-cls' || (preset !== 'ppocr-rec' && outputRank === 2)) task = 'classifier';
  return { preset, task };
}

async function openBackend(command: QuantizeCommand, progress: ProgressSink, engine: InferenceEngine): Promise<BackendChoice> {
  let gpu: GPU | undefined;
  if (command.backend !== 'cpu') {
    try {
      // Dawn's node bindings load native code: only when WebGPU may be used.
      const { createNodeGpu } = await import('../hosts/node/nodeGpu.ts');
      gpu = createNodeGpu();
    } catch (error) {
      if (command.backend === 'webgpu') throw new CliUsageError(`--backend webgpu: WebGPU is not available here (${error instanceof Error ? error.message : String(error)}); use --backend cpu.`);
    }
  }
  try {
    // The CPU path reduces Grams of ≥ 8 columns with onnxruntime's sgemm (the Gram is most of a run).
    const choice = await selectBackend(gpu, command.backend, { cpu: { gramEngine: engine } });
    progress.note(`Backend: ${choice.reason}`);
    return choice;
  } catch (error) {
    if (command.backend === 'webgpu') throw new CliUsageError(`--backend webgpu: ${error instanceof Error ? error.message : String(error)} Use --backend cpu.`);
    throw error;
  }
}

interface Sets {
  calibration: SampleSet;
  evaluation?: SampleSet;
  evalSource?: string;
}

async function buildSets(command: QuantizeCommand, facts: ModelFacts, spec: PreprocessSpec | undefined, notes: string[]): Promise<Sets> {
  const input = facts.inputs[0];
  const calibFlag = command.calibration.kind === 'images' ? '--images' : '--inputs';
  const calibFolder = await listDataFolder(command.calibration.kind, command.calibration.dir, calibFlag);
  let evalFolder: DataFolder | undefined;
  let calibNames = calibFolder.files;
  let evalNames: string[] = [];
  if (command.evaluation) {
    const flag = command.evaluation.kind === 'images' ? '--eval-images' : '--eval-inputs';
    if (command.evaluation.kind === 'images' && !spec) throw new CliUsageError(`${flag}: the model is fed with .npy tensors (--inputs); evaluate with --eval-inputs DIR.`);
    if (command.evaluate) {
      evalFolder = await listDataFolder(command.evaluation.kind, command.evaluation.dir, flag);
      evalNames = evalFolder.files.slice(0, command.evalCount ?? evalFolder.files.length);
    }
    if (command.options.calibrationCount !== undefined) calibNames = calibNames.slice(0, command.options.calibrationCount);
  } else {
    const split = splitFiles(calibFolder.files, {
      calibration: command.options.calibrationCount,
      evaluation: command.evalCount,
      seed: command.options.seed,
      evaluate: command.evaluate,
    });
    calibNames = split.calibration;
    evalNames = split.evaluation;
    if (evalNames.length > 0) evalFolder = calibFolder;
    if (split.note) notes.push(split.note);
  }
  // A labels file names the evaluation images; calibration needs none.
  const calibration = await folderSampleSet(calibFolder, calibNames, input, spec);
  if (!evalFolder || evalNames.length === 0) return { calibration };
  const evaluation = await folderSampleSet(evalFolder, evalNames, input, spec, command.labelsPath);
  return { calibration, evaluation, evalSource: `${evalFolder.dir} (${evalNames.length} file(s)${evalFolder === calibFolder ? ', held out from the calibration folder' : ''})` };
}

/** The output tensor of every quantized layer in the normalised graph, for per-layer SQNR. */
function layerOutputsOf(normalizedModel: Uint8Array, report: QuantizeReport): { name: string; tensor: string }[] {
  const model = decodeModel(normalizedModel);
  const quantized = new Set(report.layers.filter((layer) => layer.bits !== 'float').map((layer) => layer.name));
  const nodes = model.graph?.node ?? [];
  return findLayers(model)
    .layers.filter((layer) => quantized.has(layer.name))
    .map((layer) => ({ name: layer.name, tensor: nodes[layer.nodeIndex]?.output?.[0] ?? '' }))
    .filter((layer) => layer.tensor !== '');
}

function writeOutput(path: string, bytes: Uint8Array | string, what: string): void {
  try {
    writeFileSync(path, bytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliUsageError(`${path}: cannot write ${what} (${code ?? String(error)}); check that the folder exists and is writable.`);
  }
}

export async function runQuantize(
  modelPath: string,
  flags: QuantizeFlags,
  io: QuantizeIo,
  engine: InferenceEngine = createNodeInferenceEngine(),
): Promise<QuantizeReport> {
  const command = parseQuantizeFlags(modelPath, flags);
  const progress = createProgress(command.progress, io.stderr);
  try {
    const { model } = loadModel(modelPath, []);
    const modelBytes = readUserFile(modelPath, 'an .onnx model');
    const facts = describeModel(model);
    if (facts.inputs.length !== 1) {
      throw new CliUsageError(`${modelPath}: the model has ${facts.inputs.length} inputs (${facts.inputs.map((i) => i.name).join(', ')}); comq quantize feeds single-input models.`);
    }
    // Notes wait until every input has been checked, so a bad input prints its one error line only.
    const notes: string[] = [];
    const { preset, task } = choosePreset(command, facts, notes);
    let spec: PreprocessSpec | undefined;
    if (command.calibration.kind === 'images') {
      try {
        spec = resolvePreprocess(facts.inputs[0], { preset, size: command.size });
      } catch (error) {
        throw new CliUsageError(`${modelPath}: ${error instanceof Error ? error.message : String(error)}.`);
      }
    }
    const sets = await buildSets(command, facts, spec, notes);
    for (const note of notes) progress.note(note);
    const backendChoice = await openBackend(command, progress, engine);
    let done: Extract<ProgressEvent, { type: 'done' }> | undefined;
    try {
      for await (const event of quantizeModel({ bytes: modelBytes }, sets.calibration, command.options, { backend: backendChoice.backend, engine })) {
        progress.event(event);
        if (event.type === 'done') done = event;
      }
    } finally {
      await backendChoice.backend.dispose();
    }
    if (!done) throw new Error('quantizeModel ended without its done event');
    const report: QuantizeReport & { export?: ExportReport } = done.report;
    progress.event({ type: 'stage', stage: 'write', message: `exporting as ${command.format} and verifying in ${engine.description}` });
    // Verify on held-out inputs when there are some, else on the calibration samples.
    const exported = await buildVerifiedExport(done, command.format, sets.evaluation ?? sets.calibration, engine, modelBytes.length);
    writeOutput(command.outPath, exported.bytes, 'the quantized model');
    report.export = exported.report;

    let evaluation: EvalReport | undefined;
    if (sets.evaluation) {
      progress.event({ type: 'stage', stage: 'evaluate', message: `float vs quantized on ${sets.evalSource}` });
      const started = performance.now();
      const result = await evaluateModels(done.normalizedModel, done.quantizedModel, sets.evaluation, engine, {
        task,
        layerOutputs: layerOutputsOf(done.normalizedModel, report),
        onSkip: (name, reason) => progress.event({ type: 'skip', what: 'sample', name, reason }),
        onSample: (count, total) => progress.evalSample(count, total),
      });
      report.timings.evaluate = (performance.now() - started) / 1000;
      evaluation = { task, source: sets.evalSource!, ...result };
      report.eval = evaluation;
    }
    progress.stop();
    if (command.reportPath) writeOutput(command.reportPath, `${JSON.stringify(report, jsonNumbers, 2)}\n`, 'the report');
    io.stdout(`${formatQuantizeSummary(report, evaluation, command.outPath, exported.report).join('\n')}\n`);
    return report;
  } finally {
    progress.stop();
  }
}

/** JSON has no Infinity/NaN: an exact layer (SQNR +∞) is written as the string "Infinity". */
function jsonNumbers(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}
