#include "runtime/gpu/random_fill.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <span>
#include <vector>

#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/staged_uploader.h"

namespace unicorn::gpu {

void fillWithRandomWords(GpuDevice& device, GpuBuffer& buffer, uint64_t offset, uint64_t bytes, uint64_t seed,
                         uint32_t keep_mask, uint32_t set_bits) {
  constexpr uint64_t kPieceBytes = uint64_t(16) << 20;
  std::mt19937_64 random(seed);
  std::vector<uint32_t> words(kPieceBytes / 4);
  StagedUploader uploader(device, StagingShape{.chunk_bytes = kPieceBytes, .chunks = 2});
  for (uint64_t done = 0; done < bytes; done += kPieceBytes) {
    const uint64_t piece = std::min(kPieceBytes, bytes - done);
    for (uint64_t i = 0; i < piece / 4; i += 2) {
      const uint64_t value = random();
      words[i] = (uint32_t(value) & keep_mask) | set_bits;
      if (i + 1 < piece / 4) words[i + 1] = (uint32_t(value >> 32) & keep_mask) | set_bits;
    }
    uploader.upload(buffer, offset + done, std::as_bytes(std::span(words.data(), piece / 4)));
  }
  uploader.finish();
}

}  // namespace unicorn::gpu
