// The push-constant block of each kernel in codegen_spirv/kernels/, member for
// member (std430: every member a 32-bit uint, no padding). Offsets ("base") are
// element indices into the bound range — words for bf16 weight buffers — so a
// tensor bound as a slice of a larger buffer (maxStorageBufferRange) or a
// region of the activation arena is addressed without rebinding. The comments
// on the .comp files say what each member means.
#pragma once

#include <cstdint>

namespace unicorn::spirv {

struct EmbeddingPush {
  uint32_t ids_base, table_base, rows_per_slice, rows, out_base, out_token_stride, num_tokens;
};
// embedding_quant: EmbeddingPush's members (table_base becomes quant_base, a
// word index into each quants window), then where each scales window's first
// scale is.
struct QuantEmbeddingPush {
  uint32_t ids_base, quant_base, rows_per_slice, rows, out_base, out_token_stride, num_tokens, scale_base;
};
struct RmsNormPush {
  uint32_t x_base, x_token_stride, weight_base, y_base, y_token_stride, num_tokens;
};
struct RmsNormAddNormPush {
  uint32_t x_base, x_token_stride, weight_base, residual_base, residual_token_stride, next_weight_base, normed_base,
      normed_token_stride, num_tokens;
};
struct QkvNormRopePush {
  uint32_t query_src_base, key_src_base, value_src_base, src_token_stride, query_norm_base, key_norm_base,
      positions_base, query_dst_base, query_dst_stride, key_row_stride, value_row_stride, ring_capacity, num_tokens;
};
struct HeadNormRopePush {
  uint32_t src_base, src_token_stride, weight_base, positions_base, dst_base, dst_row_stride, ring_capacity,
      num_tokens;
};
// matvec_bf16 and matmul_bf16.
struct MatmulPush {
  uint32_t x_base, x_token_stride, weight_base, y_base, y_token_stride, num_tokens;
};
// matvec_quant and matmul_quant (Q8Block32 / Q4Block32 weights): MatmulPush's
// members, then where this dispatch's scales start. quant_base is a word index
// into the quants binding; scale_base a bf16 element index into the scales
// binding (quant_weight_slice.h computes both for a row slice).
struct QuantMatmulPush {
  uint32_t x_base, x_token_stride, quant_base, y_base, y_token_stride, num_tokens, scale_base;
};
// token_maxima: x in floats (as MatmulPush's); token t's maximum at element t.
struct TokenMaximaPush {
  uint32_t x_base, x_token_stride, num_tokens;
};
// row_bounds: where row 0 starts in its binding (bf16 rows: words; quantised
// scales: bf16 elements, as QuantMatmulPush's scale_base), and the rows.
struct RowBoundsPush {
  uint32_t source_base, rows;
};
// quantize_activation: x in floats (as MatmulPush's), the output in uvec4 units.
struct QuantizeActivationPush {
  uint32_t x_base, x_token_stride, out_base, out_token_stride, num_tokens;
};
struct AttentionPush {
  uint32_t query_base, query_token_stride, key_base, value_base, cache_capacity, positions_base, out_base,
      out_token_stride, num_tokens;
};
// attention_decode: AttentionPush's members (query_base the step's first query
// head in the q|k|v row), then its first key and value heads in that row.
struct DecodeAttentionPush {
  uint32_t query_base, query_token_stride, key_base, value_base, cache_capacity, positions_base, out_base,
      out_token_stride, num_tokens, key_src_base, value_src_base;
};
struct GeluMulPush {
  uint32_t gate_base, gate_token_stride, up_base, up_token_stride, out_base, out_token_stride, num_tokens;
};
struct AddPush {
  uint32_t a_base, b_base, out_base, count;
};
struct ArgmaxPush {
  uint32_t logits_base, logits_row_stride, out_base, num_rows;
};
struct ArgmaxCombinePush {
  uint32_t candidates_base, out_base, num_rows;
};
struct SamplePush {
  uint32_t logits_base, params_word, position_word, out_word;
};
struct LogitsReadoutPush {
  uint32_t logits_base, logits_row_stride, out_base, out_row_stride, num_rows;
};

}  // namespace unicorn::spirv
