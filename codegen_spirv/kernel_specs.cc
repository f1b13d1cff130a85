#include "codegen_spirv/kernel_specs.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "runtime/error.h"

namespace unicorn::spirv {
namespace {

[[noreturn]] void failShape(const std::string& kernel, const std::string& problem) {
  throw Error(ExitCode::kInvalidInput, "kernel '" + kernel + "': " + problem);
}

void requireWorkgroupSize(const std::string& kernel, uint32_t size) {
  // Vulkan guarantees 128 invocations; 1024 is the largest any target here has.
  if (size == 0 || size > 1024 || (size & (size - 1)) != 0) {
    failShape(kernel, "workgroup size " + std::to_string(size) + " is not a power of two in [1, 1024]");
  }
}

// The decode products' row groups (matvec_rows.glsl): a power of two dividing
// the rows per workgroup and the workgroup; ROW_GROUPS is defined only where it
// is not the default 1, so the usual specialisations keep their names.
void setRowGroups(KernelRequest& request, uint32_t row_groups, uint32_t rows_per_workgroup, uint32_t workgroup_size) {
  if (row_groups == 0 || (row_groups & (row_groups - 1)) != 0 || rows_per_workgroup % row_groups != 0 ||
      workgroup_size % row_groups != 0) {
    failShape(request.kernel, "row groups " + std::to_string(row_groups) +
                                  " must be a power of two dividing the rows per workgroup and the workgroup");
  }
  if (row_groups != 1) request.defines["ROW_GROUPS"] = std::to_string(row_groups);
}

void requirePositiveEven(const std::string& kernel, const char* what, uint32_t value) {
  if (value == 0 || value % 2 != 0) {
    failShape(kernel, std::string(what) + " must be even and positive (bf16 pairs), got " + std::to_string(value));
  }
}

// Rows read as vec4s.
void requireVec4Width(const std::string& kernel, uint32_t width) {
  if (width == 0 || width % 4 != 0) failShape(kernel, "width must be a positive multiple of 4, got " + std::to_string(width));
}

void requireBlockMultiple(const std::string& kernel, uint32_t k) {
  if (k == 0 || k % 32 != 0) {
    failShape(kernel, "K must be a positive multiple of 32 (the quantisation block), got " + std::to_string(k));
  }
}

void requireEmbeddingSlices(const std::string& kernel, uint32_t slices) {
  if (slices == 0 || slices > kMaxEmbeddingSlices) {
    failShape(kernel,
              "slices must be in [1, " + std::to_string(kMaxEmbeddingSlices) + "], got " + std::to_string(slices));
  }
}

void requireSplits(const std::string& kernel, uint32_t splits) {
  if (splits == 0 || splits > 64) failShape(kernel, "splits must be in [1, 64], got " + std::to_string(splits));
}

void requirePositiveScale(const std::string& kernel, double scale) {
  if (!(scale > 0.0)) failShape(kernel, "the embedding scale must be positive");
}

std::string text(uint32_t value) { return std::to_string(value); }

// ROPE_INV_FREQ for rope.glsl.
std::string ropeTable(const std::string& kernel, uint32_t head_dim, const RopeParameters& rope) {
  if (!(rope.base > 1.0) || !(rope.linear_factor > 0.0)) {
    failShape(kernel, "RoPE base must exceed 1 and the scaling factor be positive");
  }
  return glslFloatArray(ropeInverseFrequencies(head_dim, rope.base, rope.linear_factor));
}

}  // namespace

std::string glslFloat(float value) {
  if (!std::isfinite(value)) throw Error(ExitCode::kInvalidInput, "kernel constant is not finite");
  char buffer[32];
  // 9 significant digits round-trip every float32.
  std::snprintf(buffer, sizeof buffer, "%.9g", static_cast<double>(value));
  std::string literal(buffer);
  if (literal.find_first_of(".e") == std::string::npos) literal += ".0";
  return literal;
}

std::string glslFloatArray(std::span<const float> values) {
  std::string literal = "float[](";
  for (size_t i = 0; i < values.size(); ++i) literal += (i ? ", " : "") + glslFloat(values[i]);
  return literal + ")";
}

std::vector<float> ropeInverseFrequencies(uint32_t head_dim, double base, double linear_factor) {
  // transformers: 1.0 / (base ** (arange(0, dim, 2).float() / dim)), all float32,
  // then inv_freq / factor for linear scaling.
  std::vector<float> inverse(head_dim / 2);
  const float base_f = static_cast<float>(base);
  const float factor_f = static_cast<float>(linear_factor);
  for (uint32_t i = 0; i < head_dim / 2; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    float frequency = 1.0f / std::pow(base_f, exponent);
    inverse[i] = frequency / factor_f;
  }
  return inverse;
}

KernelRequest embeddingKernel(uint32_t hidden, double scale, uint32_t workgroup_size, uint32_t slices) {
  KernelRequest request{"embedding", {}};
  requirePositiveEven(request.kernel, "hidden size", hidden);
  requireWorkgroupSize(request.kernel, workgroup_size);
  requirePositiveScale(request.kernel, scale);
  requireEmbeddingSlices(request.kernel, slices);
  request.defines = {{"HIDDEN", text(hidden)},
                     {"EMBED_SCALE", glslFloat(static_cast<float>(scale))},
                     {"WG_SIZE", text(workgroup_size)}};
  if (slices > 1) request.defines["SLICES"] = text(slices);
  return request;
}

KernelRequest quantEmbeddingKernel(BlockQuant quant, uint32_t hidden, double scale, uint32_t workgroup_size,
                                   uint32_t slices) {
  KernelRequest request{"embedding_quant", {}};
  requireBlockMultiple(request.kernel, hidden);
  requireWorkgroupSize(request.kernel, workgroup_size);
  requirePositiveScale(request.kernel, scale);
  requireEmbeddingSlices(request.kernel, slices);
  request.defines = {{"QUANT_BITS", text(quantBits(quant))},
                     {"K", text(hidden)},
                     {"EMBED_SCALE", glslFloat(static_cast<float>(scale))},
                     {"WG_SIZE", text(workgroup_size)}};
  if (slices > 1) request.defines["SLICES"] = text(slices);
  return request;
}

namespace {

// A norm's quantised output (norm_quantise.glsl): QUANT_BITS where it fits.
void setQuantisedOutput(KernelRequest& request, uint32_t width, uint32_t workgroup_size,
                        std::optional<BlockQuant> quantised_output) {
  if (!quantised_output) return;
  requireBlockMultiple(request.kernel, width);
  if (!rmsNormQuantisedOutputFits(width, workgroup_size)) {
    failShape(request.kernel, "a quantised output of width " + text(width) + " needs more shared memory than 16 KiB");
  }
  request.defines["QUANT_BITS"] = text(quantBits(*quantised_output));
}

}  // namespace

KernelRequest rmsNormKernel(uint32_t width, float eps, bool add_to_output, uint32_t workgroup_size,
                            std::optional<BlockQuant> quantised_output) {
  KernelRequest request{"rms_norm", {}};
  requireVec4Width(request.kernel, width);
  requireWorkgroupSize(request.kernel, workgroup_size);
  request.defines = {{"WIDTH", text(width)},
                     {"EPS", glslFloat(eps)},
                     {"ADD_TO_OUTPUT", add_to_output ? "1" : "0"},
                     {"WG_SIZE", text(workgroup_size)}};
  if (quantised_output && add_to_output) failShape(request.kernel, "a quantised output needs add_to_output off");
  setQuantisedOutput(request, width, workgroup_size, quantised_output);
  return request;
}

KernelRequest rmsNormAddNormKernel(uint32_t width, float eps, float next_eps, uint32_t workgroup_size,
                                   std::optional<BlockQuant> quantised_output) {
  KernelRequest request{"rms_norm_add_norm", {}};
  requireVec4Width(request.kernel, width);
  requireWorkgroupSize(request.kernel, workgroup_size);
  request.defines = {{"WIDTH", text(width)},
                     {"EPS", glslFloat(eps)},
                     {"NEXT_EPS", glslFloat(next_eps)},
                     {"WG_SIZE", text(workgroup_size)}};
  setQuantisedOutput(request, width, workgroup_size, quantised_output);
  return request;
}

KernelRequest headNormRopeKernel(uint32_t head_dim, uint32_t num_heads, std::optional<float> norm_eps,
                                 std::optional<RopeParameters> rope, uint32_t workgroup_size) {
  KernelRequest request{"head_norm_rope", {}};
  requirePositiveEven(request.kernel, "head_dim", head_dim);
  requireWorkgroupSize(request.kernel, workgroup_size);
  if (num_heads == 0) failShape(request.kernel, "no heads");
  request.defines = {{"HEAD_DIM", text(head_dim)},
                     {"NUM_HEADS", text(num_heads)},
                     {"APPLY_NORM", norm_eps ? "1" : "0"},
                     {"APPLY_ROPE", rope ? "1" : "0"},
                     {"WG_SIZE", text(workgroup_size)}};
  if (norm_eps) request.defines["EPS"] = glslFloat(*norm_eps);
  if (rope) request.defines["ROPE_INV_FREQ"] = ropeTable(request.kernel, head_dim, *rope);
  return request;
}

KernelRequest qkvNormRopeKernel(uint32_t head_dim, uint32_t num_heads, uint32_t num_kv_heads, float eps,
                                const RopeParameters& rope, uint32_t workgroup_size) {
  KernelRequest request{"qkv_norm_rope", {}};
  requirePositiveEven(request.kernel, "head_dim", head_dim);
  requireWorkgroupSize(request.kernel, workgroup_size);
  if (num_heads == 0 || num_kv_heads == 0) failShape(request.kernel, "no heads");
  request.defines = {{"HEAD_DIM", text(head_dim)},
                     {"NUM_HEADS", text(num_heads)},
                     {"NUM_KV_HEADS", text(num_kv_heads)},
                     {"EPS", glslFloat(eps)},
                     {"ROPE_INV_FREQ", ropeTable(request.kernel, head_dim, rope)},
                     {"WG_SIZE", text(workgroup_size)}};
  return request;
}

KernelRequest matvecKernel(uint32_t k, uint32_t n, uint32_t rows_per_workgroup, uint32_t workgroup_size,
                           float softcap, bool gelu_input, uint32_t row_groups) {
  KernelRequest request{"matvec_bf16", {}};
  // The kernel reads rows in 16-byte units of 8 weights.
  if (k == 0 || k % 8 != 0) failShape(request.kernel, "K must be a positive multiple of 8, got " + text(k));
  requireWorkgroupSize(request.kernel, workgroup_size);
  if (n == 0) failShape(request.kernel, "N is 0");
  if (rows_per_workgroup == 0 || rows_per_workgroup > workgroup_size) {
    failShape(request.kernel, "rows per workgroup must be in [1, workgroup size]");
  }
  request.defines = {{"K", text(k)},
                     {"N", text(n)},
                     {"ROWS_PER_WG", text(rows_per_workgroup)},
                     {"SOFTCAP", glslFloat(softcap)},
                     {"WG_SIZE", text(workgroup_size)},
                     {"GELU_INPUT", gelu_input ? "1" : "0"}};
  setRowGroups(request, row_groups, rows_per_workgroup, workgroup_size);
  return request;
}

namespace {

// SPLITS only where split (its two bindings come with it: KernelInfo::extra_bindings).
void setSplits(KernelRequest& request, uint32_t splits) {
  if (splits == 0 || splits > kMaxMatmulSplits) {
    failShape(request.kernel, "splits must be in [1, " + text(kMaxMatmulSplits) + "], got " + text(splits));
  }
  if (splits > 1) request.defines["SPLITS"] = text(splits);
}

}  // namespace

KernelRequest matmulKernel(uint32_t k, uint32_t n, float softcap, uint32_t splits) {
  KernelRequest request{"matmul_bf16", {}};
  // The kernel reads rows in 16-byte units of 8 weights.
  if (k == 0 || k % 8 != 0) failShape(request.kernel, "K must be a positive multiple of 8, got " + text(k));
  if (n == 0) failShape(request.kernel, "N is 0");
  request.defines = {{"K", text(k)}, {"N", text(n)}, {"SOFTCAP", glslFloat(softcap)}};
  setSplits(request, splits);
  return request;
}

KernelRequest coopMatmulKernel(uint32_t k, uint32_t n, float softcap, uint32_t splits) {
  KernelRequest request{"matmul_bf16_coop", {}};
  if (k == 0 || k % kCoopMatmulStepK != 0) failShape(request.kernel, "K must be a positive multiple of 32");
  if (n == 0) failShape(request.kernel, "N is 0");
  request.defines = {{"K", text(k)}, {"N", text(n)}, {"SOFTCAP", glslFloat(softcap)}};
  setSplits(request, splits);
  return request;
}

namespace {

// matvec_quant and matvec_quant_dot share their interface and constraints.
KernelRequest quantMatvecRequest(const char* kernel, BlockQuant quant, uint32_t k, uint32_t n,
                                 uint32_t rows_per_workgroup, uint32_t workgroup_size, float softcap,
                                 uint32_t row_groups) {
  KernelRequest request{kernel, {}};
  requireBlockMultiple(request.kernel, k);
  requireWorkgroupSize(request.kernel, workgroup_size);
  if (n == 0) failShape(request.kernel, "N is 0");
  if (rows_per_workgroup == 0 || rows_per_workgroup > workgroup_size) {
    failShape(request.kernel, "rows per workgroup must be in [1, workgroup size]");
  }
  request.defines = {{"QUANT_BITS", text(quantBits(quant))},
                     {"K", text(k)},
                     {"N", text(n)},
                     {"ROWS_PER_WG", text(rows_per_workgroup)},
                     {"SOFTCAP", glslFloat(softcap)},
                     {"WG_SIZE", text(workgroup_size)}};
  setRowGroups(request, row_groups, rows_per_workgroup, workgroup_size);
  return request;
}

}  // namespace

KernelRequest quantMatvecKernel(BlockQuant quant, uint32_t k, uint32_t n, uint32_t rows_per_workgroup,
                                uint32_t workgroup_size, float softcap, bool gelu_input, uint32_t row_groups) {
  KernelRequest request =
      quantMatvecRequest("matvec_quant", quant, k, n, rows_per_workgroup, workgroup_size, softcap, row_groups);
  request.defines["GELU_INPUT"] = gelu_input ? "1" : "0";
  return request;
}

KernelRequest quantDotMatvecKernel(BlockQuant quant, uint32_t k, uint32_t n, uint32_t rows_per_workgroup,
                                   uint32_t workgroup_size, float softcap, uint32_t row_groups) {
  return quantMatvecRequest("matvec_quant_dot", quant, k, n, rows_per_workgroup, workgroup_size, softcap, row_groups);
}

KernelRequest quantizeActivationKernel(BlockQuant quant, uint32_t k, uint32_t workgroup_size, bool gelu_input) {
  KernelRequest request{"quantize_activation", {}};
  requireBlockMultiple(request.kernel, k);
  requireWorkgroupSize(request.kernel, workgroup_size);
  request.defines = {{"QUANT_BITS", text(quantBits(quant))},
                     {"K", text(k)},
                     {"WG_SIZE", text(workgroup_size)},
                     {"GELU_INPUT", gelu_input ? "1" : "0"}};
  return request;
}

namespace {

// matmul_quant and matmul_quant_coop share their interface and constraints.
KernelRequest quantMatmulRequest(const char* kernel, BlockQuant quant, uint32_t k, uint32_t n, float softcap,
                                 uint32_t splits) {
  KernelRequest request{kernel, {}};
  requireBlockMultiple(request.kernel, k);
  if (n == 0) failShape(request.kernel, "N is 0");
  request.defines = {{"QUANT_BITS", text(quantBits(quant))},
                     {"K", text(k)},
                     {"N", text(n)},
                     {"SOFTCAP", glslFloat(softcap)}};
  setSplits(request, splits);
  return request;
}

}  // namespace

KernelRequest quantMatmulKernel(BlockQuant quant, uint32_t k, uint32_t n, float softcap, uint32_t splits) {
  return quantMatmulRequest("matmul_quant", quant, k, n, softcap, splits);
}

KernelRequest coopQuantMatmulKernel(BlockQuant quant, uint32_t k, uint32_t n, float softcap, uint32_t splits) {
  return quantMatmulRequest("matmul_quant_coop", quant, k, n, softcap, splits);
}

namespace {

// What attention.comp, attention_split.comp and attention_prefill.comp all
// need of a shape; their common defines.
void requireAttentionShape(const std::string& kernel, const AttentionShape& shape) {
  if (shape.head_dim == 0 || shape.num_heads == 0 || shape.num_kv_heads == 0 ||
      shape.num_heads % shape.num_kv_heads != 0) {
    failShape(kernel, "heads (" + text(shape.num_heads) + ") must be a positive multiple of kv heads (" +
                          text(shape.num_kv_heads) + ") and head_dim positive");
  }
  if (!(shape.query_scale > 0)) failShape(kernel, "the query scale must be positive");
}

KernelDefines attentionDefines(const AttentionShape& shape) {
  return {{"HEAD_DIM", text(shape.head_dim)},
          {"NUM_HEADS", text(shape.num_heads)},
          {"NUM_KV_HEADS", text(shape.num_kv_heads)},
          {"QUERY_SCALE", glslFloat(static_cast<float>(shape.query_scale))},
          {"WINDOW", text(shape.window)},
          {"SOFTCAP", glslFloat(shape.softcap)}};
}

// attention.comp, attention_split.comp and attention_decode.comp read keys as
// vec4s, a key's shares by up to 4 neighbouring lanes.
KernelRequest decodeAttentionRequest(const char* kernel, const AttentionShape& shape, uint32_t workgroup_size) {
  KernelRequest request{kernel, {}};
  requireWorkgroupSize(request.kernel, workgroup_size);
  requireAttentionShape(request.kernel, shape);
  if (shape.head_dim % 4 != 0) failShape(request.kernel, "head_dim must be a multiple of 4, got " + text(shape.head_dim));
  if (workgroup_size < 4) failShape(request.kernel, "the workgroup must have at least 4 invocations");
  request.defines = attentionDefines(shape);
  request.defines["WG_SIZE"] = text(workgroup_size);
  return request;
}

// attention_split.comp and attention_decode.comp: shares of the keys.
KernelRequest splitAttentionRequest(const char* kernel, const AttentionShape& shape, uint32_t workgroup_size) {
  KernelRequest request = decodeAttentionRequest(kernel, shape, workgroup_size);
  requireSplits(request.kernel, shape.splits);
  if (shape.splits < 2) failShape(request.kernel, "splits must be at least 2, got " + text(shape.splits));
  // The last share weighs the shares a lane each.
  if (shape.splits > workgroup_size) {
    failShape(request.kernel, "splits (" + text(shape.splits) + ") must not exceed the workgroup size (" +
                                  text(workgroup_size) + ")");
  }
  request.defines["SPLITS"] = text(shape.splits);
  return request;
}

}  // namespace

KernelRequest attentionKernel(const AttentionShape& shape, uint32_t workgroup_size) {
  KernelRequest request = decodeAttentionRequest("attention", shape, workgroup_size);
  if (shape.splits != 1) failShape(request.kernel, "split-K attention is attention_split");
  return request;
}

KernelRequest splitAttentionKernel(const AttentionShape& shape, uint32_t workgroup_size) {
  return splitAttentionRequest("attention_split", shape, workgroup_size);
}

KernelRequest decodeAttentionKernel(const AttentionShape& shape, float eps, const RopeParameters& rope,
                                    uint32_t workgroup_size, std::optional<BlockQuant> quantised_output) {
  KernelRequest request = splitAttentionRequest("attention_decode", shape, workgroup_size);
  requirePositiveEven(request.kernel, "head_dim", shape.head_dim);
  request.defines["EPS"] = glslFloat(eps);
  request.defines["ROPE_INV_FREQ"] = ropeTable(request.kernel, shape.head_dim, rope);
  if (quantised_output) {
    if (!attentionQuantisedOutputFits(shape.head_dim)) {
      failShape(request.kernel, "a quantised output needs head_dim a multiple of 32, got " + text(shape.head_dim));
    }
    request.defines["QUANT_BITS"] = text(quantBits(*quantised_output));
  }
  return request;
}

KernelRequest attentionPrefillKernel(const AttentionShape& shape) {
  KernelRequest request{"attention_prefill", {}};
  requireAttentionShape(request.kernel, shape);
  if (!attentionPrefillFits(shape.head_dim)) {
    failShape(request.kernel, "head_dim must be a multiple of 8 up to " + text(kAttentionPrefillMaxHeadDim) +
                                  ", got " + text(shape.head_dim));
  }
  if (shape.splits != 1) failShape(request.kernel, "a prefill chunk is not split");
  request.defines = attentionDefines(shape);
  return request;
}

KernelRequest geluMulKernel(uint32_t width, uint32_t workgroup_size) {
  KernelRequest request{"gelu_mul", {}};
  requireWorkgroupSize(request.kernel, workgroup_size);
  if (width == 0) failShape(request.kernel, "width is 0");
  request.defines = {{"WIDTH", text(width)}, {"WG_SIZE", text(workgroup_size)}};
  return request;
}

KernelRequest tokenMaximaKernel(uint32_t k, uint32_t workgroup_size) {
  KernelRequest request{"token_maxima", {}};
  requireVec4Width(request.kernel, k);
  requireWorkgroupSize(request.kernel, workgroup_size);
  request.defines = {{"K", text(k)}, {"WG_SIZE", text(workgroup_size)}};
  return request;
}

KernelRequest rowBoundsKernel(uint32_t k, uint32_t bits, uint32_t workgroup_size) {
  KernelRequest request{"row_bounds", {}};
  requireWorkgroupSize(request.kernel, workgroup_size);
  if (workgroup_size < 8) failShape(request.kernel, "workgroup size " + text(workgroup_size) + " is under its 8 rows");
  if (bits != 0 && bits != 8 && bits != 4) failShape(request.kernel, "bits " + text(bits) + " is not 0, 8 or 4");
  if (bits == 0 && (k == 0 || k % 8 != 0)) failShape(request.kernel, "K " + text(k) + " is not a multiple of 8");
  if (bits != 0) requireBlockMultiple(request.kernel, k);
  request.defines = {{"K", text(k)}, {"QUANT_BITS", text(bits)}, {"WG_SIZE", text(workgroup_size)}};
  return request;
}

KernelRequest addKernel(uint32_t workgroup_size) {
  KernelRequest request{"add", {}};
  requireWorkgroupSize(request.kernel, workgroup_size);
  request.defines = {{"WG_SIZE", text(workgroup_size)}};
  return request;
}

KernelRequest argmaxKernel(uint32_t count, uint32_t workgroup_size, uint32_t splits) {
  KernelRequest request{"argmax", {}};
  requireWorkgroupSize(request.kernel, workgroup_size);
  requireSplits(request.kernel, splits);
  if (count == 0) failShape(request.kernel, "no logits");
  request.defines = {{"COUNT", text(count)},
                     {"BATCH", text(kArgmaxBatch)},
                     {"SPLITS", text(splits)},
                     {"WG_SIZE", text(workgroup_size)}};
  return request;
}

KernelRequest argmaxCombineKernel(uint32_t splits, uint32_t workgroup_size) {
  KernelRequest request{"argmax_combine", {}};
  requireWorkgroupSize(request.kernel, workgroup_size);
  requireSplits(request.kernel, splits);
  if (splits > workgroup_size) {
    failShape(request.kernel, "splits (" + text(splits) + ") exceed the workgroup (" + text(workgroup_size) + ")");
  }
  request.defines = {{"SPLITS", text(splits)}, {"WG_SIZE", text(workgroup_size)}};
  return request;
}

KernelRequest sampleKernel(uint32_t count, uint32_t workgroup_size) {
  KernelRequest request{"sample", {}};
  requireWorkgroupSize(request.kernel, workgroup_size);
  if (count == 0) failShape(request.kernel, "no logits");
  request.defines = {{"COUNT", text(count)}, {"WG_SIZE", text(workgroup_size)}};
  return request;
}

KernelRequest logitsReadoutKernel(uint32_t count, uint32_t top_k, uint32_t workgroup_size) {
  KernelRequest request{"logits_readout", {}};
  requireWorkgroupSize(request.kernel, workgroup_size);
  if (count == 0 || top_k == 0 || top_k > count) {
    failShape(request.kernel, "top-k " + text(top_k) + " must be in [1, " + text(count) + "]");
  }
  request.defines = {{"COUNT", text(count)}, {"TOP_K", text(top_k)}, {"WG_SIZE", text(workgroup_size)}};
  return request;
}

}  // namespace unicorn::spirv
