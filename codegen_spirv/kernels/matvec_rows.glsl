// How the decode products (matvec_bf16, matvec_quant, matvec_quant_dot) split
// a workgroup's ROWS_PER_WG output rows over its WG_SIZE invocations, and how
// they sum and store each row.
//
// ROW_GROUPS groups of kGroupWidth = WG_SIZE / ROW_GROUPS neighbouring
// invocations each own kRowsPerGroup = ROWS_PER_WG / ROW_GROUPS consecutive
// rows, a group's lanes striding over its rows' 16-byte units together. One
// group (the default) puts the whole workgroup on every row; more groups give
// each lane more of a row. That matters where rows are short in units: a q4
// row of K = 5376 is 168 units, one pass and a fifth of a second for 128 lanes,
// so most of them idle half the time, where four groups of 32 lanes make 5.25
// passes each.
//
// The sum: a group that fits in one subgroup adds its lanes by shuffles (XOR
// offsets below kGroupWidth stay inside the group: lanes are numbered as
// invocations, groups are aligned) and its lane 0 stores the rows; a wider
// group adds each subgroup, then the subgroups of the group through shared
// memory. Both hold for any subgroup size.
//
// Include after the binding y and the push constants (y_base, y_token_stride);
// needs N, ROWS_PER_WG, WG_SIZE, SOFTCAP and softcap.glsl. ROW_GROUPS (default
// 1) must be a power of two dividing ROWS_PER_WG and WG_SIZE (kernel_specs).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#extension GL_KHR_shader_subgroup_shuffle : require

#ifndef ROW_GROUPS
#define ROW_GROUPS 1
#endif
const uint kGroupWidth = uint(WG_SIZE) / uint(ROW_GROUPS);
const uint kRowsPerGroup = uint(ROWS_PER_WG) / uint(ROW_GROUPS);

// partials[row of the workgroup][subgroup]
shared float row_partials[ROWS_PER_WG][WG_SIZE];

// This invocation's lane in its group, and the group's first row.
uint groupLane() { return gl_LocalInvocationID.x % kGroupWidth; }
uint groupFirstRow() { return gl_WorkGroupID.x * uint(ROWS_PER_WG) + gl_LocalInvocationID.x / kGroupWidth * kRowsPerGroup; }

// Sums each of the group's rows over its lanes and stores it (soft-capped
// where SOFTCAP > 0) as y[token, row]; rows past N are not stored. Every
// invocation of the workgroup calls it (the wide path has a barrier).
void storeRowSums(float sums[kRowsPerGroup], uint token) {
  uint out_row = pc.y_base + token * pc.y_token_stride;
  if (gl_SubgroupSize >= kGroupWidth) {
    uint first_row = groupFirstRow();
    for (uint r = 0u; r < kRowsPerGroup; ++r) {
      float total = sums[r];
      for (uint offset = 1u; offset < kGroupWidth; offset <<= 1) total += subgroupShuffleXor(total, offset);
      if (groupLane() == 0u && first_row + r < uint(N)) {
        y[out_row + first_row + r] = SOFTCAP > 0.0 ? softcap(total, SOFTCAP) : total;
      }
    }
    return;
  }
  uint group_row = gl_LocalInvocationID.x / kGroupWidth * kRowsPerGroup;
  for (uint r = 0u; r < kRowsPerGroup; ++r) {
    float subgroup_total = subgroupAdd(sums[r]);
    if (subgroupElect()) row_partials[group_row + r][gl_SubgroupID] = subgroup_total;
  }
  barrier();
  uint row = gl_LocalInvocationID.x;  // ROWS_PER_WG <= WG_SIZE: one invocation a row
  uint first_row = gl_WorkGroupID.x * uint(ROWS_PER_WG);
  if (row < uint(ROWS_PER_WG) && first_row + row < uint(N)) {
    uint subgroups_per_group = kGroupWidth / gl_SubgroupSize;
    uint first_subgroup = row / kRowsPerGroup * subgroups_per_group;
    float total = 0.0;
    for (uint s = 0u; s < subgroups_per_group; ++s) total += row_partials[row][first_subgroup + s];
    y[out_row + first_row + row] = SOFTCAP > 0.0 ? softcap(total, SOFTCAP) : total;
  }
}
