// y[t, n] = sum_k x[t, k] * W[n, k], W bf16 [out, in], float32 accumulation —
// the prefill kernel on shader cores, in matmul_tile.glsl's frame (64 x 64
// tiles, 32 columns of K a step). A step's W is 64 rows x 4 units of 8 bf16
// (16 bytes): invocation e loads row e % 64, unit e / 64, so that neighbouring
// invocations store neighbouring words of w_tile.
// Bindings 0-2 as matvec_bf16's (and its push constants and row-slicing rule),
// then, with SPLITS > 1, split_k.glsl's partials (3) and counts (4).
//
// Defines: K (a multiple of 8), N, SOFTCAP (float, 0.0 = off), SPLITS (default 1).
// Alignment (the schedule guarantees it): x_base, x_token_stride and
// weight_base multiples of 4.
// Dispatch: (ceil(N / 64), ceil(num_tokens / 64), SPLITS).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"

layout(std430, set = 0, binding = 0) readonly buffer Input { vec4 x4[]; };
layout(std430, set = 0, binding = 1) readonly buffer Weight { uvec4 weight_units[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float y[]; };
#define PARTIALS_BINDING 3

layout(push_constant) uniform MatmulPush {
  uint x_base;
  uint x_token_stride;
  uint weight_base;  // word index of row 0 of this dispatch's slice
  uint y_base;
  uint y_token_stride;
  uint num_tokens;
} pc;

#include "matmul_tile.glsl"

const uint kUnitsPerRow = uint(K) / 8u;

uvec4 w_fetched;

void fetchWeights(uint first_row, uint k0) {
  uint e = gl_LocalInvocationIndex;
  uint row = first_row + e % kTile, k = k0 + 8u * (e / kTile);
  w_fetched = row < uint(N) && k < uint(K) ? weight_units[pc.weight_base / 4u + row * kUnitsPerRow + k / 8u] : uvec4(0u);
}

void stageWeights() {
  uint e = gl_LocalInvocationIndex;
  uint n = e % kTile, k = 8u * (e / kTile);
  for (uint w = 0u; w < 4u; ++w) {
    w_tile[k + 2u * w][n / 4u][n % 4u] = bf16Low(w_fetched[w]);
    w_tile[k + 2u * w + 1u][n / 4u][n % 4u] = bf16High(w_fetched[w]);
  }
}
