// y[t, n] = sum_k x[t, k] * W'[n, k] with W block-quantised (Q8Block32 or
// Q4Block32, schemas/bundle.fbs) and W' = q * scale its dequantised value,
// accumulated in float32. The decode kernel, organised like matvec_bf16: each
// workgroup owns ROWS_PER_WG output rows of one token, split over ROW_GROUPS
// groups of its invocations (matvec_rows.glsl); every lane of a group takes a
// strided share of its rows' 16-byte units (16 int8 = half a q8 block, or 32
// int4 = one q4 block), so neighbouring lanes read neighbouring 16 bytes and
// every load moves a whole uvec4. The x values under a unit are loaded once
// (vec4s) for all the group's rows, with their sum for q4's offset; each unit's
// dot product is scaled by its block's scale once. Then each row summed over
// its group (matvec_rows.glsl).
//
// Bindings: 0 x (float), 1 quants (uint words), 2 y (float), 3 scales (packed
// bf16 pairs). Bindings 0-2 are matvec_bf16's, so the quants take the weight's
// place. Scales have a binding of their own because the segment is planar
// (quants, padding, scales at byte S): a tensor larger than maxStorageBufferRange
// is split by rows into several dispatches, and rows [a, b) then need two
// windows of the one segment, their quants [a*R, b*R) and their scales
// [S + 2a*nb, S + 2b*nb), which no single binding can span. An unsplit tensor
// binds its whole segment to both, with scale_base = S / 2.
//
// Push constants (QuantMatmulPush): as MatmulPush (x_base and x_token_stride
// multiples of 4), with
//   quant_base  word index, in binding 1, of row 0 (of this dispatch's slice);
//               a multiple of 4 (rows are whole 16-byte units)
//   scale_base  bf16 element index, in binding 3, of row 0's first scale
// (element indices, so a slice whose scales start mid-word needs no realignment).
//
// GELU_INPUT = 1: x is gelu_tanh(gate) * up of a fused gate|up row, gate at
// x_base and up K elements after it (as matvec_bf16).
//
// Defines: QUANT_BITS (8 or 4), K (a multiple of 32), N (rows of this
//          dispatch), ROWS_PER_WG, WG_SIZE, ROW_GROUPS (default 1), SOFTCAP
//          (float, 0.0 = off), GELU_INPUT (0|1).
// Dispatch: (ceil(N / ROWS_PER_WG), num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "block_quant.glsl"
#include "softcap.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { vec4 x4[]; };
layout(std430, set = 0, binding = 1) readonly buffer Quants { uvec4 quant_units[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float y[]; };
layout(std430, set = 0, binding = 3) readonly buffer Scales { uint scale_words[]; };

layout(push_constant) uniform QuantMatmulPush {
  uint x_base;
  uint x_token_stride;
  uint quant_base;
  uint y_base;
  uint y_token_stride;
  uint num_tokens;
  uint scale_base;
} pc;

const uint kUnitsPerRow = kQuantWordsPerRow / 4u;
const uint kWeightsPerUnit = 4u * kQuantsPerWord;  // 16 (q8) or 32 (q4)
const uint kVec4PerUnit = kWeightsPerUnit / 4u;    // 4 or 8

#include "matvec_rows.glsl"

#include "gelu_input.glsl"

float blockScale(uint row, uint block) {
  uint index = pc.scale_base + row * kBlocksPerRow + block;
  return bf16Element(scale_words[index >> 1], index);
}

void main() {
  uint first_row = groupFirstRow();
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint x_unit = (pc.x_base + token * pc.x_token_stride) / 4u;
  uint quant_unit = pc.quant_base / 4u;

  float sums[kRowsPerGroup];
  for (uint r = 0u; r < kRowsPerGroup; ++r) sums[r] = 0.0;
  for (uint u = groupLane(); u < kUnitsPerRow; u += kGroupWidth) {
    // The x values under unit u, as quantWordDot takes them per word.
    vec4 x_lo[4], x_hi[4];
    float x_sum = 0.0;
    for (uint w = 0u; w < 4u; ++w) {
#if QUANT_BITS == 8
      x_lo[w] = inputAt(x_unit + u * kVec4PerUnit + w);
      x_hi[w] = vec4(0.0);
#else
      vec4 first = inputAt(x_unit + u * kVec4PerUnit + 2u * w);
      vec4 second = inputAt(x_unit + u * kVec4PerUnit + 2u * w + 1u);
      x_lo[w] = vec4(first.x, first.z, second.x, second.z);   // even elements: low nibbles
      x_hi[w] = vec4(first.y, first.w, second.y, second.w);   // odd elements: high nibbles
      x_sum += dot(first, vec4(1.0)) + dot(second, vec4(1.0));
#endif
    }
    uint block = u * kWeightsPerUnit / 32u;
    for (uint r = 0u; r < kRowsPerGroup; ++r) {
      uint row = min(first_row + r, uint(N) - 1u);  // rows past N repeat the last; never stored
      uvec4 unit = quant_units[quant_unit + row * kUnitsPerRow + u];
      // q4's offset (-8 per weight) is applied once for the unit: x_sum
      // carries it into the first word's dot product.
      float dot_product = quantWordDot(unit.x, x_lo[0], x_hi[0], x_sum) + quantWordDot(unit.y, x_lo[1], x_hi[1], 0.0) +
                          quantWordDot(unit.z, x_lo[2], x_hi[2], 0.0) + quantWordDot(unit.w, x_lo[3], x_hi[3], 0.0);
      // The scale factors out of the block's sum: one multiply per unit.
      sums[r] += dot_product * blockScale(row, block);
    }
  }

  storeRowSums(sums, token);
}
