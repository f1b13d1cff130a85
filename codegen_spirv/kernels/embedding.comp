// Embedding lookup: hidden[t] = table[token_ids[t]] * EMBED_SCALE, in float32.
// EMBED_SCALE is sqrt(hidden) rounded once to float32 (the float32 reference
// uses it unrounded to bf16, unlike transformers' bf16 path).
//
// A table larger than maxStorageBufferRange (llvmpipe: 128 MiB; the 1B table is
// ~600 MB) is split by rows into chunks, one dispatch per chunk: each dispatch
// binds one chunk and writes only the tokens whose id falls in
// [row_begin, row_begin + row_count). Ids outside every chunk leave their row
// untouched (the runtime checks ids before they reach the GPU).
//
// Defines: HIDDEN (even), EMBED_SCALE (float), WG_SIZE.
// Dispatch: (num_tokens, 1, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "bf16.glsl"

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer TokenIds { uint token_ids[]; };
layout(std430, set = 0, binding = 1) readonly buffer TableChunk { uint table_words[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Hidden { float hidden[]; };

layout(push_constant) uniform EmbeddingPush {
  uint ids_base;          // element index of token 0's id in binding 0
  uint table_base;        // word index of row `row_begin` in binding 1
  uint row_begin;         // first vocabulary row held by this chunk
  uint row_count;         // rows held by this chunk
  uint out_base;          // element index of token 0's row in binding 2
  uint out_token_stride;  // elements between consecutive tokens' rows
  uint num_tokens;
} pc;

const uint kWordsPerRow = HIDDEN / 2;

void main() {
  uint token = gl_WorkGroupID.x;
  if (token >= pc.num_tokens) return;
  uint id = token_ids[pc.ids_base + token];
  // Unsigned wrap-around makes ids below row_begin fail the same test.
  if (id - pc.row_begin >= pc.row_count) return;
  uint row_word = pc.table_base + (id - pc.row_begin) * kWordsPerRow;
  uint out_row = pc.out_base + token * pc.out_token_stride;
  for (uint pair = gl_LocalInvocationID.x; pair < kWordsPerRow; pair += WG_SIZE) {
    uint word = table_words[row_word + pair];
    hidden[out_row + 2u * pair] = bf16Low(word) * EMBED_SCALE;
    hidden[out_row + 2u * pair + 1u] = bf16High(word) * EMBED_SCALE;
  }
}
