// Greedy sampling: the index of the largest logit of each row (lowest index on
// ties, like torch.argmax), written as a token id so the next step's embedding
// can read it without a trip through the CPU. NaN logits are never chosen
// unless a whole row is NaN.
//
// Bound by latency, not bandwidth (a 262k vocabulary is 1 MiB): where COUNT is
// a multiple of 4 each invocation reads its share as vec4s, BATCH loads in
// flight at once, instead of one round trip per logit (on an H200 the scalar
// loop took ~120 us per row, a whole Gemma 1B layer's worth). Each invocation's
// candidates ascend in index, so a strict comparison keeps its first maximum;
// workgroupArgmax keeps the lowest index across them.
//
// SPLITS > 1: a row is SPLITS workgroups, split s scanning the s-th of SPLITS
// equal shares of it (vec4s in the vec4 form), so that a long row is one batch
// per invocation instead of a loop of them in one workgroup (one workgroup took
// ~32 us per 262k row on an H200). Each writes, instead of the token id, its
// candidate (float bits, index; index 0xffffffff for none) as the pair of words
// at out_base + 2 * (row * SPLITS + s); argmax_combine picks the row's token.
//
// Alignment (vec4 form, the schedule guarantees it): logits_base and
// logits_row_stride are multiples of 4.
//
// Defines: COUNT (logits per row), BATCH (vec4 loads in flight per invocation),
//          SPLITS, WG_SIZE.
// Dispatch: (num_rows, SPLITS, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "workgroup_argmax.glsl"

layout(local_size_x = WG_SIZE) in;

#if COUNT % 4 == 0
layout(std430, set = 0, binding = 0) readonly buffer Logits { vec4 logits4[]; };
#else
layout(std430, set = 0, binding = 0) readonly buffer Logits { float logits[]; };
#endif
layout(std430, set = 0, binding = 1) writeonly buffer TokenIds { uint token_ids[]; };  // or the candidates

layout(push_constant) uniform ArgmaxPush {
  uint logits_base;
  uint logits_row_stride;
  uint out_base;  // element index in binding 1 of row 0's token id (SPLITS > 1: candidate)
  uint num_rows;
} pc;

const uint kBatch = BATCH;

void consider(float value, uint index, inout float best, inout uint best_index) {
  if ((best_index == kNoIndex || value > best) && !isnan(value)) {
    best = value;
    best_index = index;
  }
}

void main() {
  uint row = gl_WorkGroupID.x;
  if (row >= pc.num_rows) return;
  uint row_base = pc.logits_base + row * pc.logits_row_stride;
  float best = kNegativeInfinity;
  uint best_index = kNoIndex;
#if COUNT % 4 == 0
  // This workgroup's share of the row's vec4s: [begin, end).
  const uint kUnits = uint(COUNT) / 4u;
  const uint kShare = (kUnits + uint(SPLITS) - 1u) / uint(SPLITS);
  uint begin = min(gl_WorkGroupID.y * kShare, kUnits), end = min(begin + kShare, kUnits);
  uint unit_base = row_base / 4u;
  for (uint first = begin + gl_LocalInvocationID.x; first < end; first += kBatch * WG_SIZE) {
    vec4 batch[kBatch];
    [[unroll]] for (uint b = 0u; b < kBatch; ++b) {
      uint u = first + b * WG_SIZE;
      batch[b] = u < end ? logits4[unit_base + u] : vec4(kNegativeInfinity);
    }
    [[unroll]] for (uint b = 0u; b < kBatch; ++b) {
      uint u = first + b * WG_SIZE;
      if (u < end) {
        consider(batch[b].x, 4u * u, best, best_index);
        consider(batch[b].y, 4u * u + 1u, best, best_index);
        consider(batch[b].z, 4u * u + 2u, best, best_index);
        consider(batch[b].w, 4u * u + 3u, best, best_index);
      }
    }
  }
#else
  const uint kShare = (uint(COUNT) + uint(SPLITS) - 1u) / uint(SPLITS);
  uint begin = min(gl_WorkGroupID.y * kShare, uint(COUNT)), end = min(begin + kShare, uint(COUNT));
  for (uint i = begin + gl_LocalInvocationID.x; i < end; i += WG_SIZE) consider(logits[row_base + i], i, best, best_index);
#endif
  workgroupArgmax(best, best_index);
  if (gl_LocalInvocationID.x != 0u) return;
#if SPLITS > 1
  uint candidate = pc.out_base + 2u * (row * uint(SPLITS) + gl_WorkGroupID.y);
  token_ids[candidate] = floatBitsToUint(best);
  token_ids[candidate + 1u] = best_index;
#else
  token_ids[pc.out_base + row] = best_index == kNoIndex ? 0u : best_index;
#endif
}
