// A read-only memory map of a whole file. Checkpoints and bundles are read through
// it so that tensor bytes are never copied: readers hand out spans into the map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace unicorn {

class MappedFile {
 public:
  // Maps `path` read-only. Throws Error(kInvalidInput) naming the path when it
  // cannot be opened or mapped. An empty file maps to an empty span.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace unicorn
