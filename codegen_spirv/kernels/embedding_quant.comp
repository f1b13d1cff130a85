// Embedding lookup from a block-quantised table (Q8Block32 / Q4Block32,
// schemas/bundle.fbs): hidden[t] = W'[token_ids[t]] * EMBED_SCALE in float32,
// W' = q * scale the dequantised row. q * scale is exact in float32
// (block_quant.glsl), so the only rounding is the one multiply by EMBED_SCALE,
// as in embedding.comp.
//
// Row chunks work as in embedding.comp: a table larger than
// maxStorageBufferRange is dispatched once per chunk of rows, each binding that
// chunk's quants and scales (quant_weight_slice.h gives the windows and bases)
// and writing only the tokens whose id it holds.
//
// Bindings: 0 token ids, 1 quants (uint words), 2 hidden (float), 3 scales
// (packed bf16 pairs): matvec_quant's order, so the LM head and the lookup bind
// the same windows of the tied table.
//
// Push constants (QuantEmbeddingPush):
//   ids_base          element index of token 0's id in binding 0
//   quant_base        word index, in binding 1, of row `row_begin`
//   row_begin         first vocabulary row held by this chunk
//   row_count         rows held by this chunk
//   out_base          element index of token 0's row in binding 2
//   out_token_stride  elements between consecutive tokens' rows
//   num_tokens
//   scale_base        bf16 element index, in binding 3, of row `row_begin`'s first scale
//
// Defines: QUANT_BITS (8 or 4), K (the hidden size, a multiple of 32),
//          EMBED_SCALE (float), WG_SIZE.
// Dispatch: (num_tokens, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "block_quant.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer TokenIds { uint token_ids[]; };
layout(std430, set = 0, binding = 1) readonly buffer Quants { uint quant_words[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Hidden { float hidden[]; };
layout(std430, set = 0, binding = 3) readonly buffer Scales { uint scale_words[]; };

layout(push_constant) uniform QuantEmbeddingPush {
  uint ids_base;
  uint quant_base;
  uint row_begin;
  uint row_count;
  uint out_base;
  uint out_token_stride;
  uint num_tokens;
  uint scale_base;
} pc;

void main() {
  uint token = gl_WorkGroupID.x;
  if (token >= pc.num_tokens) return;
  uint id = token_ids[pc.ids_base + token];
  // Unsigned wrap-around makes ids below row_begin fail the same test.
  uint row = id - pc.row_begin;
  if (row >= pc.row_count) return;
  uint out_row = pc.out_base + token * pc.out_token_stride;
  for (uint w = gl_LocalInvocationID.x; w < kQuantWordsPerRow; w += WG_SIZE) {
    uint word = quant_words[pc.quant_base + row * kQuantWordsPerRow + w];
    uint scale_index = pc.scale_base + row * kBlocksPerRow + w / kWordsPerBlock;
    float scale = bf16Element(scale_words[scale_index >> 1], scale_index);
    for (uint g = 0u; g < kQuantGroupsPerWord; ++g) {
      // precise: the two products stay as written (q * scale is exact; one
      // rounding remains), not folded into q * (scale * EMBED_SCALE).
      precise vec4 values = (quantGroup(word, g) * scale) * EMBED_SCALE;
      uint at = out_row + w * kQuantsPerWord + 4u * g;
      hidden[at] = values.x;
      hidden[at + 1u] = values.y;
      hidden[at + 2u] = values.z;
      hidden[at + 3u] = values.w;
    }
  }
}
