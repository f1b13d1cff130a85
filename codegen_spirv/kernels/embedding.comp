// Embedding lookup: hidden[t] = table[token_ids[t]] * EMBED_SCALE, in float32.
// EMBED_SCALE is sqrt(hidden) rounded once to float32 (the float32 reference
// uses it unrounded to bf16, unlike transformers' bf16 path).
//
// A table larger than maxStorageBufferRange (llvmpipe: 128 MiB; the 1B table is
// ~600 MB) is bound as SLICES row slices, one array binding: slice s holds rows
// [s * rows_per_slice, (s + 1) * rows_per_slice), the last fewer, from word
// table_base of its window (passes/WeightRowSlices.h: a split table's windows
// start at their first rows, base 0). A token's slice depends on its id alone,
// so the index is uniform over the workgroup. Ids past the table leave their
// row untouched (the runtime checks ids before they reach the GPU).
//
// Bindings: 0 token ids, 1 the table's slices (SLICES of them), 2 hidden.
// Defines: HIDDEN (even), EMBED_SCALE (float), SLICES (default 1), WG_SIZE.
// Dispatch: (num_tokens, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer TokenIds { uint token_ids[]; };
layout(std430, set = 0, binding = 1) readonly buffer TableSlice { uint words[]; } table[SLICES];
layout(std430, set = 0, binding = 2) writeonly buffer Hidden { float hidden[]; };

layout(push_constant) uniform EmbeddingPush {
  uint ids_base;          // element index of token 0's id in binding 0
  uint table_base;        // word index of a slice's first row in its window
  uint rows_per_slice;
  uint rows;              // the vocabulary
  uint out_base;          // element index of token 0's row in binding 2
  uint out_token_stride;  // elements between consecutive tokens' rows
  uint num_tokens;
} pc;

const uint kWordsPerRow = HIDDEN / 2;

void main() {
  uint token = gl_WorkGroupID.x;
  if (token >= pc.num_tokens) return;
  uint id = token_ids[pc.ids_base + token];
  if (id >= pc.rows) return;
  uint slice = id / pc.rows_per_slice;
  uint row_word = pc.table_base + (id - slice * pc.rows_per_slice) * kWordsPerRow;
  uint out_row = pc.out_base + token * pc.out_token_stride;
  for (uint pair = gl_LocalInvocationID.x; pair < kWordsPerRow; pair += WG_SIZE) {
    uint word = table[slice].words[row_word + pair];
    hidden[out_row + 2u * pair] = bf16Low(word) * EMBED_SCALE;
    hidden[out_row + 2u * pair + 1u] = bf16High(word) * EMBED_SCALE;
  }
}
