#include "compiler/quantize.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <thread>
#include <vector>

#include "compiler/bf16_conversion.h"
#include "runtime/error.h"
#include "schemas/tensor_layout.h"

static_assert(std::endian::native == std::endian::little, "scales are stored as little-endian bf16");

namespace unicorn {
namespace {

// Below this many elements per thread, starting a thread costs more than it saves.
constexpr std::uint64_t kMinElementsPerThread = 1u << 16;

float floatFromBF16(std::uint16_t bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16); }

// One row of checkpoint bytes as floats; every source dtype widens exactly.
void widenRow(SafetensorsDType dtype, const std::byte* source, std::uint64_t count, float* out) {
  switch (dtype) {
    case SafetensorsDType::kF32:
      std::memcpy(out, source, count * 4);
      return;
    case SafetensorsDType::kBF16:
      for (std::uint64_t i = 0; i < count; ++i) {
        std::uint16_t bits;
        std::memcpy(&bits, source + i * 2, 2);
        out[i] = floatFromBF16(bits);
      }
      return;
    case SafetensorsDType::kF16:
      for (std::uint64_t i = 0; i < count; ++i) {
        std::uint16_t bits;
        std::memcpy(&bits, source + i * 2, 2);
        out[i] = f32FromF16(bits);
      }
      return;
    default:
      return;  // unreachable: quantizeRows admits only the three dtypes above
  }
}

// Quantises one 32-element block to integers in [-qmax, qmax] and returns its bf16
// scale, or nullopt if the block holds a NaN or infinity.
std::optional<std::uint16_t> quantizeBlock(const float* values, int qmax, int* quants) {
  float absmax = 0.0f;
  for (std::uint64_t i = 0; i < kQuantBlockElements; ++i) {
    if (!std::isfinite(values[i])) return std::nullopt;
    absmax = std::max(absmax, std::fabs(values[i]));
  }
  const std::uint16_t scale_bits = bf16FromF32(absmax / static_cast<float>(qmax));
  // Quantising against the stored (rounded) scale keeps every element within
  // scale/2 of its dequantised value. bf16 rounds by at most 2^-8 relative, so
  // |value| / scale <= qmax * (1 + 2^-8) < qmax + 0.5 rounds to at most qmax; the
  // clamp only guards that bound.
  const float scale = floatFromBF16(scale_bits);
  for (std::uint64_t i = 0; i < kQuantBlockElements; ++i) {
    if (scale == 0.0f) {
      quants[i] = 0;
      continue;
    }
    // std::round rounds halves away from zero; the quotient is one IEEE division,
    // never a multiplication by a reciprocal, so exact multiples stay exact.
    const float rounded = std::round(values[i] / scale);
    quants[i] = static_cast<int>(std::clamp(rounded, static_cast<float>(-qmax), static_cast<float>(qmax)));
  }
  return scale_bits;
}

// Quantises one row; false if it holds a NaN or infinity.
bool quantizeRow(fb::QuantScheme scheme, const float* values, std::uint64_t row_elements, std::byte* quants,
                 std::uint16_t* scales) {
  const int qmax = quantMax(scheme);
  int block[kQuantBlockElements];
  for (std::uint64_t b = 0; b < row_elements / kQuantBlockElements; ++b) {
    std::optional<std::uint16_t> scale = quantizeBlock(values + b * kQuantBlockElements, qmax, block);
    if (!scale) return false;
    scales[b] = *scale;
    if (scheme == fb::QuantScheme::Q8Block32) {
      std::byte* out = quants + b * kQuantBlockElements;
      for (std::uint64_t i = 0; i < kQuantBlockElements; ++i) out[i] = static_cast<std::byte>(static_cast<std::int8_t>(block[i]));
    } else {
      // Offset binary (q + 8), even k in the low nibble.
      std::byte* out = quants + b * kQuantBlockElements / 2;
      for (std::uint64_t i = 0; i < kQuantBlockElements / 2; ++i) {
        out[i] = static_cast<std::byte>((block[2 * i] + 8) | ((block[2 * i + 1] + 8) << 4));
      }
    }
  }
  return true;
}

}  // namespace

std::optional<std::uint64_t> quantizeRows(fb::QuantScheme scheme, SafetensorsDType dtype,
                                          std::span<const std::byte> source, std::uint64_t row_elements,
                                          std::span<std::byte> quants, std::span<std::uint16_t> scales,
                                          unsigned threads) {
  if (dtype != SafetensorsDType::kF32 && dtype != SafetensorsDType::kF16 && dtype != SafetensorsDType::kBF16) {
    throw Error(ExitCode::kInvalidInput, std::string("cannot quantise a ") + dtypeName(dtype) + " tensor");
  }
  const std::uint64_t source_row_bytes = row_elements * elementSize(dtype);
  const std::uint64_t rows = source_row_bytes ? source.size() / source_row_bytes : 0;
  const std::optional<BlockQuantLayout> layout = blockQuantLayout(scheme, rows, row_elements);
  if (!layout || source.size() != rows * source_row_bytes || quants.size() != layout->quants_bytes ||
      scales.size() != rows * layout->blocks_per_row) {
    throw Error(ExitCode::kInvalidInput, "internal error (please report): quantizeRows called with mismatched spans");
  }
  if (rows == 0) return std::nullopt;
  const std::uint64_t useful_threads = std::max<std::uint64_t>(1, rows * row_elements / kMinElementsPerThread);
  const unsigned thread_count = static_cast<unsigned>(std::min<std::uint64_t>({threads ? threads : 1u, rows, useful_threads}));
  // Scratch rows are allocated here, not in the workers, so an allocation failure
  // is an ordinary exception on this thread.
  std::vector<float> scratch(thread_count * row_elements);
  std::vector<std::uint64_t> first_bad_row(thread_count, UINT64_MAX);
  auto work = [&](unsigned index) {
    const std::uint64_t begin = rows * index / thread_count, end = rows * (index + 1) / thread_count;
    float* row = scratch.data() + index * row_elements;
    for (std::uint64_t r = begin; r < end; ++r) {
      widenRow(dtype, source.data() + r * source_row_bytes, row_elements, row);
      if (!quantizeRow(scheme, row, row_elements, quants.data() + r * layout->quant_row_bytes,
                       scales.data() + r * layout->blocks_per_row)) {
        first_bad_row[index] = r;
        return;
      }
    }
  };
  std::vector<std::thread> workers;
  for (unsigned index = 1; index < thread_count; ++index) workers.emplace_back(work, index);
  work(0);
  for (std::thread& worker : workers) worker.join();
  const std::uint64_t bad = *std::min_element(first_bad_row.begin(), first_bad_row.end());
  if (bad != UINT64_MAX) return bad;
  return std::nullopt;
}

void dequantizeRows(fb::QuantScheme scheme, std::span<const std::byte> quants, std::span<const std::uint16_t> scales,
                    std::uint64_t row_elements, std::span<float> out) {
  const std::uint64_t rows = row_elements ? out.size() / row_elements : 0;
  const std::optional<BlockQuantLayout> layout = blockQuantLayout(scheme, rows, row_elements);
  if (!layout || out.size() != rows * row_elements || quants.size() != layout->quants_bytes ||
      scales.size() != rows * layout->blocks_per_row) {
    throw Error(ExitCode::kInvalidInput, "internal error (please report): dequantizeRows called with mismatched spans");
  }
  for (std::uint64_t e = 0; e < out.size(); ++e) {
    int q;
    if (scheme == fb::QuantScheme::Q8Block32) {
      q = static_cast<std::int8_t>(quants[e]);
    } else {
      q = static_cast<int>((std::to_integer<unsigned>(quants[e / 2]) >> (4 * (e % 2))) & 15u) - 8;
    }
    out[e] = static_cast<float>(q) * floatFromBF16(scales[e / kQuantBlockElements]);
  }
}

}  // namespace unicorn
