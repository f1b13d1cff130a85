// Fuzzes the runtime's reader of a kernel module's SPIR-V capabilities
// (runtime/gpu/spirv_capabilities.h): a bundle's SPIR-V words are untrusted, and
// ComputePipeline reads them before Vulkan sees them. Invariants, trapping on
// violation: it returns or throws Error(kInvalidInput), never reads past the
// words; it finds at most one capability per two words after the header; and
// every capability it finds gets an answer for a device with every optional
// feature and for one with none. The cooperative-matrix type reader likewise
// returns or throws kInvalidInput, finds at most one type per seven words, and
// every type it finds is refused by a device without matrix units; the shared
// memory reader returns a size (saturating at 2^40) or throws kInvalidInput.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/gpu/spirv_capabilities.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<uint32_t> words(size / 4);
  if (!words.empty()) std::memcpy(words.data(), data, words.size() * 4);
  std::vector<uint32_t> capabilities;
  try {
    capabilities = unicorn::gpu::declaredCapabilities(words, "fuzzed module");
  } catch (const unicorn::Error& error) {
    if (error.code() != unicorn::ExitCode::kInvalidInput) std::abort();
    return 0;
  }
  if (words.size() > 5 && capabilities.size() > (words.size() - 5) / 2) std::abort();
  unicorn::gpu::DeviceCapabilities none, every;
  every.shader_float16 = every.shader_int8 = every.storage_buffer_8bit_access = true;
  every.shader_integer_dot_product = every.cooperative_matrix = true;
  for (uint32_t capability : capabilities) {
    std::optional<std::string> with_every = unicorn::gpu::missingFeatureFor(capability, every);
    std::optional<std::string> with_none = unicorn::gpu::missingFeatureFor(capability, none);
    // A device with more features never lacks more.
    if (with_every && !with_none) std::abort();
  }
  try {
    const std::vector<unicorn::gpu::CooperativeMatrixType> types =
        unicorn::gpu::declaredCooperativeMatrices(words, "fuzzed module");
    if (words.size() > 5 && types.size() > (words.size() - 5) / 7) std::abort();
    for (const unicorn::gpu::CooperativeMatrixType& type : types) {
      if (!unicorn::gpu::unsupportedMatrix(type, {})) std::abort();
    }
  } catch (const unicorn::Error& error) {
    if (error.code() != unicorn::ExitCode::kInvalidInput) std::abort();
  }
  try {
    if (unicorn::gpu::declaredWorkgroupMemoryBytes(words, "fuzzed module") > (uint64_t(1) << 40)) std::abort();
  } catch (const unicorn::Error& error) {
    if (error.code() != unicorn::ExitCode::kInvalidInput) std::abort();
  }
  return 0;
}
