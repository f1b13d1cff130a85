// The --dump-logits readout of each row: log-sum-exp and the TOP_K largest
// logits with their ids (descending; equal logits by ascending id), so only
// 1 + 2*TOP_K words per position come back instead of the whole vocabulary.
// Top-k is TOP_K passes of a workgroup argmax, each restricted to candidates
// ranking after the previous pick: O(TOP_K * COUNT), no scratch memory — fine
// for a debugging readout with small K.
//
// Output row (uint words): [0] = floatBits(lse), then for r < TOP_K:
//   [1 + 2r] = token id, [2 + 2r] = floatBits(logit).
//
// Defines: COUNT (logits per row), TOP_K (<= COUNT), WG_SIZE.
// Dispatch: (num_rows, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "workgroup_reduce.glsl"
#include "workgroup_argmax.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Readout { uint readout[]; };

layout(push_constant) uniform LogitsReadoutPush {
  uint logits_base;
  uint logits_row_stride;
  uint out_base;        // word index of row 0's readout in binding 1
  uint out_row_stride;  // words between rows' readouts (>= 1 + 2 * TOP_K)
  uint num_rows;
} pc;

void main() {
  uint row = gl_WorkGroupID.x;
  if (row >= pc.num_rows) return;
  uint lane = gl_LocalInvocationID.x;
  uint row_base = pc.logits_base + row * pc.logits_row_stride;
  uint out_row = pc.out_base + row * pc.out_row_stride;

  float local_max = kNegativeInfinity;
  for (uint i = lane; i < COUNT; i += WG_SIZE) local_max = max(local_max, logits[row_base + i]);
  float row_max = workgroupMax(local_max);
  float local_sum = 0.0;
  for (uint i = lane; i < COUNT; i += WG_SIZE) local_sum += exp(logits[row_base + i] - row_max);
  float log_sum_exp = row_max + log(workgroupSum(local_sum));
  if (lane == 0u) readout[out_row] = floatBitsToUint(log_sum_exp);

  float previous_value = uintBitsToFloat(0x7f800000u);  // +inf: nothing picked yet
  uint previous_index = kNoIndex;
  for (uint pick = 0u; pick < TOP_K; ++pick) {
    float best = kNegativeInfinity;
    uint best_index = kNoIndex;
    for (uint i = lane; i < COUNT; i += WG_SIZE) {
      float value = logits[row_base + i];
      bool after_previous = pick == 0u || ranksBefore(previous_value, previous_index, value, i);
      if (after_previous && (best_index == kNoIndex || ranksBefore(value, i, best, best_index))) {
        best = value;
        best_index = i;
      }
    }
    workgroupArgmax(best, best_index);
    if (lane == 0u) {
      readout[out_row + 1u + 2u * pick] = best_index;
      readout[out_row + 2u + 2u * pick] = floatBitsToUint(best);
    }
    previous_value = best;
    previous_index = best_index;
  }
}
