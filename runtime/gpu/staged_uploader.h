// Uploads host bytes into device-local memory that the CPU cannot map (a
// discrete GPU's), at bus speed: two host-visible staging buffers used in
// turn, so that the CPU fills one while the GPU copies the other. One uploader
// serves every weight of a bundle, so staging memory is allocated once.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "runtime/gpu/command_stream.h"
#include "runtime/gpu/gpu_buffer.h"

namespace unicorn::gpu {

class GpuDevice;

class StagedUploader {
 public:
  explicit StagedUploader(GpuDevice& device, uint64_t chunk_bytes = uint64_t(64) << 20);
  StagedUploader(const StagedUploader&) = delete;
  StagedUploader& operator=(const StagedUploader&) = delete;
  ~StagedUploader();  // waits for copies still in flight

  // Copies `bytes` to [offset, offset + bytes.size()) of `destination`. The copy
  // may still run when this returns: `bytes` may be reused at once, but
  // `destination` is ready for dispatches only after finish().
  void upload(GpuBuffer& destination, uint64_t offset, std::span<const std::byte> bytes);
  // Waits for every copy; later submissions see the copied bytes.
  void finish();

 private:
  struct Slot {
    GpuBuffer staging;
    CommandStream copy;
  };

  GpuDevice& device_;
  uint64_t chunk_bytes_;
  std::array<std::optional<Slot>, 2> slots_;
  unsigned next_ = 0;
};

}  // namespace unicorn::gpu
