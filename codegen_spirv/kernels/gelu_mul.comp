// out = gelu_pytorch_tanh(gate) * up, elementwise in float32, with
//   gelu_tanh(g) = 0.5 * g * (1 + tanh(sqrt(2/pi) * (g + 0.044715 * g^3))).
// gate and up may be two halves of one fused gate+up projection row: bind the
// same buffer twice and set the bases and strides accordingly. (Decode folds
// it into the down projection instead: GELU_INPUT of the matvec kernels.)
//
// Defines: WIDTH, WG_SIZE.
// Dispatch: (ceil(WIDTH / WG_SIZE), num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "gelu.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Gate { float gate[]; };
layout(std430, set = 0, binding = 1) readonly buffer Up { float up[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float product[]; };

layout(push_constant) uniform GeluMulPush {
  uint gate_base;
  uint gate_token_stride;
  uint up_base;
  uint up_token_stride;
  uint out_base;
  uint out_token_stride;
  uint num_tokens;
} pc;


void main() {
  uint i = gl_GlobalInvocationID.x;
  uint token = gl_WorkGroupID.y;
  if (i >= WIDTH || token >= pc.num_tokens) return;
  float g = gate[pc.gate_base + token * pc.gate_token_stride + i];
  float u = up[pc.up_base + token * pc.up_token_stride + i];
  product[pc.out_base + token * pc.out_token_stride + i] = geluTanh(g) * u;
}
