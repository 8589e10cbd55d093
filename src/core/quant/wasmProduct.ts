/**
 * The bulk of `C −= A·Bᵀ` (cholesky.ts's `subtractProductNT`) as a WebAssembly SIMD kernel, for
 * matrices that live in one WebAssembly.Memory (`wasmArena`). JavaScript has no SIMD and V8 no
 * FMA: the JavaScript kernel made 3.5–5 GFLOP/s here (2 cores, load 3–4), this one 14–15, two f64
 * per instruction along the depth (rows of A and B are contiguous in k), 2 × 4 outputs per pass.
 *
 * The module (~900 bytes) is written out below, so no toolchain is needed; one function:
 *   nt(c, cRow, cCol, a, lda, b, ldb, rows, cols, depth)   byte offsets and byte strides,
 * for rows a multiple of 2, cols of 4 and depth of 2 (all > 0); `subtractProductNT` does the rest
 * in JavaScript with `subtractProductNTJs`, the kernel's twin (wasmProduct.test.ts: they agree).
 * Where WebAssembly SIMD is missing (`WebAssembly.validate` fails) or the memory cannot be had,
 * `wasmArena` returns null and the factor runs in JavaScript arrays.
 */

/** Unsigned LEB128, as WebAssembly encodes integers. */
function leb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
}

/** Signed LEB128 (i32.const). */
function sleb(value: number): number[] {
  const out: number[] = [];
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

const section = (id: number, body: number[]): number[] => [id, ...leb(body.length), ...body];
const name = (s: string): number[] => [...leb(s.length), ...Array.from(s, (ch) => ch.charCodeAt(0))];

// Opcodes (WebAssembly core + SIMD proposals, finished in 2021).
const get = (l: number) => [0x20, ...leb(l)];
const set = (l: number) => [0x21, ...leb(l)];
const i32 = (v: number) => [0x41, ...sleb(v)];
const ADD = 0x6a;
const MUL = 0x6c;
const LT_U = 0x49;
const F64_ADD = 0xa0;
const F64_SUB = 0xa1;
const f64Load = [0x2b, 0x03, 0x00];
const f64Store = [0x39, 0x03, 0x00];
const v128Load = [0xfd, 0x00, 0x04, 0x00];
const v128Zero = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const f64x2Add = [0xfd, ...leb(240)];
const f64x2Mul = [0xfd, ...leb(242)];
const lane = (n: number) => [0xfd, ...leb(33), n];
const loop = (body: number[]) => [0x03, 0x40, ...body, 0x0b];
/** `br_if 0`: back to the start of the innermost loop (a do-while). */
const BR_IF_LOOP = [0x0d, 0x00];

// Locals: the 10 parameters, then i32 scratch, then v128 accumulators and operands.
const [C, C_ROW, C_COL, A, LDA, B, LDB, ROWS, COLS, DEPTH] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
const [I, J, K, A0, A1, B0, B1, B2, B3, CP] = [10, 11, 12, 13, 14, 15, 16, 17, 18, 19];
const S = 20; // s[r][q] = local S + 4r + q, r < 2, q < 4
const [X0, X1, Y] = [28, 29, 30];
const I32_LOCALS = 10;
const V128_LOCALS = 11;

/** One instruction sequence from its parts (opcodes and immediates). */
const ops = (...parts: (number | number[])[]): number[] => parts.flat();

/** `nt` body: for i (step 2), j (step 4): 8 f64x2 sums over k (step 2), then C −= their lane sums. */
function ntBody(): number[] {
  const acc = (r: number, q: number) => S + 4 * r + q;
  const kStep = ops(get(A0), get(K), ADD, v128Load, set(X0), get(A1), get(K), ADD, v128Load, set(X1));
  [B0, B1, B2, B3].forEach((bq, q) => {
    kStep.push(...ops(get(bq), get(K), ADD, v128Load, set(Y)));
    kStep.push(...ops(get(acc(0, q)), get(X0), get(Y), f64x2Mul, f64x2Add, set(acc(0, q))));
    kStep.push(...ops(get(acc(1, q)), get(X1), get(Y), f64x2Mul, f64x2Add, set(acc(1, q))));
  });
  kStep.push(...ops(get(K), i32(16), ADD, set(K), get(K), get(DEPTH), LT_U, BR_IF_LOOP));

  const zero: number[] = [];
  const store: number[] = [];
  for (let r = 0; r < 2; r++) {
    for (let q = 0; q < 4; q++) {
      zero.push(...ops(v128Zero, set(acc(r, q))));
      // C[cp + r·cRow + q·cCol] −= lane 0 + lane 1
      const address = ops(get(CP), get(C_ROW), i32(r), MUL, ADD, get(C_COL), i32(q), MUL, ADD);
      const sum = ops(get(acc(r, q)), lane(0), get(acc(r, q)), lane(1), F64_ADD);
      store.push(...ops(address, address, f64Load, sum, F64_SUB, f64Store));
    }
  }
  const bRows = ops(get(B), get(J), get(LDB), MUL, ADD, set(B0));
  for (const [from, to] of [
    [B0, B1],
    [B1, B2],
    [B2, B3],
  ])
    bRows.push(...ops(get(from), get(LDB), ADD, set(to)));
  const cp = ops(get(C), get(I), get(C_ROW), MUL, ADD, get(J), get(C_COL), MUL, ADD, set(CP));
  const jNext = ops(get(J), i32(4), ADD, set(J), get(J), get(COLS), LT_U, BR_IF_LOOP);
  const jStep = ops(bRows, zero, i32(0), set(K), loop(kStep), cp, store, jNext);

  const aRows = ops(get(A), get(I), get(LDA), MUL, ADD, set(A0), get(A0), get(LDA), ADD, set(A1));
  const iNext = ops(get(I), i32(2), ADD, set(I), get(I), get(ROWS), LT_U, BR_IF_LOOP);
  return ops(i32(0), set(I), loop(ops(aRows, i32(0), set(J), loop(jStep), iNext)));
}

/** The whole module: imports memory `m.mem`, exports `nt`. */
export function wasmProductModuleBytes(): Uint8Array<ArrayBuffer> {
  const body = ops(2, leb(I32_LOCALS), 0x7f, leb(V128_LOCALS), 0x7b, ntBody(), 0x0b);
  const magicAndVersion = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types = section(1, ops(1, 0x60, 10, new Array<number>(10).fill(0x7f), 0)); // (10 × i32) → ()
  const imports = section(2, ops(1, name('m'), name('mem'), 0x02, 0x00, 0x01)); // memory, ≥ 1 page
  const functions = section(3, [1, 0]);
  const exports = section(7, ops(1, name('nt'), 0x00, 0));
  const code = section(10, ops(1, leb(body.length), body));
  return new Uint8Array(ops(magicAndVersion, types, imports, functions, exports, code));
}

let compiled: WebAssembly.Module | null | undefined;
let enabled = true;
/** The kernel of each arena's buffer, so `subtractProductNT` can find it from its operands. */
const kernels = new WeakMap<ArrayBufferLike, NtFunction>();

/** Turns the WebAssembly kernel off (or on again) for new arenas: tests and benchmarks. */
export function setWasmKernelEnabled(on: boolean): void {
  enabled = on;
}

/** The kernel bound to `buffer` when it is an arena's memory, else undefined. */
export function wasmKernelFor(buffer: ArrayBufferLike): NtFunction | undefined {
  return kernels.get(buffer);
}

/** The compiled module, or null where WebAssembly (SIMD) is unavailable. */
function wasmModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const bytes = wasmProductModuleBytes();
    compiled =
      typeof WebAssembly === 'object' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  }
  return compiled;
}

export type NtFunction = (
  c: number,
  cRow: number,
  cCol: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  rows: number,
  cols: number,
  depth: number,
) => void;

/** A WebAssembly memory holding whole matrices, and the kernel bound to it. */
export interface WasmArena {
  /** The memory's buffer: arrays on it are `new Float64Array(arena.buffer, byteOffset, length)`. */
  readonly buffer: ArrayBuffer;
  /** `nt` (see the header), byte offsets and strides. */
  readonly nt: NtFunction;
}

/** An arena of at least `doubles` f64 values, or null where the kernel cannot run. */
export function wasmArena(doubles: number): WasmArena | null {
  const module = enabled ? wasmModule() : null;
  const pages = Math.ceil((doubles * 8) / 65536);
  if (!module || pages > 65536) return null;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages });
  } catch {
    return null; // not that much memory to spare: JavaScript arrays instead
  }
  const instance = new WebAssembly.Instance(module, { m: { mem: memory } });
  const nt = instance.exports.nt as NtFunction;
  kernels.set(memory.buffer, nt);
  return { buffer: memory.buffer, nt };
}
