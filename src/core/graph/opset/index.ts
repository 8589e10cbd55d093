/**
 * Opset upgrade for export: raises a model's ai.onnx opset with every changed schema rewritten
 * (see upgrade.ts, changes.ts). The QDQ exporter needs opset ≥ 13 (int8 per-channel) or ≥ 21
 * (int4, block_size); the PP-OCR models are opset 9 and 11.
 */
export { upgradeOpset, type OpsetRewrite, type OpsetUpgradeResult } from './upgrade.ts';
export { OpsetUpgradeError } from './errors.ts';
export { MAX_TARGET_OPSET, MIN_SOURCE_OPSET, minIrVersionForOpset } from './versions.ts';
