// Greedy sampling: the index of the largest logit of each row (lowest index on
// ties, like torch.argmax), written as a token id so the next step's embedding
// can read it without a trip through the CPU. NaN logits are never chosen
// unless a whole row is NaN.
//
// Defines: COUNT (logits per row), WG_SIZE.
// Dispatch: (num_rows, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "workgroup_argmax.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Logits { float logits[]; };
layout(std430, set = 0, binding = 1) writeonly buffer TokenIds { uint token_ids[]; };

layout(push_constant) uniform ArgmaxPush {
  uint logits_base;
  uint logits_row_stride;
  uint out_base;  // element index in binding 1 of row 0's token id
  uint num_rows;
} pc;

void main() {
  uint row = gl_WorkGroupID.x;
  if (row >= pc.num_rows) return;
  uint row_base = pc.logits_base + row * pc.logits_row_stride;
  float best = kNegativeInfinity;
  uint best_index = kNoIndex;
  // Ascending indices and a strict comparison keep the first maximum.
  for (uint i = gl_LocalInvocationID.x; i < COUNT; i += WG_SIZE) {
    float value = logits[row_base + i];
    if (best_index == kNoIndex || value > best) {
      if (!isnan(value)) {
        best = value;
        best_index = i;
      }
    }
  }
  workgroupArgmax(best, best_index);
  if (gl_LocalInvocationID.x == 0u) token_ids[pc.out_base + row] = best_index == kNoIndex ? 0u : best_index;
}
