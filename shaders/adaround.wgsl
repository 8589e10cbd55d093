// adaround.wgsl — layer-wise AdaRound from G (docs/algorithms.md, "Layer-wise AdaRound").
//
// Purpose: Adam on the rounding variables V of
//   objectiveWeight·tr((Ŵ−W)G(Ŵ−W)ᵀ) + λ_t·Σ(1 − |2h(V)−1|^β_t),
//   Ŵ = scale·clamp(⌊W/scale⌋ + h(V), codeMin, codeMax), h(v) = clip(σ(v)·(ζ−γ) + γ, 0, 1),
//   whose data gradient wrt Ŵ is 2(Ŵ−W)G: one GEMM per iteration, no X, no autograd. CPU twin:
//   src/core/backend/cpu/kernels/adaround.ts (same formulas, f64).
// Entry points (one bind group layout):
//   begin:   state[i] = (V₀, 0, 0, 0) with h(V₀) = frac(w/scale) (AdaRound's init); invocation 0
//            also zeroes the iteration counter. Dispatch linear over rows·cols.
//   soft:    diffT[k, rows 4r..4r+3] = Ŵ(V) − W for column k of 4 rows (a vec4; padding rows and
//            columns get zeros). Dispatch (ceil(rows4/WG), cols4·4, 1).
//   product: productT[(4c4 + c)·rows4 + r4] = P[4r4.., 4c4 + c], P = D·G in 4 × 4 register
//            blocks (G symmetric). Dispatch (ceil(rows4/WG_X), ceil(cols4/WG_Y), 1).
//   adam:    one Adam step of iteration t = counter + 1 on every V. Dispatch linear over rows·cols.
//   advance: counter += 1 (one invocation). Dispatch (1, 1, 1).
//   harden:  codes = clamp(⌊w/scale⌋ + [V ≥ 0]) (h(V) ≥ ½ ⇔ V ≥ 0), quant = scale·k. Linear.
//   An iteration is soft, product, adam, advance.
// Bindings (group 0): 0 gram: array<vec4<f32>> G `cols × cols4·4`, rows padded with zeros (read),
//   1 weight: array<f32> `rows × cols` (read), 2 grid: array<GridCell> `rows × blocksPerRow` (read),
//   3 state: array<vec4<f32>> `rows·cols + 1`: (V, Adam m, Adam s, 0) per weight, then the
//   iteration counter in .x of the last word (f32, exact below 2²⁴) (read_write), 4 scratch:
//   array<vec4<f32>> diffT `cols4·4 × rows4` then productT `cols4·4 × rows4` (read_write),
//   5 codes: array<i32> (read_write), 6 quant: array<f32> (read_write), 7 params: AdaroundParams.
// Invariants: every invocation writes only its own words; padding carries zeros, so the GEMM adds
//   nothing for it. The schedule (β_t, λ_t) is computed here from the counter exactly as
//   cpu/kernels/adaround.ts `adaroundAnneal` does.
// Shared (shaders/common/, spliced in by shaders/generate.ts): GridCell (grid.wgsl),
//   LinearInvocation and linearIndex (linearInvocation.wgsl), Block4x4 and addOuter (block4x4.wgsl).

override WG: u32 = 64u;
override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;

// #import grid
// #import linearInvocation
// #import block4x4

const ZETA: f32 = 1.1;
const GAMMA: f32 = -0.1;
const ADAM_BETA1: f32 = 0.9;
const ADAM_BETA2: f32 = 0.999;
const ADAM_EPSILON: f32 = 1e-8;

struct AdaroundParams {
  rows: u32,
  cols: u32,
  rows4: u32,
  cols4: u32,
  blockSize: u32,
  blocksPerRow: u32,
  iterations: u32,
  warmupIterations: u32,
  learningRate: f32,
  lambda: f32,
  betaStart: f32,
  betaEnd: f32,
  objectiveWeight: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> gram: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> grid: array<GridCell>;
@group(0) @binding(3) var<storage, read_write> state: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> scratch: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read_write> codes: array<i32>;
@group(0) @binding(6) var<storage, read_write> quant: array<f32>;
@group(0) @binding(7) var<uniform> params: AdaroundParams;

fn cellOf(index: u32) -> GridCell {
  let row = index / params.cols;
  let col = index % params.cols;
  return grid[row * params.blocksPerRow + col / params.blockSize];
}

fn sigmoid(x: f32) -> f32 {
  return 1.0 / (1.0 + exp(-x));
}

fn rectified(v: f32) -> f32 {
  return clamp(sigmoid(v) * (ZETA - GAMMA) + GAMMA, 0.0, 1.0);
}

fn counterIndex() -> u32 {
  return params.rows * params.cols;
}

@compute @workgroup_size(WG, 1, 1)
fn begin(invocation: LinearInvocation) {
  let index = linearIndex(invocation);
  if (index == 0u) {
    state[counterIndex()] = vec4<f32>(0.0);
  }
  if (index >= params.rows * params.cols) {
    return;
  }
  let x = weight[index] / cellOf(index).scale;
  let fraction = clamp(x - floor(x), 1e-6, 1.0 - 1e-6);
  let v = -log((ZETA - GAMMA) / (fraction - GAMMA) - 1.0);
  state[index] = vec4<f32>(v, 0.0, 0.0, 0.0);
}

// The soft level ⌊w/scale⌋ + h(V) before the clamp to the grid.
fn softLevel(index: u32, cell: GridCell) -> f32 {
  return floor(weight[index] / cell.scale) + rectified(state[index].x);
}

@compute @workgroup_size(WG, 1, 1)
fn soft(@builtin(global_invocation_id) gid: vec3<u32>) {
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
        let index = row * params.cols + k;
        let cell = cellOf(index);
        let level = clamp(softLevel(index, cell), f32(cell.codeMin), f32(cell.codeMax));
        d[lane] = cell.scale * level - weight[index];
      }
    }
  }
  scratch[k * params.rows4 + row4] = d;
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn product(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row4 = gid.x;
  let col4 = gid.y;
  if (row4 >= params.rows4 || col4 >= params.cols4) {
    return;
  }
  let rows4 = params.rows4;
  let cols4 = params.cols4;
  // acc.r<c>: P[4 rows, column 4·col4 + c] (G symmetric: Σ_k D[rows, k]·G[k, 4·col4 + c]).
  var acc = Block4x4();
  var atD = row4;
  var atG = col4;
  let kEnd = cols4 * 4u;
  for (var k = 0u; k < kEnd; k = k + 1u) {
    acc = addOuter(acc, gram[atG], scratch[atD]);
    atD = atD + rows4;
    atG = atG + cols4;
  }
  let base = cols4 * 4u * rows4;
  let c0 = col4 * 4u;
  scratch[base + c0 * rows4 + row4] = acc.r0;
  scratch[base + (c0 + 1u) * rows4 + row4] = acc.r1;
  scratch[base + (c0 + 2u) * rows4 + row4] = acc.r2;
  scratch[base + (c0 + 3u) * rows4 + row4] = acc.r3;
}

@compute @workgroup_size(WG, 1, 1)
fn adam(invocation: LinearInvocation) {
  let index = linearIndex(invocation);
  if (index >= params.rows * params.cols) {
    return;
  }
  let t = state[counterIndex()].x + 1.0;
  var beta = params.betaStart;
  var lambda = 0.0;
  if (t > f32(params.warmupIterations)) {
    let span = max(1.0, f32(params.iterations) - f32(params.warmupIterations));
    let progress = min(1.0, (t - f32(params.warmupIterations)) / span);
    beta = params.betaEnd + (params.betaStart - params.betaEnd) * (1.0 - progress);
    lambda = params.lambda;
  }
  let row = index / params.cols;
  let col = index % params.cols;
  let cell = cellOf(index);
  var word = state[index];
  let sig = sigmoid(word.x);
  let raw = sig * (ZETA - GAMMA) + GAMMA;
  var dh = 0.0;
  if (raw > 0.0 && raw < 1.0) {
    dh = (ZETA - GAMMA) * sig * (1.0 - sig);
  }
  let h = clamp(raw, 0.0, 1.0);
  let level = floor(weight[index] / cell.scale) + h;
  var gradH = 0.0;
  if (level >= f32(cell.codeMin) && level <= f32(cell.codeMax)) {
    let p = scratch[params.cols4 * 4u * params.rows4 + col * params.rows4 + row / 4u][row % 4u];
    gradH = params.objectiveWeight * 2.0 * p * cell.scale;
  }
  if (lambda > 0.0) {
    let u = 2.0 * h - 1.0;
    let au = abs(u);
    if (au > 0.0) {
      gradH = gradH - lambda * 2.0 * beta * sign(u) * pow(au, beta - 1.0);
    }
  }
  let grad = gradH * dh;
  let m = ADAM_BETA1 * word.y + (1.0 - ADAM_BETA1) * grad;
  let s = ADAM_BETA2 * word.z + (1.0 - ADAM_BETA2) * grad * grad;
  let bias1 = 1.0 - pow(ADAM_BETA1, t);
  let bias2 = 1.0 - pow(ADAM_BETA2, t);
  let v = word.x - params.learningRate * (m / bias1) / (sqrt(s / bias2) + ADAM_EPSILON);
  state[index] = vec4<f32>(v, m, s, 0.0);
}

@compute @workgroup_size(1, 1, 1)
fn advance() {
  let at = counterIndex();
  state[at] = state[at] + vec4<f32>(1.0, 0.0, 0.0, 0.0);
}

@compute @workgroup_size(WG, 1, 1)
fn harden(invocation: LinearInvocation) {
  let index = linearIndex(invocation);
  if (index >= params.rows * params.cols) {
    return;
  }
  let cell = cellOf(index);
  var up = 0;
  if (state[index].x >= 0.0) {
    up = 1;
  }
  let k = clamp(i32(floor(weight[index] / cell.scale)) + up, cell.codeMin, cell.codeMax);
  codes[index] = k;
  quant[index] = cell.scale * f32(k);
}
