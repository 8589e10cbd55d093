// comq.wgsl — COMQ coordinate descent in Gram form (docs/algorithms.md, "COMQ"), all rows in
//   parallel, the coordinate loop inside the shader. CPU twin: src/core/backend/cpu/kernels/comq.ts.
//
// Entry points (one explicit bind group layout shared by all three):
//   sweep:        coordinates p ∈ [coordBegin, coordEnd) of one sweep. For row i, input
//                 j = order(i, p): t = ŵᵢⱼ + Rᵢⱼ/G_jj (t = wᵢⱼ for a dead input, G_jj = 0),
//                 k = clamp(round(t/scale), codeMin, codeMax), ŵᵢⱼ ← scale·k,
//                 Rᵢ,: ← Rᵢ,: − (ŵ_new − ŵ_old)·G_j,:. When coordEnd = cols and writeObjective = 1
//                 it writes Lᵢ = Σ_l (wᵢₗ − ŵᵢₗ)·Rᵢₗ (the objective from R, O(m) per row).
//   scaleStep:    the closed-form scale step per (row, block) for fixed codes: shift =
//                 (u G dᵀ)/(u G uᵀ) with u the block's codes and d = w − ŵ, so u G dᵀ = Σ_{j∈b} kⱼRᵢⱼ;
//                 the move is taken only if the new scale is positive and the objective recomputed
//                 from the moved R does not rise (same rule as comqScaleStep on the CPU); then
//                 writes Lᵢ from R like `sweep` (the CPU reports the objective after the step).
//   initResidual: R = (W − Ŵ)G for a start from given codes (GPTQ's), O(m²) per row.
// Bindings (group 0): 0 gram: array<vec4<f32>> G `cols × cols4·4`, rows padded with zeros to a
//   multiple of 4 (read), 1 weight: array<f32> `rows × cols` (read), 2 order: array<u32>
//   `rows × cols` per-row visiting order (read; 1 dummy element for the cyclic order), 3 grid:
//   array<GridCell> `rows × blocksPerRow` (read_write: scaleStep moves the scale), 4 codes:
//   array<i32> `rows × cols` (read_write), 5 quant: array<f32> Ŵ `rows × cols` (read_write),
//   6 residual: array<vec4<f32>> R in column blocks of 4: (i, l) at word (l/4)·rows + i, lane l%4,
//   7 rowObjective: array<f32> `rows` (read_write), 8 params: uniform ComqParams.
// Dispatch: (min(65535, ceil(rows/WG)), ceil(ceil(rows/WG)/65535), 1); one invocation per row.
// Layout choice: the O(m) update Rᵢ,: −= Δ·G_j,: is the hot loop. Holding 4 columns per vec4 makes
//   it one vec4 load of G, one load and one store of R per 4 columns (SwiftShader emulates each
//   scalar gather separately), and placing row i's block next to row i+1's keeps neighbouring
//   invocations on neighbouring 16-byte words (coalesced on hardware GPUs).
// Invariants: rows are independent, so an invocation only ever touches its own row of codes, Ŵ, R
//   and rowObjective: no barriers, no atomics (barriers are very slow on SwiftShader). The padding
//   columns of G are 0, so R's padding lanes stay 0. A sweep may be split into several dispatches
//   over coordinate ranges (the host bounds each dispatch's work); the state lives in the buffers.
// Shared (shaders/common/, spliced in at the `// #import` lines by shaders/generate.ts): GridCell and
//   nearestCode (grid.wgsl), LinearInvocation and linearIndex (linearInvocation.wgsl).

override WG: u32 = 64u;

// #import grid
// #import linearInvocation

struct ComqParams {
  rows: u32,
  cols: u32,
  blockSize: u32,
  blocksPerRow: u32,
  coordBegin: u32,
  coordEnd: u32,
  // 0: cyclic 0…cols−1 for every row; 1: per-row order from `order`.
  orderMode: u32,
  writeObjective: u32,
  // ceil(cols/4): vec4 words per G row and R column blocks.
  cols4: u32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<storage, read> gram: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> weight: array<f32>;
@group(0) @binding(2) var<storage, read> order: array<u32>;
@group(0) @binding(3) var<storage, read_write> grid: array<GridCell>;
@group(0) @binding(4) var<storage, read_write> codes: array<i32>;
@group(0) @binding(5) var<storage, read_write> quant: array<f32>;
@group(0) @binding(6) var<storage, read_write> residual: array<vec4<f32>>;
@group(0) @binding(7) var<storage, read_write> rowObjective: array<f32>;
@group(0) @binding(8) var<uniform> params: ComqParams;

fn gramAt(j: u32, l: u32) -> f32 {
  return gram[j * params.cols4 + (l >> 2u)][l & 3u];
}

fn residualAt(row: u32, l: u32) -> f32 {
  return residual[(l >> 2u) * params.rows + row][l & 3u];
}

// Lᵢ = Σ_l (wᵢₗ − ŵᵢₗ)·Rᵢₗ, summed in segments of 64 to bound the f32 rounding.
fn objectiveFromResidual(row: u32) -> f32 {
  let rowBase = row * params.cols;
  var total = 0.0;
  var segment = 0.0;
  for (var l = 0u; l < params.cols; l = l + 1u) {
    segment = segment + (weight[rowBase + l] - quant[rowBase + l]) * residualAt(row, l);
    if ((l & 63u) == 63u) {
      total = total + segment;
      segment = 0.0;
    }
  }
  return total + segment;
}

// Rᵢ,: ← Rᵢ,: − factor·G_j,: (the hot loop: one vec4 of G and of R per 4 columns).
fn subtractGramRow(row: u32, j: u32, factor: f32) {
  let gramBase = j * params.cols4;
  var at = row;
  for (var l4 = 0u; l4 < params.cols4; l4 = l4 + 1u) {
    residual[at] = residual[at] - factor * gram[gramBase + l4];
    at = at + params.rows;
  }
}

@compute @workgroup_size(WG, 1, 1)
fn sweep(invocation: LinearInvocation) {
  let row = linearIndex(invocation);
  if (row >= params.rows) {
    return;
  }
  let rowBase = row * params.cols;
  let gridBase = row * params.blocksPerRow;
  for (var p = params.coordBegin; p < params.coordEnd; p = p + 1u) {
    var j = p;
    if (params.orderMode == 1u) {
      j = order[rowBase + p];
    }
    let gjj = gramAt(j, j);
    let cell = grid[gridBase + j / params.blockSize];
    let old = quant[rowBase + j];
    var targetValue = weight[rowBase + j];
    if (gjj > 0.0) {
      targetValue = old + residualAt(row, j) / gjj;
    }
    let k = nearestCode(cell, targetValue);
    let next = cell.scale * f32(k);
    let delta = next - old;
    codes[rowBase + j] = k;
    quant[rowBase + j] = next;
    if (delta != 0.0 && gjj > 0.0) {
      subtractGramRow(row, j, delta);
    }
  }
  if (params.writeObjective == 1u && params.coordEnd == params.cols) {
    rowObjective[row] = objectiveFromResidual(row);
  }
}

// (G u)_l for the codes u of block [start, end) of `row`: Σ_{j∈b} G_lj kⱼ (G symmetric).
fn gramTimesBlockCodes(row: u32, start: u32, end: u32, l: u32) -> f32 {
  var sum = 0.0;
  for (var j = start; j < end; j = j + 1u) {
    let kj = codes[row * params.cols + j];
    if (kj != 0) {
      sum = sum + gramAt(j, l) * f32(kj);
    }
  }
  return sum;
}

@compute @workgroup_size(WG, 1, 1)
fn scaleStep(invocation: LinearInvocation) {
  let row = linearIndex(invocation);
  if (row >= params.rows) {
    return;
  }
  let cols = params.cols;
  let rowBase = row * cols;
  for (var b = 0u; b < params.blocksPerRow; b = b + 1u) {
    let start = b * params.blockSize;
    let end = min(cols, start + params.blockSize);
    var num = 0.0;
    var den = 0.0;
    for (var j = start; j < end; j = j + 1u) {
      let kj = codes[rowBase + j];
      if (kj == 0) {
        continue;
      }
      num = num + f32(kj) * residualAt(row, j);
      den = den + f32(kj) * gramTimesBlockCodes(row, start, end, j);
    }
    if (!(den > 0.0) || num == 0.0) {
      continue;
    }
    let cellIndex = row * params.blocksPerRow + b;
    let shift = num / den;
    let nextScale = grid[cellIndex].scale + shift;
    if (!(nextScale > 0.0)) {
      continue;
    }
    // Objective before and after the move, without touching R yet: d' = d − shift·u,
    // R' = R − shift·(G u).
    var before = 0.0;
    var after = 0.0;
    for (var l = 0u; l < cols; l = l + 1u) {
      let d = weight[rowBase + l] - quant[rowBase + l];
      let r = residualAt(row, l);
      var u = 0.0;
      if (l >= start && l < end) {
        u = f32(codes[rowBase + l]);
      }
      let gu = gramTimesBlockCodes(row, start, end, l);
      before = before + d * r;
      after = after + (d - shift * u) * (r - shift * gu);
    }
    if (after > before) {
      continue;
    }
    grid[cellIndex].scale = nextScale;
    for (var j = start; j < end; j = j + 1u) {
      let kj = codes[rowBase + j];
      quant[rowBase + j] = nextScale * f32(kj);
      if (kj != 0) {
        subtractGramRow(row, j, shift * f32(kj));
      }
    }
  }
  if (params.writeObjective == 1u) {
    rowObjective[row] = objectiveFromResidual(row);
  }
}

@compute @workgroup_size(WG, 1, 1)
fn initResidual(invocation: LinearInvocation) {
  let row = linearIndex(invocation);
  if (row >= params.rows) {
    return;
  }
  let rowBase = row * params.cols;
  for (var l4 = 0u; l4 < params.cols4; l4 = l4 + 1u) {
    residual[l4 * params.rows + row] = vec4<f32>(0.0);
  }
  for (var j = 0u; j < params.cols; j = j + 1u) {
    let d = weight[rowBase + j] - quant[rowBase + j];
    if (d != 0.0) {
      subtractGramRow(row, j, -d);
    }
  }
}
