/**
 * What layer discovery reports about a model, before any rewriting. See docs/algorithms.md
 * ("Notation") for the rows × reduction convention every solver uses: a layer computes
 * `y = x·Wᵀ`, `W` being `rows × reduction` (n output channels × m inputs per output).
 */

/** The operators whose weight the solvers can quantize. */
export type LayerOp = 'Conv' | 'ConvTranspose' | 'Gemm' | 'MatMul' | 'LSTM' | 'GRU';

/** Where a weight tensor is stored in the raw model. */
export type WeightStorage = 'initializer' | 'constant-node';

/** One op met between the stored tensor and the layer's weight input (Identity, Cast, Transpose). */
export interface WeightChainStep {
  op: 'Identity' | 'Cast' | 'Transpose';
  /** The node's name (or its output name when the node is unnamed). */
  node: string;
  /** Transpose only: the permutation (default = reversed axes, per the ONNX Transpose spec). */
  perm?: number[];
  /** Cast only: the ONNX TensorProto.DataType code it casts to. */
  to?: number;
}

export interface WeightSource {
  storage: WeightStorage;
  /** Name of the stored tensor: the initializer name, or the Constant node's output name. */
  tensorName: string;
  /** The stored tensor's dims (before the chain's Transposes). */
  storedShape: number[];
  /** ONNX TensorProto.DataType code of the stored tensor (1 = float32, 10 = float16, ...). */
  storedDataType: number;
  /** Ops passed from the stored tensor to the layer, in data-flow order. */
  chain: WeightChainStep[];
  /** Human-readable form, e.g. 'constant-node → Transpose'. */
  label: string;
}

/**
 * The attributes later stages need (im2col geometry, QDQ axis). Defaults from the ONNX operator
 * spec are filled in, so consumers never need to know them: Conv/ConvTranspose strides and
 * dilations default to 1, pads to 0, auto_pad to 'NOTSET', group to 1; Gemm alpha/beta to 1,
 * transA/transB to 0.
 */
export interface ConvAttributes {
  kind: 'conv';
  kernelShape: number[];
  strides: number[];
  /** ONNX order: [x1_begin, x2_begin, ..., x1_end, x2_end, ...]. */
  pads: number[];
  dilations: number[];
  autoPad: string;
  group: number;
  /** ConvTranspose only. */
  outputPadding?: number[];
  /** ConvTranspose only, when the model fixes it. */
  outputShape?: number[];
}

export interface GemmAttributes {
  kind: 'gemm';
  transA: number;
  transB: number;
  alpha: number;
  beta: number;
}

export interface MatMulAttributes {
  kind: 'matmul';
}

/**
 * LSTM / GRU (src/core/pipeline/recurrentGram.ts): one layer per weight tensor, W `[dirs, gates·H, in]`
 * (input 1) or R `[dirs, gates·H, H]` (input 2); each direction is one group of gates·H rows.
 * W's rows read x_t (all T·B rows of X, the same Gram for every direction); R's rows read h_{t−1}
 * of their direction (from Y, output 0 `[T, dirs, B, H]`; the reverse direction's previous state is
 * the next time step). Only layout = 0 (time-major) without sequence_lens is taken.
 */
export interface RecurrentAttributes {
  kind: 'recurrent';
  cell: 'LSTM' | 'GRU';
  part: 'W' | 'R';
  /** 1 (forward or reverse) or 2 (bidirectional). */
  directions: number;
  /** 'forward' | 'reverse' | 'bidirectional' (ONNX `direction`). */
  direction: string;
  hidden: number;
  /** 4 for LSTM (i, o, f, c), 3 for GRU (z, r, h). */
  gates: number;
  /**
   * R only: where h_{t−1} at the first step comes from. 'zeros': the node has no initial_h.
   * 'captured': the layer's inputName is `[initial_h; Y; initial_h]` stacked on axis 0
   * (`[T + 2, dirs, B, H]`), a value added for capture (recurrentCapture.ts).
   */
  initialState?: 'zeros' | 'captured';
}

export type LayerAttributes = ConvAttributes | GemmAttributes | MatMulAttributes | RecurrentAttributes;

export interface QuantizableLayer {
  /** The node name, or `<op>:<first output>` when the node has none (stable across runs). */
  name: string;
  op: LayerOp;
  /** Index of the node in graph.node (the raw model's order). */
  nodeIndex: number;
  /** The name of the tensor the layer reads as its weight input (after any chain). */
  weightName: string;
  /** The node input that carries the weight: 1 unless set (an LSTM/GRU R layer reads input 2). */
  weightInputIndex?: number;
  /**
   * The weight's dims as the layer sees them (after the chain): Conv `[O, C/g, kh, kw]`,
   * ConvTranspose `[C_in, C_out/g, kh, kw]`, Gemm `[N, K]` (transB = 1) or `[K, N]` (transB = 0),
   * MatMul `[K, N]`.
   */
  weightShape: number[];
  /** n: output channels (rows of W in the y = x·Wᵀ convention). */
  rows: number;
  /** m: inputs per output channel (within its group for grouped convolutions). */
  reduction: number;
  /** Independent weight groups (one Gram each); 1 for Gemm / MatMul. */
  groups: number;
  /** True for a Conv whose every group has one input channel (C/g = 1) and more than one group. */
  depthwise: boolean;
  /** Weight element count plus bias element count (0 when the bias is absent or not constant). */
  params: number;
  weightSource: WeightSource;
  /** The activation input the Gram matrix is built from. */
  inputName: string;
  biasName?: string;
  /** The first output of the node. */
  outputName: string;
  attributes: LayerAttributes;
}

export interface SkippedLayer {
  name: string;
  op: string;
  /** One sentence: why the layer is left in float, and what would make it quantizable if anything. */
  reason: string;
}

export interface LayerDiscovery {
  layers: QuantizableLayer[];
  skipped: SkippedLayer[];
}
