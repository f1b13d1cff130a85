// y[t, n] = sum_k x[t, k] * W'[n, k] with W block-quantised (Q8Block32 or
// Q4Block32, schemas/bundle.fbs) and W' = q * scale its dequantised value,
// accumulated in float32. The decode kernel, organised like matvec_bf16: each
// workgroup owns ROWS_PER_WG output rows of one token; every invocation takes a
// strided share of a row's quant words (4 int8 or 8 int4 per uint32, so
// neighbouring invocations read neighbouring words), loads the x values under a
// word once for all its rows, and scales each word's dot product
// (block_quant.glsl: quantWordDot) by its block's scale; then a subgroup +
// shared-memory reduction (any subgroup size).
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
// Push constants (QuantMatmulPush): as MatmulPush, with
//   quant_base  word index, in binding 1, of row 0 (of this dispatch's slice)
//   scale_base  bf16 element index, in binding 3, of row 0's first scale
// (element indices, so a slice whose scales start mid-word needs no realignment).
//
// Defines: QUANT_BITS (8 or 4), K (a multiple of 32), N (rows of this
//          dispatch), ROWS_PER_WG, WG_SIZE, SOFTCAP (float, 0.0 = off).
// Dispatch: (ceil(N / ROWS_PER_WG), num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "bf16.glsl"
#include "block_quant.glsl"
#include "softcap.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Quants { uint quant_words[]; };
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

// partials[row][subgroup]
shared float row_partials[ROWS_PER_WG][WG_SIZE];

float blockScale(uint row, uint block) {
  uint index = pc.scale_base + row * kBlocksPerRow + block;
  return bf16Element(scale_words[index >> 1], index);
}

void main() {
  uint first_row = gl_WorkGroupID.x * ROWS_PER_WG;
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint x_row = pc.x_base + token * pc.x_token_stride;

  float sums[ROWS_PER_WG];
  for (uint r = 0u; r < ROWS_PER_WG; ++r) sums[r] = 0.0;
  for (uint w = gl_LocalInvocationID.x; w < kQuantWordsPerRow; w += WG_SIZE) {
    // The x values under word w, arranged as quantWordDot takes them; loaded
    // once and used for all ROWS_PER_WG rows.
    uint at = x_row + w * kQuantsPerWord;
#if QUANT_BITS == 8
    vec4 x_lo = vec4(x[at], x[at + 1u], x[at + 2u], x[at + 3u]);
    vec4 x_hi = vec4(0.0);
    float x_sum = 0.0;
#else
    vec4 x_lo = vec4(x[at], x[at + 2u], x[at + 4u], x[at + 6u]);
    vec4 x_hi = vec4(x[at + 1u], x[at + 3u], x[at + 5u], x[at + 7u]);
    float x_sum = dot(x_lo, vec4(1.0)) + dot(x_hi, vec4(1.0));
#endif
    uint block = w / kWordsPerBlock;
    for (uint r = 0u; r < ROWS_PER_WG; ++r) {
      uint row = min(first_row + r, uint(N) - 1u);  // rows past N repeat the last; never stored
      uint word = quant_words[pc.quant_base + row * kQuantWordsPerRow + w];
      // The scale factors out of the block's sum; applying it per word costs
      // one multiply per word instead of one per weight.
      sums[r] += quantWordDot(word, x_lo, x_hi, x_sum) * blockScale(row, block);
    }
  }

  for (uint r = 0u; r < ROWS_PER_WG; ++r) {
    float subgroup_total = subgroupAdd(sums[r]);
    if (subgroupElect()) row_partials[r][gl_SubgroupID] = subgroup_total;
  }
  barrier();
  uint r = gl_LocalInvocationID.x;
  if (r < ROWS_PER_WG && first_row + r < N) {
    float total = 0.0;
    for (uint s = 0u; s < gl_NumSubgroups; ++s) total += row_partials[r][s];
    if (SOFTCAP > 0.0) total = softcap(total, SOFTCAP);
    y[pc.y_base + token * pc.y_token_stride + first_row + r] = total;
  }
}
