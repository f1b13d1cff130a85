// A post-norm with its residual add, and the next pre-norm of the sum, per
// token's row, in float32 (Gemma 3: post_attention_layernorm + residual, then
// pre_feedforward_layernorm; post_feedforward_layernorm + residual, then the
// next layer's input_layernorm):
//   sum    = residual + x * inversesqrt(mean(x^2) + EPS) * (1 + w)
//   normed = sum * inversesqrt(mean(sum^2) + NEXT_EPS) * (1 + w_next)
// sum is written over the residual (the residual stream, updated in place) and
// normed to its own rows. rms_norm.comp does each half alone; here the row of
// sums stays in registers between the two reductions, so the pair is one
// dispatch instead of two dependent ones (a decode step is ~450 dispatches on
// Gemma 3 1B, launch-bound). Each half's arithmetic, the order of its sums
// included, is rms_norm.comp's for the same WG_SIZE.
//
// Bindings: 0 x, 1 w (bf16 pairs), 2 residual -> sum, 3 w_next, 4 normed.
// Alignment (the schedule guarantees it): every base and stride a multiple of
// 4 (16 bytes), weight bases of 2.
//
// QUANT_BITS 8 or 4 (default 0: off): normed also goes out quantised for the
// packed-integer products that read it (matvec_quant_dot.comp), binding 5, token
// t at unit t * 3 * WIDTH / 32, in quantize_activation.comp's layout and bit
// for bit its result on normed (block_quantize.glsl's arithmetic on the same
// floats), so no quantize_activation dispatch runs between (norm_quantise.glsl).
//
// Defines: WIDTH (a multiple of 4; of 32 with QUANT_BITS), EPS, NEXT_EPS
// (floats), WG_SIZE, QUANT_BITS (0, 8 or 4).
// Dispatch: (num_tokens, 1, 1). normed may be x's very rows (the schedule gives
// it them when x dies here): each invocation writes only the elements it read
// itself, after both of the row's reductions. The residual overlaps neither.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "bf16.glsl"
#include "workgroup_reduce.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { vec4 x4[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { uvec2 weight_pairs[]; };
layout(std430, set = 0, binding = 2) buffer Residual { vec4 residual4[]; };
layout(std430, set = 0, binding = 3) readonly buffer NextWeight { uvec2 next_weight_pairs[]; };
layout(std430, set = 0, binding = 4) writeonly buffer Normed { vec4 normed4[]; };
#ifndef QUANT_BITS
#define QUANT_BITS 0
#endif
#if QUANT_BITS != 0
layout(std430, set = 0, binding = 5) writeonly buffer QuantisedNormed { uint qx_words[]; };
#endif

layout(push_constant) uniform RmsNormAddNormPush {
  uint x_base;
  uint x_token_stride;
  uint weight_base;       // word index of w's first element pair
  uint residual_base;
  uint residual_token_stride;
  uint next_weight_base;  // word index of w_next's first element pair
  uint normed_base;
  uint normed_token_stride;
  uint num_tokens;
} pc;

const uint kVec4PerRow = uint(WIDTH) / 4u;
const uint kVec4PerInvocation = (kVec4PerRow + WG_SIZE - 1u) / WG_SIZE;

#if QUANT_BITS != 0
#include "norm_quantise.glsl"
#endif


void main() {
  uint token = gl_WorkGroupID.x;
  if (token >= pc.num_tokens) return;
  uint x_row = (pc.x_base + token * pc.x_token_stride) / 4u;
  uint residual_row = (pc.residual_base + token * pc.residual_token_stride) / 4u;
  uint normed_row = (pc.normed_base + token * pc.normed_token_stride) / 4u;

  // One burst of loads for all the row needs, both gains included.
  vec4 values[kVec4PerInvocation], residual[kVec4PerInvocation];
  vec4 row_gains[kVec4PerInvocation], next_gains[kVec4PerInvocation];
  float sum_of_squares = 0.0;
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = gl_LocalInvocationID.x + j * WG_SIZE;
    bool inside = v < kVec4PerRow;
    values[j] = inside ? x4[x_row + v] : vec4(0.0);
    residual[j] = inside ? residual4[residual_row + v] : vec4(0.0);
    row_gains[j] = 1.0 + bf16Quad(inside ? weight_pairs[pc.weight_base / 2u + v] : uvec2(0u));
    next_gains[j] = 1.0 + bf16Quad(inside ? next_weight_pairs[pc.next_weight_base / 2u + v] : uvec2(0u));
    sum_of_squares += dot(values[j], values[j]);
  }
  float inverse_rms = inversesqrt(workgroupSum(sum_of_squares) / float(WIDTH) + EPS);
  float sum_squares_of_sums = 0.0;
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    // Outside the row both are zero, so the sum is too.
    vec4 sum = residual[j] + values[j] * inverse_rms * row_gains[j];
    values[j] = sum;
    sum_squares_of_sums += dot(sum, sum);
  }
  float next_inverse_rms = inversesqrt(workgroupSum(sum_squares_of_sums) / float(WIDTH) + NEXT_EPS);
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = gl_LocalInvocationID.x + j * WG_SIZE;
    vec4 normed = values[j] * next_inverse_rms * next_gains[j];
    if (v < kVec4PerRow) {
      residual4[residual_row + v] = values[j];
      normed4[normed_row + v] = normed;
    }
    values[j] = normed;
  }
#if QUANT_BITS != 0
  storeQuantised(values, token);
#endif
}
