// A decode step's attention straight from its layer's q|k|v product row, in
// one dispatch: what qkv_norm_rope.comp and attention_split.comp do one after
// the other, without the launch, the barrier and the round trip through memory
// between them (a decode step is a chain of ~8 dependent dispatches a layer,
// each costing ~2 us of launch and drain on an H200 before its own work).
//
//   query head h   RMSNorm with q_norm's weight, then RoPE at the step's
//                  position (qkv_norm_rope.comp's arithmetic), kept in shared
//                  memory for the scores;
//   the step's key and value (kv head h / group)
//                  the key normed with k_norm's weight and rotated, the value
//                  as it is: the share that holds the step's position uses them
//                  from shared memory and registers, and that share's workgroup of
//                  the group's first query head writes both into the cache slot
//                  position % cache_capacity for the steps after;
//   then split-K attention as attention_split.comp (attention_shares.glsl)
//   over the keys before the step's, read from the cache, and the step's own.
// No workgroup reads the slot being written: it held position - capacity,
// which the query no longer sees (a sliding layer's ring holds at least its
// window, a global layer's cache the context).
//
// QUANT_BITS 8 or 4 (default 0: off): the output row also goes out quantised
// per block of 32 for the packed-integer o projection that reads it
// (matvec_quant_dot.comp), binding 9 from unit 0, in quantize_activation.comp's
// layout and bit for bit its result on the float output (block_quantize.glsl
// on the same floats), so no quantize_activation dispatch runs between.
//
// One token: the decode step's. Its position is positions[positions_base].
// Bindings: 0 the q|k|v row (float; query heads at query_base, key heads at
// key_src_base, value heads at value_src_base), 1 key cache, 2 value cache
// (both as attention_keys.glsl, key_base and value_base their slot 0), 3
// positions, 4 the output, 5 the partials and 6 the counts as
// attention_shares.glsl, 7 q_norm's and 8 k_norm's weight (bf16 pairs from
// word 0), 9 the quantised output (QUANT_BITS).
// Defines: as attention_split.comp, and EPS (float), ROPE_INV_FREQ
// (float[HEAD_DIM/2] constructor; HEAD_DIM even), QUANT_BITS (0, 8 or 4; with
// 8 or 4 HEAD_DIM a multiple of 32).
// Dispatch: (NUM_HEADS, 1, SPLITS).
#version 450
#extension GL_GOOGLE_include_directive : require
#define KV_CACHE_ACCESS
#define ATTENTION_STEP_ROW
#include "attention_keys.glsl"
#include "attention_shares.glsl"
#include "bf16.glsl"
#include "rope.glsl"

layout(std430, set = 0, binding = 7) readonly buffer QueryNorm { uint query_norm_words[]; };
layout(std430, set = 0, binding = 8) readonly buffer KeyNorm { uint key_norm_words[]; };
#ifndef QUANT_BITS
#define QUANT_BITS 0
#endif
#if QUANT_BITS != 0
layout(std430, set = 0, binding = 9) writeonly buffer QuantisedOutput { uvec4 qx_units[]; };
#include "block_quantize.glsl"
#endif

shared vec4 step_key4[HEAD_DIM / 4];

#define HEAD_ROW queries
#include "head_pairs.glsl"

// A loaded query head (into query4) or the step's key head (is_key: into
// step_key4), normed and rotated for `position` (head_pairs.glsl, as
// qkv_norm_rope.comp); the workgroup's sum of its squares given.
void normRotateHead(HeadPairs h, float workgroup_sum_of_squares, bool is_key, uint position) {
  float inverse_rms = inverseRms(workgroup_sum_of_squares);
  for (uint p = 0u; p < kPairsPerInvocation; ++p) {
    uint i = gl_LocalInvocationID.x + p * WG_SIZE;
    if (i >= kHalf) break;
    uint j = i + kHalf;
    vec2 rotated = normRotatedPair(h, p, inverse_rms, position);
    if (is_key) {
      step_key4[i / 4u][i % 4u] = rotated.x;
      step_key4[j / 4u][j % 4u] = rotated.y;
    } else {
      query4[i / 4u][i % 4u] = rotated.x;
      query4[j / 4u][j % 4u] = rotated.y;
    }
  }
}

// The step's value head (kv head kv_head of the row): this lane's dimensions,
// lane + k * WG_SIZE (past HEAD_DIM: its last, never used).
void loadStepValue(uint kv_head, out float step_value[kDimsPerInvocation]) {
  uint value_head = pc.value_src_base + kv_head * HEAD_DIM;
  for (uint k = 0u; k < kDimsPerInvocation; ++k) {
    step_value[k] = queries[value_head + min(gl_LocalInvocationID.x + k * WG_SIZE, HEAD_DIM - 1u)];
  }
}

// The step's own key (step_key4) and value folded into this share's online
// softmax, after attendKeys over the keys before it.
void attendStepKey(float step_value[kDimsPerInvocation], inout float accumulated[kDimsPerInvocation],
                   inout float running_max, inout float running_sum) {
  float partial = 0.0;
  for (uint v = gl_LocalInvocationID.x; v < HEAD_DIM / 4; v += WG_SIZE) partial += dot(query4[v], step_key4[v]);
  float score = workgroupSum(partial) * QUERY_SCALE;
  if (SOFTCAP > 0.0) score = softcap(score, SOFTCAP);
  float new_max = max(running_max, score);
  float correction = exp(running_max - new_max);  // 0 where no key came before
  float weight = exp(score - new_max);
  running_sum = running_sum * correction + weight;
  running_max = new_max;
  for (uint k = 0u; k < kDimsPerInvocation; ++k) accumulated[k] = accumulated[k] * correction + weight * step_value[k];
}

// The step's key and value into cache slot `slot` (kv head kv_head).
void storeStepKeyValue(uint kv_head, uint slot, float step_value[kDimsPerInvocation]) {
  uint key_unit = (pc.key_base + slot * kSlotStride + kv_head * HEAD_DIM) / 4u;
  for (uint v = gl_LocalInvocationID.x; v < HEAD_DIM / 4; v += WG_SIZE) key_cache4[key_unit + v] = step_key4[v];
  uint value_at = pc.value_base + slot * kSlotStride + kv_head * HEAD_DIM;
  for (uint k = 0u; k < kDimsPerInvocation; ++k) {
    uint d = gl_LocalInvocationID.x + k * WG_SIZE;
    if (d < HEAD_DIM) value_cache[value_at + d] = step_value[k];
  }
}

#if QUANT_BITS != 0
shared vec4 attended4[HEAD_DIM / 4];

// The head's output row (this lane's dimensions) quantised: blocks
// head * HEAD_DIM / 32 .. of the output row, a lane a block.
void storeQuantised(uint head, float attended_row[kDimsPerInvocation]) {
  for (uint k = 0u; k < kDimsPerInvocation; ++k) {
    uint d = gl_LocalInvocationID.x + k * WG_SIZE;
    if (d < HEAD_DIM) attended4[d / 4u][d % 4u] = attended_row[k];
  }
  barrier();
  const uint kBlocksPerHead = HEAD_DIM / 32;
  for (uint b = gl_LocalInvocationID.x; b < kBlocksPerHead; b += WG_SIZE) {
    vec4 values[8];
    [[unroll]] for (uint i = 0u; i < 8u; ++i) values[i] = attended4[8u * b + i];
    uvec4 units[3];
    quantizeBlock(values, units);
    uint out_unit = 3u * (head * kBlocksPerHead + b);
    [[unroll]] for (uint u = 0u; u < 3u; ++u) qx_units[out_unit + u] = units[u];
  }
}
#endif

void main() {
  uint head = gl_WorkGroupID.x;
  uint split = gl_WorkGroupID.z;
  uint kv_head = head / kGroupSize;
  // The query head and the step's key and value heads first: their loads
  // need no position, so they travel with the position's (a share that turns
  // out empty returns having loaded three heads).
  HeadPairs query = loadHeadPairs(pc.query_base + head * HEAD_DIM, kQueryHead, 0u);
  HeadPairs key = loadHeadPairs(pc.key_src_base + kv_head * HEAD_DIM, kKeyHead, 0u);
  float step_value[kDimsPerInvocation];
  loadStepValue(kv_head, step_value);
  uint first_key;
  uint key_count = visibleKeys(0u, first_key);  // the step's key the last of them
  uint shares = shareCount(key_count);
  if (split >= shares) return;
  uint share_begin, share_end;
  shareBounds(key_count, shares, split, share_begin, share_end);
  // Uniform over the workgroup. Not an empty share: with shares of ceil(keys /
  // shares), the last can be (129 keys in 16 shares of 9), and the one before
  // it then ends at key_count too.
  bool holds_step = share_end == key_count && share_begin < share_end;
  uint position = first_key + key_count - 1u;

  normRotateHead(query, workgroupSum(query.sum_of_squares), false, position);
  if (holds_step) normRotateHead(key, workgroupSum(key.sum_of_squares), true, position);
  barrier();
  if (holds_step && head % kGroupSize == 0u) storeStepKeyValue(kv_head, position % pc.cache_capacity, step_value);
  float accumulated[kDimsPerInvocation];
  float running_max, running_sum;
  uint cached_keys = share_end - share_begin - (holds_step ? 1u : 0u);
  attendKeys(head, first_key + share_begin, cached_keys, accumulated, running_max, running_sum);
  if (holds_step) attendStepKey(step_value, accumulated, running_max, running_sum);
  float attended_row[kDimsPerInvocation];
  if (!finishShare(head, 0u, split, shares, accumulated, running_max, running_sum, attended_row)) return;
  storeAttended(head, 0u, attended_row, 1.0);
#if QUANT_BITS != 0
  storeQuantised(head, attended_row);
#endif
}
