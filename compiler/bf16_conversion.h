// Conversion of checkpoint tensors to bfloat16 storage.
//
// bf16 keeps float32's exponent range, which Gemma 3 needs (its activations and
// some weights overflow fp16). Rounding is to nearest, ties to even, exactly as
// torch's `.to(torch.bfloat16)`, so a bf16 bundle of an f32 checkpoint holds the
// same bits transformers would compute with. NaN stays NaN (quiet).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "compiler/safetensors_file.h"

namespace unicorn {

std::uint16_t bf16FromF32(float value);
float f32FromF16(std::uint16_t half);

// Converts `source` (elements of `dtype`: F32, F16 or BF16) to bf16 in `out`,
// which holds exactly as many elements. Unaligned sources are fine.
void convertToBF16(SafetensorsDType dtype, std::span<const std::byte> source, std::span<std::uint16_t> out);

}  // namespace unicorn
