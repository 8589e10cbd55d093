/**
 * Streaming capture: run a model over the calibration samples, pass by pass, and hand each
 * captured layer input to its consumers (Gram accumulators) right away. Nothing outlives the
 * sample it came from: peak memory is one sample's feeds plus one pass's captured values,
 * whatever the number of samples (issue 4, "Capture and Grams").
 */
import { InputError } from '../../base/inputError.ts';
import { safeText } from '../../base/safeText.ts';
import type { ModelProto } from '../../onnx/index.ts';
import type { InferenceEngine, Sample, SampleSet, TensorData } from '../../base/ports.ts';
import type { ProgressEvent } from '../../pipeline/types.ts';
import { inferValueDims } from '../../graph/shapes/inferShapes.ts';
import { planCapturePasses, type PassPlan, type PassValue } from './captureOutputs.ts';
import {
  ancestorNodes,
  indexCaptureGraph,
  nodeCosts,
  passEncoder,
  type CaptureGraph,
  type PassEncoder,
} from './prunePass.ts';

/** Receives one captured value of one sample (float32, ONNX dims). */
export type CaptureConsumer = (data: Float32Array, dims: readonly number[]) => Promise<void>;

export interface CaptureRequest {
  engine: InferenceEngine;
  /** The (normalised, possibly partly quantized) float model to run. */
  model: ModelProto;
  samples: SampleSet;
  /** Use at most this many good samples. */
  maxSamples: number;
  /** Value name → who wants it, in the order values should be captured. */
  consumers: ReadonlyMap<string, CaptureConsumer[]>;
  bytesPerPass: number;
  /**
   * Gram accumulator bytes each value's consumers hold until its pass ends, and their bound per
   * pass (gramStage: the memory plan's gramBytesPerRun). Absent: Grams do not limit the passes.
   */
  gramBytes?: ReadonlyMap<string, number>;
  gramBytesPerPass?: number;
  signal?: AbortSignal;
  /** The set's first sample, when the caller already decoded it (saves one decode). */
  first?: Sample;
  /** Called once per skipped sample (first pass only, so each is reported once). */
  onSkip?: (name: string, reason: string) => void;
  /** Called after each capture pass with the value names whose capture is complete (every sample seen). */
  onPassEnd?: (values: readonly string[]) => Promise<void>;
}

export class CaptureAbortedError extends Error {
  constructor() {
    super('quantization was cancelled (options.signal aborted)');
    this.name = 'AbortError';
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CaptureAbortedError();
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Checks a sample against the first sample's feeds (the model's input sizes are fixed from it). */
export function sampleProblem(sample: Sample, reference: Sample): string | null {
  for (const [name, ref] of Object.entries(reference.feeds)) {
    const t = sample.feeds[name];
    if (!t) return `it has no feed '${name}'`;
    if (t.type !== ref.type) return `feed '${name}' is ${t.type}, the first sample's is ${ref.type}`;
    if (!sameDims(t.dims, ref.dims)) {
      return `feed '${name}' has dims [${t.dims.join(', ')}], the model was fixed at [${ref.dims.join(', ')}] by the first sample`;
    }
  }
  return null;
}

function asFloat(name: string, t: TensorData): Float32Array {
  if (t.type !== 'float32' || !(t.data instanceof Float32Array)) {
    throw new Error(
      `captured value '${name}' is ${t.type}; quantizable layers read float32 after normalisation`,
    );
  }
  return t.data;
}

/** Bytes of one float32 element: every captured value is float32 after normalisation. */
const CAPTURED_ELEMENT_BYTES = 4;

/**
 * One sample's byte size of every requested value: from static shape inference on the first
 * sample's feed dims (src/core/graph/shapes), no forward pass needed. Values the inference cannot
 * size (an op it does not cover) are measured by probing, as before.
 */
async function sizeValues(
  request: CaptureRequest,
  encodePass: PassEncoder,
  dims: ReadonlyMap<string, readonly number[]>,
  first: Sample,
  names: string[],
): Promise<Map<string, number>> {
  const bytes = new Map<string, number>();
  const unsized: string[] = [];
  for (const name of names) {
    const feed = first.feeds[name];
    const d = dims.get(name);
    if (feed) bytes.set(name, feed.data.byteLength);
    else if (d) bytes.set(name, CAPTURED_ELEMENT_BYTES * d.reduce((a, b) => a * b, 1));
    else unsized.push(name);
  }
  if (unsized.length > 0) {
    for (const [name, size] of await measureBytes(request, encodePass, first, unsized)) bytes.set(name, size);
  }
  return bytes;
}

/**
 * One sample's byte size of each value in `names`, measured by running the first sample with the
 * values exposed (the fallback for values shape inference cannot size). The probe itself must
 * respect the budget, so values are exposed in graph-order chunks: the first chunk is one value;
 * each next one is at most twice the previous and holds as many values as fit in `bytesPerPass` if
 * each were as large as the largest value of the previous chunk. Best effort: activation sizes in
 * graph order usually change slowly, but a sudden growth inside one chunk can overshoot the budget
 * during this single-sample probe. The capture passes themselves are exact.
 */
async function measureBytes(
  request: CaptureRequest,
  encodePass: PassEncoder,
  first: Sample,
  names: string[],
): Promise<Map<string, number>> {
  const bytes = new Map<string, number>();
  let chunk = 1;
  let largestInChunk = 0;
  for (let start = 0; start < names.length; start += chunk) {
    throwIfAborted(request.signal);
    if (start > 0)
      chunk = Math.max(
        1,
        Math.min(2 * chunk, Math.floor(request.bytesPerPass / Math.max(1, largestInChunk))),
      );
    largestInChunk = 0;
    const part = names.slice(start, start + chunk);
    const fetches = part.filter((n) => !(n in first.feeds));
    const probe = fetches.length > 0 ? encodePass(fetches) : null;
    let out: Record<string, TensorData> = {};
    if (probe) {
      const session = await request.engine.createSession(probe);
      try {
        out = await session.run(first.feeds, fetches);
      } finally {
        await session.release();
      }
    }
    for (const name of part) {
      const t = out[name] ?? first.feeds[name];
      const size = t ? t.data.byteLength : 0;
      bytes.set(name, size);
      largestInChunk = Math.max(largestInChunk, size);
    }
  }
  return bytes;
}

/** A file of a sample set that could not be used, and why (one sentence). */
export interface SkippedSample {
  name: string;
  reason: string;
}

/** How many skipped files a one-line message lists before "and N more". */
const LISTED_SKIPS = 5;

/**
 * The input error of a set in which no sample was usable: it names the skipped files with their
 * reasons (the first few; the count of the rest), so the user sees which file to fix and why.
 */
export function noUsableSampleError(
  skipped: readonly SkippedSample[],
  setName = 'calibration set',
): InputError {
  if (skipped.length === 0) {
    return new InputError(`the ${setName} holds no sample; give at least one image or .npy tensor.`);
  }
  // Readers often start their reason with the file's name ("x.npy: is a named pipe"): then the
  // reason alone names it; otherwise "name (reason)".
  const listed = skipped.slice(0, LISTED_SKIPS).map((s) => {
    const reason = safeText(s.reason).replace(/\.$/, '');
    return s.reason.startsWith(s.name) ? reason : `${safeText(s.name)} (${reason})`;
  });
  const more = skipped.length > LISTED_SKIPS ? `; and ${skipped.length - LISTED_SKIPS} more` : '';
  const count = skipped.length === 1 ? 'its only file was' : `all ${skipped.length} files were`;
  return new InputError(
    `the ${setName} yielded no usable sample: ${count} skipped: ${listed.join('; ')}${more}. Fix or replace these files.`,
  );
}

/**
 * The first good sample of the set (its dims fix the model's input sizes). When every sample is
 * skipped, an InputError lists the skipped files with their reasons.
 */
export async function firstSample(
  samples: SampleSet,
  onSkip?: (name: string, reason: string) => void,
  setName?: string,
): Promise<Sample> {
  const skipped: SkippedSample[] = [];
  const record = (name: string, reason: string): void => {
    skipped.push({ name, reason });
    onSkip?.(name, reason);
  };
  for await (const sample of samples.samples(record)) return sample;
  throw noUsableSampleError(skipped, setName);
}

/**
 * A pass costs at least this share of a full forward pass beyond the nodes it runs: its session,
 * and every sample decoded again. Makes the planner prefer fewer passes among plans of equal cost.
 */
const PASS_OVERHEAD_SHARE = 0.02;

/** The capture passes: values in topological order, split under the byte bounds by forward cost. */
function planPasses(
  request: CaptureRequest,
  graph: CaptureGraph,
  dims: ReadonlyMap<string, readonly number[]>,
  bytes: ReadonlyMap<string, number>,
  names: readonly string[],
): PassPlan & { fullCost: number } {
  // Graph inputs first, then by producer: a pass's nodes are then a prefix-like slice of the graph.
  const position = (name: string): number => graph.producer.get(name) ?? -1;
  const ordered = names
    .map((name, i) => ({ name, i }))
    .sort((a, b) => position(a.name) - position(b.name) || a.i - b.i);
  const values: PassValue[] = ordered.map(({ name }) => ({
    name,
    bytes: bytes.get(name) ?? 0,
    gramBytes: request.gramBytes?.get(name) ?? 0,
    nodes: ancestorNodes(graph, [name]),
  }));
  const costs = nodeCosts(request.model, dims);
  const fullCost = costs.reduce((s, c) => s + c, 0);
  const plan = planCapturePasses(
    values,
    {
      bytesPerPass: request.bytesPerPass,
      gramBytesPerPass: request.gramBytesPerPass ?? Number.POSITIVE_INFINITY,
    },
    costs,
    PASS_OVERHEAD_SHARE * fullCost,
  );
  return { ...plan, fullCost };
}

/**
 * Runs the capture. Yields 'capture' progress events; returns the number of samples used.
 * Each consumer is awaited before the next value, so at most one captured value is in flight.
 */
export async function* runCapture(request: CaptureRequest): AsyncGenerator<ProgressEvent, number> {
  const names = [...request.consumers.keys()];
  if (names.length === 0) return 0;
  const first = request.first ?? (await firstSample(request.samples));
  throwIfAborted(request.signal);
  const graph = indexCaptureGraph(request.model);
  const feedDims = Object.fromEntries(Object.entries(first.feeds).map(([name, t]) => [name, t.dims]));
  const dims = inferValueDims(request.model, feedDims);
  const encodePass = passEncoder(graph); // each weight encoded once for the probe and all passes
  const bytes = await sizeValues(request, encodePass, dims, first, names);
  const { passes, costs, fullCost } = planPasses(request, graph, dims, bytes, names);
  const forwardShares = costs.map((c) => (fullCost > 0 ? c / fullCost : 1));
  let used = 0;
  for (let pass = 0; pass < passes.length; pass++) {
    throwIfAborted(request.signal);
    const passNames = passes[pass];
    // One session per pass running only what that pass's values need (captureModel).
    // One session exposing every value with a per-pass fetch list would be cheaper to create, but
    // onnxruntime keeps unfetched graph outputs alive until the run ends (measured on the detector
    // at 640²: +73 MiB of peak RSS for 61 exposed values while fetching one), which would break the
    // per-pass byte budget, and every pass would run the whole network.
    const passBytes = encodePass(passNames);
    const session = passBytes ? await request.engine.createSession(passBytes) : null;
    used = 0;
    try {
      const onSkip = pass === 0 ? request.onSkip : undefined;
      for await (const sample of request.samples.samples(onSkip)) {
        throwIfAborted(request.signal);
        const problem = sampleProblem(sample, first);
        if (problem) {
          onSkip?.(sample.name, problem);
          continue;
        }
        const fetches = passNames.filter((n) => !(n in sample.feeds));
        const out = session && fetches.length > 0 ? await session.run(sample.feeds, fetches) : {};
        for (const name of passNames) {
          const t = out[name] ?? sample.feeds[name];
          const data = asFloat(name, t);
          for (const consume of request.consumers.get(name) ?? []) await consume(data, t.dims);
          delete out[name]; // drop the activation as soon as its consumers are done
        }
        used++;
        yield {
          type: 'capture',
          pass: pass + 1,
          passes: passes.length,
          sample: used,
          samples: Math.min(request.maxSamples, request.samples.count),
          forwardShare: forwardShares[pass],
          forwardTotal: forwardShares.reduce((s, c) => s + c, 0),
        };
        if (used >= request.maxSamples) break; // stop before decoding a sample that would not be used
        throwIfAborted(request.signal); // the consumer may have cancelled while handling the event
      }
    } finally {
      await session?.release();
    }
    await request.onPassEnd?.(passNames);
  }
  return used;
}
