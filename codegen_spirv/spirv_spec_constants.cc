#include "codegen_spirv/spirv_spec_constants.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>

#include "runtime/error.h"
#include "runtime/gpu/spirv_instructions.h"

namespace unicorn::spirv {
namespace {

constexpr uint32_t kOpName = 5, kOpTypeInt = 21, kOpTypeFloat = 22, kOpSpecConstant = 50;

struct SpecConstant {
  std::string name;
  size_t value_word = 0;  // index of its (one-word) default value in the module
  bool is_float = false;
  bool is_signed = false;
};

[[noreturn]] void fail(std::string_view what, const std::string& message) {
  throw Error(ExitCode::kInvalidInput, "kernel " + std::string(what) + ": " + message);
}

// The 32-bit scalar specialisation constants, in declaration order.
std::vector<SpecConstant> findSpecConstants(std::string_view what, std::span<const uint32_t> words) {
  if (!gpu::hasSpirvHeader(words)) fail(what, "not a SPIR-V module");
  std::map<uint32_t, std::string> names;
  std::map<uint32_t, SpecConstant> scalar_types;  // type id -> its kind (name, value_word unused)
  std::vector<std::pair<uint32_t, SpecConstant>> constants;  // result id, constant
  gpu::forEachInstruction(words, "kernel " + std::string(what), [&](uint32_t opcode, std::span<const uint32_t> operands,
                                                                     size_t at) {
    if (opcode == kOpName && !operands.empty()) {
      names[operands[0]] = gpu::literalString(operands, 1).text;
    } else if ((opcode == kOpTypeInt && operands.size() == 3 && operands[1] == 32) ||
               (opcode == kOpTypeFloat && operands.size() >= 2 && operands[1] == 32)) {
      SpecConstant kind;
      kind.is_float = opcode == kOpTypeFloat;
      kind.is_signed = opcode == kOpTypeInt && operands[2] == 1;
      scalar_types[operands[0]] = kind;
    } else if (opcode == kOpSpecConstant && operands.size() == 3) {
      auto type = scalar_types.find(operands[0]);
      if (type != scalar_types.end()) {
        SpecConstant constant = type->second;
        constant.value_word = at + 3;
        constants.emplace_back(operands[1], constant);
      }
    }
  });
  std::vector<SpecConstant> named;
  for (auto& [id, constant] : constants) {
    auto name = names.find(id);
    if (name == names.end()) continue;  // unnamed: not a define
    constant.name = name->second;
    named.push_back(constant);
  }
  return named;
}

uint32_t parseValue(std::string_view what, const SpecConstant& constant, const std::string& text) {
  const char* end = text.data() + text.size();
  if (constant.is_float) {
    float value = 0;
    auto [stop, error] = std::from_chars(text.data(), end, value);
    if (error != std::errc() || stop != end || !std::isfinite(value)) {
      fail(what, "define " + constant.name + "=" + text + " is not a finite float");
    }
    return std::bit_cast<uint32_t>(value);
  }
  int64_t value = 0;
  auto [stop, error] = std::from_chars(text.data(), end, value);
  // MLIR's signless i32 serialises as unsigned: either reading of 32 bits is fine there.
  const int64_t low = std::numeric_limits<int32_t>::min();
  const int64_t high = constant.is_signed ? std::numeric_limits<int32_t>::max() : std::numeric_limits<uint32_t>::max();
  if (error != std::errc() || stop != end || value < low || value > high) {
    fail(what, "define " + constant.name + "=" + text + " is not a 32-bit integer");
  }
  return static_cast<uint32_t>(value);
}

}  // namespace

std::vector<std::string> specConstantNames(std::string_view what, std::span<const uint32_t> words) {
  std::vector<std::string> names;
  for (const SpecConstant& constant : findSpecConstants(what, words)) names.push_back(constant.name);
  return names;
}

std::vector<uint32_t> withSpecConstantDefaults(std::string_view what, std::span<const uint32_t> words,
                                               const KernelDefines& values) {
  const std::vector<SpecConstant> constants = findSpecConstants(what, words);
  std::vector<uint32_t> specialised(words.begin(), words.end());
  for (const auto& [name, text] : values) {
    const SpecConstant* match = nullptr;
    for (const SpecConstant& constant : constants) match = constant.name == name ? &constant : match;
    if (match == nullptr) fail(what, "the module has no specialisation constant '" + name + "'");
    specialised[match->value_word] = parseValue(what, *match, text);
  }
  return specialised;
}

}  // namespace unicorn::spirv
