// Each token's largest |x| over its row of K floats: the scales of the
// products on cooperative-matrix units (matmul_coop_frame.mlir), computed here
// once a product rather than by each of its workgroups over its tile's
// tokens (every row tile read its tokens' x once more for them: an eighth to
// a fifth of a quantised product's time on an H200). The same value the frame's
// own pass took: a maximum does not depend on the order it is taken in.
//
// Bindings: 0 x (vec4), 1 the maxima (token t's at element t).
// Defines: K (a multiple of 4), WG_SIZE.
// Dispatch: (num_tokens, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "workgroup_reduce.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { vec4 x4[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Maxima { float maxima[]; };

layout(push_constant) uniform TokenMaximaPush {
  uint x_base;  // float index of token 0's row; a multiple of 4, as the stride
  uint x_token_stride;
  uint num_tokens;
} pc;

void main() {
  uint token = gl_WorkGroupID.x;
  if (token >= pc.num_tokens) return;
  uint row = (pc.x_base + token * pc.x_token_stride) / 4u;
  float largest = 0.0;
  for (uint v = gl_LocalInvocationID.x; v < uint(K) / 4u; v += WG_SIZE) {
    vec4 magnitude = abs(x4[row + v]);
    largest = max(largest, max(max(magnitude.x, magnitude.y), max(magnitude.z, magnitude.w)));
  }
  largest = workgroupMax(largest);
  if (gl_LocalInvocationID.x == 0u) maxima[token] = largest;
}
