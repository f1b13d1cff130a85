// Specialisation constants of a prebuilt SPIR-V module (the kernels written in
// MLIR's SPIR-V dialect): their defines are the module's OpSpecConstants, by
// OpName, and specialising the kernel rewrites those constants' default values
// in the words. The bundle then holds a module that needs no
// VkSpecializationInfo: the runtime creates every pipeline the same way.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codegen_spirv/spirv_kernel_compiler.h"

namespace unicorn::spirv {

// The names of the module's 32-bit integer and float specialisation
// constants, in the order they are declared. Throws Error(kInvalidInput)
// naming `what` for words that are not a SPIR-V module.
std::vector<std::string> specConstantNames(std::string_view what, std::span<const uint32_t> words);

// `words` with the default of each constant named in `values` set to its
// value: decimal for an integer constant (within 32 bits), a finite float for
// a float one. Throws Error(kInvalidInput) naming `what` and the constant for
// a name the module has no constant of, or a value its type cannot hold.
std::vector<uint32_t> withSpecConstantDefaults(std::string_view what, std::span<const uint32_t> words,
                                               const KernelDefines& values);

}  // namespace unicorn::spirv
