// sums[g] = the sum of values[g * N .. g * N + N) for workgroup size N: a
// reduction written for any subgroup size (subgroupAdd within a subgroup, then
// shared memory across subgroups), as the device layer's kernels must be. Used
// as the second step of a chain whose first step writes `values`.
#version 450
#extension GL_KHR_shader_subgroup_arithmetic : require

layout(local_size_x_id = 0) in;

layout(std430, set = 0, binding = 0) readonly buffer Values { int values[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Sums { int sums[]; };

// One partial sum per subgroup; 1024 covers maxComputeWorkGroupInvocations at subgroup size 1.
shared int partial_sums[1024];

void main() {
  int subgroup_sum = subgroupAdd(values[gl_GlobalInvocationID.x]);
  if (subgroupElect()) partial_sums[gl_SubgroupID] = subgroup_sum;
  barrier();
  if (gl_LocalInvocationIndex == 0) {
    int total = 0;
    for (uint s = 0; s < gl_NumSubgroups; ++s) total += partial_sums[s];
    sums[gl_WorkGroupID.x] = total;
  }
}
