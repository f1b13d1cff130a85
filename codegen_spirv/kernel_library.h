// The library of compute kernels that unicorn-compile specialises per dispatch:
// each kernel's GLSL source or, for a kernel written in MLIR's SPIR-V dialect,
// its prebuilt module (both embedded from codegen_spirv/kernels/ at build
// time), the defines that specialise it and its binding interface. The
// interface of each kernel (bindings, push constants, dispatch grid) is
// documented at the top of its .comp file; kernel_push_constants.h mirrors the
// push-constant blocks for the code that fills them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace unicorn::spirv {

struct KernelDefine {
  std::string name;           // e.g. "K", "WG_SIZE"
  bool required = true;       // a required define has no default
  std::string default_value;  // used when an optional define is not given ("" = leave undefined)
};

struct KernelInfo {
  std::string name;    // e.g. "matvec_bf16"
  std::string source;  // GLSL (#version 450), may #include the library's shared files; empty with a module
  // A kernel in MLIR's SPIR-V dialect: the module mlir-translate built from
  // kernels/<name>.mlir. Its defines are its specialisation constants.
  std::span<const uint32_t> prebuilt_module;
  std::vector<KernelDefine> defines;
  uint32_t storage_buffer_count = 0;  // bindings 0..N-1 of set 0, all storage buffers
  // Bindings only some specialisations have: with `define` given and not "0",
  // `count` more follow (N..N+count-1), e.g. a norm's quantised output.
  struct ExtraBindings {
    std::string define;
    uint32_t count = 0;
  };
  std::optional<ExtraBindings> extra_bindings;
  // Bindings that are arrays of as many storage buffers as `define` says (a
  // table's row slices: SLICES), e.g. the embedding's table.
  struct ArrayBindings {
    std::string define;
    std::vector<uint32_t> bindings;
  };
  std::optional<ArrayBindings> array_bindings;
  uint32_t push_constant_bytes = 0;
  // Invocations per subgroup the kernel is written for (0: any); the runtime
  // runs it only where it can have exactly these.
  uint32_t subgroup_size = 0;
  // A prebuilt module's entry point for the specialisations with `define`
  // given and not "0" (the others': "main"); the compiled module keeps that
  // one alone, as "main" (spirv_entry_point.h). E.g. split-K's, which alone
  // uses the extra bindings.
  struct AlternateEntryPoint {
    std::string define;
    std::string entry_point;
  };
  std::optional<AlternateEntryPoint> alternate_entry_point;

  // Whether `name` is given in `defines` and not "0".
  static bool isSet(const std::map<std::string, std::string>& defines, const std::string& name) {
    auto found = defines.find(name);
    return found != defines.end() && found->second != "0";
  }
  // The bindings of the specialisation with `defines` (storage_buffer_count,
  // and extra_bindings where its define is set).
  uint32_t bindingCount(const std::map<std::string, std::string>& defines) const {
    if (!extra_bindings || !isSet(defines, extra_bindings->define)) return storage_buffer_count;
    return storage_buffer_count + extra_bindings->count;
  }
  // The entry point of the prebuilt module that the specialisation with `defines` runs.
  std::string entryPoint(const std::map<std::string, std::string>& defines) const {
    const bool alternate = alternate_entry_point && isSet(defines, alternate_entry_point->define);
    return alternate ? alternate_entry_point->entry_point : "main";
  }
  // Descriptors at each of those bindings; empty where every binding has one
  // (schedule.fbs, KernelModule.array_sizes). An array's define must be a
  // number from 1 (the kernel spec checks its range).
  std::vector<uint32_t> arraySizes(const std::map<std::string, std::string>& defines) const {
    if (!array_bindings) return {};
    auto found = defines.find(array_bindings->define);
    const uint32_t size = found == defines.end() ? 1u : static_cast<uint32_t>(std::stoul(found->second));
    std::vector<uint32_t> sizes(bindingCount(defines), 1u);
    for (uint32_t binding : array_bindings->bindings) sizes.at(binding) = size;
    return sizes;
  }
  // Their total: the buffers a dispatch of the specialisation binds.
  uint32_t descriptorCount(const std::map<std::string, std::string>& defines) const {
    uint32_t total = 0;
    for (uint32_t size : arraySizes(defines)) total += size;
    return array_bindings ? total : bindingCount(defines);
  }
};

// A file that kernels #include (e.g. "workgroup_reduce.glsl").
struct IncludeFile {
  std::string name;
  std::string text;
};

class KernelLibrary {
 public:
  // The kernels Unicorn ships (see codegen_spirv/kernels/).
  static const KernelLibrary& builtin();

  // A library of other kernels: tests use it to feed broken sources through the
  // same compile path.
  KernelLibrary(std::vector<KernelInfo> kernels, std::vector<IncludeFile> includes);

  // Throws Error(kInvalidInput) naming the kernel and listing the known ones.
  const KernelInfo& get(std::string_view name) const;
  const KernelInfo* find(std::string_view name) const;
  std::optional<std::string_view> includeText(std::string_view name) const;
  std::span<const KernelInfo> kernels() const { return kernels_; }

 private:
  std::vector<KernelInfo> kernels_;  // sorted by name
  std::vector<IncludeFile> includes_;
};

}  // namespace unicorn::spirv
