/**
 * A layer's weight ↔ the solvers' `rows × cols` matrices, one per group (docs/algorithms.md,
 * "Notation": y = x·Wᵀ, W is n × m). Layouts, as findLayers reports them (weightShape):
 * - Conv `[O, C/g, kh, kw]`: group g holds rows g·O/g … (g+1)·O/g − 1; row-major flattening of
 *   the weight is already (o, c, kh, kw), so each group is one contiguous slice.
 * - ConvTranspose `[C_in, C_out/g, kh, kw]`: row o of group g is `W[g·C_in/g + c, o, kh, kw]` over
 *   (c, kh, kw): output channel o sees the input channels of its group through every kernel tap.
 * - Gemm transB = 1 `[N, K]`: rows = N as stored. Gemm transB = 0 and MatMul `[K, N]`: transposed.
 * The inverse maps dequantized rows back to the model's layout, so the float model can carry them.
 */
import type { QuantizableLayer } from '../graph/layers/index.ts';
import { float32Tensor, tensorToFloat32, type ModelProto, type TensorProto } from '../onnx/index.ts';

export interface GroupedRows {
  /** Rows per group. */
  rows: number;
  cols: number;
  /** One `rows × cols` row-major matrix per group. */
  groups: Float32Array[];
}

/** Generic N-D transpose (ONNX Transpose semantics: out.dims[i] = in.dims[perm[i]]). */
export function transposeND(
  data: Float32Array,
  dims: readonly number[],
  perm: readonly number[],
): { data: Float32Array; dims: number[] } {
  const rank = dims.length;
  if (perm.length !== rank)
    throw new Error(`Transpose perm [${perm.join(', ')}] does not match rank ${rank}`);
  const outDims = perm.map((p) => dims[p]);
  const inStrides = new Array<number>(rank);
  let stride = 1;
  for (let a = rank - 1; a >= 0; a--) {
    inStrides[a] = stride;
    stride *= dims[a];
  }
  const out = new Float32Array(data.length);
  const index = new Array<number>(rank).fill(0);
  const strideOfOut = perm.map((p) => inStrides[p]);
  let src = 0;
  for (let i = 0; i < out.length; i++) {
    out[i] = data[src];
    // Odometer over the output's axes, tracking the source offset incrementally.
    for (let a = rank - 1; a >= 0; a--) {
      index[a]++;
      src += strideOfOut[a];
      if (index[a] < outDims[a]) break;
      src -= strideOfOut[a] * outDims[a];
      index[a] = 0;
    }
  }
  return { data: out, dims: outDims };
}

function inversePermutation(perm: readonly number[]): number[] {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return inverse;
}

/** The permutation of a Transpose step (default: reversed axes, per the ONNX spec). */
function stepPerm(perm: number[] | undefined, rank: number): number[] {
  return perm ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

function findInitializer(model: ModelProto, name: string): TensorProto {
  const found = model.graph?.initializer?.find((t) => t.name === name);
  if (!found) {
    throw new Error(
      `weight tensor '${name}' is not an initializer of the normalised model: run normalizeModel() first (it hoists Constant weights).`,
    );
  }
  return found;
}

/** The layer's weight as the layer sees it (weightShape), read from the stored tensor through its chain. */
export function readLayerWeight(
  model: ModelProto,
  layer: QuantizableLayer,
  externalData?: Map<string, Uint8Array>,
): Float32Array {
  const stored = findInitializer(model, layer.weightSource.tensorName);
  let data = tensorToFloat32(stored, externalData);
  let dims = [...layer.weightSource.storedShape];
  for (const step of layer.weightSource.chain) {
    if (step.op !== 'Transpose') continue; // Identity and Cast keep values (float32 after normalisation).
    ({ data, dims } = transposeND(data, dims, stepPerm(step.perm, dims.length)));
  }
  if (dims.join(',') !== layer.weightShape.join(',')) {
    throw new Error(
      `weight of layer '${layer.name}' reads as [${dims.join(', ')}] but findLayers reported [${layer.weightShape.join(', ')}]`,
    );
  }
  return data;
}

/** Splits a weight in the layer's layout into the solver's per-group row matrices. */
export function weightToGroupRows(layer: QuantizableLayer, weight: Float32Array): GroupedRows {
  const groups = layer.groups;
  const rows = layer.rows / groups;
  const cols = layer.reduction;
  const shape = layer.weightShape;
  const out: Float32Array[] = [];
  // LSTM/GRU `[dirs, gates·H, m]`: one direction per group, already contiguous like Conv.
  if (layer.op === 'Conv' || layer.attributes.kind === 'recurrent') {
    for (let g = 0; g < groups; g++) out.push(weight.slice(g * rows * cols, (g + 1) * rows * cols));
  } else if (layer.op === 'ConvTranspose') {
    const [cIn, cOutPerGroup] = shape;
    const cInPerGroup = cIn / groups;
    const taps = kernelTaps(shape);
    for (let g = 0; g < groups; g++) {
      const m = new Float32Array(rows * cols);
      for (let o = 0; o < cOutPerGroup; o++) {
        for (let c = 0; c < cInPerGroup; c++) {
          const src = ((g * cInPerGroup + c) * cOutPerGroup + o) * taps;
          m.set(weight.subarray(src, src + taps), o * cols + c * taps);
        }
      }
      out.push(m);
    }
  } else if (layer.attributes.kind === 'gemm' && layer.attributes.transB === 1) {
    out.push(weight.slice());
  } else {
    // [K, N] → [N, K]
    out.push(transposeND(weight, shape, [1, 0]).data);
  }
  return { rows, cols, groups: out };
}

/** Kernel taps of a convolution weight `[·, ·, k₁, …, k_r]` (any spatial rank). */
function kernelTaps(shape: readonly number[]): number {
  return shape.slice(2).reduce((a, b) => a * b, 1);
}

/** The inverse of weightToGroupRows: per-group rows back to the layer's own layout. */
export function groupRowsToWeight(layer: QuantizableLayer, groupRows: readonly Float32Array[]): Float32Array {
  const groups = layer.groups;
  const rows = layer.rows / groups;
  const cols = layer.reduction;
  const shape = layer.weightShape;
  if (groupRows.length !== groups || groupRows.some((m) => m.length !== rows * cols)) {
    throw new Error(`layer '${layer.name}' needs ${groups} group matrices of ${rows}×${cols}`);
  }
  if (layer.op === 'Conv' || layer.attributes.kind === 'recurrent') {
    const out = new Float32Array(rows * cols * groups);
    groupRows.forEach((m, g) => out.set(m, g * rows * cols));
    return out;
  }
  if (layer.op === 'ConvTranspose') {
    const [cIn, cOutPerGroup] = shape;
    const cInPerGroup = cIn / groups;
    const taps = kernelTaps(shape);
    const out = new Float32Array(cIn * cOutPerGroup * taps);
    groupRows.forEach((m, g) => {
      for (let o = 0; o < cOutPerGroup; o++) {
        for (let c = 0; c < cInPerGroup; c++) {
          const dst = ((g * cInPerGroup + c) * cOutPerGroup + o) * taps;
          out.set(m.subarray(o * cols + c * taps, o * cols + (c + 1) * taps), dst);
        }
      }
    });
    return out;
  }
  if (layer.attributes.kind === 'gemm' && layer.attributes.transB === 1) return groupRows[0].slice();
  return transposeND(groupRows[0], [rows, cols], [1, 0]).data;
}

/**
 * A copy of `model` whose layer reads `weight` (in the layer's layout). Without a chain the stored
 * initializer is replaced in place. With a Transpose/Cast/Identity chain, the stored tensor is
 * replaced by the weight pushed back through the inverse of the chain's permutations, so the chain
 * still yields exactly `weight` and nothing else in the graph has to change.
 */
export function writeLayerWeight(
  model: ModelProto,
  layer: QuantizableLayer,
  weight: Float32Array,
): ModelProto {
  const graph = model.graph;
  if (!graph) throw new Error('model has no graph');
  let data = weight;
  let dims = [...layer.weightShape];
  const transposes = layer.weightSource.chain.filter((s) => s.op === 'Transpose').reverse();
  for (const step of transposes) {
    // This step produced `dims` from its input; undo it.
    const inputRank = dims.length;
    ({ data, dims } = transposeND(data, dims, inversePermutation(stepPerm(step.perm, inputRank))));
  }
  const name = layer.weightSource.tensorName;
  const initializer = (graph.initializer ?? []).map((t) =>
    t.name === name ? float32Tensor(name, dims, data) : t,
  );
  if (!initializer.some((t) => t.name === name)) findInitializer(model, name);
  return { ...model, graph: { ...graph, initializer } };
}
