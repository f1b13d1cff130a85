// Typed front doors to the kernel library: each function turns model-level
// parameters into a kernel name and the exact defines that specialise it,
// checking the constraints the kernel relies on (even K, heads divisible by
// kv heads, ...) and computing the numeric constants the way the float32
// reference does (embedding scale, query scale, RoPE inverse frequencies).
// Feed the result to SpirvKernelCompiler::compile.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codegen_spirv/quant_weight_slice.h"
#include "codegen_spirv/spirv_kernel_compiler.h"

namespace unicorn::spirv {

struct KernelRequest {
  std::string kernel;
  KernelDefines defines;
};

// A float32 as a GLSL literal that parses back to the same float ("1.0", "1e-06").
std::string glslFloat(float value);
// "float[](a, b, ...)".
std::string glslFloatArray(std::span<const float> values);

// transformers' RoPE inverse frequencies in float32: 1 / base^(2i/D), then / factor
// (linear scaling), for i < head_dim / 2.
std::vector<float> ropeInverseFrequencies(uint32_t head_dim, double base, double linear_factor);

// The lookup table[id] * scale; Gemma's scale is sqrt(hidden), which the graph
// carries (unicorn.embed): it is rounded once, to float32, here.
// `slices`: the table's row slices, bound as one array (1 to kMaxEmbeddingSlices).
KernelRequest embeddingKernel(uint32_t hidden, double scale, uint32_t workgroup_size = 256, uint32_t slices = 1);
// The lookup from a Q8Block32 / Q4Block32 table (embedding_quant.comp); hidden
// must be a positive multiple of 32.
KernelRequest quantEmbeddingKernel(BlockQuant quant, uint32_t hidden, double scale, uint32_t workgroup_size = 256,
                                   uint32_t slices = 1);
// The most row slices an embedding binds (schedule.fbs: an array binding's limit).
inline constexpr uint32_t kMaxEmbeddingSlices = 64;
// width: a multiple of 4 (rows are read as vec4s; row bases and strides multiples of 4).
// quantised_output (add_to_output false only): as rmsNormAddNormKernel's (binding 3).
KernelRequest rmsNormKernel(uint32_t width, float eps, bool add_to_output, uint32_t workgroup_size = 256,
                            std::optional<BlockQuant> quantised_output = std::nullopt);
// A post-norm added into the residual, then the next norm of that sum, in one
// dispatch (rms_norm_add_norm.comp).
// quantised_output: normed also quantised per block of 32 as quantize_activation
// does it for that scheme's packed products (binding 5), where
// rmsNormQuantisedOutputFits: whole blocks, and 8 bytes of shared memory a vec4
// of the row within Vulkan's guaranteed 16 KiB.
inline bool rmsNormQuantisedOutputFits(uint32_t width, uint32_t workgroup_size) {
  return width % 32 == 0 && uint64_t(width) * 2 + uint64_t(workgroup_size) * 4 <= 16384;
}
KernelRequest rmsNormAddNormKernel(uint32_t width, float eps, float next_eps, uint32_t workgroup_size = 256,
                                   std::optional<BlockQuant> quantised_output = std::nullopt);

struct RopeParameters {
  double base = 10000.0;
  double linear_factor = 1.0;  // positions are effectively divided by this
};
// norm_eps: per-head RMSNorm (q_norm/k_norm) when set; rope: rotary embedding when set.
// Neither: a copy of each head into its destination row (V into the KV cache).
KernelRequest headNormRopeKernel(uint32_t head_dim, uint32_t num_heads, std::optional<float> norm_eps,
                                 std::optional<RopeParameters> rope, uint32_t workgroup_size = 64);
// A layer's q heads (norm + RoPE), k heads (norm + RoPE, into the key cache)
// and v heads (into the value cache) in one dispatch (qkv_norm_rope.comp).
KernelRequest qkvNormRopeKernel(uint32_t head_dim, uint32_t num_heads, uint32_t num_kv_heads, float eps,
                                const RopeParameters& rope, uint32_t workgroup_size = 64);

// matvec_bf16 reads rows in 16-byte units: K must be a multiple of 8, and the
// input's base and token stride (push constants) multiples of 4. gelu_input:
// x is gelu_tanh(gate) * up of a fused gate|up row (up K elements after gate),
// as matvec_quant's and quantize_activation's. row_groups: the workgroup's
// rows split over that many groups of its invocations (matvec_rows.glsl), a
// power of two dividing rows_per_workgroup and workgroup_size; as for the
// quantised products below.
KernelRequest matvecKernel(uint32_t k, uint32_t n, uint32_t rows_per_workgroup = 4, uint32_t workgroup_size = 256,
                           float softcap = 0.0f, bool gelu_input = false, uint32_t row_groups = 1);
// The prefill products (matmul_bf16.comp, matmul_quant.comp and the
// cooperative-matrix kernel) compute tiles of 64 tokens x 64 rows of y, one
// workgroup each: dispatch (ceil(N / 64), ceil(tokens / 64), splits). With
// `splits` > 1 (split-K, split_k.glsl; the tiled kernels only) each tile's K
// is shared by that many workgroups, which bind two more buffers after their
// others: partials of splitKPartialFloats floats and counts of splitKCounts
// uints, zeroed before the first dispatch.
inline constexpr uint32_t kMatmulTile = 64;
inline constexpr uint32_t kCoopMatmulTile = 128;
inline constexpr uint32_t kMaxMatmulSplits = 16;
// What the split-K bindings must hold for a product of n rows and `tokens`
// rows of x (for either kernel's tiles, the tiled kernel's 64 x 64 and the
// cooperative-matrix one's 128 x 128, should that one split too).
constexpr uint64_t matmulTiles(uint32_t tokens, uint32_t n, uint32_t tile) {
  return ((uint64_t(tokens) + tile - 1) / tile) * ((uint64_t(n) + tile - 1) / tile);
}
constexpr uint64_t splitKCounts(uint32_t tokens, uint32_t n) {
  const uint64_t tiled = matmulTiles(tokens, n, kMatmulTile), coop = matmulTiles(tokens, n, kCoopMatmulTile);
  return tiled > coop ? tiled : coop;
}
constexpr uint64_t splitKPartialFloats(uint32_t tokens, uint32_t n, uint32_t splits) {
  const uint64_t tiled = matmulTiles(tokens, n, kMatmulTile) * kMatmulTile * kMatmulTile;
  const uint64_t coop = matmulTiles(tokens, n, kCoopMatmulTile) * kCoopMatmulTile * kCoopMatmulTile;
  return (tiled > coop ? tiled : coop) * splits;
}
// matmul_bf16 reads x in vec4s and W in 16-byte units: K must be a multiple of
// 8, the input's base and token stride (push constants) multiples of 4.
KernelRequest matmulKernel(uint32_t k, uint32_t n, float softcap = 0.0f, uint32_t splits = 1);
// matmul_bf16_coop: matmulKernel's product (the same dispatch grid, bindings
// and alignment, split-K's included; its own tiles are 128 x 128) on
// cooperative-matrix units; it steps through K 32 columns at a time, so K must
// be a multiple of that. The device needs VK_KHR_cooperative_matrix with
// 16x16x16 fp16 products into fp32, and subgroups of 32.
inline constexpr uint32_t kCoopMatmulStepK = 32;
KernelRequest coopMatmulKernel(uint32_t k, uint32_t n, float softcap = 0.0f, uint32_t splits = 1);

// The same products over Q8Block32 / Q4Block32 weights (matvec_quant.comp,
// matmul_quant.comp): K must be a positive multiple of 32 (the block size); the
// input's base and token stride multiples of 4.
KernelRequest quantMatvecKernel(BlockQuant quant, uint32_t k, uint32_t n, uint32_t rows_per_workgroup = 4,
                                uint32_t workgroup_size = 256, float softcap = 0.0f, bool gelu_input = false,
                                uint32_t row_groups = 1);
// matvec_quant_dot: the same product on packed int8 dot products (the device
// needs shaderIntegerDotProduct), its x quantised to int8 per block first by
// quantize_activation (same QUANT_BITS and K), whose output it binds as x.
KernelRequest quantDotMatvecKernel(BlockQuant quant, uint32_t k, uint32_t n, uint32_t rows_per_workgroup = 16,
                                   uint32_t workgroup_size = 64, float softcap = 0.0f, uint32_t row_groups = 1);
// quantize_activation: rows of K floats to the int8 blocks matvec_quant_dot
// reads, in the byte order of `quant`'s weights.
KernelRequest quantizeActivationKernel(BlockQuant quant, uint32_t k, uint32_t workgroup_size = 64,
                                       bool gelu_input = false);
// The 16-byte units of one row of K quantised x (three per block of 32): the
// row stride of quantize_activation's output and of matvec_quant_dot's x.
constexpr uint32_t quantizedActivationUnits(uint32_t k) { return k / 32 * 3; }
KernelRequest quantMatmulKernel(BlockQuant quant, uint32_t k, uint32_t n, float softcap = 0.0f, uint32_t splits = 1);
// matmul_quant_coop: quantMatmulKernel's product (same grid, bindings and
// alignment) on cooperative-matrix units, as matmul_bf16_coop is matmulKernel's.
KernelRequest coopQuantMatmulKernel(BlockQuant quant, uint32_t k, uint32_t n, float softcap = 0.0f,
                                    uint32_t splits = 1);

struct AttentionShape {
  uint32_t head_dim = 0;
  uint32_t num_heads = 0;
  uint32_t num_kv_heads = 0;
  double query_scale = 0;           // Gemma: query_pre_attn_scalar^-0.5 (not head_dim^-0.5)
  uint32_t window = 0;              // 0: global attention
  float softcap = 0;                // 0: off
  uint32_t splits = 1;              // > 1: split-K decode (splitAttentionKernel, at most 64)
};
// attention.comp: one workgroup a (head, token); splits must be 1.
KernelRequest attentionKernel(const AttentionShape& shape, uint32_t workgroup_size = 64);
// attention_split.comp: split-K decode over `splits` (2 to 64) workgroups a
// (head, token), the last to finish combining them; it binds the partials and
// a count per head besides attention's bindings.
KernelRequest splitAttentionKernel(const AttentionShape& shape, uint32_t workgroup_size = 64);
// attention_decode.comp: splitAttentionKernel's attention of the one decode
// token from its layer's q|k|v product row, with the q and k heads' RMSNorm
// (eps) and RoPE (rope) and the step's key and value put into the cache
// (head_dim even). quantised_output: the output row also quantised per block
// of 32 as quantize_activation does it for that scheme's packed products
// (binding 9; head_dim a multiple of 32: attentionQuantisedOutputFits).
inline bool attentionQuantisedOutputFits(uint32_t head_dim) { return head_dim % 32 == 0; }
KernelRequest decodeAttentionKernel(const AttentionShape& shape, float eps, const RopeParameters& rope,
                                    uint32_t workgroup_size = 64,
                                    std::optional<BlockQuant> quantised_output = std::nullopt);
// Prefill attention, flash-style (attention_prefill.comp): workgroups of 64
// take 8 tokens of one head each, dispatch (heads, ceil(tokens / 8), 1);
// head_dim a multiple of 8 up to 256 (its shared memory stays within 16 KiB).
inline constexpr uint32_t kAttentionPrefillTokens = 8, kAttentionPrefillMaxHeadDim = 256;
inline bool attentionPrefillFits(uint32_t head_dim) {
  return head_dim % 8 == 0 && head_dim <= kAttentionPrefillMaxHeadDim;
}
KernelRequest attentionPrefillKernel(const AttentionShape& shape);

KernelRequest geluMulKernel(uint32_t width, uint32_t workgroup_size = 256);

// token_maxima: each token's largest |x| over its K floats (K a multiple of 4),
// the scales of the cooperative-matrix products that read x.
KernelRequest tokenMaximaKernel(uint32_t k, uint32_t workgroup_size = 256);
// row_bounds: a bound on each row's |w| over its K columns (bits 0: bf16
// rows, K a multiple of 8; 8 or 4: from the block scales, K a multiple of
// 32), the cooperative-matrix products' W row scales; 8 rows a workgroup.
KernelRequest rowBoundsKernel(uint32_t k, uint32_t bits, uint32_t workgroup_size = 256);
KernelRequest addKernel(uint32_t workgroup_size = 256);
// The index of each row's largest logit (argmax.comp); splits > 1: each of a
// row's `splits` workgroups writes a candidate for argmaxCombineKernel.
KernelRequest argmaxKernel(uint32_t count, uint32_t workgroup_size = 256, uint32_t splits = 1);
KernelRequest argmaxCombineKernel(uint32_t splits, uint32_t workgroup_size = 64);
// Vec4 loads an argmax invocation keeps in flight (on an H200: 8 took ~46 us
// per 262k row in one workgroup, 16 took 32).
inline constexpr uint32_t kArgmaxBatch = 16;
// Workgroups per row so that each invocation reads one batch (at most 64,
// argmax_combine's workgroup).
inline uint32_t argmaxSplits(uint32_t count, uint32_t workgroup_size) {
  const uint64_t per_workgroup = uint64_t(kArgmaxBatch) * workgroup_size * 4;  // logits in one batch
  return static_cast<uint32_t>(std::clamp<uint64_t>((count + per_workgroup - 1) / per_workgroup, 1, 64));
}
// Temperature / top-k / top-p sampling of one row of `count` logits (sample.comp).
KernelRequest sampleKernel(uint32_t count, uint32_t workgroup_size = 256);
KernelRequest logitsReadoutKernel(uint32_t count, uint32_t top_k, uint32_t workgroup_size = 256);

}  // namespace unicorn::spirv
