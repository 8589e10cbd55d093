/** Export of quantized models (issue 5): weight-only QDQ, fake-quant, MatMulNBits, verification. */
export * from './types.ts';
export { packCodes, unpackCodes, packedBytes, type PackedBits } from './packedCodes.ts';
export { exportQdq, exportQuantized } from './exportModel.ts';
export { verifyExport, exportSizes, VERIFY_TOLERANCE, type VerifyOptions } from './verify.ts';
export {
  placeQdq,
  codeTypeFor,
  codeTypeName,
  storedRowCodes,
  type QdqPlacement,
  type ShapeStep,
} from './weightLayout.ts';
export { planMatMulNBits, matMulNBitsRefusal, type MatMulNBitsPlan } from './matmulNBits.ts';
