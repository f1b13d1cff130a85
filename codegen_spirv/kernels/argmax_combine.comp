// The second half of a split argmax (argmax.comp with SPLITS > 1): per row,
// the best of its SPLITS candidates (float bits, index), lowest index on ties,
// written as the token id (0 when no split had a candidate: a row all NaN).
// The candidates' order does not matter: workgroupArgmax ranks by value, then
// index.
//
// Bindings: 0 candidates (uint pairs), 1 token ids (uint).
// Defines: SPLITS (at most WG_SIZE), WG_SIZE.
// Dispatch: (num_rows, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "workgroup_argmax.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Candidates { uvec2 candidates[]; };
layout(std430, set = 0, binding = 1) writeonly buffer TokenIds { uint token_ids[]; };

layout(push_constant) uniform ArgmaxCombinePush {
  uint candidates_base;  // pair index of row 0's first candidate
  uint out_base;         // element index in binding 1 of row 0's token id
  uint num_rows;
} pc;

void main() {
  uint row = gl_WorkGroupID.x;
  if (row >= pc.num_rows) return;
  float best = kNegativeInfinity;
  uint best_index = kNoIndex;
  uint split = gl_LocalInvocationID.x;
  if (split < uint(SPLITS)) {
    uvec2 candidate = candidates[pc.candidates_base + row * uint(SPLITS) + split];
    if (candidate.y != kNoIndex) {
      best = uintBitsToFloat(candidate.x);
      best_index = candidate.y;
    }
  }
  workgroupArgmax(best, best_index);
  if (gl_LocalInvocationID.x == 0u) token_ids[pc.out_base + row] = best_index == kNoIndex ? 0u : best_index;
}
