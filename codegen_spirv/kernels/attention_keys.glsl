// What decode and prefill attention over the KV cache share (attention.comp,
// attention_split.comp, attention_decode.comp): causal attention of one query
// head of one token, softmax in float32 with the running maximum subtracted
// (online softmax over blocks of WG_SIZE keys, so any context length fits in
// fixed shared memory).
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
// Scores: a key's dot product with the query is shared by kLanesPerKey
// neighbouring lanes (HEAD_DIM / 64 of them, at most 4), each reading its
// share of the key as vec4s in one burst, then summed across them by subgroup
// shuffles; a block of WG_SIZE keys takes kLanesPerKey such passes. (One lane
// a key, looping over HEAD_DIM dependent loads, left a decode step at short
// context waiting ~10 us a layer on a single key's loads on an H200.)
//
// Bindings 0-3 (queries, key cache, value cache, positions), 4 the output
// ([T, NUM_HEADS, HEAD_DIM] rows at out_base) and the push constants; the
// including kernel declares any further bindings from 5.
// Needs HEAD_DIM (a multiple of 4), NUM_HEADS, NUM_KV_HEADS, QUERY_SCALE
// (float), WINDOW, SOFTCAP (float, 0.0 = off), WG_SIZE (at least 4).
// key_base must be a multiple of 4.
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "workgroup_reduce.glsl"
#include "softcap.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Queries { float queries[]; };
// attention_decode.comp also writes the step's key and value into the caches.
#ifndef KV_CACHE_ACCESS
#define KV_CACHE_ACCESS readonly
#endif
layout(std430, set = 0, binding = 1) KV_CACHE_ACCESS buffer KeyCache { vec4 key_cache4[]; };
layout(std430, set = 0, binding = 2) KV_CACHE_ACCESS buffer ValueCache { float value_cache[]; };
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
#ifdef ATTENTION_STEP_ROW
  // attention_decode.comp: query_base is the step's first query head in the
  // q|k|v row of binding 0; these its first key and value heads there.
  uint key_src_base;
  uint value_src_base;
#endif
} pc;

const uint kGroupSize = NUM_HEADS / NUM_KV_HEADS;
const uint kSlotStride = NUM_KV_HEADS * HEAD_DIM;
const uint kDimsPerInvocation = (HEAD_DIM + WG_SIZE - 1) / WG_SIZE;
const float kLowest = -3.40282347e+38;
// Scores: lanes per key, each lane's vec4s of it, keys per pass of the workgroup.
const uint kLanesPerKey = HEAD_DIM >= 256 ? 4u : HEAD_DIM >= 128 ? 2u : 1u;
const uint kVec4PerLane = HEAD_DIM / 4 / kLanesPerKey;
const uint kKeysPerPass = WG_SIZE / kLanesPerKey;
// Keys whose values one pass of the value loop loads at once.
const uint kValueBatch = 8u;

shared vec4 query4[HEAD_DIM / 4];
shared float key_weights[WG_SIZE];

// The keys token's query sees: [first_key, first_key + count) in positions.
uint visibleKeys(uint token, out uint first_key) {
  uint query_position = positions[pc.positions_base + token];
  first_key = (WINDOW > 0 && query_position + 1u > uint(WINDOW)) ? query_position + 1u - uint(WINDOW) : 0u;
  return query_position + 1u - first_key;
}

// The query of (token, head) into shared memory, for attendKeys.
void loadQuery(uint head, uint token) {
  uint query_offset = pc.query_base + token * pc.query_token_stride + head * HEAD_DIM;
  for (uint v = gl_LocalInvocationID.x; v < HEAD_DIM / 4; v += WG_SIZE) {
    uint d = query_offset + 4u * v;
    query4[v] = vec4(queries[d], queries[d + 1u], queries[d + 2u], queries[d + 3u]);
  }
  barrier();
}

// Online softmax of the loaded query over keys [first_key, first_key +
// key_count): the unnormalised weighted sum of values (this lane's dimensions,
// lane + k * WG_SIZE), the running max and sum of the weights. No keys: zeros,
// kLowest and 0. Every invocation of the workgroup calls it (barriers).
void attendKeys(uint head, uint first_key, uint key_count, out float accumulated[kDimsPerInvocation],
                out float running_max, out float running_sum) {
  running_max = kLowest;
  running_sum = 0.0;
  for (uint k = 0u; k < kDimsPerInvocation; ++k) accumulated[k] = 0.0;
  uint lane = gl_LocalInvocationID.x;
  uint kv_head = head / kGroupSize;
  // This lane's part of a key: vec4s [share * kVec4PerLane, +kVec4PerLane) of it.
  uint share_of_key = lane % kLanesPerKey;
  uint key_in_pass = lane / kLanesPerKey;

  for (uint block_start = 0u; block_start < key_count; block_start += WG_SIZE) {
    // Pass p scores the block's keys p * kKeysPerPass + key_in_pass; every lane
    // of a key ends with its whole score.
    float scores[kLanesPerKey];
    float block_max = kLowest;
    [[unroll]] for (uint p = 0u; p < kLanesPerKey; ++p) {
      uint key = block_start + p * kKeysPerPass + key_in_pass;
      float partial = 0.0;
      if (key < key_count) {
        uint slot = (first_key + key) % pc.cache_capacity;
        uint key_unit = (pc.key_base + slot * kSlotStride + kv_head * HEAD_DIM) / 4u + share_of_key * kVec4PerLane;
        [[unroll]] for (uint v = 0u; v < kVec4PerLane; ++v) {
          partial += dot(query4[share_of_key * kVec4PerLane + v], key_cache4[key_unit + v]);
        }
      }
      // The key's lanes are neighbours in one subgroup.
      for (uint offset = 1u; offset < kLanesPerKey; offset <<= 1) partial += subgroupShuffleXor(partial, offset);
      float score = partial * QUERY_SCALE;
      if (SOFTCAP > 0.0) score = softcap(score, SOFTCAP);
      scores[p] = key < key_count ? score : kLowest;
      block_max = max(block_max, scores[p]);
    }
    float new_max = max(running_max, workgroupMax(block_max));
    // The first lane of each key publishes its weight and counts it once.
    float weight_sum = 0.0;
    [[unroll]] for (uint p = 0u; p < kLanesPerKey; ++p) {
      uint key = block_start + p * kKeysPerPass + key_in_pass;
      float weight = key < key_count ? exp(scores[p] - new_max) : 0.0;
      if (share_of_key == 0u) {
        key_weights[p * kKeysPerPass + key_in_pass] = weight;
        weight_sum += weight;
      }
    }
    // Rescales what earlier blocks accumulated; exp(kLowest - x) is 0 on the first block.
    float correction = exp(running_max - new_max);
    running_sum = running_sum * correction + workgroupSum(weight_sum);  // its barriers publish key_weights
    running_max = new_max;

    uint block_keys = min(uint(WG_SIZE), key_count - block_start);
    for (uint k = 0u; k < kDimsPerInvocation; ++k) accumulated[k] *= correction;
    // Values kValueBatch keys at a time, every load of a batch issued before
    // its sums: a key at a time waited on each key's load in turn (a 64-key
    // share took ~20 us on an H200). Past the block's end a batch rereads its
    // last key (finite) and weighs it 0.
    for (uint batch = 0u; batch < block_keys; batch += kValueBatch) {
      float values[kValueBatch][kDimsPerInvocation];
      [[unroll]] for (uint u = 0u; u < kValueBatch; ++u) {
        uint slot = (first_key + block_start + min(batch + u, block_keys - 1u)) % pc.cache_capacity;
        uint value_offset = pc.value_base + slot * kSlotStride + kv_head * HEAD_DIM;
        [[unroll]] for (uint k = 0u; k < kDimsPerInvocation; ++k) {
          values[u][k] = value_cache[value_offset + min(lane + k * WG_SIZE, HEAD_DIM - 1u)];
        }
      }
      [[unroll]] for (uint u = 0u; u < kValueBatch; ++u) {
        float key_weight = batch + u < block_keys ? key_weights[batch + u] : 0.0;
        [[unroll]] for (uint k = 0u; k < kDimsPerInvocation; ++k) accumulated[k] += key_weight * values[u][k];
      }
    }
    barrier();  // key_weights is rewritten by the next block
  }
}

// Where (token, head)'s output row starts in binding 4.
uint outputOffset(uint head, uint token) { return pc.out_base + token * pc.out_token_stride + head * HEAD_DIM; }

// attendKeys' result over all of the query's keys, normalised (divided by
// running_sum), into the output.
void storeAttended(uint head, uint token, float accumulated[kDimsPerInvocation], float running_sum) {
  uint out_offset = outputOffset(head, token);
  for (uint k = 0u; k < kDimsPerInvocation; ++k) {
    uint d = gl_LocalInvocationID.x + k * WG_SIZE;
    if (d < HEAD_DIM) attended[out_offset + d] = accumulated[k] / running_sum;
  }
}
