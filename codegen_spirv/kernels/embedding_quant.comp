// Embedding lookup from a block-quantised table (Q8Block32 / Q4Block32,
// schemas/bundle.fbs): hidden[t] = W'[token_ids[t]] * EMBED_SCALE in float32,
// W' = q * scale the dequantised row. q * scale is exact in float32
// (block_quant.glsl), so the only rounding is the one multiply by EMBED_SCALE,
// as in embedding.comp.
//
// Row slices work as in embedding.comp: a table larger than
// maxStorageBufferRange binds its quants as SLICES row slices, one array
// binding (a split table's windows start at their first rows' quants), and
// its scales, a 16th of the quants or less, as one binding.
//
// Bindings: 0 token ids, 1 quants (uint words; SLICES windows), 2 hidden
// (float), 3 scales (packed bf16 pairs): matvec_quant's order.
//
// Push constants (QuantEmbeddingPush):
//   ids_base          element index of token 0's id in binding 0
//   quant_base        word index of a slice's first row in its quants window
//   rows_per_slice    rows of every slice but the last
//   rows              the vocabulary
//   out_base          element index of token 0's row in binding 2
//   out_token_stride  elements between consecutive tokens' rows
//   num_tokens
//   scale_base        bf16 element index of row 0's first scale in binding 3
//
// Defines: QUANT_BITS (8 or 4), K (the hidden size, a multiple of 32),
//          EMBED_SCALE (float), SLICES (default 1), WG_SIZE.
// Dispatch: (num_tokens, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"
#include "block_quant.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer TokenIds { uint token_ids[]; };
layout(std430, set = 0, binding = 1) readonly buffer Quants { uint words[]; } quants[SLICES];
layout(std430, set = 0, binding = 2) writeonly buffer Hidden { float hidden[]; };
layout(std430, set = 0, binding = 3) readonly buffer Scales { uint scale_words[]; };

layout(push_constant) uniform QuantEmbeddingPush {
  uint ids_base;
  uint quant_base;
  uint rows_per_slice;
  uint rows;
  uint out_base;
  uint out_token_stride;
  uint num_tokens;
  uint scale_base;
} pc;

void main() {
  uint token = gl_WorkGroupID.x;
  if (token >= pc.num_tokens) return;
  uint id = token_ids[pc.ids_base + token];
  if (id >= pc.rows) return;
  uint slice = id / pc.rows_per_slice;
  uint row = id - slice * pc.rows_per_slice;
  uint out_row = pc.out_base + token * pc.out_token_stride;
  for (uint w = gl_LocalInvocationID.x; w < kQuantWordsPerRow; w += WG_SIZE) {
    uint word = quants[slice].words[pc.quant_base + row * kQuantWordsPerRow + w];
    uint scale_index = pc.scale_base + id * kBlocksPerRow + w / kWordsPerBlock;
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
