// Fills device memory with pseudo-random words for measurements. A GPU may read
// memory that holds zeros (a fresh allocation) or other regular patterns
// faster than real data: NVIDIA's GPUs compress such data in L2 and DRAM, and
// a bandwidth measured over it overstates what weights, which do not compress,
// can get (bench/matvec_bench saw a q8 product run 5x faster over zeros).
// Benchmarks therefore stream incompressible words.
#pragma once

#include <cstdint>

namespace unicorn::gpu {

class GpuBuffer;
class GpuDevice;

// Writes [offset, offset + bytes) of `buffer` (device-local or not; `bytes` a
// multiple of 4) with words (random & keep_mask) | set_bits from a generator
// seeded by `seed`, and waits until they are there. keep_mask/set_bits shape
// the words where they are read as numbers: 0x80ff80ff / 0x3c003c00 makes every
// 16-bit half a finite bf16 of magnitude 2^-7 .. 2^-5 with random sign and mantissa.
void fillWithRandomWords(GpuDevice& device, GpuBuffer& buffer, uint64_t offset, uint64_t bytes, uint64_t seed,
                         uint32_t keep_mask = 0xffffffffu, uint32_t set_bits = 0);

}  // namespace unicorn::gpu
