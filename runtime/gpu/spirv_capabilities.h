// What a SPIR-V module asks of the device. Kernels are compiled ahead of time,
// for no particular device, and some use optional features (packed integer dot
// products, 8-bit arithmetic, cooperative matrices); the module says which in
// its OpCapability instructions, and which matrix shapes and how much shared
// memory in its types and variables. ComputePipeline reads them and refuses a device that lacks one,
// naming the feature (exit 3), instead of handing the driver a module it must
// not run. The capabilities are the truth here: no list kept beside the kernels
// can drift from what they declare.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/gpu/cooperative_matrix.h"
#include "runtime/gpu/device_capabilities.h"

namespace unicorn::gpu {

// The operands of the module's OpCapability instructions, in order. Throws
// Error(kInvalidInput) naming `what` when the words are not a well-formed
// SPIR-V instruction stream (a length of 0 or past the end).
std::vector<uint32_t> declaredCapabilities(std::span<const uint32_t> spirv, const std::string& what);

// Every OpTypeCooperativeMatrixKHR of the module, its sizes, scope and use read
// from the constants they name. Throws Error(kInvalidInput) naming `what` for
// malformed words or a matrix type not sized by 32-bit integer constants.
std::vector<CooperativeMatrixType> declaredCooperativeMatrices(std::span<const uint32_t> spirv,
                                                               const std::string& what);

// The bytes of the module's Workgroup (shared) variables, as declared (a
// driver may round up). Throws Error(kInvalidInput) naming `what` for
// malformed words or shared memory of a type it cannot size.
uint64_t declaredWorkgroupMemoryBytes(std::span<const uint32_t> spirv, const std::string& what);

// The device feature that SPIR-V capability `capability` needs, as a phrase for
// an error ("shaderIntegerDotProduct (Vulkan 1.3 or VK_KHR_shader_integer_dot_product)"),
// when `caps` lacks it; nullopt when the device has it. A capability this
// runtime does not know is reported as such: it cannot vouch for it.
std::optional<std::string> missingFeatureFor(uint32_t capability, const DeviceCapabilities& caps);

}  // namespace unicorn::gpu
