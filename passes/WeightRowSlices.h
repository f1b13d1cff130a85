// How the schedule binds a weight matrix [N, K]: as few row slices as keep
// each binding within 128 MiB (Vulkan guarantees no wider maxStorageBufferRange),
// or at least `min_slices` of them (a developer setting that makes small test
// models take the large-matrix path). Slices start on 256-byte offsets, every
// device's minStorageBufferOffsetAlignment dividing 256; the kernels'
// push-constant bases cover the rest. A split matrix's slices are equal (the
// last fewer) and their bf16 rows or quants start their windows (base 0), so
// one dispatch may bind them all as an array (the embedding).
//
// Plain arithmetic over the stored layout (schemas/bundle.fbs: bf16 rows, or
// q8/q4 quants then scales, which quant_weight_slice.h windows), no MLIR.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <optional>
#include <vector>

#include "codegen_spirv/quant_weight_slice.h"

namespace unicorn {

inline constexpr std::uint64_t kMaxBindingBytes = std::uint64_t(1) << 27;
inline constexpr std::uint64_t kBindingOffsetAlignment = 256;

struct WeightRowSlice {
  std::uint32_t row_begin = 0, row_count = 0;
  // The window bound as the matrix: bf16 rows, or the quants (range 0: to the end).
  std::uint64_t data_offset = 0, data_range = 0;
  // Quantised only: the window bound as the scales.
  std::uint64_t scales_offset = 0, scales_range = 0;
  std::uint32_t data_base = 0;   // words into the data window of the slice's first row
  std::uint32_t scale_base = 0;  // bf16 elements into the scales window of its first scale
};

// The slices of a matrix of `n` rows of `k` elements stored as `quant` (nullopt:
// bf16) in a segment of `stored_bytes`, whose quantised scales start at
// `scales_offset`. Empty when `granule` rows (the fewest that keep a bf16
// slice 256-byte aligned) already exceed one binding.
inline std::vector<WeightRowSlice> weightRowSlices(std::uint32_t n, std::uint32_t k,
                                                   std::optional<spirv::BlockQuant> quant,
                                                   std::uint64_t stored_bytes, std::uint64_t scales_offset,
                                                   std::uint32_t min_slices) {
  const std::uint64_t row_bytes = quant ? (*quant == spirv::BlockQuant::kQ8 ? k : k / 2) : 2ull * k;
  const std::uint64_t granule = kBindingOffsetAlignment / std::gcd<std::uint64_t>(kBindingOffsetAlignment, row_bytes);
  std::uint64_t rows_per_slice = n;
  if (stored_bytes > kMaxBindingBytes) {
    // Room for a quantised window's up to 255 bytes in front of its first row.
    rows_per_slice = (kMaxBindingBytes - kBindingOffsetAlignment) / row_bytes / granule * granule;
    if (rows_per_slice == 0) return {};
  }
  if (min_slices > 1) {
    const std::uint64_t wanted = (n + min_slices - 1) / min_slices;
    rows_per_slice = std::min(rows_per_slice, (wanted + granule - 1) / granule * granule);
  }
  std::vector<WeightRowSlice> slices;
  if (rows_per_slice >= n) {
    WeightRowSlice whole;
    whole.row_count = n;
    if (quant) whole.scale_base = static_cast<std::uint32_t>(scales_offset / 2);
    slices.push_back(whole);
    return slices;
  }
  for (std::uint64_t begin = 0; begin < n; begin += rows_per_slice) {
    const std::uint64_t end = std::min<std::uint64_t>(n, begin + rows_per_slice);
    WeightRowSlice rows;
    rows.row_begin = static_cast<std::uint32_t>(begin);
    rows.row_count = static_cast<std::uint32_t>(end - begin);
    if (quant) {
      const spirv::QuantWeightSlice window =
          spirv::quantWeightSlice(*quant, n, k, begin, end, kBindingOffsetAlignment);
      rows.data_offset = window.quants_offset;
      rows.data_range = window.quants_range;
      rows.scales_offset = window.scales_offset;
      rows.scales_range = window.scales_range;
      rows.data_base = window.quant_base;
      rows.scale_base = window.scale_base;
    } else {
      rows.data_offset = begin * row_bytes;
      rows.data_range = (end - begin) * row_bytes;
    }
    slices.push_back(rows);
  }
  return slices;
}

}  // namespace unicorn
