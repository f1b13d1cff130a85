#include "runtime/gpu/spirv_capabilities.h"

#include "runtime/error.h"

namespace unicorn::gpu {
namespace {

constexpr size_t kHeaderWords = 5;
constexpr uint32_t kOpCapability = 17;
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
};

std::optional<std::string> unless(bool present, std::string feature) {
  if (present) return std::nullopt;
  return feature;
}

}  // namespace

std::vector<uint32_t> declaredCapabilities(std::span<const uint32_t> spirv, const std::string& what) {
  std::vector<uint32_t> capabilities;
  size_t at = kHeaderWords;
  while (at < spirv.size()) {
    const uint32_t word_count = spirv[at] >> 16, opcode = spirv[at] & 0xffff;
    if (word_count == 0 || word_count > spirv.size() - at) {
      failInvalidInput(what + ": malformed SPIR-V, instruction at word " + std::to_string(at) + " has length " +
                       std::to_string(word_count) + " (" + std::to_string(spirv.size() - at) + " words left)");
    }
    if (opcode == kOpCapability) {
      if (word_count != 2) failInvalidInput(what + ": malformed SPIR-V, OpCapability at word " + std::to_string(at));
      capabilities.push_back(spirv[at + 1]);
    }
    at += word_count;
  }
  return capabilities;
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
    default:
      return "SPIR-V capability " + std::to_string(capability) + ", which this runtime does not know how to check";
  }
}

}  // namespace unicorn::gpu
