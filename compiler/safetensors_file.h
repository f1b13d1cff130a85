// One .safetensors file: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype": "BF16", "shape": [..], "data_offsets": [begin, end]}, ...,
// "__metadata__": {...}}, then the tensor bytes. Parsed strictly: every offset is
// checked against the file with overflow-safe arithmetic, ranges must match
// dtype x shape, and must not overlap.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "runtime/mapped_file.h"

namespace unicorn {

enum class SafetensorsDType { kF32, kF16, kBF16, kF64, kI64, kI32, kI16, kI8, kU8, kBool, kF8E4M3, kF8E5M2 };

std::size_t elementSize(SafetensorsDType dtype);
const char* dtypeName(SafetensorsDType dtype);  // as spelled in safetensors: "BF16"

struct SafetensorsEntry {
  std::string key;
  SafetensorsDType dtype;
  std::vector<std::uint64_t> shape;
  std::span<const std::byte> bytes;  // into the mapped file
  std::uint64_t file_offset;         // of bytes[0] within the file (for IR that points into checkpoints)
};

class SafetensorsFile {
 public:
  // Throws Error(kInvalidInput) "<path>: <problem>" on any malformed input.
  static SafetensorsFile open(const std::filesystem::path& path);
  // Parses an already-mapped buffer (the fuzz target's entry point). `name` is used in messages.
  static std::vector<SafetensorsEntry> parse(std::span<const std::byte> bytes, const std::string& name);

  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  MappedFile& mapping() { return file_; }

 private:
  MappedFile file_;
  std::vector<SafetensorsEntry> entries_;
};

}  // namespace unicorn
