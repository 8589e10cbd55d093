// pack.wgsl — codes to deployable bytes: int8 (one byte each) or packed 4-bit (two per byte, the
//   first element in the low nibble, as ONNX int4/uint4 tensors are stored; docs/platform.md).
//
// Purpose: stored value u = k + zeroPoint(row, block) (asymmetric grids: zero point −codeMin gives
//   the unsigned code; symmetric grids: zero point 0 keeps the signed code), masked to `bits`
//   (two's complement for negative signed codes).
// Bindings (group 0): 0 codes: array<i32> `count` (read), 1 zeroPoint: array<i32>
//   `rows × blocksPerRow` (read; 1 dummy element when useZeroPoint = 0), 2 packed: array<u32>
//   `ceil(count·bits/32)` (write), 3 params: uniform PackParams.
// Dispatch: (min(65535, ceil(words/WG)), ceil(ceil(words/WG)/65535), 1), one invocation per u32
//   output word. A u32 holds 32/bits elements; bytes are little-endian inside the word, so element
//   e of the word lands at bit (e·bits): byte e/2 low nibble first for 4-bit, byte e for 8-bit.
// Invariants: elements past `count` contribute 0 bits; the host trims to ceil(count·bits/8) bytes.
// Shared (shaders/common/, spliced in at the `// #import` line by shaders/generate.ts):
//   LinearInvocation and linearIndex (linearInvocation.wgsl).

override WG: u32 = 64u;

// #import linearInvocation

struct PackParams {
  count: u32,
  bits: u32,
  cols: u32,
  blockSize: u32,
  blocksPerRow: u32,
  useZeroPoint: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<storage, read> codes: array<i32>;
@group(0) @binding(1) var<storage, read> zeroPoint: array<i32>;
@group(0) @binding(2) var<storage, read_write> packed: array<u32>;
@group(0) @binding(3) var<uniform> params: PackParams;

@compute @workgroup_size(WG, 1, 1)
fn main(invocation: LinearInvocation) {
  let word = linearIndex(invocation);
  let perWord = 32u / params.bits;
  if (word * perWord >= params.count) {
    return;
  }
  let mask = (1u << params.bits) - 1u;
  var value = 0u;
  for (var e = 0u; e < perWord; e = e + 1u) {
    let index = word * perWord + e;
    if (index >= params.count) {
      break;
    }
    var stored = codes[index];
    if (params.useZeroPoint == 1u) {
      let row = index / params.cols;
      let col = index % params.cols;
      stored = stored + zeroPoint[row * params.blocksPerRow + col / params.blockSize];
    }
    value = value | ((bitcast<u32>(stored) & mask) << (e * params.bits));
  }
  packed[word] = value;
}
