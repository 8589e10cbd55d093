import type { Int64 } from './types.ts';

const tooLarge = (text: string) =>
  new RangeError(
    `The int64 value ${text} does not fit in a JS number (beyond ±2^53): read it with tensorToInt64Array or toBigInt instead.`,
  );

/**
 * protobufjs gives int64 fields as `Long` objects (or plain numbers when built by hand).
 * Dimensions, offsets and attribute ints in real models fit in 2^53; a larger value would lose
 * precision silently as a JS number, so it is an error here.
 */
export function toNumber(x: Int64 | null | undefined): number {
  if (x === undefined || x === null) return 0;
  if (typeof x === 'number') return x;
  const value = x.toNumber();
  if (!Number.isSafeInteger(value)) throw tooLarge(x.toString());
  return value;
}

/** Exact int64 as bigint (e.g. INT64_MAX used as an open Slice end). */
export function toBigInt(x: Int64 | null | undefined): bigint {
  if (x === undefined || x === null) return 0n;
  if (typeof x === 'number') return BigInt(x);
  const bits = (BigInt(x.high >>> 0) << 32n) | BigInt(x.low >>> 0);
  return x.unsigned ? bits : BigInt.asIntN(64, bits);
}

/** Like toNumber for a value already known as bigint. */
export function bigIntToNumber(x: bigint): number {
  const value = Number(x);
  if (!Number.isSafeInteger(value)) throw tooLarge(x.toString());
  return value;
}
