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
//                  from there and from the row, and that share's workgroup of
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

const uint kHalf = HEAD_DIM / 2;
const uint kPairsPerInvocation = (kHalf + WG_SIZE - 1) / WG_SIZE;

shared vec4 step_key4[HEAD_DIM / 4];

// Head `head` of the step's queries (is_key false: into query4) or keys (true:
// into step_key4), RMS-normed with its norm's gains and rotated for
// `position`: pairs (i, i + HEAD_DIM/2) a lane each, as qkv_norm_rope.comp.
// Every invocation of the workgroup calls it with the same is_key.
void normRotateHead(bool is_key, uint head, uint position) {
  uint src_head = (is_key ? pc.key_src_base : pc.query_base) + head * HEAD_DIM;
  float first[kPairsPerInvocation];   // element i
  float second[kPairsPerInvocation];  // element i + HEAD_DIM/2
  float first_gain[kPairsPerInvocation], second_gain[kPairsPerInvocation];
  float sum_of_squares = 0.0;
  for (uint p = 0u; p < kPairsPerInvocation; ++p) {
    uint i = gl_LocalInvocationID.x + p * WG_SIZE;
    uint j = i + kHalf;
    bool inside = i < kHalf;
    first[p] = inside ? queries[src_head + i] : 0.0;
    second[p] = inside ? queries[src_head + j] : 0.0;
    uint first_word = 0u, second_word = 0u;
    if (inside) {
      first_word = is_key ? key_norm_words[i / 2u] : query_norm_words[i / 2u];
      second_word = is_key ? key_norm_words[j / 2u] : query_norm_words[j / 2u];
    }
    first_gain[p] = 1.0 + bf16Element(first_word, i);
    second_gain[p] = 1.0 + bf16Element(second_word, j);
    sum_of_squares += first[p] * first[p] + second[p] * second[p];
  }
  float inverse_rms = inversesqrt(workgroupSum(sum_of_squares) / float(HEAD_DIM) + EPS);
  for (uint p = 0u; p < kPairsPerInvocation; ++p) {
    uint i = gl_LocalInvocationID.x + p * WG_SIZE;
    if (i >= kHalf) break;
    uint j = i + kHalf;
    vec2 rotated = rotatePair(first[p] * inverse_rms * first_gain[p], second[p] * inverse_rms * second_gain[p], i,
                              position);
    if (is_key) {
      step_key4[i / 4u][i % 4u] = rotated.x;
      step_key4[j / 4u][j % 4u] = rotated.y;
    } else {
      query4[i / 4u][i % 4u] = rotated.x;
      query4[j / 4u][j % 4u] = rotated.y;
    }
  }
  barrier();
}

// The step's own key (step_key4) and value (from the row) folded into this
// share's online softmax, after attendKeys over the keys before it.
void attendStepKey(uint kv_head, inout float accumulated[kDimsPerInvocation], inout float running_max,
                   inout float running_sum) {
  float partial = 0.0;
  for (uint v = gl_LocalInvocationID.x; v < HEAD_DIM / 4; v += WG_SIZE) partial += dot(query4[v], step_key4[v]);
  float score = workgroupSum(partial) * QUERY_SCALE;
  if (SOFTCAP > 0.0) score = softcap(score, SOFTCAP);
  float new_max = max(running_max, score);
  float correction = exp(running_max - new_max);  // 0 where no key came before
  float weight = exp(score - new_max);
  running_sum = running_sum * correction + weight;
  running_max = new_max;
  uint value_head = pc.value_src_base + kv_head * HEAD_DIM;
  for (uint k = 0u; k < kDimsPerInvocation; ++k) {
    float value = queries[value_head + min(gl_LocalInvocationID.x + k * WG_SIZE, HEAD_DIM - 1u)];
    accumulated[k] = accumulated[k] * correction + weight * value;
  }
}

// The step's key and value into cache slot `slot` (kv head kv_head).
void storeStepKeyValue(uint kv_head, uint slot) {
  uint key_unit = (pc.key_base + slot * kSlotStride + kv_head * HEAD_DIM) / 4u;
  for (uint v = gl_LocalInvocationID.x; v < HEAD_DIM / 4; v += WG_SIZE) key_cache4[key_unit + v] = step_key4[v];
  uint value_at = pc.value_base + slot * kSlotStride + kv_head * HEAD_DIM;
  uint value_head = pc.value_src_base + kv_head * HEAD_DIM;
  for (uint d = gl_LocalInvocationID.x; d < HEAD_DIM; d += WG_SIZE) value_cache[value_at + d] = queries[value_head + d];
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
  uint first_key;
  uint key_count = visibleKeys(0u, first_key);  // the step's key the last of them
  uint shares = shareCount(key_count);
  if (split >= shares) return;
  uint share_begin, share_end;
  shareBounds(key_count, shares, split, share_begin, share_end);
  bool holds_step = share_end == key_count;  // uniform over the workgroup
  uint position = first_key + key_count - 1u;

  normRotateHead(false, head, position);
  if (holds_step) {
    normRotateHead(true, kv_head, position);
    if (head % kGroupSize == 0u) storeStepKeyValue(kv_head, position % pc.cache_capacity);
  }
  float accumulated[kDimsPerInvocation];
  float running_max, running_sum;
  uint cached_keys = share_end - share_begin - (holds_step ? 1u : 0u);
  attendKeys(head, first_key + share_begin, cached_keys, accumulated, running_max, running_sum);
  if (holds_step) attendStepKey(kv_head, accumulated, running_max, running_sum);
  float attended_row[kDimsPerInvocation];
  if (!finishShare(head, 0u, split, shares, accumulated, running_max, running_sum, attended_row)) return;
  storeAttended(head, 0u, attended_row, 1.0);
#if QUANT_BITS != 0
  storeQuantised(head, attended_row);
#endif
}
