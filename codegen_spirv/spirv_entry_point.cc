#include "codegen_spirv/spirv_entry_point.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "runtime/error.h"
#include "runtime/gpu/spirv_instructions.h"

namespace unicorn::spirv {
namespace {

constexpr uint32_t kOpName = 5, kOpExtInst = 12, kOpEntryPoint = 15, kOpExecutionMode = 16, kOpFunction = 54,
                   kOpFunctionEnd = 56, kOpFunctionCall = 57, kOpVariable = 59, kOpLoad = 61, kOpStore = 62,
                   kOpDecorate = 71, kOpVectorShuffle = 79, kOpCompositeExtract = 81, kOpCompositeInsert = 82,
                   kOpLoopMerge = 246, kOpSelectionMerge = 247, kOpSwitch = 251, kOpExecutionModeId = 331,
                   kOpDecorateId = 332, kOpDecorateString = 5632;
constexpr uint32_t kStorageClassFunction = 7;

[[noreturn]] void fail(std::string_view what, const std::string& message) {
  throw Error(ExitCode::kInvalidInput, "kernel " + std::string(what) + ": " + message);
}

// The operands of a function's instruction that may be ids: all of them but
// the literals of the common instructions that carry some (an extended
// instruction's number, composite indices, merge controls, memory operands,
// switch cases), which could equal a variable's id by chance. Other
// instructions' literals stay in: they can only keep a variable that is not
// used, never drop one that is.
std::vector<uint32_t> possibleIds(uint32_t opcode, std::span<const uint32_t> operands) {
  size_t ids = operands.size();
  switch (opcode) {
    case kOpExtInst: {  // type, result, set, number, operands...
      std::vector<uint32_t> out(operands.begin(), operands.end());
      if (out.size() > 3) out.erase(out.begin() + 3);
      return out;
    }
    case kOpSwitch: {  // selector, default, then (literal, label) pairs
      std::vector<uint32_t> out;
      for (size_t i = 0; i < operands.size(); ++i) {
        if (i < 2 || i % 2 == 1) out.push_back(operands[i]);
      }
      return out;
    }
    case kOpSelectionMerge: ids = 1; break;  // merge block, control
    case kOpLoopMerge: ids = 2; break;       // merge and continue blocks, control...
    case kOpStore: ids = 2; break;           // pointer, object, memory operands...
    case kOpLoad: ids = 3; break;            // type, result, pointer, memory operands...
    case kOpCompositeExtract: ids = 3; break;  // type, result, composite, indices...
    case kOpCompositeInsert: ids = 4; break;   // type, result, object, composite, indices...
    case kOpVectorShuffle: ids = 4; break;     // type, result, vectors, components...
    default: break;
  }
  ids = std::min(ids, operands.size());
  return std::vector<uint32_t>(operands.begin(), operands.begin() + ids);
}

struct Instruction {
  uint32_t opcode = 0;
  std::span<const uint32_t> operands;
  uint32_t function = 0;  // the function whose body holds it (its OpFunction..OpFunctionEnd); 0: module scope
};

}  // namespace

std::vector<uint32_t> withOnlyEntryPoint(std::string_view what, std::span<const uint32_t> words,
                                         std::string_view entry_point) {
  if (!gpu::hasSpirvHeader(words)) fail(what, "not a SPIR-V module");
  const std::string where = "kernel " + std::string(what);
  std::vector<Instruction> instructions;
  std::vector<std::pair<uint32_t, std::string>> entry_points;  // function id, name; in module order
  std::map<uint32_t, std::set<uint32_t>> callees;              // function id -> the functions it calls
  uint32_t current = 0;
  gpu::forEachInstruction(words, where, [&](uint32_t opcode, std::span<const uint32_t> operands, size_t at) {
    if (opcode == kOpFunction) {
      if (operands.size() < 4) fail(what, "malformed OpFunction at word " + std::to_string(at));
      current = operands[1];
      callees[current];
    }
    instructions.push_back({opcode, operands, current});
    if (opcode == kOpFunctionEnd) current = 0;
    if (opcode == kOpFunctionCall && operands.size() >= 3 && current != 0) callees[current].insert(operands[2]);
    if (opcode == kOpEntryPoint) {
      if (operands.size() < 3) fail(what, "malformed OpEntryPoint at word " + std::to_string(at));
      entry_points.emplace_back(operands[1], gpu::literalString(operands, 2).text);
    }
  });

  uint32_t entry = 0;
  std::string known;
  for (const auto& [function, name] : entry_points) {
    if (name == entry_point) entry = function;
    known += (known.empty() ? "" : ", ") + name;
  }
  if (entry == 0) {
    fail(what, "the module has no entry point '" + std::string(entry_point) + "' (it has: " + known + ")");
  }

  // The functions the entry point reaches, and the ids their bodies may name.
  std::set<uint32_t> reached = {entry};
  std::vector<uint32_t> pending = {entry};
  while (!pending.empty()) {
    const uint32_t function = pending.back();
    pending.pop_back();
    for (uint32_t callee : callees[function]) {
      if (reached.insert(callee).second) pending.push_back(callee);
    }
  }
  std::set<uint32_t> named_by_kept_code;
  for (const Instruction& instruction : instructions) {
    if (instruction.function != 0 && reached.count(instruction.function)) {
      for (uint32_t id : possibleIds(instruction.opcode, instruction.operands)) named_by_kept_code.insert(id);
    }
  }
  // What goes: the functions not reached, the module's variables they alone used.
  std::set<uint32_t> dropped;
  for (const auto& [function, calls] : callees) {
    if (!reached.count(function)) dropped.insert(function);
  }
  for (const Instruction& instruction : instructions) {
    if (instruction.opcode == kOpVariable && instruction.function == 0 && instruction.operands.size() >= 3 &&
        instruction.operands[2] != kStorageClassFunction && !named_by_kept_code.count(instruction.operands[1])) {
      dropped.insert(instruction.operands[1]);
    }
  }

  std::vector<uint32_t> out(words.begin(), words.begin() + gpu::kSpirvHeaderWords);
  auto emit = [&out](uint32_t opcode, std::span<const uint32_t> operands) {
    out.push_back(uint32_t(operands.size() + 1) << 16 | opcode);
    out.insert(out.end(), operands.begin(), operands.end());
  };
  for (const Instruction& instruction : instructions) {
    const std::span<const uint32_t> operands = instruction.operands;
    if (instruction.function != 0 && !reached.count(instruction.function)) continue;
    switch (instruction.opcode) {
      case kOpEntryPoint: {
        if (operands[1] != entry) continue;
        // Execution model, function, "main", the interface that is left.
        std::vector<uint32_t> rebuilt = {operands[0], operands[1]};
        const std::vector<uint32_t> name = gpu::literalStringWords("main");
        rebuilt.insert(rebuilt.end(), name.begin(), name.end());
        for (size_t i = 2 + gpu::literalString(operands, 2).words; i < operands.size(); ++i) {
          if (!dropped.count(operands[i])) rebuilt.push_back(operands[i]);
        }
        emit(instruction.opcode, rebuilt);
        continue;
      }
      case kOpExecutionMode:
      case kOpExecutionModeId:
        if (operands.empty() || operands[0] != entry) continue;
        break;
      case kOpName:
      case kOpDecorate:
      case kOpDecorateId:
      case kOpDecorateString:
        if (!operands.empty() && dropped.count(operands[0])) continue;
        break;
      case kOpVariable:
        if (instruction.function == 0 && operands.size() >= 2 && dropped.count(operands[1])) continue;
        break;
      default:
        break;
    }
    emit(instruction.opcode, operands);
  }
  return out;
}

}  // namespace unicorn::spirv
