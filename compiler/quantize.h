// Symmetric block quantisation of weight rows into the Q8Block32 / Q4Block32
// formats that schemas/bundle.fbs (enum QuantScheme) defines: one bf16 scale per
// 32 elements along K, quants against the rounded scale, halves away from zero.
//
// Rows are independent, so quantizeRows splits them across threads; each row's
// bytes depend on that row's values alone, which makes the output byte-identical
// for every thread count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "compiler/safetensors_file.h"
#include "schemas/bundle_generated.h"

namespace unicorn {

// Quantises consecutive rows of `row_elements` (K) values each, given as their
// checkpoint bytes in `dtype` (F32, F16 or BF16; widened exactly to float), into
// `quants` (rows * K bytes for Q8, rows * K/2 for Q4) and `scales` (rows * K/32
// bf16 bit patterns), on up to `threads` threads. K must be a multiple of 32 and
// the spans exactly that large. Returns the index of the first row holding a NaN
// or an infinity, which has no scale (its output is then unspecified), or nullopt.
std::optional<std::uint64_t> quantizeRows(fb::QuantScheme scheme, SafetensorsDType dtype,
                                          std::span<const std::byte> source, std::uint64_t row_elements,
                                          std::span<std::byte> quants, std::span<std::uint16_t> scales,
                                          unsigned threads);

// The dequantised values W' = q * scale of rows quantised by quantizeRows, into
// `out` (rows * K floats). The reference a GPU kernel's output is checked against.
void dequantizeRows(fb::QuantScheme scheme, std::span<const std::byte> quants, std::span<const std::uint16_t> scales,
                    std::uint64_t row_elements, std::span<float> out);

}  // namespace unicorn
