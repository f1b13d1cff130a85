// Walking a SPIR-V module's instruction stream: the one reader the runtime's
// module checks (spirv_capabilities.h) and the compiler's specialisation of
// prebuilt modules (codegen_spirv/spirv_spec_constants.h) share. Plain C++:
// no Vulkan here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

namespace unicorn::gpu {

inline constexpr size_t kSpirvHeaderWords = 5;

// Calls `visit(opcode, operands, at)` for each instruction after the header,
// `at` being the index of its first word. Throws Error(kInvalidInput) naming
// `what` for an instruction of length 0 or one running past the words.
void forEachInstruction(std::span<const uint32_t> spirv, const std::string& what,
                        const std::function<void(uint32_t, std::span<const uint32_t>, size_t)>& visit);

}  // namespace unicorn::gpu
