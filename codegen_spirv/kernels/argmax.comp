// Greedy sampling: the index of the largest logit of each row (lowest index on
// ties, like torch.argmax), written as a token id so the next step's embedding
// can read it without a trip through the CPU. NaN logits are never chosen
// unless a whole row is NaN.
//
// One workgroup per row, so the kernel is bound by latency (a 262k vocabulary
// is 1 MiB): where COUNT is a multiple of 4 each invocation reads its share as
// vec4s, kBatch loads in flight at once, instead of one round trip per logit
// (on an H200 the scalar loop took ~120 us per row, a whole Gemma 1B layer's
// worth). Each invocation's candidates ascend in index, so a strict comparison
// keeps its first maximum; workgroupArgmax keeps the lowest index across them.
//
// Alignment (vec4 form, the schedule guarantees it): logits_base and
// logits_row_stride are multiples of 4.
//
// Defines: COUNT (logits per row), WG_SIZE.
// Dispatch: (num_rows, 1, 1).
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
layout(std430, set = 0, binding = 1) writeonly buffer TokenIds { uint token_ids[]; };

layout(push_constant) uniform ArgmaxPush {
  uint logits_base;
  uint logits_row_stride;
  uint out_base;  // element index in binding 1 of row 0's token id
  uint num_rows;
} pc;

const uint kBatch = 16;  // vec4 loads an invocation has in flight (8 took ~46 us on an H200)

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
  const uint kUnits = uint(COUNT) / 4u;
  uint unit_base = row_base / 4u;
  for (uint first = gl_LocalInvocationID.x; first < kUnits; first += kBatch * WG_SIZE) {
    vec4 batch[kBatch];
    [[unroll]] for (uint b = 0u; b < kBatch; ++b) {
      uint u = first + b * WG_SIZE;
      batch[b] = u < kUnits ? logits4[unit_base + u] : vec4(kNegativeInfinity);
    }
    [[unroll]] for (uint b = 0u; b < kBatch; ++b) {
      uint u = first + b * WG_SIZE;
      if (u < kUnits) {
        consider(batch[b].x, 4u * u, best, best_index);
        consider(batch[b].y, 4u * u + 1u, best, best_index);
        consider(batch[b].z, 4u * u + 2u, best, best_index);
        consider(batch[b].w, 4u * u + 3u, best, best_index);
      }
    }
  }
#else
  for (uint i = gl_LocalInvocationID.x; i < COUNT; i += WG_SIZE) consider(logits[row_base + i], i, best, best_index);
#endif
  workgroupArgmax(best, best_index);
  if (gl_LocalInvocationID.x == 0u) token_ids[pc.out_base + row] = best_index == kNoIndex ? 0u : best_index;
}
