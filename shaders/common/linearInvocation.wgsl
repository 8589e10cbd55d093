// common/linearInvocation.wgsl — one invocation per element of a 1-D range too long for one
//   dispatch dimension (at most 65535 workgroups per dimension): the host dispatches
//   (min(65535, ceil(count/WG)), ceil(ceil(count/WG)/65535), 1) and each invocation takes the
//   linear index (wid.y · num_workgroups.x + wid.x)·WG + lid.x. Spliced in by
//   `// #import linearInvocation`; the importing kernel declares `override WG: u32` (its workgroup
//   size) and checks the index against its own count.

// Entry-point input of a linearly indexed kernel.
struct LinearInvocation {
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groupsLaunched: vec3<u32>,
}

fn linearIndex(invocation: LinearInvocation) -> u32 {
  return (invocation.wid.y * invocation.groupsLaunched.x + invocation.wid.x) * WG + invocation.lid.x;
}
