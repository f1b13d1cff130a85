// Per-head q/k RMSNorm fused with rotate-half (NeoX) RoPE, writing each head to
// its destination row — for keys and values that row is the KV-cache slot.
//   APPLY_NORM: v = x * inversesqrt(mean(x^2) + EPS) * (1 + w), one weight of
//               HEAD_DIM elements shared by every head (Gemma 3 q_norm/k_norm)
//   APPLY_ROPE: rotate-half RoPE at the token's position (rope.glsl)
// With both off it is a plain copy: V (no norm, no RoPE) into the cache.
// qkv_norm_rope.comp does a layer's q, k and v heads in one dispatch.
//
// Destination row: ring_capacity == 0 -> the token's index (dense [T, heads, D]);
// otherwise positions[t] % ring_capacity (the KV cache as a ring of slots).
//
// Defines: HEAD_DIM (even), NUM_HEADS (heads in this dispatch), EPS (float),
//          APPLY_NORM (0|1), APPLY_ROPE (0|1), ROPE_INV_FREQ (float[HEAD_DIM/2]
//          constructor, needed when APPLY_ROPE), WG_SIZE.
// Dispatch: (NUM_HEADS, num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "workgroup_reduce.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Source { float src[]; };
layout(std430, set = 0, binding = 1) readonly buffer NormWeight { uint weight_words[]; };
layout(std430, set = 0, binding = 2) readonly buffer Positions { uint positions[]; };
layout(std430, set = 0, binding = 3) writeonly buffer Destination { float dst[]; };

layout(push_constant) uniform HeadNormRopePush {
  uint src_base;          // element index of token 0, head 0
  uint src_token_stride;  // elements between tokens (e.g. the fused QKV row width)
  uint weight_base;       // word index of the norm weight
  uint positions_base;    // element index of token 0's position
  uint dst_base;          // element index of row 0, head 0
  uint dst_row_stride;    // elements between destination rows
  uint ring_capacity;     // 0: row = token; else row = position % ring_capacity
  uint num_tokens;
} pc;

const uint kHalf = HEAD_DIM / 2;
const uint kPairsPerInvocation = (kHalf + WG_SIZE - 1) / WG_SIZE;

#if APPLY_ROPE
#include "rope.glsl"
#endif

void main() {
  uint head = gl_WorkGroupID.x;
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint position = positions[pc.positions_base + token];
  uint src_head = pc.src_base + token * pc.src_token_stride + head * HEAD_DIM;
  uint row = pc.ring_capacity == 0u ? token : position % pc.ring_capacity;
  uint dst_head = pc.dst_base + row * pc.dst_row_stride + head * HEAD_DIM;

  float first[kPairsPerInvocation];   // element i
  float second[kPairsPerInvocation];  // element i + HEAD_DIM/2
  float sum_of_squares = 0.0;
  for (uint p = 0u; p < kPairsPerInvocation; ++p) {
    uint i = gl_LocalInvocationID.x + p * WG_SIZE;
    first[p] = i < kHalf ? src[src_head + i] : 0.0;
    second[p] = i < kHalf ? src[src_head + i + kHalf] : 0.0;
    sum_of_squares += first[p] * first[p] + second[p] * second[p];
  }

#if APPLY_NORM
  float inverse_rms = inversesqrt(workgroupSum(sum_of_squares) / float(HEAD_DIM) + EPS);
#endif

  for (uint p = 0u; p < kPairsPerInvocation; ++p) {
    uint i = gl_LocalInvocationID.x + p * WG_SIZE;
    if (i >= kHalf) break;
    float a = first[p];
    float b = second[p];
#if APPLY_NORM
    uint j = i + kHalf;
    a = a * inverse_rms * (1.0 + bf16Element(weight_words[pc.weight_base + i / 2u], i));
    b = b * inverse_rms * (1.0 + bf16Element(weight_words[pc.weight_base + j / 2u], j));
#endif
#if APPLY_ROPE
    vec2 rotated = rotatePair(a, b, i, position);
    dst[dst_head + i] = rotated.x;
    dst[dst_head + i + kHalf] = rotated.y;
#else
    dst[dst_head + i] = a;
    dst[dst_head + i + kHalf] = b;
#endif
  }
}
