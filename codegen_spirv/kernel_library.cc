#include "codegen_spirv/kernel_library.h"

#include <algorithm>

#include "codegen_spirv/embedded_kernel_sources.h"
#include "codegen_spirv/kernel_push_constants.h"
#include "runtime/error.h"

namespace unicorn::spirv {
namespace {

std::string embeddedText(std::string_view file) {
  for (const embedded::SourceFile& source : embedded::kSourceFiles) {
    if (source.name == file) return std::string(source.text);
  }
  // The table is generated from the same list as this code; a miss is a build bug.
  throw Error(ExitCode::kInvalidInput, "kernel source '" + std::string(file) + "' is not embedded in this build");
}

std::span<const uint32_t> embeddedModule(std::string_view file) {
  for (const embedded::ModuleFile& module : embedded::kModuleFiles) {
    if (module.name == file) return module.words;
  }
  throw Error(ExitCode::kInvalidInput, "kernel module '" + std::string(file) + "' is not embedded in this build");
}

KernelDefine required(std::string name) { return {std::move(name), true, ""}; }
KernelDefine optional(std::string name, std::string default_value) {
  return {std::move(name), false, std::move(default_value)};
}

// A kernel's name and interface; its code is added by kernel() or dialectKernel().
KernelInfo interface(std::string name, std::vector<KernelDefine> defines, uint32_t storage_buffers,
                     uint32_t push_constant_bytes) {
  KernelInfo info;
  info.name = std::move(name);
  info.defines = std::move(defines);
  info.storage_buffer_count = storage_buffers;
  info.push_constant_bytes = push_constant_bytes;
  return info;
}

// A GLSL kernel (kernels/<name>.comp).
KernelInfo kernel(std::string name, std::vector<KernelDefine> defines, uint32_t storage_buffers,
                  uint32_t push_constant_bytes) {
  KernelInfo info = interface(std::move(name), std::move(defines), storage_buffers, push_constant_bytes);
  info.source = embeddedText(info.name + ".comp");
  return info;
}

// `info` with `count` more bindings where `define` is set (KernelInfo::extra_bindings).
KernelInfo withExtraBindings(KernelInfo info, std::string define, uint32_t count) {
  info.extra_bindings = KernelInfo::ExtraBindings{std::move(define), count};
  return info;
}

// `info` with `bindings` arrays of as many buffers as `define` says (KernelInfo::array_bindings).
KernelInfo withArrayBindings(KernelInfo info, std::string define, std::vector<uint32_t> bindings) {
  info.array_bindings = KernelInfo::ArrayBindings{std::move(define), std::move(bindings)};
  return info;
}

// `info` (a dialect kernel) running `entry_point` where `define` is set (KernelInfo::alternate_entry_point).
KernelInfo withAlternateEntryPoint(KernelInfo info, std::string define, std::string entry_point) {
  info.alternate_entry_point = KernelInfo::AlternateEntryPoint{std::move(define), std::move(entry_point)};
  return info;
}

// A kernel written in MLIR's SPIR-V dialect (kernels/<name>.mlir); `defines`
// name its specialisation constants.
KernelInfo dialectKernel(std::string name, std::vector<KernelDefine> defines, uint32_t storage_buffers,
                         uint32_t push_constant_bytes, uint32_t subgroup_size) {
  KernelInfo info = interface(std::move(name), std::move(defines), storage_buffers, push_constant_bytes);
  info.prebuilt_module = embeddedModule(info.name + ".spv");
  info.subgroup_size = subgroup_size;
  return info;
}

// A cooperative-matrix product (matmul_coop_frame.mlir): with SPLITS set, its
// split-K entry point and two more bindings, split_k.glsl's partials and
// counts, as the tiled kernel it stands in for has.
KernelInfo splitKDialectKernel(KernelInfo info) {
  return withAlternateEntryPoint(withExtraBindings(std::move(info), "SPLITS", 2), "SPLITS", "main_split");
}

std::vector<KernelInfo> builtinKernels() {
  const KernelDefine workgroup = required("WG_SIZE");
  const KernelDefine softcap = optional("SOFTCAP", "0.0");
  return {
      kernel("add", {workgroup}, 3, sizeof(AddPush)),
      kernel("argmax", {required("COUNT"), required("BATCH"), optional("SPLITS", "1"), workgroup}, 2,
             sizeof(ArgmaxPush)),
      kernel("argmax_combine", {required("SPLITS"), workgroup}, 2, sizeof(ArgmaxCombinePush)),
      kernel("attention",
             {required("HEAD_DIM"), required("NUM_HEADS"), required("NUM_KV_HEADS"), required("QUERY_SCALE"),
              optional("WINDOW", "0"), softcap, workgroup},
             5, sizeof(AttentionPush)),
      // Split-K decode attention: attention's bindings, the partials and the counts.
      kernel("attention_split",
             {required("HEAD_DIM"), required("NUM_HEADS"), required("NUM_KV_HEADS"), required("QUERY_SCALE"),
              optional("WINDOW", "0"), softcap, required("SPLITS"), workgroup},
             7, sizeof(AttentionPush)),
      // attention_split from the q|k|v product row: the heads' norms and RoPE,
      // the step's key and value into the cache; QUANT_BITS: the output
      // quantised too, into one more binding.
      withExtraBindings(kernel("attention_decode",
                               {required("HEAD_DIM"), required("NUM_HEADS"), required("NUM_KV_HEADS"),
                                required("QUERY_SCALE"), optional("WINDOW", "0"), softcap, required("SPLITS"),
                                workgroup, required("EPS"), required("ROPE_INV_FREQ"), optional("QUANT_BITS", "0")},
                               9, sizeof(DecodeAttentionPush)),
                        "QUANT_BITS", 1),
      kernel("attention_prefill",
             {required("HEAD_DIM"), required("NUM_HEADS"), required("NUM_KV_HEADS"), required("QUERY_SCALE"),
              optional("WINDOW", "0"), softcap},
             5, sizeof(AttentionPush)),
      // The table's row slices are one array binding (SLICES of them).
      withArrayBindings(kernel("embedding", {required("HIDDEN"), required("EMBED_SCALE"), optional("SLICES", "1"),
                                             workgroup},
                               3, sizeof(EmbeddingPush)),
                        "SLICES", {1}),
      withArrayBindings(kernel("embedding_quant", {required("QUANT_BITS"), required("K"), required("EMBED_SCALE"),
                                                   optional("SLICES", "1"), workgroup},
                               4, sizeof(QuantEmbeddingPush)),
                        "SLICES", {1}),
      kernel("gelu_mul", {required("WIDTH"), workgroup}, 3, sizeof(GeluMulPush)),
      kernel("head_norm_rope",
             {required("HEAD_DIM"), required("NUM_HEADS"), optional("EPS", "1e-6"), optional("APPLY_NORM", "1"),
              optional("APPLY_ROPE", "1"), optional("ROPE_INV_FREQ", ""), workgroup},
             4, sizeof(HeadNormRopePush)),
      kernel("qkv_norm_rope",
             {required("HEAD_DIM"), required("NUM_HEADS"), required("NUM_KV_HEADS"), required("EPS"),
              required("ROPE_INV_FREQ"), workgroup},
             7, sizeof(QkvNormRopePush)),
      kernel("logits_readout", {required("COUNT"), required("TOP_K"), workgroup}, 2, sizeof(LogitsReadoutPush)),
      // With SPLITS (split-K, split_k.glsl) bindings 3 and 4: the partials and counts.
      withExtraBindings(kernel("matmul_bf16", {required("K"), required("N"), softcap, optional("SPLITS", "1")}, 3,
                               sizeof(MatmulPush)),
                        "SPLITS", 2),
      // matmul_bf16's product on cooperative-matrix units, on the same grid and
      // bindings (split-K's from its own entry point), then token_maxima's and
      // row_bounds' outputs.
      splitKDialectKernel(dialectKernel("matmul_bf16_coop",
                                        {required("K"), required("N"), softcap, optional("SPLITS", "1")}, 5,
                                        sizeof(MatmulPush), 32)),
      kernel("matvec_bf16",
             {required("K"), required("N"), optional("ROWS_PER_WG", "4"), softcap, workgroup, optional("GELU_INPUT", "0"),
              optional("ROW_GROUPS", "1")},
             3, sizeof(MatmulPush)),
      // Q8Block32 / Q4Block32 weights (QUANT_BITS 8 / 4): 4 bindings, the
      // scales apart from the quants so a row-split dispatch can reach both.
      // (With SPLITS, bindings 4 and 5: split-K's partials and counts.)
      withExtraBindings(kernel("matmul_quant",
                               {required("QUANT_BITS"), required("K"), required("N"), softcap, optional("SPLITS", "1")},
                               4, sizeof(QuantMatmulPush)),
                        "SPLITS", 2),
      // matmul_quant's product on cooperative-matrix units, as matmul_bf16_coop is matmul_bf16's.
      splitKDialectKernel(dialectKernel("matmul_quant_coop",
                                        {required("QUANT_BITS"), required("K"), required("N"), softcap,
                                         optional("SPLITS", "1")},
                                        6, sizeof(QuantMatmulPush), 32)),
      kernel("matvec_quant",
             {required("QUANT_BITS"), required("K"), required("N"), optional("ROWS_PER_WG", "4"), softcap, workgroup,
              optional("GELU_INPUT", "0"), optional("ROW_GROUPS", "1")},
             4, sizeof(QuantMatmulPush)),
      // The same product on packed int8 dot products, x quantised to int8 by
      // quantize_activation first.
      kernel("matvec_quant_dot",
             {required("QUANT_BITS"), required("K"), required("N"), optional("ROWS_PER_WG", "4"), softcap, workgroup,
              optional("ROW_GROUPS", "1")},
             4, sizeof(QuantMatmulPush)),
      kernel("quantize_activation", {required("QUANT_BITS"), required("K"), workgroup, optional("GELU_INPUT", "0")},
             2, sizeof(QuantizeActivationPush)),
      kernel("sample", {required("COUNT"), workgroup}, 2, sizeof(SamplePush)),
      kernel("token_maxima", {required("K"), workgroup}, 2, sizeof(TokenMaximaPush)),
      kernel("row_bounds", {required("K"), required("QUANT_BITS"), workgroup}, 2, sizeof(RowBoundsPush)),
      // QUANT_BITS (both norms): the normed row quantised too, into one more binding.
      withExtraBindings(kernel("rms_norm",
                               {required("WIDTH"), required("EPS"), optional("ADD_TO_OUTPUT", "0"), workgroup,
                                optional("QUANT_BITS", "0")},
                               3, sizeof(RmsNormPush)),
                        "QUANT_BITS", 1),
      withExtraBindings(kernel("rms_norm_add_norm",
                               {required("WIDTH"), required("EPS"), required("NEXT_EPS"), workgroup,
                                optional("QUANT_BITS", "0")},
                               5, sizeof(RmsNormAddNormPush)),
                        "QUANT_BITS", 1),
  };
}

std::vector<IncludeFile> builtinIncludes() {
  std::vector<IncludeFile> includes;
  for (const embedded::SourceFile& source : embedded::kSourceFiles) {
    if (source.name.ends_with(".glsl")) includes.push_back({std::string(source.name), std::string(source.text)});
  }
  return includes;
}

}  // namespace

const KernelLibrary& KernelLibrary::builtin() {
  static const KernelLibrary library(builtinKernels(), builtinIncludes());
  return library;
}

KernelLibrary::KernelLibrary(std::vector<KernelInfo> kernels, std::vector<IncludeFile> includes)
    : kernels_(std::move(kernels)), includes_(std::move(includes)) {
  std::sort(kernels_.begin(), kernels_.end(),
            [](const KernelInfo& a, const KernelInfo& b) { return a.name < b.name; });
}

const KernelInfo* KernelLibrary::find(std::string_view name) const {
  for (const KernelInfo& info : kernels_) {
    if (info.name == name) return &info;
  }
  return nullptr;
}

const KernelInfo& KernelLibrary::get(std::string_view name) const {
  if (const KernelInfo* info = find(name)) return *info;
  std::string known;
  for (const KernelInfo& info : kernels_) known += (known.empty() ? "" : ", ") + info.name;
  throw Error(ExitCode::kInvalidInput, "unknown kernel '" + std::string(name) + "' (the library has: " + known + ")");
}

std::optional<std::string_view> KernelLibrary::includeText(std::string_view name) const {
  for (const IncludeFile& include : includes_) {
    if (include.name == name) return include.text;
  }
  return std::nullopt;
}

}  // namespace unicorn::spirv
