import type { LayerProblem, QuantResult, SolveOptions } from '../quant/types.ts';

/**
 * How a layer's inputs become Gram rows.
 * - `dense`: the input tensor's last axis is the reduction (Gemm / MatMul, 2-D or 3-D tokens).
 * - `conv`: NCHW input, im2col patches ordered (c, kh, kw) to match weight `[O, C/g, kh, kw]`;
 *   one Gram per group.
 * ConvTranspose is expressed by the caller as the equivalent dense or conv problem.
 */
export type GramLayout =
  | { kind: 'dense'; cols: number }
  | {
      kind: 'conv';
      inChannels: number;
      groups: number;
      kernel: [number, number];
      strides: [number, number];
      /** [top, left, bottom, right], already resolved from auto_pad for the input size. */
      pads: [number, number, number, number];
      dilations: [number, number];
    };

export interface GramOptions {
  /** Keep each Gram row with this probability (seeded, reproducible); 1 keeps all. */
  rowSampleRate?: number;
  seed?: number;
}

export interface GramAccumulator {
  /** Adds one chunk of layer inputs (a batch of activations) with its shape. */
  add(input: Float32Array, shape: readonly number[]): Promise<void>;
  /** Rows seen so far (after subsampling), per group. */
  readonly rowsSeen: number;
  /** The running mean XᵀX/rowsSeen, one `cols × cols` matrix per group. */
  finish(): Promise<Float64Array[]>;
}

/** What every compute backend offers. The CPU backend is the Float64 oracle. */
export interface Backend {
  readonly name: 'cpu' | 'webgpu';
  /** Human-readable device description (adapter name, or the CPU path). */
  readonly description: string;
  createGramAccumulator(layout: GramLayout, options?: GramOptions): GramAccumulator;
  solve(problem: LayerProblem, options: SolveOptions): Promise<QuantResult>;
  dispose(): Promise<void>;
}
