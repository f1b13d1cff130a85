// y[t, n] = sum_k x[t, k] * W[n, k] with W in bf16, [out, in] (transformers'
// layout), accumulated in float32. The decode kernel: each workgroup owns
// ROWS_PER_WG output rows of one token and streams their weights once, every
// invocation taking a strided share of K, then reduces across the workgroup
// (subgroup sums + shared memory: correct for any subgroup size).
// N is the rows of this dispatch: a weight larger than maxStorageBufferRange is
// split by rows into several dispatches, each binding its slice and writing at
// its own y_base.
//
// Defines: K (even), N, ROWS_PER_WG, WG_SIZE, SOFTCAP (float, 0.0 = off; for
//          the LM head's final logit soft-capping).
// Dispatch: (ceil(N / ROWS_PER_WG), num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "bf16.glsl"
#include "softcap.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { uint weight_words[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float y[]; };

layout(push_constant) uniform MatmulPush {
  uint x_base;
  uint x_token_stride;
  uint weight_base;  // word index of row 0 of this dispatch's slice
  uint y_base;       // element index of (token 0, row 0 of the slice)
  uint y_token_stride;
  uint num_tokens;
} pc;

const uint kWordsPerRow = K / 2;

// partials[row][subgroup]
shared float row_partials[ROWS_PER_WG][WG_SIZE];

void main() {
  uint first_row = gl_WorkGroupID.x * ROWS_PER_WG;
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint x_row = pc.x_base + token * pc.x_token_stride;

  float sums[ROWS_PER_WG];
  for (uint r = 0u; r < ROWS_PER_WG; ++r) sums[r] = 0.0;
  for (uint pair = gl_LocalInvocationID.x; pair < kWordsPerRow; pair += WG_SIZE) {
    float x_even = x[x_row + 2u * pair];
    float x_odd = x[x_row + 2u * pair + 1u];
    for (uint r = 0u; r < ROWS_PER_WG; ++r) {
      uint row = min(first_row + r, uint(N) - 1u);  // rows past N repeat the last; never stored
      uint word = weight_words[pc.weight_base + row * kWordsPerRow + pair];
      sums[r] += x_even * bf16Low(word) + x_odd * bf16High(word);
    }
  }

  for (uint r = 0u; r < ROWS_PER_WG; ++r) {
    float subgroup_total = subgroupAdd(sums[r]);
    if (subgroupElect()) row_partials[r][gl_SubgroupID] = subgroup_total;
  }
  barrier();
  uint r = gl_LocalInvocationID.x;
  if (r < ROWS_PER_WG && first_row + r < N) {
    float total = 0.0;
    for (uint s = 0u; s < gl_NumSubgroups; ++s) total += row_partials[r][s];
    if (SOFTCAP > 0.0) total = softcap(total, SOFTCAP);
    y[pc.y_base + token * pc.y_token_stride + first_row + r] = total;
  }
}
