#include "codegen_spirv/kernel_params.h"

#include <limits>
#include <set>

#include "runtime/error.h"

namespace unicorn::spirv {
namespace {

// Reads the parameters of one kernel, remembering which were asked for so that
// a parameter the kernel does not take is an error too (a schedule bug).
class ParamReader {
 public:
  ParamReader(std::string_view kernel, const KernelParams& params) : kernel_(kernel), params_(params) {}

  [[noreturn]] void fail(const std::string& problem) const {
    throw Error(ExitCode::kInvalidInput, "kernel '" + kernel_ + "': " + problem);
  }

  bool has(std::string_view name) const { return params_.find(name) != params_.end(); }

  std::uint32_t u32(std::string_view name) {
    const std::int64_t value = get<std::int64_t>(name, "an integer");
    if (value < 0 || value > std::numeric_limits<std::uint32_t>::max()) {
      fail("parameter '" + std::string(name) + "' = " + std::to_string(value) + " is not a 32-bit unsigned value");
    }
    return static_cast<std::uint32_t>(value);
  }
  // A value the schedule gives only where it is not `absent`.
  std::uint32_t u32Or(std::string_view name, std::uint32_t absent) { return has(name) ? u32(name) : absent; }
  double real(std::string_view name) { return get<double>(name, "a float"); }
  bool flag(std::string_view name) { return get<bool>(name, "a bool"); }
  // A flag the schedule gives only when set (false when absent).
  bool optionalFlag(std::string_view name) { return has(name) && flag(name); }
  // Bits the schedule gives only where set (nullopt when absent).
  std::optional<BlockQuant> optionalBits(std::string_view name) {
    return has(name) ? std::optional(bits(name)) : std::nullopt;
  }
  BlockQuant bits(std::string_view name) {
    const std::uint32_t value = u32(name);
    if (value != 8 && value != 4) fail("parameter '" + std::string(name) + "' must be 8 or 4, got " + std::to_string(value));
    return value == 8 ? BlockQuant::kQ8 : BlockQuant::kQ4;
  }

  // After the last read: every parameter given was one the kernel takes.
  void requireAllRead() const {
    for (const auto& [name, value] : params_) {
      if (!read_.contains(name)) fail("takes no parameter '" + name + "'");
    }
  }

 private:
  template <typename T>
  T get(std::string_view name, const char* what) {
    auto found = params_.find(name);
    if (found == params_.end()) fail("needs parameter '" + std::string(name) + "'");
    const T* value = std::get_if<T>(&found->second);
    if (!value) fail("parameter '" + std::string(name) + "' must be " + what);
    read_.insert(found->first);
    return *value;
  }

  std::string kernel_;
  const KernelParams& params_;
  std::set<std::string, std::less<>> read_;
};

KernelRequest build(std::string_view kernel, ParamReader& p) {
  if (kernel == "embedding") {
    return embeddingKernel(p.u32("hidden"), p.real("scale"), p.u32("workgroup_size"), p.u32Or("slices", 1));
  }
  if (kernel == "embedding_quant") {
    return quantEmbeddingKernel(p.bits("bits"), p.u32("hidden"), p.real("scale"), p.u32("workgroup_size"),
                                p.u32Or("slices", 1));
  }
  if (kernel == "rms_norm") {
    return rmsNormKernel(p.u32("width"), static_cast<float>(p.real("eps")), p.flag("add_to_output"),
                         p.u32("workgroup_size"), p.optionalBits("quantised_bits"));
  }
  if (kernel == "rms_norm_add_norm") {
    return rmsNormAddNormKernel(p.u32("width"), static_cast<float>(p.real("eps")),
                                static_cast<float>(p.real("next_eps")), p.u32("workgroup_size"),
                                p.optionalBits("quantised_bits"));
  }
  if (kernel == "head_norm_rope") {
    // Norm and RoPE are each optional: present exactly when their parameters are.
    std::optional<float> eps;
    if (p.has("eps")) eps = static_cast<float>(p.real("eps"));
    std::optional<RopeParameters> rope;
    if (p.has("rope_base")) rope = RopeParameters{p.real("rope_base"), p.real("rope_linear_factor")};
    return headNormRopeKernel(p.u32("head_dim"), p.u32("num_heads"), eps, rope, p.u32("workgroup_size"));
  }
  if (kernel == "qkv_norm_rope") {
    return qkvNormRopeKernel(p.u32("head_dim"), p.u32("num_heads"), p.u32("num_kv_heads"),
                             static_cast<float>(p.real("eps")),
                             RopeParameters{p.real("rope_base"), p.real("rope_linear_factor")}, p.u32("workgroup_size"));
  }
  if (kernel == "matvec_bf16") {
    return matvecKernel(p.u32("k"), p.u32("n"), p.u32("rows_per_workgroup"), p.u32("workgroup_size"),
                        static_cast<float>(p.real("softcap")), p.optionalFlag("gelu_input"), p.u32Or("row_groups", 1));
  }
  if (kernel == "matvec_quant") {
    return quantMatvecKernel(p.bits("bits"), p.u32("k"), p.u32("n"), p.u32("rows_per_workgroup"),
                             p.u32("workgroup_size"), static_cast<float>(p.real("softcap")),
                             p.optionalFlag("gelu_input"), p.u32Or("row_groups", 1));
  }
  if (kernel == "matvec_quant_dot") {
    return quantDotMatvecKernel(p.bits("bits"), p.u32("k"), p.u32("n"), p.u32("rows_per_workgroup"),
                                p.u32("workgroup_size"), static_cast<float>(p.real("softcap")), p.u32Or("row_groups", 1));
  }
  if (kernel == "quantize_activation") {
    return quantizeActivationKernel(p.bits("bits"), p.u32("k"), p.u32("workgroup_size"),
                                    p.optionalFlag("gelu_input"));
  }
  if (kernel == "matmul_bf16") {
    return matmulKernel(p.u32("k"), p.u32("n"), static_cast<float>(p.real("softcap")), p.u32Or("splits", 1));
  }
  if (kernel == "matmul_bf16_coop") {
    return coopMatmulKernel(p.u32("k"), p.u32("n"), static_cast<float>(p.real("softcap")), p.u32Or("splits", 1));
  }
  if (kernel == "matmul_quant") {
    return quantMatmulKernel(p.bits("bits"), p.u32("k"), p.u32("n"), static_cast<float>(p.real("softcap")),
                             p.u32Or("splits", 1));
  }
  if (kernel == "matmul_quant_coop") {
    return coopQuantMatmulKernel(p.bits("bits"), p.u32("k"), p.u32("n"), static_cast<float>(p.real("softcap")),
                                 p.u32Or("splits", 1));
  }
  if (kernel == "attention" || kernel == "attention_split") {
    const bool split = kernel == "attention_split";
    AttentionShape shape{p.u32("head_dim"), p.u32("num_heads"), p.u32("num_kv_heads"), p.real("query_scale"),
                         p.u32("window"), static_cast<float>(p.real("softcap")), split ? p.u32("splits") : 1};
    return split ? splitAttentionKernel(shape, p.u32("workgroup_size")) : attentionKernel(shape, p.u32("workgroup_size"));
  }
  if (kernel == "attention_decode") {
    AttentionShape shape{p.u32("head_dim"), p.u32("num_heads"), p.u32("num_kv_heads"), p.real("query_scale"),
                         p.u32("window"), static_cast<float>(p.real("softcap")), p.u32("splits")};
    return decodeAttentionKernel(shape, static_cast<float>(p.real("eps")),
                                 RopeParameters{p.real("rope_base"), p.real("rope_linear_factor")},
                                 p.u32("workgroup_size"), p.optionalBits("quantised_bits"));
  }
  if (kernel == "attention_prefill") {
    return attentionPrefillKernel(AttentionShape{p.u32("head_dim"), p.u32("num_heads"), p.u32("num_kv_heads"),
                                                 p.real("query_scale"), p.u32("window"),
                                                 static_cast<float>(p.real("softcap"))});
  }
  if (kernel == "gelu_mul") return geluMulKernel(p.u32("width"), p.u32("workgroup_size"));
  if (kernel == "token_maxima") return tokenMaximaKernel(p.u32("k"), p.u32("workgroup_size"));
  if (kernel == "row_bounds") return rowBoundsKernel(p.u32("k"), p.u32("bits"), p.u32("workgroup_size"));
  if (kernel == "add") return addKernel(p.u32("workgroup_size"));
  if (kernel == "argmax") {
    return argmaxKernel(p.u32("count"), p.u32("workgroup_size"), p.has("splits") ? p.u32("splits") : 1);
  }
  if (kernel == "argmax_combine") return argmaxCombineKernel(p.u32("splits"), p.u32("workgroup_size"));
  if (kernel == "sample") return sampleKernel(p.u32("count"), p.u32("workgroup_size"));
  if (kernel == "logits_readout") {
    return logitsReadoutKernel(p.u32("count"), p.u32("top_k"), p.u32("workgroup_size"));
  }
  p.fail("is not a kernel of the library");
}

}  // namespace

KernelRequest specialise(std::string_view kernel, const KernelParams& params) {
  ParamReader reader(kernel, params);
  KernelRequest request = build(kernel, reader);
  reader.requireAllRead();
  return request;
}

}  // namespace unicorn::spirv
