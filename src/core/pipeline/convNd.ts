/**
 * Convolutions that are not 2-D (issue 17): 1-D Conv/ConvTranspose are 2-D ones on a height-1
 * image, so they reuse every backend's 2-D Gram kernels; 3-D Conv builds its im2col patches here
 * and feeds them to one dense accumulator per group (any backend's), the way ConvTranspose does.
 *
 * Patch order matches the weight `[O, C/g, k₁, …, k_r]` flattened: (c, k₁, …, k_r), so a Gram row
 * lines up with a weight row exactly as for 2-D (docs/algorithms.md, Notation).
 */
import type { Backend, GramAccumulator, GramOptions } from '../backend/backend.ts';
import type { ConvAttributes } from '../graph/layers/index.ts';
import { createRandom } from '../base/random.ts';

/** A 1-D convolution's attributes as a 2-D one over `[N, C, 1, L]` (kernel 1 on the new H axis). */
export function liftConv1dAttributes(a: ConvAttributes): ConvAttributes {
  const lifted: ConvAttributes = {
    ...a,
    kernelShape: [1, a.kernelShape[0]],
    strides: [1, a.strides[0] ?? 1],
    // ONNX pads are [begins…, ends…]: [b, e] becomes [0, b, 0, e].
    pads: [0, a.pads[0] ?? 0, 0, a.pads[1] ?? 0],
    dilations: [1, a.dilations[0] ?? 1],
  };
  if (a.outputPadding) lifted.outputPadding = [0, a.outputPadding[0] ?? 0];
  if (a.outputShape) lifted.outputShape = [1, a.outputShape[a.outputShape.length - 1]];
  return lifted;
}

/** `[N, C, L]` → `[N, C, 1, L]`: the same bytes, so the data is passed through untouched. */
export function liftConv1dDims(dims: readonly number[]): number[] {
  if (dims.length !== 3)
    throw new Error(`a 1-D convolution's input must be [N, C, L], got [${dims.join(', ')}]`);
  return [dims[0], dims[1], 1, dims[2]];
}

/** An accumulator that reshapes each chunk's dims (same data) before handing it on. */
export function reshapingAccumulator(
  inner: GramAccumulator,
  reshape: (dims: readonly number[]) => number[],
): GramAccumulator {
  return {
    add: (input, shape) => inner.add(input, reshape(shape)),
    get rowsSeen() {
      return inner.rowsSeen;
    },
    finish: () => inner.finish(),
  };
}

/** Pads `[begins…, ends…]` for an N-D Conv on `spatial` input sizes (ONNX auto_pad rules). */
export function resolveConvPadsNd(
  autoPad: string,
  spatial: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  pads: readonly number[],
): number[] {
  const rank = spatial.length;
  if (autoPad === '' || autoPad === 'NOTSET') {
    const resolved = pads.length === 0 ? new Array<number>(2 * rank).fill(0) : [...pads];
    if (resolved.length !== 2 * rank || resolved.some((p) => !Number.isInteger(p) || p < 0)) {
      throw new Error(`Conv pads must be ${2 * rank} non-negative integers, got [${pads.join(', ')}]`);
    }
    return resolved;
  }
  if (autoPad === 'VALID') return new Array<number>(2 * rank).fill(0);
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') {
    throw new Error(`Conv auto_pad must be NOTSET, VALID, SAME_UPPER or SAME_LOWER, got '${autoPad}'`);
  }
  const begins: number[] = [];
  const ends: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const out = Math.ceil(spatial[axis] / strides[axis]);
    const total = Math.max(
      0,
      (out - 1) * strides[axis] + dilations[axis] * (kernel[axis] - 1) + 1 - spatial[axis],
    );
    const small = Math.floor(total / 2);
    begins.push(autoPad === 'SAME_UPPER' ? small : total - small);
    ends.push(autoPad === 'SAME_UPPER' ? total - small : small);
  }
  return [...begins, ...ends];
}

/** The geometry of an N-D Conv on a given input: everything im2col needs. */
export interface ConvNdGeometry {
  inChannels: number;
  groups: number;
  spatial: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** Begins then ends, resolved. */
  pads: number[];
  /** Output size per spatial axis. */
  output: number[];
}

export function convNdGeometry(a: ConvAttributes, inputDims: readonly number[]): ConvNdGeometry {
  const rank = a.kernelShape.length;
  if (inputDims.length !== rank + 2) {
    throw new Error(
      `a ${rank}-D convolution's input must have ${rank + 2} dims, got [${inputDims.join(', ')}]`,
    );
  }
  const spatial = inputDims.slice(2);
  const kernel = a.kernelShape;
  const strides = a.strides.length ? a.strides : new Array<number>(rank).fill(1);
  const dilations = a.dilations.length ? a.dilations : new Array<number>(rank).fill(1);
  const pads = resolveConvPadsNd(a.autoPad, spatial, kernel, strides, dilations, a.pads);
  const output = spatial.map((size, axis) => {
    const padded = size + pads[axis] + pads[axis + rank];
    const span = dilations[axis] * (kernel[axis] - 1) + 1;
    const out = Math.floor((padded - span) / strides[axis]) + 1;
    if (padded < span || out < 1) {
      throw new Error(
        `Conv kernel (dilated span ${span}) does not fit the padded input (${padded}) on axis ${axis}`,
      );
    }
    return out;
  });
  return { inChannels: inputDims[1], groups: a.group, spatial, kernel, strides, dilations, pads, output };
}

/** Patch rows gathered per hand-off to the dense accumulators (bounds the scratch memory). */
const PATCH_ROWS_PER_CHUNK = 2048;

/**
 * Writes the patch of image `image` (offset into `input`, `[C, …spatial]`), group `group`, at
 * output position `position` (flat index over `output`) into `row`, in (c, k₁, …, k_r) order.
 */
function gatherPatch(
  geometry: ConvNdGeometry,
  input: Float32Array,
  imageOffset: number,
  group: number,
  position: number,
  row: Float32Array,
): void {
  const { spatial, kernel, strides, dilations, pads, output } = geometry;
  const rank = spatial.length;
  const channelsPerGroup = geometry.inChannels / geometry.groups;
  // Output coordinates of `position`, last axis fastest.
  const at = new Array<number>(rank);
  let rest = position;
  for (let axis = rank - 1; axis >= 0; axis--) {
    at[axis] = rest % output[axis];
    rest = Math.floor(rest / output[axis]);
  }
  const taps = kernel.reduce((a, b) => a * b, 1);
  const channelSize = spatial.reduce((a, b) => a * b, 1);
  const tap = new Array<number>(rank);
  for (let t = 0; t < taps; t++) {
    let restTap = t;
    for (let axis = rank - 1; axis >= 0; axis--) {
      tap[axis] = restTap % kernel[axis];
      restTap = Math.floor(restTap / kernel[axis]);
    }
    // Flat offset inside one channel, or −1 when the tap falls in the padding.
    let offset = 0;
    for (let axis = 0; axis < rank && offset >= 0; axis++) {
      const coordinate = at[axis] * strides[axis] - pads[axis] + tap[axis] * dilations[axis];
      offset = coordinate < 0 || coordinate >= spatial[axis] ? -1 : offset * spatial[axis] + coordinate;
    }
    for (let c = 0; c < channelsPerGroup; c++) {
      const channel = group * channelsPerGroup + c;
      row[c * taps + t] = offset < 0 ? 0 : input[imageOffset + channel * channelSize + offset];
    }
  }
}

/**
 * A Gram accumulator for an N-D Conv (used for 3-D): im2col patches in chunks, one dense
 * accumulator per group from `backend`, so the GEMM runs wherever that backend runs its Grams.
 */
export function createConvNdAccumulator(
  attributes: ConvAttributes,
  inputDims: readonly number[],
  backend: Backend,
  options: GramOptions,
): GramAccumulator {
  const first = convNdGeometry(attributes, inputDims);
  const cols = (first.inChannels / first.groups) * first.kernel.reduce((a, b) => a * b, 1);
  // Row subsampling (the row cap) is drawn here, one seeded draw per (image, position) in order
  // before any patch is gathered: the rows a dense accumulator with these options would keep.
  const rate = options.rowSampleRate ?? 1;
  if (!(rate > 0 && rate <= 1)) throw new Error(`rowSampleRate must be in (0, 1], got ${rate}`);
  const random = rate < 1 ? createRandom(options.seed ?? 0) : null;
  const perGroup = Array.from({ length: first.groups }, () =>
    backend.createGramAccumulator({ kind: 'dense', cols }, { ...options, rowSampleRate: 1 }),
  );
  return {
    async add(input, shape) {
      const geometry = convNdGeometry(attributes, shape);
      const positions = geometry.output.reduce((a, b) => a * b, 1);
      const imageSize = geometry.inChannels * geometry.spatial.reduce((a, b) => a * b, 1);
      const chunk = new Float32Array(PATCH_ROWS_PER_CHUNK * cols);
      let keep: Uint8Array | null = null;
      if (random) {
        keep = new Uint8Array(shape[0] * positions);
        for (let p = 0; p < keep.length; p++) keep[p] = random.next() < rate ? 1 : 0;
      }
      for (let group = 0; group < geometry.groups; group++) {
        let rows = 0;
        for (let image = 0; image < shape[0]; image++) {
          for (let position = 0; position < positions; position++) {
            if (keep && keep[image * positions + position] === 0) continue;
            gatherPatch(geometry, input, image * imageSize, group, position, chunk.subarray(rows * cols));
            if (++rows === PATCH_ROWS_PER_CHUNK) {
              await perGroup[group].add(chunk, [rows, cols]);
              rows = 0;
            }
          }
        }
        if (rows > 0) await perGroup[group].add(chunk.subarray(0, rows * cols), [rows, cols]);
      }
    },
    get rowsSeen() {
      return perGroup[0].rowsSeen;
    },
    async finish() {
      const grams: Float64Array[] = [];
      for (const accumulator of perGroup) grams.push(...(await accumulator.finish()));
      return grams;
    },
  };
}
