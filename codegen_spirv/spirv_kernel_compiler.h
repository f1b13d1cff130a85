// Compiles a kernel of the library, specialised by its defines, to SPIR-V 1.3
// for Vulkan 1.1 with libshaderc (optimised), then runs SPIRV-Tools' validator
// on the words. A kernel written in MLIR's SPIR-V dialect is specialised
// instead: its prebuilt module with the defines as its specialisation
// constants' values (spirv_spec_constants.h). Every failure is an Error naming the kernel and its defines and
// quoting the compiler's or validator's message. The output is deterministic:
// the same kernel and defines give the same words (the bundle is byte-identical
// run to run).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codegen_spirv/kernel_library.h"

namespace unicorn::spirv {

// Define name -> value; ordered, so the preamble shaderc sees is too.
using KernelDefines = std::map<std::string, std::string>;

class SpirvKernelCompiler {
 public:
  explicit SpirvKernelCompiler(const KernelLibrary& library = KernelLibrary::builtin());

  // Throws Error(kInvalidInput) for an unknown kernel, a define the kernel does
  // not take, a missing required define, GLSL that does not compile with these
  // defines, or words the validator rejects.
  std::vector<uint32_t> compile(std::string_view kernel, const KernelDefines& defines) const;

  // The validator step alone (Vulkan 1.1 rules); `what` names the module in the error.
  static void validate(std::string_view what, std::span<const uint32_t> words);

 private:
  const KernelLibrary* library_;
};

// "matvec_bf16 (K=1152, N=6912, WG_SIZE=256)": how errors name a specialisation.
std::string describeSpecialisation(std::string_view kernel, const KernelDefines& defines);

}  // namespace unicorn::spirv
