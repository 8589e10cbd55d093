// common/block4x4.wgsl — a 4 × 4 register block of sums for the register-blocked products in
//   gram.wgsl and objective.wgsl (16 multiply-adds per two vec4 loads). Spliced in by
//   `// #import block4x4`. Four named vec4 members rather than an array so that the block stays
//   in registers (constant member access only, no dynamic indexing).

struct Block4x4 {
  r0: vec4<f32>,
  r1: vec4<f32>,
  r2: vec4<f32>,
  r3: vec4<f32>,
}

// block + a·bᵀ: row u of the block gains a[u]·b.
fn addOuter(block: Block4x4, a: vec4<f32>, b: vec4<f32>) -> Block4x4 {
  return Block4x4(block.r0 + a.x * b, block.r1 + a.y * b, block.r2 + a.z * b, block.r3 + a.w * b);
}

fn addBlocks(x: Block4x4, y: Block4x4) -> Block4x4 {
  return Block4x4(x.r0 + y.r0, x.r1 + y.r1, x.r2 + y.r2, x.r3 + y.r3);
}
