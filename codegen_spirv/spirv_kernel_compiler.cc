#include "codegen_spirv/spirv_kernel_compiler.h"

#include <shaderc/shaderc.hpp>
#include <spirv-tools/libspirv.hpp>

#include <cctype>
#include <memory>

#include "codegen_spirv/spirv_entry_point.h"
#include "codegen_spirv/spirv_spec_constants.h"
#include "runtime/error.h"

namespace unicorn::spirv {
namespace {

// Serves #include "x.glsl" from the library's embedded files: unicorn-compile
// reads no kernel files at run time.
class LibraryIncluder : public shaderc::CompileOptions::IncluderInterface {
 public:
  explicit LibraryIncluder(const KernelLibrary& library) : library_(library) {}

  shaderc_include_result* GetInclude(const char* requested_source, shaderc_include_type, const char*,
                                     size_t) override {
    auto* result = new IncludeResult;
    result->name = requested_source;
    if (std::optional<std::string_view> text = library_.includeText(requested_source)) {
      result->content = std::string(*text);
    } else {
      // shaderc reports an include failure as an empty name with the message as content.
      result->content = "no such kernel include file";
      result->name.clear();
    }
    result->shaderc.source_name = result->name.c_str();
    result->shaderc.source_name_length = result->name.size();
    result->shaderc.content = result->content.c_str();
    result->shaderc.content_length = result->content.size();
    result->shaderc.user_data = result;
    return &result->shaderc;
  }

  void ReleaseInclude(shaderc_include_result* include) override { delete static_cast<IncludeResult*>(include->user_data); }

 private:
  struct IncludeResult {
    std::string name;
    std::string content;
    shaderc_include_result shaderc{};
  };
  const KernelLibrary& library_;
};

bool isIdentifier(std::string_view text) {
  if (text.empty() || std::isdigit(static_cast<unsigned char>(text[0]))) return false;
  for (char c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// The defines the kernel is compiled with: the given ones over the defaults,
// after checking each against the kernel's declaration.
KernelDefines resolveDefines(const KernelInfo& info, const KernelDefines& given) {
  std::string declared;
  for (const KernelDefine& define : info.defines) declared += (declared.empty() ? "" : ", ") + define.name;
  for (const auto& [name, value] : given) {
    bool known = false;
    for (const KernelDefine& define : info.defines) known = known || define.name == name;
    if (!known) {
      throw Error(ExitCode::kInvalidInput, "kernel '" + info.name + "' takes no define '" + name +
                                               "' (it takes: " + declared + ")");
    }
    if (value.find_first_of("\r\n") != std::string::npos) {
      throw Error(ExitCode::kInvalidInput,
                  "kernel '" + info.name + "': define " + name + " has a line break in its value");
    }
  }
  KernelDefines resolved;
  for (const KernelDefine& define : info.defines) {
    auto it = given.find(define.name);
    if (it != given.end()) {
      resolved[define.name] = it->second;
    } else if (define.required) {
      throw Error(ExitCode::kInvalidInput,
                  "kernel '" + info.name + "' needs define " + define.name + " (it takes: " + declared + ")");
    } else if (!define.default_value.empty()) {
      resolved[define.name] = define.default_value;
    }
  }
  return resolved;
}

}  // namespace

std::string describeSpecialisation(std::string_view kernel, const KernelDefines& defines) {
  std::string text(kernel);
  if (defines.empty()) return text;
  text += " (";
  bool first = true;
  for (const auto& [name, value] : defines) {
    // Long values (the RoPE frequency table) would drown the message.
    std::string shown = value.size() > 40 ? value.substr(0, 37) + "..." : value;
    text += (first ? "" : ", ") + name + "=" + shown;
    first = false;
  }
  return text + ")";
}

SpirvKernelCompiler::SpirvKernelCompiler(const KernelLibrary& library) : library_(&library) {}

std::vector<uint32_t> SpirvKernelCompiler::compile(std::string_view kernel, const KernelDefines& defines) const {
  const KernelInfo& info = library_->get(kernel);
  for (const auto& [name, value] : defines) {
    if (!isIdentifier(name)) {
      throw Error(ExitCode::kInvalidInput, "kernel '" + info.name + "': '" + name + "' is not a define name");
    }
  }
  KernelDefines resolved = resolveDefines(info, defines);
  std::string what = describeSpecialisation(info.name, resolved);
  if (!info.prebuilt_module.empty()) {
    // MLIR verified the module when it was built. SPIRV-Tools' validator is
    // not run on it: Debian's (2022.4) predates SPV_KHR_cooperative_matrix.
    return withOnlyEntryPoint(what, withSpecConstantDefaults(what, info.prebuilt_module, resolved),
                              info.entryPoint(defines));
  }

  shaderc::CompileOptions options;
  options.SetSourceLanguage(shaderc_source_language_glsl);
  options.SetTargetEnvironment(shaderc_target_env_vulkan, shaderc_env_version_vulkan_1_1);
  options.SetTargetSpirv(shaderc_spirv_version_1_3);
  options.SetOptimizationLevel(shaderc_optimization_level_performance);
  options.SetWarningsAsErrors();
  options.SetIncluder(std::make_unique<LibraryIncluder>(*library_));
  for (const auto& [name, value] : resolved) options.AddMacroDefinition(name, value);

  shaderc::Compiler compiler;
  shaderc::SpvCompilationResult result =
      compiler.CompileGlslToSpv(info.source, shaderc_compute_shader, (info.name + ".comp").c_str(), options);
  if (result.GetCompilationStatus() != shaderc_compilation_status_success) {
    std::string message = result.GetErrorMessage();
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
    throw Error(ExitCode::kInvalidInput, "kernel " + what + ": GLSL compilation failed: " + message);
  }
  std::vector<uint32_t> words(result.cbegin(), result.cend());
  validate(what, words);
  return words;
}

void SpirvKernelCompiler::validate(std::string_view what, std::span<const uint32_t> words) {
  spvtools::SpirvTools tools(SPV_ENV_VULKAN_1_1);
  std::string messages;
  tools.SetMessageConsumer([&messages](spv_message_level_t, const char*, const spv_position_t& position,
                                       const char* message) {
    if (!messages.empty()) messages += "; ";
    messages += message;
    messages += " (word " + std::to_string(position.index) + ")";
  });
  if (words.empty() || !tools.Validate(words.data(), words.size())) {
    throw Error(ExitCode::kInvalidInput, "kernel " + std::string(what) + ": SPIR-V validation failed: " +
                                             (messages.empty() ? "empty module" : messages));
  }
}

}  // namespace unicorn::spirv
