#include "runtime/gpu/spirv_capabilities.h"

#include <algorithm>
#include <map>

#include "runtime/error.h"
#include "runtime/gpu/spirv_instructions.h"

namespace unicorn::gpu {
namespace {

constexpr uint32_t kOpCapability = 17, kOpTypeBool = 20, kOpTypeInt = 21, kOpTypeFloat = 22, kOpTypeVector = 23,
                   kOpTypeArray = 28, kOpTypeStruct = 30, kOpTypePointer = 32, kOpConstant = 43, kOpVariable = 59,
                   kOpTypeCooperativeMatrix = 4456;
constexpr uint32_t kStorageClassWorkgroup = 4;
// The capabilities of the SPIR-V specification's table that kernels here use.
enum Capability : uint32_t {
  kMatrix = 0,
  kShader = 1,
  kFloat16 = 9,
  kInt8 = 39,
  kGroupNonUniform = 61,
  kGroupNonUniformArithmetic = 63,
  kGroupNonUniformShuffle = 65,
  kStorageBuffer16BitAccess = 4433,
  kStorageBuffer8BitAccess = 4448,
  kDotProductInputAll = 6016,
  kDotProductInput4x8Bit = 6017,
  kDotProductInput4x8BitPacked = 6018,
  kDotProduct = 6019,
  kCooperativeMatrix = 6022,
};

std::optional<std::string> unless(bool present, std::string feature) {
  if (present) return std::nullopt;
  return feature;
}

}  // namespace

std::vector<uint32_t> declaredCapabilities(std::span<const uint32_t> spirv, const std::string& what) {
  std::vector<uint32_t> capabilities;
  forEachInstruction(spirv, what, [&](uint32_t opcode, std::span<const uint32_t> operands, size_t at) {
    if (opcode != kOpCapability) return;
    if (operands.size() != 1) failInvalidInput(what + ": malformed SPIR-V, OpCapability at word " + std::to_string(at));
    capabilities.push_back(operands[0]);
  });
  return capabilities;
}

std::vector<CooperativeMatrixType> declaredCooperativeMatrices(std::span<const uint32_t> spirv,
                                                               const std::string& what) {
  std::map<uint32_t, MatrixComponent> components;  // scalar type id -> component
  std::map<uint32_t, uint32_t> constants;          // 32-bit integer constant id -> value
  std::vector<CooperativeMatrixType> types;
  forEachInstruction(spirv, what, [&](uint32_t opcode, std::span<const uint32_t> operands, size_t at) {
    const std::string where = " at word " + std::to_string(at);
    if (opcode == kOpTypeFloat && operands.size() >= 2) {
      if (operands[1] == 16) components[operands[0]] = MatrixComponent::kFloat16;
      if (operands[1] == 32) components[operands[0]] = MatrixComponent::kFloat32;
      if (operands[1] == 64) components[operands[0]] = MatrixComponent::kFloat64;
    } else if (opcode == kOpTypeInt && operands.size() == 3) {
      const bool is_signed = operands[2] == 1;
      switch (operands[1]) {
        case 8: components[operands[0]] = is_signed ? MatrixComponent::kSint8 : MatrixComponent::kUint8; break;
        case 16: components[operands[0]] = is_signed ? MatrixComponent::kSint16 : MatrixComponent::kUint16; break;
        case 32: components[operands[0]] = is_signed ? MatrixComponent::kSint32 : MatrixComponent::kUint32; break;
        case 64: components[operands[0]] = is_signed ? MatrixComponent::kSint64 : MatrixComponent::kUint64; break;
        default: break;
      }
    } else if (opcode == kOpConstant && operands.size() == 3) {
      constants[operands[1]] = operands[2];
    } else if (opcode == kOpTypeCooperativeMatrix) {
      // Result id, component type, then scope, rows, columns and use as constant ids.
      if (operands.size() != 6) failInvalidInput(what + ": malformed OpTypeCooperativeMatrixKHR" + where);
      auto component = components.find(operands[1]);
      auto constant = [&](uint32_t id) {
        auto found = constants.find(id);
        if (found == constants.end()) {
          failInvalidInput(what + ": a cooperative matrix type" + where + " is not sized by constants");
        }
        return found->second;
      };
      if (component == components.end()) failInvalidInput(what + ": a cooperative matrix type" + where + " has no scalar components");
      const uint32_t use = constant(operands[5]);
      if (use > static_cast<uint32_t>(MatrixUse::kAccumulator)) failInvalidInput(what + ": unknown matrix use" + where);
      types.push_back({constant(operands[3]), constant(operands[4]), component->second, constant(operands[2]),
                       static_cast<MatrixUse>(use)});
    }
  });
  return types;
}

uint64_t declaredWorkgroupMemoryBytes(std::span<const uint32_t> spirv, const std::string& what) {
  // Type id -> bytes; nullopt for a type without a size (a runtime array: fine
  // in a storage buffer, an error only if shared memory is made of it).
  std::map<uint32_t, std::optional<uint64_t>> type_bytes;
  std::map<uint32_t, uint32_t> constants;  // 32-bit integer constant id -> value
  std::map<uint32_t, uint32_t> pointee;    // Workgroup pointer type id -> pointee type id
  uint64_t total = 0;
  // Sizes saturate far above any device's shared memory, so hostile words cannot overflow them.
  constexpr uint64_t kCap = uint64_t(1) << 40;
  auto bytesOf = [&](uint32_t type) -> std::optional<uint64_t> {
    auto found = type_bytes.find(type);
    return found == type_bytes.end() ? std::nullopt : found->second;
  };
  auto times = [&](std::optional<uint64_t> bytes, uint64_t count) -> std::optional<uint64_t> {
    if (!bytes) return std::nullopt;
    if (count != 0 && *bytes > kCap / count) return kCap;  // both at most 2^40: the product could wrap
    return *bytes * count;
  };
  forEachInstruction(spirv, what, [&](uint32_t opcode, std::span<const uint32_t> operands, size_t at) {
    if (opcode == kOpTypeBool && operands.size() == 1) {
      type_bytes[operands[0]] = 4;
    } else if ((opcode == kOpTypeInt || opcode == kOpTypeFloat) && operands.size() >= 2) {
      type_bytes[operands[0]] = std::max<uint32_t>(operands[1] / 8, 1);
    } else if (opcode == kOpTypeVector && operands.size() == 3) {
      type_bytes[operands[0]] = times(bytesOf(operands[1]), operands[2]);
    } else if (opcode == kOpTypeArray && operands.size() == 3) {
      auto length = constants.find(operands[2]);
      type_bytes[operands[0]] =
          length == constants.end() ? std::nullopt : times(bytesOf(operands[1]), length->second);
    } else if (opcode == kOpTypeStruct && !operands.empty()) {
      std::optional<uint64_t> bytes = 0;
      for (uint32_t member : operands.subspan(1)) {
        std::optional<uint64_t> member_bytes = bytesOf(member);
        bytes = bytes && member_bytes ? std::optional<uint64_t>(std::min(kCap, *bytes + *member_bytes)) : std::nullopt;
      }
      type_bytes[operands[0]] = bytes;
    } else if (opcode == kOpTypePointer && operands.size() == 3 && operands[1] == kStorageClassWorkgroup) {
      pointee[operands[0]] = operands[2];
    } else if (opcode == kOpConstant && operands.size() == 3) {
      constants[operands[1]] = operands[2];
    } else if (opcode == kOpVariable && operands.size() >= 3 && operands[2] == kStorageClassWorkgroup) {
      auto type = pointee.find(operands[0]);
      std::optional<uint64_t> bytes = type == pointee.end() ? std::nullopt : bytesOf(type->second);
      if (!bytes) {
        failInvalidInput(what + ": shared variable at word " + std::to_string(at) + " has no size this runtime can tell");
      }
      total = std::min(kCap, total + *bytes);
    }
  });
  return total;
}

std::optional<std::string> missingFeatureFor(uint32_t capability, const DeviceCapabilities& caps) {
  switch (capability) {
    // What every device Unicorn accepts has (missingRequirements checked it).
    case kMatrix:
    case kShader:
    case kGroupNonUniform:
    case kGroupNonUniformArithmetic:
    case kGroupNonUniformShuffle:
    case kStorageBuffer16BitAccess:
      return std::nullopt;
    case kFloat16:
      return unless(caps.shader_float16, "shaderFloat16");
    case kInt8:
      return unless(caps.shader_int8, "shaderInt8");
    case kStorageBuffer8BitAccess:
      return unless(caps.storage_buffer_8bit_access, "storageBuffer8BitAccess");
    case kDotProductInputAll:
    case kDotProductInput4x8Bit:
    case kDotProductInput4x8BitPacked:
    case kDotProduct:
      return unless(caps.shader_integer_dot_product,
                    "shaderIntegerDotProduct (Vulkan 1.3 or VK_KHR_shader_integer_dot_product)");
    case kCooperativeMatrix:
      return unless(caps.cooperative_matrix, "cooperativeMatrix (VK_KHR_cooperative_matrix)");
    default:
      return "SPIR-V capability " + std::to_string(capability) + ", which this runtime does not know how to check";
  }
}

}  // namespace unicorn::gpu
