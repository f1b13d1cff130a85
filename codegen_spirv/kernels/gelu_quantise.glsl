// The decode GELU's input row quantised by the gate|up product that computes
// it (matvec_quant_dot.comp with GELU_QUANTISE), so that no
// quantize_activation dispatch runs between it and the down projection:
// gelu_tanh(gate) * up per block of 32, in quantize_activation.comp's layout
// and bit for bit its GELU_INPUT result on the same floats (gelu.glsl and
// block_quantize.glsl's arithmetic, on the same vec4s).
//
// The product's y row holds gate in rows [0, H) and up in [H, 2H) (H =
// GELU_QUANTISE). Block b of the GELU row needs gate rows 32b .. 32b + 31 and
// up rows H + 32b ..: 2 x 32 / ROWS_PER_WG workgroups, each within one block.
// Each counts itself in once its rows are stored; the last to arrive
// quantises the block and sets its count back to 0 for the next dispatch
// (split_k.glsl's last-to-arrive protocol: y and the counts are `coherent`, a
// buffer memory barrier before each count and after the last).
//
// Bindings GELU_BINDING the counts (one uint per block per token from element
// 0, zero before the first dispatch: the runtime zero-fills activation
// buffers), GELU_BINDING + 1 the quantised row (token t's block b at unit
// 3 (t * H / 32 + b)). Include after the binding y and the push constants
// (y_base, y_token_stride); needs GELU_QUANTISE (H, a multiple of 32; N = 2H),
// ROWS_PER_WG (dividing 32) and QUANT_BITS.
#include "block_quantize.glsl"
#include "gelu.glsl"

layout(std430, set = 0, binding = GELU_BINDING) coherent buffer GeluCounts { uint gelu_counts[]; };
layout(std430, set = 0, binding = GELU_BINDING + 1) writeonly buffer GeluQuantised { uvec4 gelu_qx_units[]; };

const uint kGeluBlocks = uint(GELU_QUANTISE) / 32u;
const uint kGeluArrivals = 2u * 32u / uint(ROWS_PER_WG);

shared bool gelu_last_arrival;

// After the workgroup's rows of `token` are stored; every invocation calls it.
void quantiseGeluBlock(uint token) {
  uint first_row = gl_WorkGroupID.x * uint(ROWS_PER_WG);
  uint block = first_row % uint(GELU_QUANTISE) / 32u;
  uint count = token * kGeluBlocks + block;
  memoryBarrierBuffer();
  barrier();
  if (gl_LocalInvocationIndex == 0u) gelu_last_arrival = atomicAdd(gelu_counts[count], 1u) == kGeluArrivals - 1u;
  barrier();
  if (!gelu_last_arrival || gl_LocalInvocationIndex != 0u) return;
  memoryBarrierBuffer();
  gelu_counts[count] = 0u;
  uint gate = pc.y_base + token * pc.y_token_stride + block * 32u;
  vec4 values[8];
  [[unroll]] for (uint i = 0u; i < 8u; ++i) {
    uint g = gate + 4u * i, u = g + uint(GELU_QUANTISE);
    values[i] = geluTanh(vec4(y[g], y[g + 1u], y[g + 2u], y[g + 3u])) * vec4(y[u], y[u + 1u], y[u + 2u], y[u + 3u]);
  }
  uvec4 units[3];
  quantizeBlock(values, units);
  [[unroll]] for (uint j = 0u; j < 3u; ++j) gelu_qx_units[3u * count + j] = units[j];
}
