#include "runtime/gpu/staged_uploader.h"

#include <algorithm>
#include <cstring>

namespace unicorn::gpu {

StagedUploader::StagedUploader(GpuDevice& device, uint64_t chunk_bytes) : device_(device), chunk_bytes_(chunk_bytes) {}

StagedUploader::~StagedUploader() {
  for (std::optional<Slot>& slot : slots_) {
    // A failed wait (device lost) leaves nothing better to do: the stream's
    // destructor waits again before freeing.
    if (slot && slot->copy.inFlight()) {
      try {
        slot->copy.wait();
      } catch (...) {
      }
    }
  }
}

void StagedUploader::upload(GpuBuffer& destination, uint64_t offset, std::span<const std::byte> bytes) {
  for (uint64_t done = 0; done < bytes.size();) {
    std::optional<Slot>& slot = slots_[next_];
    next_ ^= 1u;
    if (!slot) {
      slot.emplace(Slot{GpuBuffer::allocate(device_, chunk_bytes_, MemoryPlacement::kHostVisible, "upload staging"),
                        CommandStream(device_)});
    } else if (slot->copy.inFlight()) {
      slot->copy.wait();  // its staging buffer is free again
    }
    const uint64_t chunk = std::min<uint64_t>(bytes.size() - done, chunk_bytes_);
    slot->staging.write(0, bytes.subspan(done, chunk));
    slot->copy.begin();
    slot->copy.copyBuffer(slot->staging, 0, destination, offset + done, chunk);
    // Later submissions (dispatches, other copies) see the copied bytes.
    slot->copy.memoryBarrier(Hazard::kTransferToCompute);
    slot->copy.end();
    slot->copy.submit();
    done += chunk;
  }
}

void StagedUploader::finish() {
  for (std::optional<Slot>& slot : slots_) {
    if (slot && slot->copy.inFlight()) slot->copy.wait();
  }
}

}  // namespace unicorn::gpu
