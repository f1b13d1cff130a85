// y[t, n] = sum_k x[t, k] * W'[n, k] with W block-quantised (Q8Block32 or
// Q4Block32) — the prefill kernel, matmul_bf16's tiling (matmul_tile.glsl's
// frame: 64 x 64 tiles, 32 columns of K a step, one quantisation block) with the
// weights dequantised while they are staged: each quant times its block's bf16
// scale (exact in float32, so the tile holds W' exactly), then serving 64
// tokens. A step's W is 64 rows x one block: 2 units of 16 bytes a row (q8) or
// 1 (q4), loaded by the first 128 (64) invocations, row e % 64, unit e / 64.
// Bindings 0-3, push constants and row slicing as matvec_quant.comp, then
// (with SPLITS > 1) split_k.glsl's partials (4) and counts (5).
//
// Defines: QUANT_BITS (8 or 4), K (a multiple of 32), N, SOFTCAP (float, 0.0 =
// off), SPLITS (default 1).
// Alignment (the schedule guarantees it): x_base and x_token_stride multiples of 4.
// Dispatch: (ceil(N / 64), ceil(num_tokens / 64), SPLITS).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "block_quant.glsl"

layout(std430, set = 0, binding = 0) readonly buffer Input { vec4 x4[]; };
layout(std430, set = 0, binding = 1) readonly buffer Quants { uvec4 quant_units[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float y[]; };
layout(std430, set = 0, binding = 3) readonly buffer Scales { uint scale_words[]; };
#define PARTIALS_BINDING 4

layout(push_constant) uniform QuantMatmulPush {
  uint x_base;
  uint x_token_stride;
  uint quant_base;  // word index of row 0 (a multiple of 4)
  uint y_base;
  uint y_token_stride;
  uint num_tokens;
  uint scale_base;  // bf16 element index of row 0's first scale
} pc;

#include "matmul_tile.glsl"

const uint kUnitsPerRow = kQuantWordsPerRow / 4u;
const uint kWeightsPerUnit = 4u * kQuantsPerWord;  // 16 (q8) or 32 (q4)
const uint kUnitsPerStep = kTile * kTileK / kWeightsPerUnit;  // 128 (q8) or 64 (q4)

uvec4 w_fetched;
float scale_fetched;

void fetchWeights(uint first_row, uint k0) {
  uint e = gl_LocalInvocationIndex;
  if (e >= kUnitsPerStep) return;
  uint row = first_row + e % kTile, k = k0 + kWeightsPerUnit * (e / kTile);
  // k0 and K are multiples of 32: a unit is wholly inside the row or past it.
  bool inside = row < uint(N) && k < uint(K);
  w_fetched = inside ? quant_units[pc.quant_base / 4u + row * kUnitsPerRow + k / kWeightsPerUnit] : uvec4(0u);
  uint scale = pc.scale_base + row * kBlocksPerRow + k0 / 32u;
  scale_fetched = inside ? bf16Element(scale_words[scale >> 1], scale) : 0.0;
}

void stageWeights() {
  uint e = gl_LocalInvocationIndex;
  if (e >= kUnitsPerStep) return;
  uint n = e % kTile, k = kWeightsPerUnit * (e / kTile);
  for (uint w = 0u; w < 4u; ++w) {
    for (uint g = 0u; g < kQuantGroupsPerWord; ++g) {
      vec4 values = quantGroup(w_fetched[w], g) * scale_fetched;
      // quantGroup(word, g) holds elements 4g .. 4g+3 of the word.
      uint first = k + w * kQuantsPerWord + 4u * g;
      for (uint c = 0u; c < 4u; ++c) w_tile[first + c][n / 4u][n % 4u] = values[c];
    }
  }
}
