// Uploads host bytes into device-local memory that the CPU cannot map (a
// discrete GPU's), at bus speed: a ring of host-visible staging chunks, so that
// the CPU fills one while the GPU copies the ones before it. Uploads share a
// chunk: small tensors (norms, scales) travel together instead of one copy
// submission each. One uploader serves every weight of a bundle, so staging
// memory is allocated once.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "runtime/gpu/command_stream.h"
#include "runtime/gpu/gpu_buffer.h"
#include "runtime/parallel_copy.h"

namespace unicorn::gpu {

class GpuDevice;

// How an uploader stages. Chunks are submitted as they fill; the CPU waits only
// when every chunk of the ring is still being copied. The defaults are what
// bench/upload_bench measured best on an H200 host (bench/results/
// upload-h200-2026-12-02.json, the 27B widths' bf16 bundle, 6.1 GB): two
// chunks of 64 MiB 19-32 GB/s over two runs, two of 32 MiB 28, four of 32 MiB
// 13-26, four of 64 MiB 18-20, three of 128 MiB 16 (presumably less staging
// memory stays in the host's caches, and a larger chunk is shared by more threads).
struct StagingShape {
  uint64_t chunk_bytes = uint64_t(64) << 20;
  unsigned chunks = 2;        // >= 1; 1 serialises filling and copying
  unsigned copy_threads = 0;  // host threads filling a chunk (kept for the uploader's life): ParallelCopier's when 0
};

class StagedUploader {
 public:
  explicit StagedUploader(GpuDevice& device, StagingShape shape = {});
  StagedUploader(const StagedUploader&) = delete;
  StagedUploader& operator=(const StagedUploader&) = delete;
  ~StagedUploader();  // waits for copies still in flight

  // Copies `bytes` to [offset, offset + bytes.size()) of `destination`. The copy
  // may still run, or not have started, when this returns: `bytes` may be reused
  // at once, but `destination` must stay alive and is ready for dispatches only
  // after finish().
  void upload(GpuBuffer& destination, uint64_t offset, std::span<const std::byte> bytes);
  // Submits what is staged and waits for every copy; later submissions see the copied bytes.
  void finish();
  // Seconds spent in upload() and finish() so far: the uploads' own time, without
  // what the caller does between them (allocating the destinations, say).
  double busySeconds() const { return busy_seconds_; }

 private:
  struct Chunk {
    GpuBuffer staging;
    CommandStream copy;
    uint64_t filled = 0;  // bytes staged (and their copies recorded) since the last submit
  };
  // The chunk being filled, recording; waits for its previous copy first.
  Chunk& fillingChunk();
  void submitFilling();

  GpuDevice& device_;
  StagingShape shape_;
  ParallelCopier copier_;
  std::vector<Chunk> chunks_;  // allocated as the ring first reaches them
  unsigned filling_ = 0;
  double busy_seconds_ = 0;
};

}  // namespace unicorn::gpu
