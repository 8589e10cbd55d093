// common/grid.wgsl — the per-(row, block) quantisation grid shared by comq, rtn and gptq
//   (docs/algorithms.md, "The grid"); mirrors src/core/base/grid.ts. Spliced in by `// #import grid`.

// One grid cell, 16 bytes: codes k ∈ [codeMin, codeMax] stand for the values scale·k.
struct GridCell {
  scale: f32,
  codeMin: i32,
  codeMax: i32,
  _pad: i32,
}

// k = clamp(round(x/scale), codeMin, codeMax). WGSL round() is round-half-to-even, the same rule
// as grid.ts `nearestCode`.
fn nearestCode(cell: GridCell, x: f32) -> i32 {
  return clamp(i32(round(x / cell.scale)), cell.codeMin, cell.codeMax);
}
