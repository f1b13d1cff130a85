// y[t, n] = sum_k x[t, k] * W'[n, k] with W block-quantised (Q8Block32 or
// Q4Block32) — the prefill kernel, matmul_bf16's tiling with the weights
// dequantised while they are staged: each 16x16 workgroup computes a TILE_M
// (tokens) x TILE_N (rows) tile, loading TILE_K-wide slices of x and of W into
// shared memory; a W slice is read as quant words, each widened and multiplied
// by its block's bf16 scale (exact in float32, so the tile holds W' exactly) and
// then serves TILE_M tokens.
// Bindings, push constants and row slicing as matvec_quant.comp.
//
// Defines: QUANT_BITS (8 or 4), K (a multiple of 32), N, TILE_M, TILE_N
//          (multiples of 16), TILE_K (a multiple of 8: whole q4 words),
//          SOFTCAP (float, 0.0 = off).
// Dispatch: (ceil(N / TILE_N), ceil(num_tokens / TILE_M), 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "block_quant.glsl"
#include "softcap.glsl"

layout(local_size_x = 16, local_size_y = 16) in;

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

const uint kInvocations = 256;
const uint kTokensPerInvocation = TILE_M / 16;
const uint kRowsPerInvocation = TILE_N / 16;
const uint kTileWords = TILE_K / kQuantsPerWord;  // quant words per row of a W slice

// +1 column keeps invocations that read one column from hitting one bank.
shared float x_tile[TILE_M][TILE_K + 1];
shared float w_tile[TILE_N][TILE_K + 1];

float blockScale(uint row, uint block) {
  uint index = pc.scale_base + row * kBlocksPerRow + block;
  return bf16Element(scale_words[index >> 1], index);
}

void main() {
  uint first_row = gl_WorkGroupID.x * TILE_N;
  uint first_token = gl_WorkGroupID.y * TILE_M;
  uint column = gl_LocalInvocationID.x;  // selects rows n
  uint line = gl_LocalInvocationID.y;    // selects tokens t
  uint invocation = gl_LocalInvocationIndex;

  float sums[kTokensPerInvocation][kRowsPerInvocation];
  for (uint i = 0u; i < kTokensPerInvocation; ++i)
    for (uint j = 0u; j < kRowsPerInvocation; ++j) sums[i][j] = 0.0;

  for (uint k0 = 0u; k0 < K; k0 += TILE_K) {
    for (uint e = invocation; e < TILE_M * TILE_K; e += kInvocations) {
      uint m = e / TILE_K;
      uint kk = e % TILE_K;
      uint token = first_token + m;
      uint k = k0 + kk;
      x_tile[m][kk] = (token < pc.num_tokens && k < K) ? x[pc.x_base + token * pc.x_token_stride + k] : 0.0;
    }
    for (uint e = invocation; e < TILE_N * kTileWords; e += kInvocations) {
      uint n = e / kTileWords;
      uint tile_word = e % kTileWords;
      uint row = first_row + n;
      uint k = k0 + tile_word * kQuantsPerWord;
      // A word never straddles a block (32 is a multiple of 4 and 8), and K is a
      // multiple of 32, so a word is either wholly inside the row or past its end.
      bool inside = row < N && k < K;
      uint word = inside ? quant_words[pc.quant_base + row * kQuantWordsPerRow + k / kQuantsPerWord] : 0u;
      float scale = inside ? blockScale(row, k / 32u) : 0.0;
      for (uint g = 0u; g < kQuantGroupsPerWord; ++g) {
        vec4 w = quantGroup(word, g) * scale;
        uint kk = tile_word * kQuantsPerWord + 4u * g;
        w_tile[n][kk] = w.x;
        w_tile[n][kk + 1u] = w.y;
        w_tile[n][kk + 2u] = w.z;
        w_tile[n][kk + 3u] = w.w;
      }
    }
    barrier();
    for (uint kk = 0u; kk < TILE_K; ++kk) {
      float x_values[kTokensPerInvocation];
      for (uint i = 0u; i < kTokensPerInvocation; ++i) x_values[i] = x_tile[line + 16u * i][kk];
      for (uint j = 0u; j < kRowsPerInvocation; ++j) {
        float w_value = w_tile[column + 16u * j][kk];
        for (uint i = 0u; i < kTokensPerInvocation; ++i) sums[i][j] += x_values[i] * w_value;
      }
    }
    barrier();
  }

  for (uint i = 0u; i < kTokensPerInvocation; ++i) {
    uint token = first_token + line + 16u * i;
    if (token >= pc.num_tokens) continue;
    for (uint j = 0u; j < kRowsPerInvocation; ++j) {
      uint row = first_row + column + 16u * j;
      if (row >= N) continue;
      float total = sums[i][j];
      if (SOFTCAP > 0.0) total = softcap(total, SOFTCAP);
      y[pc.y_base + token * pc.y_token_stride + row] = total;
    }
  }
}
