// comq.wgsl — COMQ coordinate descent in Gram form (docs/algorithms.md, "COMQ"), the coordinate
//   loop inside the shader. CPU twin: src/core/backend/cpu/kernels/comq.ts.
//
// Entry points (one explicit bind group layout shared by all three):
//   sweep:        coordinates p ∈ [coordBegin, coordEnd) of one sweep, one workgroup per tile of
//                 RT rows. For row i, input j = order(i, p): t = ŵᵢⱼ + Rᵢⱼ/G_jj (t = wᵢⱼ for a dead
//                 input, G_jj = 0), k = clamp(round(t/scale), codeMin, codeMax), ŵᵢⱼ ← scale·k,
//                 Rᵢ,: ← Rᵢ,: − (ŵ_new − ŵ_old)·G_j,: with the WG invocations of the workgroup
//                 across the m-long update. It adds the exact objective change of every step,
//                 G_jj·[(ŵ_new − t)² − (ŵ_old − t)²], into rowObjective[⌈rows/4⌉·4 + tile] (written, or added to
//                 when addChange = 1 for the later dispatches of one range; the host sums the tiles
//                 in f64). When coordEnd = cols and writeObjective = 1 it writes
//                 Lᵢ = Σ_l (wᵢₗ − ŵᵢₗ)·Rᵢₗ (the objective from R, O(m) per row).
//   scaleStep:    the closed-form scale step per (row, block) for fixed codes: shift =
//                 (u G dᵀ)/(u G uᵀ) with u the block's codes and d = w − ŵ, so u G dᵀ = Σ_{j∈b} kⱼRᵢⱼ;
//                 the move is taken only if the new scale is positive and the objective recomputed
//                 from the moved R does not rise (same rule as comqScaleStep on the CPU); then
//                 writes Lᵢ from R like `sweep` (the CPU reports the objective after the step).
//                 One workgroup per row, the WG invocations across the block's inputs (num, den)
//                 and across the row's m-long loops (objective test, R update), O(m·blockSize)
//                 per block split WG ways, workgroup sums for the reductions.
//   initResidual: R = (W − Ŵ)G for a start from given codes (GPTQ's), O(m²) per row, one workgroup
//                 per row tile with the invocations across R's columns.
// Bindings (group 0): 0 gram: array<vec4<f32>> G `cols × cols4·4`, rows padded with zeros to a
//   multiple of 4 (read), 1 weight: array<f32> `rows × cols` (read), 2 order: array<u32>
//   `rows × cols` per-row visiting order (read; 1 dummy element for the cyclic order), 3 grid:
//   array<GridCell> `rows × blocksPerRow` (read_write: scaleStep moves the scale), 4 codes:
//   array<i32> `rows × cols` (read_write), 5 quant: array<f32> Ŵ `rows × cols` (read_write),
//   6 residual: array<vec4<f32>> R row-major, rows padded to cols4 words: (i, l) at word
//   i·cols4 + l/4, lane l%4, 7 rowObjective: array<f32> `rows` objectives Lᵢ (padded to a
//   multiple of 4) then `ceil(rows/RT)` objective changes per row tile (read_write; one buffer for both keeps the kernel within the
//   8 storage buffers per stage every adapter offers), 8 params: uniform ComqParams.
// Dispatch: sweep and initResidual (min(65535, tiles), ceil(tiles/65535), 1) with
//   tiles = ceil(rows/RT), WG invocations each; scaleStep (min(65535, rows), ceil(rows/65535), 1),
//   one workgroup of WG invocations per row.
// Work split (sweep): a workgroup holds RT rows and walks [coordBegin, coordEnd) in blocks of BLOCK
//   positions. Decide: invocation r < RT runs the block's coordinates of its row in order, reading
//   Rᵢⱼ as of the block start and subtracting the block's earlier steps Δ_u·G_{j_u, j} (O(BLOCK²)
//   per row and block), and leaves (Δ, j) of each step in workgroup memory. Update: after one
//   workgroupBarrier all WG invocations apply the block to R together, invocation t on the vec4
//   words l4 ≡ t (mod WG) of every row of the tile: Rᵢ,: −= Σ_q Δ_q·G_{j_q},: (one read and one
//   write of each R word per block). A storageBarrier then makes R current for the next block's
//   deciders. This is the serial greedy order exactly (the lazy R is the same sum, regrouped), with
//   two barriers per BLOCK coordinates rather than one per coordinate: barriers are what
//   SwiftShader (a CPU) pays most for, and on a hardware GPU neighbouring invocations read
//   neighbouring 16-byte words of G_j,: and Rᵢ,: (coalesced). BLOCK = 1 is the plain
//   barrier-per-coordinate form.
// Invariants: rows are independent; a workgroup only touches its own rows of codes, Ŵ, R and
//   rowObjective. The padding columns of G are 0, so R's padding lanes stay 0. A sweep may be split
//   into several dispatches over coordinate ranges (the host bounds each dispatch's work); the state
//   lives in the buffers.
// Shared (shaders/common/, spliced in at the `// #import` lines by shaders/generate.ts): GridCell and
//   nearestCode (grid.wgsl).

override WG: u32 = 64u;
// Rows per workgroup of `sweep` and `initResidual` (at most WG).
override RT: u32 = 4u;
// Coordinates `sweep` decides per row between two lazy updates of R (barriers per block, not per
// coordinate).
override BLOCK: u32 = 32u;

// #import grid

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
  // ceil(cols/4): vec4 words per G row and per R row.
  cols4: u32,
  // 1: add this dispatch's change to tileChange (a later piece of a range split over dispatches).
  addChange: u32,
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

// The block's steps per tile row: (Δ for the R update, 0 when none; bitcast j) at r·BLOCK + q.
var<workgroup> pending: array<vec2<f32>, RT * BLOCK>;
var<workgroup> partials: array<f32, WG>;

fn gramAt(j: u32, l: u32) -> f32 {
  return gram[j * params.cols4 + (l >> 2u)][l & 3u];
}

fn residualAt(row: u32, l: u32) -> f32 {
  return residual[row * params.cols4 + (l >> 2u)][l & 3u];
}

// Where the per-tile objective changes start in rowObjective: after the rows, rounded up to 4
// (objective.wgsl writes rowObjective in groups of 4 rows).
fn tileChangeOffset() -> u32 {
  return (params.rows + 3u) & ~3u;
}

// Σ over the workgroup of each invocation's `value` (all invocations call it; uniform control).
fn workgroupSum(t: u32, value: f32) -> f32 {
  partials[t] = value;
  workgroupBarrier();
  var total = 0.0;
  for (var u = 0u; u < WG; u = u + 1u) {
    total = total + partials[u];
  }
  workgroupBarrier();
  return total;
}

// Lᵢ = Σ_l (wᵢₗ − ŵᵢₗ)·Rᵢₗ over this invocation's words l4 ≡ t (mod WG) of the row.
fn ownObjective(row: u32, t: u32) -> f32 {
  let rowBase = row * params.cols;
  var sum = 0.0;
  for (var l4 = t; l4 < params.cols4; l4 = l4 + WG) {
    let r = residual[row * params.cols4 + l4];
    for (var lane = 0u; lane < 4u; lane = lane + 1u) {
      let l = l4 * 4u + lane;
      if (l < params.cols) {
        sum = sum + (weight[rowBase + l] - quant[rowBase + l]) * r[lane];
      }
    }
  }
  return sum;
}

@compute @workgroup_size(WG, 1, 1)
fn sweep(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let tile = wid.y * groups.x + wid.x;
  let firstRow = tile * RT;
  if (firstRow >= params.rows) {
    return;
  }
  let t = lid.x;
  let tileRows = min(RT, params.rows - firstRow);
  var change = 0.0;
  for (var p0 = params.coordBegin; p0 < params.coordEnd; p0 = p0 + BLOCK) {
    let count = min(BLOCK, params.coordEnd - p0);
    // Decisions: invocation t < tileRows walks the block's coordinates of row firstRow + t.
    if (t < tileRows) {
      let row = firstRow + t;
      let rowBase = row * params.cols;
      for (var q = 0u; q < count; q = q + 1u) {
        var j = p0 + q;
        if (params.orderMode == 1u) {
          j = order[rowBase + p0 + q];
        }
        let gjj = gramAt(j, j);
        // Rᵢⱼ now: R as of the block start minus this block's earlier steps of the row.
        var rij = residualAt(row, j);
        for (var u = 0u; u < q; u = u + 1u) {
          let earlier = pending[t * BLOCK + u];
          if (earlier.x != 0.0) {
            rij = rij - earlier.x * gramAt(bitcast<u32>(earlier.y), j);
          }
        }
        let cell = grid[row * params.blocksPerRow + j / params.blockSize];
        let old = quant[rowBase + j];
        var targetValue = weight[rowBase + j];
        if (gjj > 0.0) {
          targetValue = old + rij / gjj;
        }
        let k = nearestCode(cell, targetValue);
        let next = cell.scale * f32(k);
        codes[rowBase + j] = k;
        quant[rowBase + j] = next;
        var delta = 0.0;
        if (gjj > 0.0) {
          delta = next - old;
          let before = old - targetValue;
          let after = next - targetValue;
          change = change + gjj * (after * after - before * before);
        }
        pending[t * BLOCK + q] = vec2<f32>(delta, bitcast<f32>(j));
      }
    }
    workgroupBarrier();
    // The lazy update of the block, every invocation on its own words of each row:
    // Rᵢ,: −= Σ_q Δ_q·G_{j_q},: (one read and one write of each R word per block).
    for (var r = 0u; r < tileRows; r = r + 1u) {
      let rowBase = (firstRow + r) * params.cols4;
      for (var l4 = t; l4 < params.cols4; l4 = l4 + WG) {
        var value = residual[rowBase + l4];
        for (var q = 0u; q < count; q = q + 1u) {
          let step = pending[r * BLOCK + q];
          if (step.x != 0.0) {
            value = value - step.x * gram[bitcast<u32>(step.y) * params.cols4 + l4];
          }
        }
        residual[rowBase + l4] = value;
      }
    }
    // R (storage) current for the next block's deciders; `pending` free to be rewritten.
    storageBarrier();
    workgroupBarrier();
  }
  let tileTotal = workgroupSum(t, change);
  if (t == 0u) {
    let at = tileChangeOffset() + tile;
    if (params.addChange == 1u) {
      rowObjective[at] = rowObjective[at] + tileTotal;
    } else {
      rowObjective[at] = tileTotal;
    }
  }
  if (params.writeObjective == 1u && params.coordEnd == params.cols) {
    for (var r = 0u; r < tileRows; r = r + 1u) {
      let rowTotal = workgroupSum(t, ownObjective(firstRow + r, t));
      if (t == 0u) {
        rowObjective[firstRow + r] = rowTotal;
      }
    }
  }
}

// (G u)_l for the four columns l of word l4, u the codes of block [start, end) of `row`:
// Σ_{j∈b} kⱼ·G_j,l (G symmetric), O(blockSize) vec4 multiply-adds.
fn gramTimesBlockCodesWord(row: u32, start: u32, end: u32, l4: u32) -> vec4<f32> {
  var sum = vec4<f32>(0.0);
  for (var j = start; j < end; j = j + 1u) {
    let kj = codes[row * params.cols + j];
    if (kj != 0) {
      sum = sum + f32(kj) * gram[j * params.cols4 + l4];
    }
  }
  return sum;
}

// (w − ŵ) and the block codes u (0 outside [start, end) and past cols) on the columns of word l4.
fn differenceWord(row: u32, l4: u32) -> vec4<f32> {
  var d = vec4<f32>(0.0);
  for (var lane = 0u; lane < 4u; lane = lane + 1u) {
    let l = l4 * 4u + lane;
    if (l < params.cols) {
      d[lane] = weight[row * params.cols + l] - quant[row * params.cols + l];
    }
  }
  return d;
}

fn blockCodesWord(row: u32, start: u32, end: u32, l4: u32) -> vec4<f32> {
  var u = vec4<f32>(0.0);
  for (var lane = 0u; lane < 4u; lane = lane + 1u) {
    let l = l4 * 4u + lane;
    if (l >= start && l < end) {
      u[lane] = f32(codes[row * params.cols + l]);
    }
  }
  return u;
}

// One workgroup per row (index wid.y·groups.x + wid.x); the WG invocations split every m-long
// loop: invocation t takes the block's inputs j ≡ t (mod WG) for num and den (den = uᵀG_bb u,
// O(blockSize²/WG) each) and the vec4 words l4 ≡ t (mod WG) of the row for the objective test and
// the R update (G·u recomputed per word, O(m·blockSize/WG) each). Every invocation sums the same
// partials in the same order, so the accept decision is identical across the workgroup; the
// barriers (in workgroupSum and at the end of each block) are all in uniform control flow.
@compute @workgroup_size(WG, 1, 1)
fn scaleStep(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let row = wid.y * groups.x + wid.x;
  if (row >= params.rows) {
    return;
  }
  let t = lid.x;
  let cols = params.cols;
  let rowBase = row * cols;
  for (var b = 0u; b < params.blocksPerRow; b = b + 1u) {
    let start = b * params.blockSize;
    let end = min(cols, start + params.blockSize);
    let cellIndex = row * params.blocksPerRow + b;
    // Read before the barriers below; invocation 0 may write it after them.
    let scale = grid[cellIndex].scale;
    var ownNum = 0.0;
    var ownDen = 0.0;
    for (var j = start + t; j < end; j = j + WG) {
      let kj = codes[rowBase + j];
      if (kj == 0) {
        continue;
      }
      var gu = 0.0;
      for (var l = start; l < end; l = l + 1u) {
        let kl = codes[rowBase + l];
        if (kl != 0) {
          gu = gu + gramAt(j, l) * f32(kl);
        }
      }
      ownNum = ownNum + f32(kj) * residualAt(row, j);
      ownDen = ownDen + f32(kj) * gu;
    }
    let num = workgroupSum(t, ownNum);
    let den = workgroupSum(t, ownDen);
    let shift = num / den;
    let nextScale = scale + shift;
    // The CPU's rule: den > 0, num ≠ 0, a positive finite scale (f32 max bounds it).
    let moves = den > 0.0 && num != 0.0 && nextScale > 0.0 && nextScale <= 0x1.fffffep+127f;
    // Objective before and after the move from this invocation's words, without touching R:
    // d' = d − shift·u, R' = R − shift·(G u). Computed by all (uniform barriers), used if `moves`.
    var ownBefore = 0.0;
    var ownAfter = 0.0;
    if (moves) {
      for (var l4 = t; l4 < params.cols4; l4 = l4 + WG) {
        let d = differenceWord(row, l4);
        let r = residual[row * params.cols4 + l4];
        let u = blockCodesWord(row, start, end, l4);
        let gu = gramTimesBlockCodesWord(row, start, end, l4);
        ownBefore = ownBefore + dot(d, r);
        ownAfter = ownAfter + dot(d - shift * u, r - shift * gu);
      }
    }
    let before = workgroupSum(t, ownBefore);
    let after = workgroupSum(t, ownAfter);
    if (moves && after <= before) {
      if (t == 0u) {
        grid[cellIndex].scale = nextScale;
      }
      for (var l4 = t; l4 < params.cols4; l4 = l4 + WG) {
        let at = row * params.cols4 + l4;
        residual[at] = residual[at] - shift * gramTimesBlockCodesWord(row, start, end, l4);
        // Ŵ of the block's inputs on this invocation's words (the same words it reads d from).
        for (var lane = 0u; lane < 4u; lane = lane + 1u) {
          let l = l4 * 4u + lane;
          if (l >= start && l < end) {
            quant[rowBase + l] = nextScale * f32(codes[rowBase + l]);
          }
        }
      }
    }
    // R and Ŵ current for the next block's num (inputs j of other invocations' words).
    storageBarrier();
    workgroupBarrier();
  }
  if (params.writeObjective == 1u) {
    let rowTotal = workgroupSum(t, ownObjective(row, t));
    if (t == 0u) {
      rowObjective[row] = rowTotal;
    }
  }
}

@compute @workgroup_size(WG, 1, 1)
fn initResidual(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let firstRow = (wid.y * groups.x + wid.x) * RT;
  if (firstRow >= params.rows) {
    return;
  }
  let tileRows = min(RT, params.rows - firstRow);
  for (var r = 0u; r < tileRows; r = r + 1u) {
    let row = firstRow + r;
    let rowBase = row * params.cols;
    for (var l4 = lid.x; l4 < params.cols4; l4 = l4 + WG) {
      var sum = vec4<f32>(0.0);
      var at = l4;
      for (var j = 0u; j < params.cols; j = j + 1u) {
        let d = weight[rowBase + j] - quant[rowBase + j];
        if (d != 0.0) {
          sum = sum + d * gram[at];
        }
        at = at + params.cols4;
      }
      residual[row * params.cols4 + l4] = sum;
    }
  }
}
