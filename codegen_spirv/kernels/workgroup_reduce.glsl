// Sum and max over every invocation of the workgroup, for any subgroup size:
// subgroup arithmetic inside each subgroup, then one partial per subgroup in
// shared memory that every invocation folds in the same order (so the result is
// identical in all invocations and deterministic run to run). Must be called
// from uniform control flow by the whole workgroup. Needs WG_SIZE.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

// One slot per subgroup; WG_SIZE slots cover even a subgroup size of 1.
shared float reduce_partials[WG_SIZE];

float workgroupSum(float value) {
  float subgroup_total = subgroupAdd(value);
  if (subgroupElect()) reduce_partials[gl_SubgroupID] = subgroup_total;
  barrier();
  float total = 0.0;
  for (uint i = 0u; i < gl_NumSubgroups; ++i) total += reduce_partials[i];
  barrier();  // the partials may be reused by the next call
  return total;
}

float workgroupMax(float value) {
  float subgroup_max = subgroupMax(value);
  if (subgroupElect()) reduce_partials[gl_SubgroupID] = subgroup_max;
  barrier();
  float result = reduce_partials[0];
  for (uint i = 1u; i < gl_NumSubgroups; ++i) result = max(result, reduce_partials[i]);
  barrier();
  return result;
}
