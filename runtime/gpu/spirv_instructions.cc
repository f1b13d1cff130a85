#include "runtime/gpu/spirv_instructions.h"

#include "runtime/error.h"

namespace unicorn::gpu {

void forEachInstruction(std::span<const uint32_t> spirv, const std::string& what,
                        const std::function<void(uint32_t, std::span<const uint32_t>, size_t)>& visit) {
  size_t at = kSpirvHeaderWords;
  while (at < spirv.size()) {
    const uint32_t word_count = spirv[at] >> 16, opcode = spirv[at] & 0xffff;
    if (word_count == 0 || word_count > spirv.size() - at) {
      failInvalidInput(what + ": malformed SPIR-V, instruction at word " + std::to_string(at) + " has length " +
                       std::to_string(word_count) + " (" + std::to_string(spirv.size() - at) + " words left)");
    }
    visit(opcode, spirv.subspan(at + 1, word_count - 1), at);
    at += word_count;
  }
}

}  // namespace unicorn::gpu
