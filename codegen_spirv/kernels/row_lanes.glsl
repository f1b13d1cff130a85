// Which of a row's vec4s an invocation of the norm kernels holds (rms_norm.comp,
// rms_norm_add_norm.comp): vec4 rowLane() + j * WG_SIZE. Where the workgroup is
// whole subgroups of 8 invocations or more (every device we know of), lanes
// count within subgroups, so that a block of 32 values (8 neighbouring vec4)
// lies on 8 lanes of one subgroup whose indices differ in their low 3 bits, and
// norm_quantise.glsl exchanges its maximum and its sum with subgroup shuffles;
// elsewhere the invocation index (and shared memory). Both are uniform over
// the workgroup. Needs WG_SIZE (a multiple of 8) and ROW_LANES_BY_INDEX (0;
// tests set 1 for the invocation index everywhere, so that the shared-memory
// path is tested on devices that would not take it).
#extension GL_KHR_shader_subgroup_basic : require

bool blocksInSubgroups() {
#if ROW_LANES_BY_INDEX
  return false;
#else
  return gl_SubgroupSize >= 8u && gl_NumSubgroups * gl_SubgroupSize == uint(WG_SIZE);
#endif
}

uint rowLane() {
  return blocksInSubgroups() ? gl_SubgroupID * gl_SubgroupSize + gl_SubgroupInvocationID : gl_LocalInvocationID.x;
}
