/**
 * Float-vs-quantized fidelity metrics, as pure accumulators: each sample adds its sums and is
 * dropped, so evaluating over many images holds only a few numbers per output (issue 4,
 * "Evaluation"). Sums are kept in float64 (JS numbers): a detector map of 320×320 over 64 images
 * is 6.5 M terms, far past float32's 24-bit mantissa.
 */

/** The sums behind SQNR and cosine similarity between a reference f and an approximation q. */
export interface PairSums {
  /** Σ f² */
  refSq: number;
  /** Σ q² */
  approxSq: number;
  /** Σ f·q */
  dot: number;
  /** Σ (f − q)² */
  diffSq: number;
  /** Number of element pairs added. */
  count: number;
  /** True once any element of either side was NaN or ±Infinity. */
  nonFinite: boolean;
}

export function emptyPairSums(): PairSums {
  return { refSq: 0, approxSq: 0, dot: 0, diffSq: 0, count: 0, nonFinite: false };
}

/** Adds one sample's tensors (same length, element i of each paired) into `sums`, in place. */
export function addPair(sums: PairSums, reference: ArrayLike<number>, approx: ArrayLike<number>): PairSums {
  if (reference.length !== approx.length) {
    throw new Error(
      `Cannot compare tensors of different sizes (${reference.length} float elements vs ${approx.length} quantized); the two models must produce the same output shapes.`,
    );
  }
  let refSq = 0;
  let approxSq = 0;
  let dot = 0;
  let diffSq = 0;
  for (let i = 0; i < reference.length; i++) {
    const f = reference[i];
    const q = approx[i];
    refSq += f * f;
    approxSq += q * q;
    dot += f * q;
    diffSq += (f - q) * (f - q);
  }
  sums.refSq += refSq;
  sums.approxSq += approxSq;
  sums.dot += dot;
  sums.diffSq += diffSq;
  sums.count += reference.length;
  if (!Number.isFinite(refSq + approxSq + dot + diffSq)) sums.nonFinite = true;
  return sums;
}

/**
 * Signal-to-quantization-noise ratio over everything added: 10·log10(Σ‖f‖² / Σ‖f − q‖²) dB,
 * the ratio of sums (not a mean of per-sample ratios, which one near-silent sample would
 * dominate). Identical tensors give +Infinity; a zero reference with a non-zero error gives
 * -Infinity; NaN when nothing (or nothing finite) was compared.
 */
export function sqnrDb(sums: PairSums): number {
  if (sums.count === 0 || sums.nonFinite) return Number.NaN;
  if (sums.diffSq === 0) return Number.POSITIVE_INFINITY;
  if (sums.refSq === 0) return Number.NEGATIVE_INFINITY;
  return 10 * Math.log10(sums.refSq / sums.diffSq);
}

/**
 * Cosine similarity of the concatenated tensors: Σfq / sqrt(Σf²·Σq²). Two all-zero sides count
 * as identical (1); one all-zero side as unrelated (0).
 */
export function cosineSimilarity(sums: PairSums): number {
  if (sums.count === 0 || sums.nonFinite) return Number.NaN;
  if (sums.refSq === 0 && sums.approxSq === 0) return 1;
  if (sums.refSq === 0 || sums.approxSq === 0) return 0;
  // Rounding can push |cos| a hair past 1 for identical inputs.
  return Math.max(-1, Math.min(1, sums.dot / Math.sqrt(sums.refSq * sums.approxSq)));
}

/** Pixel counts behind the IoU of two thresholded maps, summed over samples. */
export interface MaskSums {
  intersection: number;
  union: number;
  /** Pixels above the threshold in the reference map (for context in reports). */
  referencePositive: number;
  pixels: number;
}

export function emptyMaskSums(): MaskSums {
  return { intersection: 0, union: 0, referencePositive: 0, pixels: 0 };
}

/**
 * Adds one sample's probability maps: a pixel is "on" when its value is strictly above
 * `threshold` (DB-style text detection binarises the map at 0.3 by default, PP-OCR's
 * det_db_thresh). NaN is never above a threshold, so a NaN pixel is "off".
 */
export function addMasks(
  sums: MaskSums,
  reference: ArrayLike<number>,
  approx: ArrayLike<number>,
  threshold: number,
): MaskSums {
  if (reference.length !== approx.length) {
    throw new Error(
      `Cannot compare probability maps of different sizes (${reference.length} vs ${approx.length} pixels).`,
    );
  }
  let intersection = 0;
  let union = 0;
  let referencePositive = 0;
  for (let i = 0; i < reference.length; i++) {
    const f = reference[i] > threshold;
    const q = approx[i] > threshold;
    if (f && q) intersection++;
    if (f || q) union++;
    if (f) referencePositive++;
  }
  sums.intersection += intersection;
  sums.union += union;
  sums.referencePositive += referencePositive;
  sums.pixels += reference.length;
  return sums;
}

/**
 * Intersection over union of the "on" pixels, pooled over all samples (one IoU over the union of
 * all maps, so small maps do not weigh as much as large ones). Both masks empty everywhere: the
 * models agree perfectly, IoU 1. Nothing compared: NaN.
 */
export function maskIou(sums: MaskSums): number {
  if (sums.pixels === 0) return Number.NaN;
  if (sums.union === 0) return 1;
  return sums.intersection / sums.union;
}

/**
 * Index of the largest value; ties go to the lowest index (numpy's argmax convention), so the
 * choice is deterministic. NaN never wins over a number; all-NaN (or empty) gives -1.
 */
export function argmaxFirst(values: ArrayLike<number>): number {
  let best = -1;
  let bestValue = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isNaN(v)) continue;
    if (best === -1 || v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

/**
 * Whether the quantized model's top-1 class is a top-1 class of the float model. With a tie in
 * the float scores (e.g. a softmax saturated at exactly 1.0 for two classes, or 0.5/0.5), any of
 * the tied classes is a correct answer, so picking the other tied class is not a disagreement.
 */
export function top1Agrees(floatScores: ArrayLike<number>, quantScores: ArrayLike<number>): boolean {
  if (floatScores.length !== quantScores.length) {
    throw new Error(
      `Cannot compare class scores of different lengths (${floatScores.length} vs ${quantScores.length}).`,
    );
  }
  const floatTop = argmaxFirst(floatScores);
  const quantTop = argmaxFirst(quantScores);
  if (floatTop === -1 || quantTop === -1) return false;
  return quantTop === floatTop || floatScores[quantTop] === floatScores[floatTop];
}

/** Top-1 agreement and accuracies, counted per row of class scores. */
export interface ClassifierCounts {
  rows: number;
  agreements: number;
  labelled: number;
  floatCorrect: number;
  quantCorrect: number;
}

export function emptyClassifierCounts(): ClassifierCounts {
  return { rows: 0, agreements: 0, labelled: 0, floatCorrect: 0, quantCorrect: 0 };
}

/**
 * Adds one row of class scores from each model. A label counts as correct for a model when it
 * is that model's argmaxFirst (a tie is not credited as correct: accuracy must not rise with
 * degenerate, all-equal scores).
 */
export function addClassifierRow(
  counts: ClassifierCounts,
  floatScores: ArrayLike<number>,
  quantScores: ArrayLike<number>,
  label?: number,
): ClassifierCounts {
  counts.rows++;
  if (top1Agrees(floatScores, quantScores)) counts.agreements++;
  if (label !== undefined) {
    counts.labelled++;
    if (argmaxFirst(floatScores) === label && !hasTieAtMax(floatScores)) counts.floatCorrect++;
    if (argmaxFirst(quantScores) === label && !hasTieAtMax(quantScores)) counts.quantCorrect++;
  }
  return counts;
}

function hasTieAtMax(values: ArrayLike<number>): boolean {
  const top = argmaxFirst(values);
  if (top === -1) return false;
  for (let i = top + 1; i < values.length; i++) if (values[i] === values[top]) return true;
  return false;
}
