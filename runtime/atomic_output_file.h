// An output file that appears at its destination complete or not at all.
//
// Bytes go to a temporary file in the destination's directory (so the final
// rename stays on one filesystem and is atomic); commit() flushes it to disk and
// renames it over the destination. If commit() is never reached — an error was
// thrown, the process is interrupted by SIGINT/SIGTERM — the temporary file is
// removed, so users never find a half-written bundle.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace unicorn {

class AtomicOutputFile {
 public:
  // Throws Error(kInvalidInput) naming the destination if the temporary file cannot be created.
  explicit AtomicOutputFile(std::filesystem::path destination);
  AtomicOutputFile(const AtomicOutputFile&) = delete;
  AtomicOutputFile& operator=(const AtomicOutputFile&) = delete;
  ~AtomicOutputFile();

  // Writes at the current end of the file.
  void append(std::span<const std::byte> bytes);
  // Appends zero bytes until the file size is `size` (no-op if already there).
  void padTo(std::uint64_t size);
  // Overwrites bytes already written (or extends the file) at `offset`.
  void writeAt(std::uint64_t offset, std::span<const std::byte> bytes);
  std::uint64_t size() const { return size_; }

  // fsync + rename into place. After this the destructor leaves the file alone.
  void commit();

 private:
  [[noreturn]] void fail(const char* what) const;

  std::filesystem::path destination_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

}  // namespace unicorn
