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

LiteralString literalString(std::span<const uint32_t> operands, size_t first) {
  LiteralString literal;
  for (size_t word = first; word < operands.size(); ++word) {
    ++literal.words;
    for (int byte = 0; byte < 4; ++byte) {
      const char c = static_cast<char>((operands[word] >> (8 * byte)) & 0xff);
      if (c == '\0') return literal;
      literal.text += c;
    }
  }
  return literal;
}

std::vector<uint32_t> literalStringWords(const std::string& text) {
  std::vector<uint32_t> words(text.size() / 4 + 1, 0u);
  for (size_t byte = 0; byte < text.size(); ++byte) {
    words[byte / 4] |= uint32_t(static_cast<unsigned char>(text[byte])) << (8 * (byte % 4));
  }
  return words;
}

}  // namespace unicorn::gpu
