// Where matvec_quant / matmul_quant find a row slice of a block-quantised weight
// segment (schemas/bundle.fbs, enum QuantScheme: quants [0, Q), zero padding,
// bf16 scales from S): the byte windows of the segment to bind as the kernels'
// quants (binding 1) and scales (binding 3), and the push-constant bases of the
// slice's first row inside those windows. Header-only and dependency-free so
// the schedule builder and the runtime compute the same numbers.
//
// Why two windows: a tensor larger than maxStorageBufferRange is dispatched in
// row slices, and the quants and scales of rows [a, b) lie far apart in the
// planar segment. An unsplit tensor may bind its whole segment to both.
#pragma once

#include <cstdint>

namespace unicorn::spirv {

enum class BlockQuant { kQ8, kQ4 };  // QuantScheme::Q8Block32 / Q4Block32

constexpr uint32_t quantBits(BlockQuant quant) { return quant == BlockQuant::kQ8 ? 8 : 4; }

struct QuantWeightSlice {
  uint64_t quants_offset = 0;  // byte offset into the segment; a multiple of the alignment
  uint64_t quants_range = 0;   // bytes, a multiple of 4
  uint32_t quant_base = 0;     // QuantMatmulPush::quant_base (words from quants_offset)
  uint64_t scales_offset = 0;  // byte offset into the segment; a multiple of the alignment
  uint64_t scales_range = 0;   // bytes, rounded up to whole words (see below)
  uint32_t scale_base = 0;     // QuantMatmulPush::scale_base (bf16 elements from scales_offset)
};

// Rows [row_begin, row_end) of a [rows, k] segment, k a multiple of 32 and
// row_begin < row_end <= rows. `offset_alignment` is the device's
// minStorageBufferOffsetAlignment (a power of two, at most 256): the windows
// start at the slice's data rounded down to it, and the bases cover the rest.
// The kernels read scales as 32-bit words, so when the slice ends on an odd
// scale the window takes the 2 bytes after it: the next row's first scale, or
// the zero padding that ends every quantised segment on a word (bundle.fbs).
constexpr QuantWeightSlice quantWeightSlice(BlockQuant quant, uint64_t rows, uint64_t k, uint64_t row_begin,
                                            uint64_t row_end, uint64_t offset_alignment) {
  const uint64_t row_bytes = quant == BlockQuant::kQ8 ? k : k / 2;
  const uint64_t blocks_per_row = k / 32;
  const uint64_t scales_start = (rows * row_bytes + 255) / 256 * 256;  // S: the quants rounded up to 256
  auto alignDown = [offset_alignment](uint64_t value) { return value / offset_alignment * offset_alignment; };
  auto wordsUp = [](uint64_t bytes) { return (bytes + 3) / 4 * 4; };

  QuantWeightSlice slice;
  const uint64_t quants_begin = row_begin * row_bytes, quants_end = row_end * row_bytes;
  slice.quants_offset = alignDown(quants_begin);
  slice.quants_range = quants_end - slice.quants_offset;  // row_bytes is a multiple of 16
  slice.quant_base = static_cast<uint32_t>((quants_begin - slice.quants_offset) / 4);
  const uint64_t scales_begin = scales_start + 2 * row_begin * blocks_per_row;
  const uint64_t scales_end = scales_start + 2 * row_end * blocks_per_row;
  slice.scales_offset = alignDown(scales_begin);
  slice.scales_range = wordsUp(scales_end - slice.scales_offset);
  slice.scale_base = static_cast<uint32_t>((scales_begin - slice.scales_offset) / 2);
  return slice;
}

}  // namespace unicorn::spirv
