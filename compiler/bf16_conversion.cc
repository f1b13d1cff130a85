#include "compiler/bf16_conversion.h"

#include <bit>
#include <cstring>

#include "runtime/error.h"

namespace unicorn {

std::uint16_t bf16FromF32(float value) {
  std::uint32_t bits = std::bit_cast<std::uint32_t>(value);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<std::uint16_t>((bits >> 16) | 0x0040u);  // quiet NaN
  // Round to nearest even: add 0x7fff plus the lowest kept bit, then truncate.
  std::uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<std::uint16_t>((bits + rounding) >> 16);
}

float f32FromF16(std::uint16_t half) {
  std::uint32_t sign = static_cast<std::uint32_t>(half & 0x8000u) << 16;
  std::uint32_t exponent = (half >> 10) & 0x1fu;
  std::uint32_t mantissa = half & 0x3ffu;
  std::uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);  // inf / NaN
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);  // normal: rebias 15 -> 127
  } else if (mantissa == 0) {
    bits = sign;  // signed zero
  } else {
    // Subnormal half, value m * 2^-24: make the leading one the implicit bit of a float32 normal.
    int leading = 31 - std::countl_zero(mantissa);
    std::uint32_t fraction = (mantissa << (10 - leading)) & 0x3ffu;
    bits = sign | (static_cast<std::uint32_t>(leading + 103) << 23) | (fraction << 13);
  }
  return std::bit_cast<float>(bits);
}

void convertToBF16(SafetensorsDType dtype, std::span<const std::byte> source, std::span<std::uint16_t> out) {
  const std::size_t count = out.size();
  switch (dtype) {
    case SafetensorsDType::kBF16:
      std::memcpy(out.data(), source.data(), count * 2);
      return;
    case SafetensorsDType::kF32:
      for (std::size_t i = 0; i < count; ++i) {
        float value;
        std::memcpy(&value, source.data() + i * 4, 4);
        out[i] = bf16FromF32(value);
      }
      return;
    case SafetensorsDType::kF16:
      for (std::size_t i = 0; i < count; ++i) {
        std::uint16_t half;
        std::memcpy(&half, source.data() + i * 2, 2);
        out[i] = bf16FromF32(f32FromF16(half));
      }
      return;
    default:
      throw Error(ExitCode::kInvalidInput, std::string("cannot store a ") + dtypeName(dtype) + " tensor as bf16");
  }
}

}  // namespace unicorn
