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
#include <vector>

namespace unicorn::gpu {

inline constexpr size_t kSpirvHeaderWords = 5;
inline constexpr uint32_t kSpirvMagic = 0x07230203;

// Whether `spirv` starts as a module does: a whole header, the magic number first.
inline bool hasSpirvHeader(std::span<const uint32_t> spirv) {
  return spirv.size() >= kSpirvHeaderWords && spirv[0] == kSpirvMagic;
}

// Calls `visit(opcode, operands, at)` for each instruction after the header,
// `at` being the index of its first word. Throws Error(kInvalidInput) naming
// `what` for an instruction of length 0 or one running past the words.
void forEachInstruction(std::span<const uint32_t> spirv, const std::string& what,
                        const std::function<void(uint32_t, std::span<const uint32_t>, size_t)>& visit);

// A literal string operand (UTF-8 bytes, little-endian in words, NUL-
// terminated) starting at operands[first]: the string and the words it takes
// (none past the operands: an unterminated string ends with them).
struct LiteralString {
  std::string text;
  size_t words = 0;
};
LiteralString literalString(std::span<const uint32_t> operands, size_t first);

// `text` as a literal string operand: its bytes, a NUL, zero padding.
std::vector<uint32_t> literalStringWords(const std::string& text);

}  // namespace unicorn::gpu
