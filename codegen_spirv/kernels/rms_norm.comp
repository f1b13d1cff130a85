// Gemma RMSNorm over each token's row, in float32:
//   normed = x * inversesqrt(mean(x^2) + EPS) * (1 + w)
// ADD_TO_OUTPUT = 0: y = normed.
// ADD_TO_OUTPUT = 1: y += normed — the post-attention / post-feedforward norm fused
//   with the residual add, y being the residual stream (updated in place).
//
// One workgroup per row, so the kernel is bound by latency, not bandwidth (a
// 27B row is 21 KiB): each invocation loads its share of the row as vec4s in
// one unrolled burst and keeps it in registers for the second pass, instead of
// a loop of dependent round trips per element, twice (on an H200 the loop
// form took ~15 us per row of 5376).
//
// Alignment (the schedule guarantees it): x_base, x_token_stride, y_base and
// y_token_stride are multiples of 4 (16 bytes), weight_base of 2.
//
// QUANT_BITS 8 or 4 (default 0: off; with ADD_TO_OUTPUT 0 only): y also goes
// out quantised for the packed-integer products that read it, binding 3, token
// t at unit t * 3 * WIDTH / 32 (norm_quantise.glsl): no quantize_activation
// dispatch between.
//
// Defines: WIDTH (a multiple of 4; of 32 with QUANT_BITS), EPS (float),
// ADD_TO_OUTPUT (0|1), WG_SIZE, QUANT_BITS (0, 8 or 4).
// Dispatch: (num_tokens, 1, 1). x and y must not overlap.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "bf16.glsl"
#include "workgroup_reduce.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { vec4 x4[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { uvec2 weight_pairs[]; };
layout(std430, set = 0, binding = 2) buffer Output { vec4 y4[]; };
#ifndef QUANT_BITS
#define QUANT_BITS 0
#endif
#if QUANT_BITS != 0
#if ADD_TO_OUTPUT
#error a quantised output is the normed row alone (ADD_TO_OUTPUT 0)
#endif
layout(std430, set = 0, binding = 3) writeonly buffer QuantisedOutput { uint qx_words[]; };
#endif

layout(push_constant) uniform RmsNormPush {
  uint x_base;
  uint x_token_stride;
  uint weight_base;  // word index of the weight's first element pair
  uint y_base;
  uint y_token_stride;
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
  uint y_row = (pc.y_base + token * pc.y_token_stride) / 4u;

  // Everything the row needs is loaded in the one burst: the gains (and, adding,
  // the residual) arrive while the sum is reduced, not in round trips after it.
  vec4 values[kVec4PerInvocation], gains[kVec4PerInvocation];
#if ADD_TO_OUTPUT
  vec4 residual[kVec4PerInvocation];
#endif
  float sum_of_squares = 0.0;
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = gl_LocalInvocationID.x + j * WG_SIZE;
    bool inside = v < kVec4PerRow;
    values[j] = inside ? x4[x_row + v] : vec4(0.0);
    uvec2 words = inside ? weight_pairs[pc.weight_base / 2u + v] : uvec2(0u);
    gains[j] = 1.0 + bf16Quad(words);
#if ADD_TO_OUTPUT
    residual[j] = inside ? y4[y_row + v] : vec4(0.0);
#endif
    sum_of_squares += dot(values[j], values[j]);
  }
  float inverse_rms = inversesqrt(workgroupSum(sum_of_squares) / float(WIDTH) + EPS);
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = gl_LocalInvocationID.x + j * WG_SIZE;
    if (v >= kVec4PerRow) break;  // storeQuantised reads no vec4 past the row either
    vec4 normed = values[j] * inverse_rms * gains[j];
#if QUANT_BITS != 0
    values[j] = normed;
#endif
#if ADD_TO_OUTPUT
    y4[y_row + v] = residual[j] + normed;
#else
    y4[y_row + v] = normed;
#endif
  }
#if QUANT_BITS != 0
  storeQuantised(values, token);
#endif
}
