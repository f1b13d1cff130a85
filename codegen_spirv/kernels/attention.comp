// Causal attention of one query head of one token over the KV cache, for decode
// (num_tokens = 1) and prefill alike. Softmax in float32 with the running maximum
// subtracted (online softmax over blocks of WG_SIZE keys, so any context length
// fits in fixed shared memory).
//
//   kv_head   = head / (NUM_HEADS / NUM_KV_HEADS)       GQA, contiguous groups
//   keys      = positions p with 0 <= q_pos - p < WINDOW  (WINDOW 0: 0 <= p <= q_pos)
//   score     = (q . k_p) * QUERY_SCALE, then SOFTCAP * tanh(score / SOFTCAP) if SOFTCAP > 0
//   out       = sum_p softmax(score)_p * v_p
// QUERY_SCALE is query_pre_attn_scalar^-0.5 (not head_dim^-0.5: 27B differs).
//
// The cache holds cache_capacity slots of [NUM_KV_HEADS, HEAD_DIM]; position p
// lives in slot p % cache_capacity. A full-attention layer sizes it to the
// context; a sliding layer keeps a ring, which must satisfy
// cache_capacity >= WINDOW + (tokens written in this step) - 1 so that no key a
// query of this step can see has been overwritten by a later token of the step.
//
// Split-K (SPLITS > 1, for decode, where one token's heads alone are too few
// workgroups to stream a long cache): workgroup z = s attends to the s-th of
// SPLITS equal shares of the visible keys and writes, instead of the output,
// its partial at out_base + ((token * NUM_HEADS + head) * SPLITS + s) *
// (HEAD_DIM + 2): the unnormalised sum of weighted values, then its running
// max and running sum (an empty share: zeros and kLowest). attention_combine
// folds the partials into the output.
//
// Defines: HEAD_DIM, NUM_HEADS, NUM_KV_HEADS, QUERY_SCALE (float), WINDOW,
//          SOFTCAP (float, 0.0 = off), SPLITS, WG_SIZE.
// Dispatch: (NUM_HEADS, num_tokens, SPLITS).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "workgroup_reduce.glsl"
#include "softcap.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Queries { float queries[]; };
layout(std430, set = 0, binding = 1) readonly buffer KeyCache { float key_cache[]; };
layout(std430, set = 0, binding = 2) readonly buffer ValueCache { float value_cache[]; };
layout(std430, set = 0, binding = 3) readonly buffer Positions { uint positions[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Output { float attended[]; };

layout(push_constant) uniform AttentionPush {
  uint query_base;          // element index of token 0, head 0 ([T, NUM_HEADS, HEAD_DIM] rows)
  uint query_token_stride;
  uint key_base;            // element index of slot 0 in binding 1
  uint value_base;          // element index of slot 0 in binding 2
  uint cache_capacity;      // slots in the cache (ring size for sliding layers)
  uint positions_base;      // element index of token 0's position
  uint out_base;
  uint out_token_stride;
  uint num_tokens;
} pc;

const uint kGroupSize = NUM_HEADS / NUM_KV_HEADS;
const uint kSlotStride = NUM_KV_HEADS * HEAD_DIM;
const uint kDimsPerInvocation = (HEAD_DIM + WG_SIZE - 1) / WG_SIZE;
const float kLowest = -3.40282347e+38;

shared float scaled_query[HEAD_DIM];
shared float key_weights[WG_SIZE];

void main() {
  uint head = gl_WorkGroupID.x;
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint lane = gl_LocalInvocationID.x;
  uint kv_head = head / kGroupSize;
  uint query_position = positions[pc.positions_base + token];
  uint first_key = (WINDOW > 0 && query_position + 1u > uint(WINDOW)) ? query_position + 1u - uint(WINDOW) : 0u;
  uint key_count = query_position + 1u - first_key;
#if SPLITS > 1
  // This workgroup's share of the keys: [split * share, min((split + 1) * share, key_count)).
  uint split = gl_WorkGroupID.z;
  uint share = (key_count + uint(SPLITS) - 1u) / uint(SPLITS);
  uint share_begin = min(split * share, key_count);
  first_key += share_begin;
  key_count = min(share_begin + share, key_count) - share_begin;
#endif

  uint query_offset = pc.query_base + token * pc.query_token_stride + head * HEAD_DIM;
  for (uint d = lane; d < HEAD_DIM; d += WG_SIZE) scaled_query[d] = queries[query_offset + d];
  barrier();

  float running_max = kLowest;
  float running_sum = 0.0;
  float accumulated[kDimsPerInvocation];
  for (uint k = 0u; k < kDimsPerInvocation; ++k) accumulated[k] = 0.0;

  for (uint block_start = 0u; block_start < key_count; block_start += WG_SIZE) {
    uint key = block_start + lane;
    float score = kLowest;
    if (key < key_count) {
      uint slot = (first_key + key) % pc.cache_capacity;
      uint key_offset = pc.key_base + slot * kSlotStride + kv_head * HEAD_DIM;
      float dot_product = 0.0;
      for (uint d = 0u; d < HEAD_DIM; ++d) dot_product += scaled_query[d] * key_cache[key_offset + d];
      score = dot_product * QUERY_SCALE;
      if (SOFTCAP > 0.0) score = softcap(score, SOFTCAP);
    }
    float new_max = max(running_max, workgroupMax(score));
    float weight = key < key_count ? exp(score - new_max) : 0.0;
    key_weights[lane] = weight;
    // Rescales what earlier blocks accumulated; exp(kLowest - x) is 0 on the first block.
    float correction = exp(running_max - new_max);
    running_sum = running_sum * correction + workgroupSum(weight);  // its barriers publish key_weights
    running_max = new_max;

    uint block_keys = min(uint(WG_SIZE), key_count - block_start);
    for (uint k = 0u; k < kDimsPerInvocation; ++k) accumulated[k] *= correction;
    for (uint b = 0u; b < block_keys; ++b) {
      uint slot = (first_key + block_start + b) % pc.cache_capacity;
      uint value_offset = pc.value_base + slot * kSlotStride + kv_head * HEAD_DIM;
      float key_weight = key_weights[b];
      for (uint k = 0u; k < kDimsPerInvocation; ++k) {
        uint d = lane + k * WG_SIZE;
        if (d < HEAD_DIM) accumulated[k] += key_weight * value_cache[value_offset + d];
      }
    }
    barrier();  // key_weights is rewritten by the next block
  }

#if SPLITS > 1
  uint partial = pc.out_base + ((token * NUM_HEADS + head) * uint(SPLITS) + split) * (HEAD_DIM + 2u);
  for (uint k = 0u; k < kDimsPerInvocation; ++k) {
    uint d = lane + k * WG_SIZE;
    if (d < HEAD_DIM) attended[partial + d] = accumulated[k];
  }
  if (lane == 0u) {
    attended[partial + HEAD_DIM] = running_max;
    attended[partial + HEAD_DIM + 1u] = running_sum;
  }
#else
  uint out_offset = pc.out_base + token * pc.out_token_stride + head * HEAD_DIM;
  for (uint k = 0u; k < kDimsPerInvocation; ++k) {
    uint d = lane + k * WG_SIZE;
    if (d < HEAD_DIM) attended[out_offset + d] = accumulated[k] / running_sum;
  }
#endif
}
