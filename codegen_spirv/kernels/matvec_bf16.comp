// y[t, n] = sum_k x[t, k] * W[n, k] with W in bf16, [out, in] (transformers'
// layout), accumulated in float32. The decode kernel, bound by how fast it
// streams W: each workgroup owns ROWS_PER_WG output rows of one token, split
// over ROW_GROUPS groups of its invocations (matvec_rows.glsl); each lane of a
// group takes a strided share of its rows' 16-byte units (8 weights), so
// neighbouring lanes read neighbouring 16 bytes of a row and every load moves a
// whole uvec4; the 8 x values under a unit are loaded once (two vec4) for all
// the group's rows. Then each row summed over its group (matvec_rows.glsl).
// N is the rows of this dispatch: a weight larger than maxStorageBufferRange is
// split by rows into several dispatches, each binding its slice and writing at
// its own y_base.
//
// Alignment (the schedule guarantees it): x_base, x_token_stride and
// weight_base are multiples of 4 (16 bytes), K a multiple of 8.
//
// GELU_INPUT = 1: x is gelu_tanh(gate) * up of a fused gate|up row (gelu.glsl):
// gate at x_base, up K elements after it, so the down projection needs no
// gelu_mul dispatch before it (decode).
//
// Defines: K, N, ROWS_PER_WG, WG_SIZE, ROW_GROUPS (default 1), SOFTCAP (float, 0.0 = off; for the LM
//          head's final logit soft-capping), GELU_INPUT (0|1).
// Dispatch: (ceil(N / ROWS_PER_WG), num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "softcap.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { vec4 x4[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { uvec4 weight_units[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float y[]; };

layout(push_constant) uniform MatmulPush {
  uint x_base;       // element index of token 0's first input (a multiple of 4)
  uint x_token_stride;
  uint weight_base;  // word index of row 0 of this dispatch's slice (a multiple of 4)
  uint y_base;       // element index of (token 0, row 0 of the slice)
  uint y_token_stride;
  uint num_tokens;
} pc;

const uint kUnitsPerRow = K / 8;

#include "gelu_input.glsl"

// partials[row][subgroup]
#include "matvec_rows.glsl"


void main() {
  uint first_row = groupFirstRow();
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint x_unit = (pc.x_base + token * pc.x_token_stride) / 4u;
  uint weight_unit = pc.weight_base / 4u;

  float sums[kRowsPerGroup];
  for (uint r = 0u; r < kRowsPerGroup; ++r) sums[r] = 0.0;
  for (uint u = groupLane(); u < kUnitsPerRow; u += kGroupWidth) {
    vec4 x_first = inputAt(x_unit + 2u * u);
    vec4 x_second = inputAt(x_unit + 2u * u + 1u);
    for (uint r = 0u; r < kRowsPerGroup; ++r) {
      uint row = min(first_row + r, uint(N) - 1u);  // rows past N repeat the last; never stored
      uvec4 unit = weight_units[weight_unit + row * kUnitsPerRow + u];
      sums[r] += dot(x_first, bf16Quad(unit.xy)) + dot(x_second, bf16Quad(unit.zw));
    }
  }

  storeRowSums(sums, token);
}
