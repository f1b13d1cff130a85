#include "runtime/gpu/staged_uploader.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace unicorn::gpu {

StagedUploader::StagedUploader(GpuDevice& device, StagingShape shape)
    : device_(device), shape_(shape), copier_(shape.copy_threads) {
  if (shape_.chunk_bytes == 0 || shape_.chunks == 0) throw std::invalid_argument("StagedUploader: empty staging shape");
  chunks_.reserve(shape_.chunks);  // Chunk holds a CommandStream: never moved once made
}

StagedUploader::~StagedUploader() {
  for (Chunk& chunk : chunks_) {
    // A failed wait (device lost) leaves nothing better to do: the stream's
    // destructor waits again before freeing. A chunk recorded but never
    // submitted is dropped with its stream.
    if (chunk.copy.inFlight()) {
      try {
        chunk.copy.wait();
      } catch (...) {
      }
    }
  }
}

StagedUploader::Chunk& StagedUploader::fillingChunk() {
  if (filling_ == chunks_.size()) {
    chunks_.push_back(Chunk{GpuBuffer::allocate(device_, shape_.chunk_bytes, MemoryPlacement::kHostVisible,
                                                "upload staging " + std::to_string(filling_)),
                            CommandStream(device_)});
  }
  Chunk& chunk = chunks_[filling_];
  if (chunk.filled == 0) {
    if (chunk.copy.inFlight()) chunk.copy.wait();  // its staging memory is free again
    chunk.copy.begin();
  }
  return chunk;
}

void StagedUploader::submitFilling() {
  Chunk& chunk = chunks_[filling_];
  // Later submissions (dispatches, other copies) see the copied bytes.
  chunk.copy.memoryBarrier(Hazard::kTransferToCompute);
  chunk.copy.end();
  chunk.copy.submit();
  chunk.filled = 0;
  filling_ = (filling_ + 1) % shape_.chunks;
}

namespace {

// Adds the seconds from its construction to its end to `total`.
class BusyTime {
 public:
  explicit BusyTime(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~BusyTime() { total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace

void StagedUploader::upload(GpuBuffer& destination, uint64_t offset, std::span<const std::byte> bytes) {
  const BusyTime busy(busy_seconds_);
  for (uint64_t done = 0; done < bytes.size();) {
    Chunk& chunk = fillingChunk();
    const uint64_t piece = std::min<uint64_t>(bytes.size() - done, shape_.chunk_bytes - chunk.filled);
    copier_.copy(chunk.staging.mapped().data() + chunk.filled, bytes.data() + done, piece);
    chunk.copy.copyBuffer(chunk.staging, chunk.filled, destination, offset + done, piece);
    chunk.filled += piece;
    done += piece;
    if (chunk.filled == shape_.chunk_bytes) submitFilling();
  }
}

void StagedUploader::finish() {
  const BusyTime busy(busy_seconds_);
  if (filling_ < chunks_.size() && chunks_[filling_].filled) submitFilling();
  for (Chunk& chunk : chunks_) {
    if (chunk.copy.inFlight()) chunk.copy.wait();
  }
}

}  // namespace unicorn::gpu
