// y[t, n] = sum_k x[t, k] * W'[n, k] with W block-quantised (Q8Block32 or
// Q4Block32, schemas/bundle.fbs) and W' = q * scale its dequantised value: the
// decode product of matvec_quant.comp with fewer instructions per weight. x is
// quantised too, to int8 per block of 32 (x ~ qx * sx, sx = max |x| / 127, as
// llama.cpp's Q8_1 activations), and a block's products are packed 4 x 8-bit
// integer dot products (integer_dot.glsl), one instruction per four weights
// instead of a conversion and a multiply-add per weight; floats come back once
// per 16-byte unit: sum += idot * sx * sw. The schedule takes it for q4, where
// it ran 30-43% faster than matvec_quant on an H200's 27B-sized products; for
// q8 it lost on three of four of them, by 4-12%
// (bench/results/matvec-*-2026-12-01b.jsonl).
//
// Error: besides float32 rounding, each term carries the rounding of x,
// |x - qx * sx| <= sx / 2, so |y - sum x W'| <= sum_k |W'_k| * sx(k) / 2, about
// 0.4% of a block's largest |x| per weight (the q4 quality test runs with it).
//
// Organisation, as matvec_quant: each workgroup owns ROWS_PER_WG output rows of
// one token, split over ROW_GROUPS groups of its invocations (matvec_rows.glsl);
// every lane of a group takes a strided share of its rows' 16-byte weight units
// (16 int8 = half a q8 block, or 32 int4 = one q4 block), so neighbouring lanes
// read neighbouring 16 bytes of a row, and loads the quantised x under its unit
// once for all the group's rows. Then each row summed over its group
// (matvec_rows.glsl). x arrives quantised, by
// quantize_activation.comp once per token, not again by every workgroup of
// every product (for the 27B widths' 16 rows per workgroup, the quantisation
// was about as much work as the dot products).
//
// Bindings: 0 quantised x (quantize_activation.comp's layout: three uvec4
// units per block), 1 quants (uint words), 2 y (float), 3 scales (packed bf16
// pairs): matvec_quant's, with x quantised. Scales have a binding of their own
// because the segment is planar (quants, padding, scales at byte S): a tensor
// larger than maxStorageBufferRange is split by rows into several dispatches,
// and rows [a, b) then need two windows of the one segment, their quants
// [a*R, b*R) and their scales [S + 2a*nb, S + 2b*nb), which no single binding
// can span. An unsplit tensor binds its whole segment to both, with
// scale_base = S / 2.
//
// Push constants (QuantMatmulPush), as matvec_quant's but for x:
//   x_base, x_token_stride  uvec4 unit index of token 0's first block of
//                           quantised x, and units between tokens
//   quant_base  word index, in binding 1, of row 0 (of this dispatch's slice);
//               a multiple of 4 (rows are whole 16-byte units)
//   scale_base  bf16 element index, in binding 3, of row 0's first scale
// (element indices, so a slice whose scales start mid-word needs no realignment).
//
// Defines: QUANT_BITS (8 or 4, as quantize_activation's), K (a multiple of 32),
//          N (rows of this dispatch), ROWS_PER_WG, WG_SIZE, ROW_GROUPS (default
//          1), SOFTCAP (float, 0.0 = off).
// Dispatch: (ceil(N / ROWS_PER_WG), num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "block_quant.glsl"
#include "integer_dot.glsl"
#include "softcap.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer QuantisedInput { uvec4 qx_units[]; };
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
const uint kUnitsPerBlock = kWordsPerBlock / 4u;  // 2 (q8) or 1 (q4)

#include "matvec_rows.glsl"

float blockScale(uint row, uint block) {
  uint index = pc.scale_base + row * kBlocksPerRow + block;
  return bf16Element(scale_words[index >> 1], index);
}

// The integer dot product of weight unit `unit` with the quantised x under it:
// q8, the 16 bytes `xa` (xb unused); q4, the block's 32 bytes `xa`, `xb` and
// the sum of its qx.
int unitDot(uvec4 unit, uvec4 xa, uvec4 xb, int x_sum) {
#if QUANT_BITS == 8
  return dotS8(xa.x, unit.x) + dotS8(xa.y, unit.y) + dotS8(xa.z, unit.z) + dotS8(xa.w, unit.w);
#else
  // The nibbles are codes q + 8: the masked bytes are unsigned, and 8 * sum qx
  // takes the offset back out once per block.
  const uint kLowNibbles = 0x0f0f0f0fu;
  return dotS8U8(xa.x, unit.x & kLowNibbles) + dotS8U8(xa.y, (unit.x >> 4) & kLowNibbles) +
         dotS8U8(xa.z, unit.y & kLowNibbles) + dotS8U8(xa.w, (unit.y >> 4) & kLowNibbles) +
         dotS8U8(xb.x, unit.z & kLowNibbles) + dotS8U8(xb.y, (unit.z >> 4) & kLowNibbles) +
         dotS8U8(xb.z, unit.w & kLowNibbles) + dotS8U8(xb.w, (unit.w >> 4) & kLowNibbles) - 8 * x_sum;
#endif
}

void main() {
  uint first_row = groupFirstRow();
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint x_row = pc.x_base + token * pc.x_token_stride;
  uint quant_unit = pc.quant_base / 4u;

  float sums[kRowsPerGroup];
  for (uint r = 0u; r < kRowsPerGroup; ++r) sums[r] = 0.0;
  for (uint u = groupLane(); u < kUnitsPerRow; u += kGroupWidth) {
    uint block = u / kUnitsPerBlock;
    // The quantised x under unit u, loaded once for every row.
    uint x_block = x_row + 3u * block;
#if QUANT_BITS == 8
    uvec4 xa = qx_units[x_block + (u & 1u)], xb = uvec4(0u);
#else
    uvec4 xa = qx_units[x_block], xb = qx_units[x_block + 1u];
#endif
    uvec4 x_meta = qx_units[x_block + 2u];
    float x_scale = uintBitsToFloat(x_meta.x);
    int x_sum = int(x_meta.y);
    for (uint r = 0u; r < kRowsPerGroup; ++r) {
      uint row = min(first_row + r, uint(N) - 1u);  // rows past N repeat the last; never stored
      uvec4 unit = quant_units[quant_unit + row * kUnitsPerRow + u];
      sums[r] += float(unitDot(unit, xa, xb, x_sum)) * (x_scale * blockScale(row, block));
    }
  }

  storeRowSums(sums, token);
}
