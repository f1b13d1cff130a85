// Causal attention for a prefill chunk, flash-style: a workgroup takes one
// query head of 8 consecutive tokens and walks the keys they see in blocks of
// 4, staging each block's keys and values in shared memory once for all 8
// queries (attention.comp, one workgroup per token, reads every key again for
// every query). The semantics are attention.comp's with SPLITS = 1 (its header
// has them: GQA groups, window, query scale, softcap, the KV cache as a ring,
// which must hold window + tokens - 1 slots), softmax online in float32.
//
// Invocation l of 64 serves query q = l / 8 of the tile and owns its
// dimensions d = l % 8 + 8 i (its query values live in registers): it takes
// its share of each key's dot product, the 8 shares of a query are summed in
// shared memory, and it accumulates those dimensions of the output. The next
// block's keys and values are loaded (into registers) before this block's
// products, so they arrive while those run. Shared memory: 2 x 4 x HEAD_DIM
// floats of keys and values and 64 x 4 shares (9 KiB at HEAD_DIM 256, within
// Vulkan's 16 KiB minimum).
//
// Bindings, push constants: attention.comp's (out_base and out_token_stride
// used; query_base and query_token_stride multiples of 4, key_base and
// value_base 0 mod 4 as well).
// Defines: HEAD_DIM (a multiple of 8, at most 256), NUM_HEADS, NUM_KV_HEADS,
//          QUERY_SCALE (float), WINDOW, SOFTCAP (float, 0.0 = off).
// Dispatch: (NUM_HEADS, ceil(num_tokens / 8), 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "softcap.glsl"

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer Queries { float queries[]; };
layout(std430, set = 0, binding = 1) readonly buffer KeyCache { vec4 key_cache4[]; };
layout(std430, set = 0, binding = 2) readonly buffer ValueCache { vec4 value_cache4[]; };
layout(std430, set = 0, binding = 3) readonly buffer Positions { uint positions[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Output { float attended[]; };

layout(push_constant) uniform AttentionPush {
  uint query_base;
  uint query_token_stride;
  uint key_base;
  uint value_base;
  uint cache_capacity;
  uint positions_base;
  uint out_base;
  uint out_token_stride;
  uint num_tokens;
} pc;

const uint kQueries = 8;  // tokens of a workgroup's tile
const uint kKeys = 4;     // keys a block
const uint kGroupSize = NUM_HEADS / NUM_KV_HEADS;
const uint kSlotStride = NUM_KV_HEADS * HEAD_DIM;
const uint kDims = HEAD_DIM / 8;  // dimensions an invocation owns
const uint kBlockVec4 = kKeys * (HEAD_DIM / 4);  // vec4s of keys (and of values) a block
const uint kFetches = (kBlockVec4 + 63u) / 64u;   // of them an invocation loads
const float kLowest = -3.40282347e+38;

shared float key_block[kKeys][HEAD_DIM];
shared float value_block[kKeys][HEAD_DIM];
shared float shares[64][kKeys];

// The first position query position `p` sees.
uint firstVisible(uint p) { return (WINDOW > 0 && p + 1u > uint(WINDOW)) ? p + 1u - uint(WINDOW) : 0u; }

// This invocation's share of the block at `block` (keys up to `last`), into
// registers; then into the shared block.
vec4 fetched_keys[kFetches], fetched_values[kFetches];
void fetchBlock(uint block, uint last, uint kv_head) {
  for (uint f = 0u; f < kFetches; ++f) {
    uint e = gl_LocalInvocationIndex + 64u * f;
    uint position = block + e / (HEAD_DIM / 4), v = e % (HEAD_DIM / 4);
    fetched_keys[f] = vec4(0.0);
    fetched_values[f] = vec4(0.0);
    if (e < kBlockVec4 && position <= last) {
      uint slot = position % pc.cache_capacity;
      fetched_keys[f] = key_cache4[(pc.key_base + slot * kSlotStride + kv_head * HEAD_DIM) / 4u + v];
      fetched_values[f] = value_cache4[(pc.value_base + slot * kSlotStride + kv_head * HEAD_DIM) / 4u + v];
    }
  }
}
void stageBlock() {
  for (uint f = 0u; f < kFetches; ++f) {
    uint e = gl_LocalInvocationIndex + 64u * f;
    if (e >= kBlockVec4) break;
    uint k = e / (HEAD_DIM / 4), v = e % (HEAD_DIM / 4);
    for (uint c = 0u; c < 4u; ++c) {
      key_block[k][4u * v + c] = fetched_keys[f][c];
      value_block[k][4u * v + c] = fetched_values[f][c];
    }
  }
}

void main() {
  uint head = gl_WorkGroupID.x;
  uint first_token = gl_WorkGroupID.y * kQueries;
  uint lane = gl_LocalInvocationIndex;
  uint q = lane / 8u, part = lane % 8u;
  uint kv_head = head / kGroupSize;
  uint tile_tokens = min(kQueries, pc.num_tokens - first_token);
  bool my_query = q < tile_tokens;
  uint token = first_token + min(q, tile_tokens - 1u);

  // This invocation's dimensions of its query, and the positions it sees.
  float query[kDims];
  uint query_at = pc.query_base + token * pc.query_token_stride + head * HEAD_DIM + part;
  [[unroll]] for (uint i = 0u; i < kDims; ++i) query[i] = queries[query_at + 8u * i];
  uint my_position = positions[pc.positions_base + token];
  uint my_first = firstVisible(my_position);
  // The keys any query of the tile sees: [first, last].
  uint first = firstVisible(positions[pc.positions_base + first_token]);
  uint last = positions[pc.positions_base + first_token + tile_tokens - 1u];

  float running_max = kLowest, running_sum = 0.0;
  float accumulated[kDims];
  [[unroll]] for (uint i = 0u; i < kDims; ++i) accumulated[i] = 0.0;

  fetchBlock(first, last, kv_head);
  for (uint block = first; block <= last; block += kKeys) {
    barrier();  // the block before is done with the keys, values and shares
    stageBlock();
    barrier();
    if (block + kKeys <= last) fetchBlock(block + kKeys, last, kv_head);
    [[unroll]] for (uint k = 0u; k < kKeys; ++k) {
      float share = 0.0;
      [[unroll]] for (uint i = 0u; i < kDims; ++i) share += query[i] * key_block[k][part + 8u * i];
      shares[lane][k] = share;
    }
    barrier();
    // Every invocation of query q folds the block the same way.
    float weights[kKeys];
    float block_max = kLowest;
    [[unroll]] for (uint k = 0u; k < kKeys; ++k) {
      uint position = block + k;
      float score = kLowest;
      if (my_query && position <= my_position && position >= my_first) {
        float dot_product = 0.0;
        for (uint p = 0u; p < 8u; ++p) dot_product += shares[8u * q + p][k];
        score = dot_product * QUERY_SCALE;
        if (SOFTCAP > 0.0) score = softcap(score, SOFTCAP);
      }
      weights[k] = score;
      block_max = max(block_max, score);
    }
    float new_max = max(running_max, block_max);
    float correction = exp(running_max - new_max);  // 0 at the first key seen; 1 while none was
    float weight_sum = 0.0;
    [[unroll]] for (uint k = 0u; k < kKeys; ++k) {
      weights[k] = weights[k] > kLowest ? exp(weights[k] - new_max) : 0.0;
      weight_sum += weights[k];
    }
    running_sum = running_sum * correction + weight_sum;
    running_max = new_max;
    [[unroll]] for (uint i = 0u; i < kDims; ++i) {
      float sum = accumulated[i] * correction;
      [[unroll]] for (uint k = 0u; k < kKeys; ++k) sum += weights[k] * value_block[k][part + 8u * i];
      accumulated[i] = sum;
    }
  }

  if (!my_query) return;
  uint out_at = pc.out_base + token * pc.out_token_stride + head * HEAD_DIM + part;
  [[unroll]] for (uint i = 0u; i < kDims; ++i) attended[out_at + 8u * i] = accumulated[i] / running_sum;
}
