// libFuzzer target for the safetensors reader: any byte string must either parse
// or be refused with unicorn::Error; anything else (a crash, a sanitizer report,
// another exception type escaping) is a bug.
#include <cstddef>
#include <cstdint>
#include <span>

#include "compiler/safetensors_file.h"
#include "runtime/error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
    for (const unicorn::SafetensorsEntry& entry : unicorn::SafetensorsFile::parse(bytes, "fuzz.safetensors")) {
      // Touch both ends of every span so ASan checks that it lies inside the input.
      if (!entry.bytes.empty()) {
        volatile std::byte first = entry.bytes.front();
        volatile std::byte last = entry.bytes.back();
        (void)first;
        (void)last;
      }
    }
  } catch (const unicorn::Error&) {
  }
  return 0;
}
