/**
 * The exporter's vocabulary (issue 5): output formats, what happened to each layer, and the
 * verification result that decides whether an export may be offered.
 */
import type { ModelProto } from '../onnx/index.ts';

/**
 * - 'qdq': each quantized weight is an integer initializer + DequantizeLinear (weight-only QDQ);
 * - 'fake-quant': the float graph with the dequantized weights (no DequantizeLinear, own opset);
 * - 'matmulnbits': 4-bit MatMul layers as com.microsoft MatMulNBits, every other layer as 'qdq'.
 */
export type ExportFormat = 'qdq' | 'fake-quant' | 'matmulnbits';

export const exportFormats: readonly ExportFormat[] = ['qdq', 'fake-quant', 'matmulnbits'];

export interface ExportOptions {
  format: ExportFormat;
  /**
   * Storage of 2- and 3-bit codes in 'qdq': 'auto' (default) packs them (4 or 8/3 codes per byte,
   * unpacked in the graph with BitShift/BitwiseAnd, see packedCodes.ts) where that saves bytes, i.e.
   * on layers of more than about 1,300 (2-bit) / 5,100 (3-bit) weights, and leaves smaller ones in
   * 4-bit containers; 'packed' packs every such layer; 'int4' keeps 4-bit containers everywhere
   * (for a runtime that lacks BitShift/BitwiseAnd).
   */
  subByte?: SubByteStorage;
}

export type SubByteStorage = 'auto' | 'packed' | 'int4';

/** How one quantized layer was written. */
export type ExportedLayerKind = 'qdq' | 'matmulnbits' | 'fake-quant' | 'float';

export interface ExportedLayer {
  name: string;
  op: string;
  kind: ExportedLayerKind;
  /** ONNX element type name of the stored codes, e.g. 'uint4', 'int8' (qdq, matmulnbits); 'packed2' / 'packed3' for packed 2-/3-bit codes. */
  codeType?: string;
  /** DequantizeLinear axis (qdq). */
  axis?: number;
  /** Inputs per scale when blocked (qdq block_size, MatMulNBits block_size). */
  blockSize?: number;
  /** 'weight' = codes stored in the weight's own layout; 'rows' = in solver rows, reshaped after DequantizeLinear. */
  storage?: 'weight' | 'rows';
  /** Why the layer is not in its preferred form (fallbacks), or why it stayed float. */
  note?: string;
}

export interface ExportResult {
  model: ModelProto;
  format: ExportFormat;
  /** Default-domain opset of the written model. */
  opset: number;
  layers: ExportedLayer[];
  /** Rewrites done by the opset upgrade (empty when the model's own opset sufficed). */
  opsetRewrites: { op: string; node: string; change: string }[];
}

/** Outcome of verifyExport(): the exported bytes against the float model carrying the dequantized weights. */
export interface VerificationResult {
  verified: boolean;
  /** Worst over samples and outputs of max|exported − reference| / max|reference|, the reference raised to the export's opset. */
  maxRelError: number;
  /** The limit it was held to (1e-4 by default). */
  tolerance: number;
  samples: number;
  /**
   * When the export raised the opset: the same comparison against the reference at its own (lower)
   * opset, i.e. including the float rounding differences of the upgraded ops (informative).
   */
  ownOpsetRelError?: number;
  /**
   * The export run at onnxruntime's default optimisation level ('all', what users run) against the
   * same reference (informative: its MatMulNBits fusion quantizes activations; see verify.ts).
   */
  defaultLevelRelError?: number;
  /** Per output name: the worst relative error over the samples. */
  outputs: Record<string, number>;
  /** Why the export is refused (undefined when verified). */
  reason?: string;
  /** Size of the exported file and of the reference, in bytes. */
  bytes: number;
  referenceBytes: number;
  engine: string;
}

/** File sizes for the report: `ratio = bytes / floatBytes`. */
export interface ExportSizes {
  bytes: number;
  floatBytes: number;
  ratio: number;
}
