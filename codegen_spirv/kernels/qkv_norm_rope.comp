// A layer's query, key and value heads in one dispatch, from the row of its
// fused q|k|v product (head_norm_rope.comp does one of the three per dispatch):
//   query heads: RMSNorm with q_norm's weight, then RoPE, into dense rows
//                [T, NUM_HEADS, HEAD_DIM] of the query destination
//   key heads:   RMSNorm with k_norm's weight, then RoPE, into the key cache
//   value heads: copied as they are into the value cache
// (norm: v = x * inversesqrt(mean(x^2) + EPS) * (1 + w), one weight of
// HEAD_DIM elements shared by the heads; RoPE at the token's position as
// rope.glsl has it). Workgroup x picks the part and head: queries first, then
// keys, then values; the branch is uniform over the workgroup. A decode step
// would otherwise spend three dependent launches here per layer.
//
// Cache rows: positions[t] % ring_capacity (the KV cache as a ring of slots),
// slot 0 at element 0 of each cache binding.
//
// Bindings: 0 source (float), 1 q_norm weight, 2 k_norm weight (bf16 pairs),
//           3 positions, 4 query destination, 5 key cache, 6 value cache.
// Defines: HEAD_DIM (even), NUM_HEADS, NUM_KV_HEADS, EPS (float),
//          ROPE_INV_FREQ (float[HEAD_DIM/2] constructor), WG_SIZE.
// Dispatch: (NUM_HEADS + 2 * NUM_KV_HEADS, num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "rope.glsl"
#include "workgroup_reduce.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Source { float src[]; };
layout(std430, set = 0, binding = 1) readonly buffer QueryNorm { uint query_norm_words[]; };
layout(std430, set = 0, binding = 2) readonly buffer KeyNorm { uint key_norm_words[]; };
layout(std430, set = 0, binding = 3) readonly buffer Positions { uint positions[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Queries { float queries[]; };
layout(std430, set = 0, binding = 5) writeonly buffer KeyCache { float key_cache[]; };
layout(std430, set = 0, binding = 6) writeonly buffer ValueCache { float value_cache[]; };

layout(push_constant) uniform QkvNormRopePush {
  uint query_src_base;     // element index of token 0's first query head
  uint key_src_base;       // ... first key head
  uint value_src_base;     // ... first value head
  uint src_token_stride;   // elements between tokens (the fused q|k|v row width)
  uint query_norm_base;    // word index of q_norm's weight
  uint key_norm_base;      // word index of k_norm's weight
  uint positions_base;     // element index of token 0's position
  uint query_dst_base;     // element index of token 0, head 0
  uint query_dst_stride;   // elements between tokens
  uint key_row_stride;     // elements between key cache slots
  uint value_row_stride;   // elements between value cache slots
  uint ring_capacity;      // cache slots (row = position % ring_capacity)
  uint num_tokens;
} pc;

#define HEAD_ROW src
#include "head_pairs.glsl"

void main() {
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint part = gl_WorkGroupID.x < NUM_HEADS                  ? kQueryHead
              : gl_WorkGroupID.x < NUM_HEADS + NUM_KV_HEADS ? kKeyHead
                                                            : kValueHead;
  uint head = part == kQueryHead ? gl_WorkGroupID.x
            : part == kKeyHead   ? gl_WorkGroupID.x - NUM_HEADS
                                 : gl_WorkGroupID.x - NUM_HEADS - NUM_KV_HEADS;
  uint src_base = part == kQueryHead ? pc.query_src_base : part == kKeyHead ? pc.key_src_base : pc.value_src_base;
  uint norm_base = part == kQueryHead ? pc.query_norm_base : pc.key_norm_base;
  uint position = positions[pc.positions_base + token];
  uint src_head = src_base + token * pc.src_token_stride + head * HEAD_DIM;

  // The head and (for q and k) its gains, loaded in one burst.
  HeadPairs h = loadHeadPairs(src_head, part, norm_base);
  // Uniform over the workgroup (part is), as workgroupSum needs.
  if (part != kValueHead) {
    float inverse_rms = inverseRms(workgroupSum(h.sum_of_squares));
    for (uint p = 0u; p < kPairsPerInvocation; ++p) {
      vec2 rotated = normRotatedPair(h, p, inverse_rms, position);
      h.first[p] = rotated.x;
      h.second[p] = rotated.y;
    }
  }

  uint slot = position % pc.ring_capacity;
  for (uint p = 0u; p < kPairsPerInvocation; ++p) {
    uint i = gl_LocalInvocationID.x + p * WG_SIZE;
    if (i >= kHalf) break;
    if (part == kQueryHead) {
      uint at = pc.query_dst_base + token * pc.query_dst_stride + head * HEAD_DIM + i;
      queries[at] = h.first[p];
      queries[at + kHalf] = h.second[p];
    } else if (part == kKeyHead) {
      uint at = slot * pc.key_row_stride + head * HEAD_DIM + i;
      key_cache[at] = h.first[p];
      key_cache[at + kHalf] = h.second[p];
    } else {
      uint at = slot * pc.value_row_stride + head * HEAD_DIM + i;
      value_cache[at] = h.first[p];
      value_cache[at + kHalf] = h.second[p];
    }
  }
}
