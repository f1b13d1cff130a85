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
// Organisation: each workgroup owns ROWS_PER_WG output rows of one token.
// x is quantised by the workgroup into shared memory in chunks of up to 256
// blocks (one block per invocation; q4's x bytes are stored even elements then
// odd ones per 8, the order of the nibbles a mask picks out of a word). Every
// invocation then takes a strided share of the chunk's 16-byte weight units
// (16 int8 = half a q8 block, or 32 int4 = one q4 block), so neighbouring
// invocations read neighbouring 16 bytes of a row, and loads the x words
// under its unit once for all ROWS_PER_WG rows. Then a subgroup +
// shared-memory reduction (any subgroup size). More rows per workgroup than
// the float kernels use amortise the quantisation of x over more weights.
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
// Defines: QUANT_BITS (8 or 4), K (a multiple of 32), N (rows of this
//          dispatch), ROWS_PER_WG, WG_SIZE, SOFTCAP (float, 0.0 = off),
//          CHUNK_BLOCKS (blocks of x quantised per round; default 256).
// Dispatch: (ceil(N / ROWS_PER_WG), num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "bf16.glsl"
#include "block_quant.glsl"
#include "integer_dot.glsl"
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
const uint kUnitsPerBlock = kWordsPerBlock / 4u;  // 2 (q8) or 1 (q4)
const uint kChunkBlocks = min(kBlocksPerRow, uint(CHUNK_BLOCKS));

// The quantised x of one chunk: a block's 32 bytes are two uvec4s.
shared uvec4 chunk_x[kChunkBlocks * 2u];
shared float chunk_x_scale[kChunkBlocks];
shared int chunk_x_sum[kChunkBlocks];  // sum of the block's qx: q4's offset
// partials[row][subgroup]
shared float row_partials[ROWS_PER_WG][WG_SIZE];

float blockScale(uint row, uint block) {
  uint index = pc.scale_base + row * kBlocksPerRow + block;
  return bf16Element(scale_words[index >> 1], index);
}

uint packBytes(ivec4 q) { return uint(q.x & 255) | uint(q.y & 255) << 8 | uint(q.z & 255) << 16 | uint(q.w & 255) << 24; }

// Quantises x block `block` (32 floats from vec4 `x_unit`) into chunk slot `slot`.
void quantiseBlock(uint x_unit, uint block, uint slot) {
  vec4 values[8];
  float largest = 0.0;
  for (uint i = 0u; i < 8u; ++i) {
    values[i] = x4[x_unit + block * 8u + i];
    vec4 magnitude = abs(values[i]);
    largest = max(largest, max(max(magnitude.x, magnitude.y), max(magnitude.z, magnitude.w)));
  }
  float inverse = largest > 0.0 ? 127.0 / largest : 0.0;
  ivec4 q[8];
  int total = 0;
  for (uint i = 0u; i < 8u; ++i) {
    q[i] = ivec4(roundEven(values[i] * inverse));  // |q| <= 127
    total += q[i].x + q[i].y + q[i].z + q[i].w;
  }
  uint words[8];
  for (uint j = 0u; j < 4u; ++j) {
#if QUANT_BITS == 8
    words[2u * j] = packBytes(q[2u * j]);
    words[2u * j + 1u] = packBytes(q[2u * j + 1u]);
#else
    // Elements 8j .. 8j+7 are q[2j].xyzw, q[2j+1].xyzw: evens first, then odds.
    ivec4 a = q[2u * j], b = q[2u * j + 1u];
    words[2u * j] = packBytes(ivec4(a.x, a.z, b.x, b.z));
    words[2u * j + 1u] = packBytes(ivec4(a.y, a.w, b.y, b.w));
#endif
  }
  chunk_x[2u * slot] = uvec4(words[0], words[1], words[2], words[3]);
  chunk_x[2u * slot + 1u] = uvec4(words[4], words[5], words[6], words[7]);
  chunk_x_scale[slot] = largest / 127.0;
  chunk_x_sum[slot] = total;
}

// The integer dot product of weight unit `unit` with the quantised x under it
// (chunk unit `local_unit`).
int unitDot(uvec4 unit, uint local_unit) {
#if QUANT_BITS == 8
  uvec4 x = chunk_x[local_unit];
  return dotS8(x.x, unit.x) + dotS8(x.y, unit.y) + dotS8(x.z, unit.z) + dotS8(x.w, unit.w);
#else
  // The nibbles are codes q + 8: the masked bytes are unsigned, and 8 * sum qx
  // takes the offset back out once per block.
  const uint kLowNibbles = 0x0f0f0f0fu;
  uvec4 xa = chunk_x[2u * local_unit], xb = chunk_x[2u * local_unit + 1u];
  return dotS8U8(xa.x, unit.x & kLowNibbles) + dotS8U8(xa.y, (unit.x >> 4) & kLowNibbles) +
         dotS8U8(xa.z, unit.y & kLowNibbles) + dotS8U8(xa.w, (unit.y >> 4) & kLowNibbles) +
         dotS8U8(xb.x, unit.z & kLowNibbles) + dotS8U8(xb.y, (unit.z >> 4) & kLowNibbles) +
         dotS8U8(xb.z, unit.w & kLowNibbles) + dotS8U8(xb.w, (unit.w >> 4) & kLowNibbles) -
         8 * chunk_x_sum[local_unit];
#endif
}

void main() {
  uint first_row = gl_WorkGroupID.x * ROWS_PER_WG;
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint x_unit = (pc.x_base + token * pc.x_token_stride) / 4u;
  uint quant_unit = pc.quant_base / 4u;

  float sums[ROWS_PER_WG];
  for (uint r = 0u; r < ROWS_PER_WG; ++r) sums[r] = 0.0;
  for (uint chunk = 0u; chunk < kBlocksPerRow; chunk += kChunkBlocks) {
    uint blocks = min(kChunkBlocks, kBlocksPerRow - chunk);
    if (chunk > 0u) barrier();  // the previous chunk is read by everyone
    for (uint b = gl_LocalInvocationID.x; b < blocks; b += WG_SIZE) quantiseBlock(x_unit, chunk + b, b);
    barrier();
    for (uint u = gl_LocalInvocationID.x; u < blocks * kUnitsPerBlock; u += WG_SIZE) {
      uint block = chunk + u / kUnitsPerBlock;
      float x_scale = chunk_x_scale[u / kUnitsPerBlock];
      for (uint r = 0u; r < ROWS_PER_WG; ++r) {
        uint row = min(first_row + r, uint(N) - 1u);  // rows past N repeat the last; never stored
        uvec4 unit = quant_units[quant_unit + row * kUnitsPerRow + chunk * kUnitsPerBlock + u];
        sums[r] += float(unitDot(unit, u)) * (x_scale * blockScale(row, block));
      }
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
