// x quantised to int8 per block of 32, once per token, for the packed-integer
// decode products (matvec_quant_dot.comp): x ~ qx * sx with sx = max |x| / 127
// and qx = roundEven(x / sx), as llama.cpp's Q8_1 activations
// (block_quantize.glsl). Every product
// reading one activation (q, k and v; gate and up) shares one quantisation,
// where each of their workgroups used to quantise the whole row again.
//
// Output, per token at out_base + token * out_token_stride (uvec4 units), three
// units per block b:
//   3b, 3b + 1  the 32 bytes of qx (two's complement), in the byte order of the
//               weights they meet: QUANT_BITS 8 element order; QUANT_BITS 4 for
//               each 8 elements the even ones then the odd ones, the order a
//               mask picks the nibbles out of a q4 word (block_quant.glsl)
//   3b + 2      (sx as float bits, sum of the block's qx, 0, 0); the sum takes
//               q4's offset of 8 back out
//
// GELU_INPUT = 1: x is gelu_tanh(gate) * up of a fused gate|up row (gelu.glsl),
// gate at x_base and up K elements after it: the down projection's input, with
// no gelu_mul dispatch before it (decode).
//
// Alignment (the schedule guarantees it): x_base and x_token_stride are
// multiples of 4 (vec4s).
//
// Defines: QUANT_BITS (8 or 4), K (a multiple of 32), WG_SIZE, GELU_INPUT (0|1).
// Dispatch: (ceil(K / 32 / WG_SIZE), num_tokens, 1): one block per invocation.
#version 450
#extension GL_EXT_control_flow_attributes : require
#extension GL_GOOGLE_include_directive : require

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { vec4 x4[]; };
layout(std430, set = 0, binding = 1) writeonly buffer QuantisedInput { uvec4 qx_units[]; };

layout(push_constant) uniform QuantizeActivationPush {
  uint x_base;
  uint x_token_stride;
  uint out_base;          // uvec4 unit index of token 0's first block
  uint out_token_stride;  // units between tokens (at least 3 * K / 32)
  uint num_tokens;
} pc;

#include "gelu_input.glsl"

#include "block_quantize.glsl"

const uint kBlocks = uint(K) / 32u;

void main() {
  uint block = gl_GlobalInvocationID.x;
  uint token = gl_WorkGroupID.y;
  if (block >= kBlocks || token >= pc.num_tokens) return;
  uint x_unit = (pc.x_base + token * pc.x_token_stride) / 4u + block * 8u;

  vec4 values[8];
  [[unroll]] for (uint i = 0u; i < 8u; ++i) values[i] = inputAt(x_unit + i);
  uvec4 units[3];
  quantizeBlock(values, units);
  uint out_unit = pc.out_base + token * pc.out_token_stride + 3u * block;
  [[unroll]] for (uint u = 0u; u < 3u; ++u) qx_units[out_unit + u] = units[u];
}
