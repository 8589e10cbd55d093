/**
 * loadModel's work: the dropped files → a decoded model and the summary the page shows at once
 * (facts, layer table, task and preprocessing preset). Every refusal is a StudioError of kind
 * 'model' (or 'device' for a model too large to hold) naming the file and what to do.
 */
import { preprocessFromMetadata } from '../core/calibration/inputs/index.ts';
import { describeNotTaken, findLayers, weightsNotTaken } from '../core/graph/layers/index.ts';
import { describeModel, type ModelFacts } from '../core/graph/modelFacts.ts';
import { branchWeightNodes } from '../core/graph/subgraph/inlineTakenBranches.ts';
import { choosePreset, taskFor } from '../core/run/index.ts';
import { ModelValidationError, validateModel } from '../core/graph/validate/index.ts';
import {
  assertLocationsInside,
  decodeModel,
  encodeModel,
  externalLocations,
  missingLocations,
  resolveExternalData,
  type ModelProto,
} from '../core/onnx/index.ts';
import { safeText } from '../core/base/safeText.ts';
import { StudioError, reasonOf } from './errors.ts';
import type { InputFile, ModelSummary } from './protocol.ts';

/**
 * Largest model the studio accepts: it holds the file, the decoded graph, the normalised and the
 * quantized copies at once (≈ 4× the weights), and a browser tab's heap is a few GiB at most.
 */
export const MAX_MODEL_BYTES = 1.5 * 1024 ** 3;

export interface LoadedModel {
  summary: ModelSummary;
  /** The .onnx file as dropped (the pipeline decodes it again with its external data). */
  bytes: Uint8Array;
  externalData?: Map<string, Uint8Array>;
  decoded: ModelProto;
  /** A self-contained model for onnxruntime (external data inlined); the file itself otherwise. */
  inferenceBytes: Uint8Array;
  facts: ModelFacts;
}

const isOnnxName = (name: string): boolean => /\.onnx$/i.test(name);

function pickModelFile(files: readonly InputFile[]): { model: InputFile; data: InputFile[] } {
  if (files.length === 0)
    throw new StudioError({
      kind: 'model',
      message: 'No file was given: drop an .onnx model (and its external data file, if it has one).',
    });
  const onnx = files.filter((f) => isOnnxName(f.name));
  if (onnx.length > 1) {
    throw new StudioError({
      kind: 'model',
      subject: onnx.map((f) => f.name).join(', '),
      message: `${onnx.length} .onnx files were given (${onnx.map((f) => f.name).join(', ')}): drop one model at a time, with its external data file.`,
    });
  }
  if (onnx.length === 1) return { model: onnx[0], data: files.filter((f) => f !== onnx[0]) };
  if (files.length === 1) return { model: files[0], data: [] };
  throw new StudioError({
    kind: 'model',
    subject: files.map((f) => f.name).join(', '),
    message: `None of ${files.map((f) => f.name).join(', ')} is an .onnx file: drop the model file itself (name ending in .onnx).`,
  });
}

/** "24 Conv, 12 LSTM". */
function opCounts(nodes: readonly { op: string }[]): string {
  const counts = new Map<string, number>();
  for (const node of nodes) counts.set(node.op, (counts.get(node.op) ?? 0) + 1);
  return [...counts].map(([op, count]) => `${count} ${op}`).join(', ');
}

function presetFor(facts: ModelFacts, model: ModelProto): ModelSummary['preset'] {
  const choice = choosePreset(facts);
  const metadata = preprocessFromMetadata(model);
  const fromMetadata = metadata ? { metadata: metadata.source } : {};
  if (choice.source === 'guessed')
    return { name: choice.preset, reason: choice.reason, guessed: false, ...fromMetadata };
  const normalised = metadata && ['scale', 'mean', 'std'].some((key) => key in metadata.stated);
  return {
    name: 'imagenet',
    reason: `${choice.reason}: ImageNet preprocessing; change the preset if the gallery looks wrong`,
    guessed: !normalised,
    ...fromMetadata,
  };
}

function summarize(
  fileName: string,
  fileBytes: number,
  model: ModelProto,
): { summary: ModelSummary; facts: ModelFacts } {
  const facts = describeModel(model);
  const discovery = findLayers(model);
  const preset = presetFor(facts, model);
  const summary: ModelSummary = {
    fileName,
    fileBytes,
    irVersion: facts.irVersion,
    opsets: facts.opsets,
    producer: [facts.producer.name, facts.producer.version].filter(Boolean).join(' ') || 'unknown',
    inputs: facts.inputs.map((v) => ({ name: v.name, elemType: v.elemType, shape: [...v.shape] })),
    outputs: facts.outputs.map((v) => ({ name: v.name, elemType: v.elemType, shape: [...v.shape] })),
    parameters: facts.parameters,
    layers: discovery.layers.map((l) => ({
      name: l.name,
      op: l.op,
      weightShape: [...l.weightShape],
      rows: l.rows,
      reduction: l.reduction,
      groups: l.groups,
      params: l.params,
    })),
    skipped: discovery.skipped.map((s) => ({ name: s.name, op: s.op, reason: s.reason })),
    task: taskFor(preset.name, facts),
    preset,
  };
  return { summary, facts };
}

/** Decodes and describes a dropped model; throws StudioError and touches no state on failure. */
export function loadModelFiles(files: readonly InputFile[], maxBytes = MAX_MODEL_BYTES): LoadedModel {
  const { model, data } = pickModelFile(files);
  const totalBytes = files.reduce((sum, f) => sum + f.bytes.length, 0);
  if (totalBytes > maxBytes) {
    throw new StudioError({
      kind: 'device',
      subject: model.name,
      message: `${model.name} is too large for this device: ${(totalBytes / 1024 ** 3).toFixed(2)} GiB, above the ${(maxBytes / 1024 ** 3).toFixed(2)} GiB the studio can hold in a browser tab; quantize it with the command line (comq quantize) instead.`,
    });
  }
  if (model.bytes.length === 0) {
    throw new StudioError({
      kind: 'model',
      subject: model.name,
      message: `${model.name} is empty (0 bytes): give a complete .onnx model (was it still being downloaded?).`,
    });
  }
  let decoded: ModelProto;
  try {
    decoded = decodeModel(model.bytes);
  } catch (error) {
    throw new StudioError(
      { kind: 'model', subject: model.name, message: `${model.name}: ${reasonOf(error)}` },
      { cause: error },
    );
  }
  let externalData: Map<string, Uint8Array> | undefined;
  let inferenceBytes = model.bytes;
  const facts0 = describeModel(decoded);
  if (facts0.weightStorage.externalTensors > 0 || data.length > 0) {
    externalData = new Map(data.map((f) => [f.name, f.bytes]));
    // The CLI's checks (src/core/onnx/externalLocations.ts): no location outside the model's
    // folder (a dropped file named like its last part must not stand in for it), every file named.
    const locations = externalLocations(decoded);
    try {
      assertLocationsInside(model.name, locations);
    } catch (error) {
      throw new StudioError(
        { kind: 'model', subject: model.name, message: reasonOf(error) },
        { cause: error },
      );
    }
    const missing = missingLocations(locations, externalData);
    if (missing.length > 0) {
      const names = missing.map((location) => `'${safeText(location)}'`).join(', ');
      throw new StudioError({
        kind: 'model',
        subject: model.name,
        message: `${model.name} keeps weights in external data file${missing.length > 1 ? 's' : ''} ${names}, which ${missing.length > 1 ? 'were' : 'was'} not dropped with it: drop the .onnx together with ${missing.length > 1 ? 'those files' : 'that file'} (select them all at once).`,
      });
    }
    try {
      const resolved = resolveExternalData(decoded, externalData);
      inferenceBytes = encodeModel(resolved);
      decoded = resolved;
    } catch (error) {
      throw new StudioError(
        {
          kind: 'model',
          subject: model.name,
          message: `${model.name} keeps weights in an external data file that was not given or does not match (${reasonOf(error)}): drop the .onnx together with its data file.`,
        },
        { cause: error },
      );
    }
  }
  // A model that fails validation is refused here, before it replaces the loaded one (issue 12).
  const problems = validateModel(decoded);
  if (problems.length > 0) {
    throw new StudioError({
      kind: 'model',
      subject: model.name,
      message: new ModelValidationError(problems, model.name).message,
    });
  }
  let described;
  try {
    described = summarize(model.name, model.bytes.length, decoded);
  } catch (error) {
    throw new StudioError(
      {
        kind: 'model',
        subject: model.name,
        message: `${model.name} could not be analysed: ${reasonOf(error)}`,
      },
      { cause: error },
    );
  }
  // Layers inside If branches (Silero VAD): listed by path; the run takes the branch its inputs and
  // constants decide (the core inlines it, src/core/graph/subgraph/inlineTakenBranches.ts).
  const branchLayers = branchWeightNodes(decoded);
  if (branchLayers.length > 0) {
    described.summary.branchLayers = branchLayers;
    described.summary.branchNote = `${branchLayers.length} weight node${branchLayers.length > 1 ? 's' : ''} (${opCounts(branchLayers)}) sit inside If branches: which branch runs is decided when the inputs and constants are known (e.g. a sample rate), so the run quantizes the taken branch and the other stays float.`;
  }
  if (described.summary.layers.length === 0 && branchLayers.length === 0) {
    // Refused at load, like an invalid model: a model with nothing to quantize would otherwise show
    // its facts and an enabled Quantize button, and the loaded model would be gone (issue 17).
    const notTaken = weightsNotTaken(decoded);
    const first = described.summary.skipped[0];
    throw new StudioError({
      kind: 'model',
      subject: model.name,
      message:
        `${model.name} has no quantizable layer: ` +
        (first
          ? `none of its ${described.summary.skipped.length} Conv / Gemm / MatMul nodes can be quantized (first: ${first.name}: ${first.reason})`
          : 'its main graph has no Conv, ConvTranspose, Gemm or MatMul with a constant weight') +
        (notTaken.length > 0 ? `; weights were seen but not taken: ${describeNotTaken(notTaken)}` : '') +
        '. The model you had loaded stays.',
    });
  }
  if (described.facts.inputs.length === 0) {
    throw new StudioError({
      kind: 'model',
      subject: model.name,
      message: `${model.name} has no graph inputs: the studio needs a model it can feed with images or .npy tensors.`,
    });
  }
  return {
    summary: described.summary,
    bytes: model.bytes,
    externalData,
    decoded,
    inferenceBytes,
    facts: described.facts,
  };
}
