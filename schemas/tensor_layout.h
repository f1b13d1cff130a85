// The byte layout of a stored tensor for each (dtype, quant scheme) pair: the one
// size rule that the bundle writer and the bundle verifier share, so they cannot
// drift apart. schemas/bundle.fbs (enum QuantScheme) documents the layout in
// words for kernel writers; this header computes it.
//
// Everything here takes sizes from an untrusted file, so all arithmetic is
// checked for 64-bit overflow.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "schemas/bundle_format.h"
#include "schemas/bundle_generated.h"

namespace unicorn {

// Elements per quantisation block, along K (the input dimension of an [N, K] matrix).
inline constexpr std::uint64_t kQuantBlockElements = 32;
// The scales start on this boundary inside the segment, so a runtime can bind them
// as their own storage buffer (Vulkan's minStorageBufferOffsetAlignment is at most 256).
inline constexpr std::uint64_t kQuantScalesAlignment = 256;
// Bytes per scale: bf16.
inline constexpr std::uint64_t kQuantScaleBytes = 2;
// A block-quantised segment is a whole number of these words (kernels read words).
inline constexpr std::uint64_t kQuantSegmentWordBytes = 4;

constexpr bool isBlockQuantised(fb::QuantScheme scheme) {
  return scheme == fb::QuantScheme::Q8Block32 || scheme == fb::QuantScheme::Q4Block32;
}

// The largest stored quant magnitude: the symmetric range is [-quantMax, quantMax].
constexpr int quantMax(fb::QuantScheme scheme) { return scheme == fb::QuantScheme::Q8Block32 ? 127 : 7; }

// The element dtype a block scheme stores its quants as.
constexpr fb::DType quantDType(fb::QuantScheme scheme) {
  return scheme == fb::QuantScheme::Q8Block32 ? fb::DType::I8 : fb::DType::I4;
}

// Bytes per element of an unquantised dtype; 0 for the quant-only dtypes I8 and I4.
constexpr std::uint64_t plainElementBytes(fb::DType dtype) {
  switch (dtype) {
    case fb::DType::F32: return 4;
    case fb::DType::F16: return 2;
    case fb::DType::BF16: return 2;
    default: return 0;
  }
}

// Where the parts of a block-quantised [rows, row_elements] matrix lie in its segment
// (byte offsets from the segment's start).
struct BlockQuantLayout {
  std::uint64_t rows = 0;             // N
  std::uint64_t row_elements = 0;     // K
  std::uint64_t blocks_per_row = 0;   // K / 32
  std::uint64_t quant_row_bytes = 0;  // K (Q8) or K / 2 (Q4)
  std::uint64_t quants_bytes = 0;     // rows * quant_row_bytes, from offset 0
  std::uint64_t scales_offset = 0;    // quants_bytes rounded up to kQuantScalesAlignment
  std::uint64_t scales_bytes = 0;     // rows * blocks_per_row * 2
  std::uint64_t total_bytes = 0;      // scales_offset + scales_bytes rounded up to 4: the segment's size
};

// nullopt when the scheme is not a block scheme, K is zero or not a multiple of 32,
// or a size would overflow 64 bits.
inline std::optional<BlockQuantLayout> blockQuantLayout(fb::QuantScheme scheme, std::uint64_t rows,
                                                        std::uint64_t row_elements) {
  if (!isBlockQuantised(scheme) || row_elements == 0 || row_elements % kQuantBlockElements != 0) return std::nullopt;
  BlockQuantLayout layout;
  layout.rows = rows;
  layout.row_elements = row_elements;
  layout.blocks_per_row = row_elements / kQuantBlockElements;
  layout.quant_row_bytes = scheme == fb::QuantScheme::Q8Block32 ? row_elements : row_elements / 2;
  if (rows != 0 && layout.quant_row_bytes > UINT64_MAX / rows) return std::nullopt;
  layout.quants_bytes = rows * layout.quant_row_bytes;
  if (layout.quants_bytes > UINT64_MAX - kQuantScalesAlignment) return std::nullopt;
  layout.scales_offset = alignUp(layout.quants_bytes, kQuantScalesAlignment);
  // blocks_per_row * 2 = K / 16 <= quant_row_bytes, so this product cannot overflow.
  layout.scales_bytes = rows * layout.blocks_per_row * kQuantScaleBytes;
  if (layout.scales_bytes > UINT64_MAX - layout.scales_offset) return std::nullopt;
  // Kernels read the scales as 32-bit words: an odd count gets two zero bytes
  // after it, so the last word lies inside the segment.
  layout.total_bytes = layout.scales_offset + alignUp(layout.scales_bytes, kQuantSegmentWordBytes);
  return layout;
}

// The stored byte size of a tensor, or why its (dtype, scheme, shape) is not a valid
// combination (`problem` then names it and `bytes` is 0).
struct StoredTensorSize {
  std::uint64_t bytes = 0;
  const char* problem = nullptr;
};

inline StoredTensorSize storedTensorSize(fb::DType dtype, fb::QuantScheme scheme, std::span<const std::uint64_t> shape) {
  if (scheme == fb::QuantScheme::None) {
    const std::uint64_t element_bytes = plainElementBytes(dtype);
    if (element_bytes == 0) return {0, "dtype needs a block quantisation scheme, but the tensor has none"};
    std::uint64_t bytes = element_bytes;
    for (std::uint64_t dim : shape) {
      if (dim != 0 && bytes > UINT64_MAX / dim) return {0, "shape overflows 64 bits"};
      bytes *= dim;
    }
    return {bytes, nullptr};
  }
  if (!isBlockQuantised(scheme)) return {0, "unknown quantisation scheme"};
  if (dtype != quantDType(scheme)) return {0, "dtype does not match the quantisation scheme (Q8Block32: i8, Q4Block32: i4)"};
  if (shape.size() != 2) return {0, "a block-quantised tensor must be 2-D [N, K]"};
  std::optional<BlockQuantLayout> layout = blockQuantLayout(scheme, shape[0], shape[1]);
  if (!layout) return {0, "a block-quantised tensor needs K (its last dimension) to be a non-zero multiple of 32"};
  return {layout->total_bytes, nullptr};
}

}  // namespace unicorn
