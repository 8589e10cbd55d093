// objective.wgsl — per-row layer objective Lᵢ = (wᵢ − ŵᵢ) G (wᵢ − ŵᵢ)ᵀ (docs/algorithms.md,
//   "Notation"); the host sums the rows in f64 to get tr((W−Ŵ)G(W−Ŵ)ᵀ).
//
// Purpose: the RTN baseline, every solver's final objective and, with useQuant = 0, the
//   normaliser tr(W G Wᵀ) of the relative error. Computed as the GEMM P = D·G (D = W − Ŵ) in
//   4 × 4 register blocks, then Lᵢ = Σ_l Dᵢₗ Pᵢₗ, so the O(n·m²) loop does 16 multiply-adds per
//   two vec4 loads and has no branch (SwiftShader emulates every load per lane and does not hoist
//   branches; docs/platform.md).
// Entry points (one bind group layout), dispatched in this order:
//   difference: diffT[k, rows 4r..4r+3] = d for column k of 4 rows, as one vec4 (rows and columns
//               padded with zeros to multiples of 4). Dispatch (ceil(rows4/WG), cols4·4, 1).
//   main:       invocation (r4, c4) accumulates the 4 × 4 block P[4r4.., 4c4..] over k and writes
//               partials[c4·rows4 + r4] = Σ_c D[rows, 4c4+c]·P[rows, 4c4+c] (a vec4 over 4 rows).
//               Dispatch (ceil(rows4/WG_X), ceil(cols4/WG_Y), 1).
//   reduce:     rowObjective[4r4 + lane] = Σ_{c4} partials[c4·rows4 + r4][lane], the sum in
//               segments of 16 blocks. Dispatch (ceil(rows4/WG), 1, 1).
// Bindings (group 0): 0 gram: array<vec4<f32>> G `cols × cols4·4`, rows padded with zeros (read),
//   1 weight: array<f32> `rows × cols` (read), 2 quant: array<f32> `rows × cols` (read; ignored when
//   useQuant = 0), 3 diffT: array<vec4<f32>> `cols4·4 × rows4` (read_write scratch), 4 partials:
//   array<vec4<f32>> `cols4 × rows4` (read_write scratch), 5 rowObjective: array<f32> `rows4·4`
//   (read_write), 6 params: uniform ObjectiveParams.
// Invariants: every invocation writes only its own vec4 words; padding rows/columns carry zeros, so
//   they add nothing.
// Shared (shaders/common/, spliced in at the `// #import` line by shaders/generate.ts): Block4x4 and
//   addOuter (block4x4.wgsl).

override WG: u32 = 64u;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

// #import block4x4

struct ObjectiveParams {
  rows: u32,
  cols: u32,
  cols4: u32,
  useQuant: u32,
  rows4: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> gram: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> quant: array<f32>;
@group(0) @binding(3) var<storage, read_write> diffT: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> partials: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> rowObjective: array<f32>;
@group(0) @binding(6) var<uniform> params: ObjectiveParams;

@compute @workgroup_size(WG, 1, 1)
fn difference(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row4 = gid.x;
  let k = gid.y;
  if (row4 >= params.rows4 || k >= params.cols4 * 4u) {
    return;
  }
  var d = vec4<f32>(0.0);
  if (k < params.cols) {
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
      let row = row4 * 4u + lane;
      if (row < params.rows) {
        var value = weight[row * params.cols + k];
        if (params.useQuant == 1u) {
          value = value - quant[row * params.cols + k];
        }
        d[lane] = value;
      }
    }
  }
  diffT[k * params.rows4 + row4] = d;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row4 = gid.x;
  let col4 = gid.y;
  if (row4 >= params.rows4 || col4 >= params.cols4) {
    return;
  }
  let rows4 = params.rows4;
  let cols4 = params.cols4;
  // acc.r<c>: P[4 rows, column 4·col4 + c] (row c of the block gains G[k, 4·col4 + c]·D[rows, k]).
  var acc = Block4x4();
  var atD = row4;
  var atG = col4;
  let kEnd = cols4 * 4u;
  for (var k = 0u; k < kEnd; k = k + 1u) {
    acc = addOuter(acc, gram[atG], diffT[atD]);
    atD = atD + rows4;
    atG = atG + cols4;
  }
  let c0 = col4 * 4u;
  partials[col4 * rows4 + row4] =
    diffT[c0 * rows4 + row4] * acc.r0 + diffT[(c0 + 1u) * rows4 + row4] * acc.r1 +
    diffT[(c0 + 2u) * rows4 + row4] * acc.r2 + diffT[(c0 + 3u) * rows4 + row4] * acc.r3;
}

@compute @workgroup_size(WG, 1, 1)
fn reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row4 = gid.x;
  if (row4 >= params.rows4) {
    return;
  }
  var total = vec4<f32>(0.0);
  var segment = vec4<f32>(0.0);
  for (var c4 = 0u; c4 < params.cols4; c4 = c4 + 1u) {
    segment = segment + partials[c4 * params.rows4 + row4];
    if ((c4 & 15u) == 15u) {
      total = total + segment;
      segment = vec4<f32>(0.0);
    }
  }
  total = total + segment;
  for (var lane = 0u; lane < 4u; lane = lane + 1u) {
    rowObjective[row4 * 4u + lane] = total[lane];
  }
}
