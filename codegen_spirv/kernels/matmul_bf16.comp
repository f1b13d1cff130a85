// y[t, n] = sum_k x[t, k] * W[n, k], W bf16 [out, in], float32 accumulation —
// the prefill kernel. Each 16x16 workgroup computes a TILE_M (tokens) x TILE_N
// (rows) tile, staging TILE_K-wide slices of x and W in shared memory so every
// weight word loaded serves TILE_M tokens instead of one. Each invocation owns
// (TILE_M/16) x (TILE_N/16) outputs strided by 16, so neighbouring invocations
// write neighbouring rows of y.
// Same bindings, push constants and row-slicing rule as matvec_bf16.
//
// Defines: K (even), N, TILE_M, TILE_N (multiples of 16), TILE_K (even),
//          SOFTCAP (float, 0.0 = off).
// Dispatch: (ceil(N / TILE_N), ceil(num_tokens / TILE_M), 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "softcap.glsl"

layout(local_size_x = 16, local_size_y = 16) in;

layout(std430, set = 0, binding = 0) readonly buffer Input { float x[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { uint weight_words[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float y[]; };

layout(push_constant) uniform MatmulPush {
  uint x_base;
  uint x_token_stride;
  uint weight_base;
  uint y_base;
  uint y_token_stride;
  uint num_tokens;
} pc;

const uint kInvocations = 256;
const uint kWordsPerRow = K / 2;
const uint kTokensPerInvocation = TILE_M / 16;
const uint kRowsPerInvocation = TILE_N / 16;

// +1 column keeps invocations that read one column from hitting one bank.
shared float x_tile[TILE_M][TILE_K + 1];
shared float w_tile[TILE_N][TILE_K + 1];

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
    for (uint e = invocation; e < TILE_N * (TILE_K / 2); e += kInvocations) {
      uint n = e / (TILE_K / 2);
      uint pair = e % (TILE_K / 2);
      uint row = first_row + n;
      uint k = k0 + 2u * pair;
      uint word = (row < N && k < K) ? weight_words[pc.weight_base + row * kWordsPerRow + k / 2u] : 0u;
      w_tile[n][2u * pair] = bf16Low(word);
      w_tile[n][2u * pair + 1u] = bf16High(word);
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
