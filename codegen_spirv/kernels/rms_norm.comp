// Gemma RMSNorm over each token's row, in float32:
//   normed = x * inversesqrt(mean(x^2) + EPS) * (1 + w)
// ADD_TO_OUTPUT = 0: y = normed.
// ADD_TO_OUTPUT = 1: y += normed — the post-attention / post-feedforward norm fused
//   with the residual add, y being the residual stream (updated in place).
//
// Defines: WIDTH (even), EPS (float), ADD_TO_OUTPUT (0|1), WG_SIZE.
// Dispatch: (num_tokens, 1, 1). x and y must not overlap.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "workgroup_reduce.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { uint weight_words[]; };
layout(std430, set = 0, binding = 2) buffer Output { float y[]; };

layout(push_constant) uniform RmsNormPush {
  uint x_base;
  uint x_token_stride;
  uint weight_base;  // word index of the weight's first element pair
  uint y_base;
  uint y_token_stride;
  uint num_tokens;
} pc;

void main() {
  uint token = gl_WorkGroupID.x;
  if (token >= pc.num_tokens) return;
  uint x_row = pc.x_base + token * pc.x_token_stride;
  uint y_row = pc.y_base + token * pc.y_token_stride;

  float sum_of_squares = 0.0;
  for (uint i = gl_LocalInvocationID.x; i < WIDTH; i += WG_SIZE) {
    float value = x[x_row + i];
    sum_of_squares += value * value;
  }
  float inverse_rms = inversesqrt(workgroupSum(sum_of_squares) / float(WIDTH) + EPS);

  for (uint i = gl_LocalInvocationID.x; i < WIDTH; i += WG_SIZE) {
    float gain = 1.0 + bf16Element(weight_words[pc.weight_base + i / 2u], i);
    float normed = x[x_row + i] * inverse_rms * gain;
#if ADD_TO_OUTPUT
    y[y_row + i] += normed;
#else
    y[y_row + i] = normed;
#endif
  }
}
