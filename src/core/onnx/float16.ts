/**
 * IEEE 754 binary16 (fp16) and bfloat16 conversions, done by hand because Node 20 has no
 * Float16Array. Bit layouts: fp16 = sign:1 exponent:5 (bias 15) mantissa:10;
 * bf16 = the upper 16 bits of a float32 (sign:1 exponent:8 mantissa:7).
 */

let fp16Table: Float32Array | undefined;

/** All 65536 fp16 bit patterns decoded once: a table lookup is faster than the arithmetic. */
function fp16DecodeTable(): Float32Array {
  if (fp16Table) return fp16Table;
  const table = new Float32Array(65536);
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0)
      table[bits] = sign * mantissa * 2 ** -24; // subnormal (or ±0)
    else if (exponent === 0x1f) table[bits] = mantissa ? NaN : sign * Infinity;
    else table[bits] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  fp16Table = table;
  return table;
}

export function fp16ToFloat32(bits: Uint16Array): Float32Array {
  const table = fp16DecodeTable();
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = table[bits[i]];
  return out;
}

export function bf16ToFloat32(bits: Uint16Array): Float32Array {
  const wide = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) wide[i] = bits[i] << 16;
  return new Float32Array(wide.buffer);
}

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** One float32 to fp16 bits, round to nearest even; overflow gives ±inf, NaN stays NaN. */
export function float32ToFp16Bits(value: number): number {
  scratchF32[0] = value;
  const bits = scratchU32[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent32 = (bits >>> 23) & 0xff;
  const mantissa32 = bits & 0x7fffff;
  if (exponent32 === 0xff) return sign | 0x7c00 | (mantissa32 ? 0x200 | (mantissa32 >>> 13) : 0);
  const exponent16 = exponent32 - 127 + 15;
  if (exponent16 >= 0x1f) return sign | 0x7c00;
  if (exponent16 <= 0) {
    // Result is subnormal: count units of 2^-24. Below 2^-25 everything rounds to zero.
    if (exponent16 < -10) return sign;
    const significand = mantissa32 | 0x800000;
    const shift = 14 - exponent16;
    let half = significand >>> shift;
    const remainder = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && half & 1)) half++;
    return sign | half; // a carry into bit 10 correctly yields the smallest normal
  }
  let half = (exponent16 << 10) | (mantissa32 >>> 13);
  const remainder = mantissa32 & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && half & 1)) half++; // carry may reach inf: correct
  return sign | half;
}

export function float32ToFp16(values: Float32Array): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = float32ToFp16Bits(values[i]);
  return out;
}

/** float32 to bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN. */
export function float32ToBf16(values: Float32Array): Uint16Array {
  const bitsView = new Uint32Array(Float32Array.from(values).buffer);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const bits = bitsView[i];
    if ((bits & 0x7f800000) === 0x7f800000 && bits & 0x7fffff) {
      out[i] = (bits >>> 16) | 0x40;
      continue;
    }
    out[i] = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}
