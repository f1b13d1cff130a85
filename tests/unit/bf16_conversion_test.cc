// bf16 storage conversion: the expected bit patterns follow from the IEEE formats
// (bf16 = the top half of float32, rounded to nearest even), not from our code.
#include "compiler/bf16_conversion.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace unicorn {
namespace {

float fromBits(std::uint32_t bits) { return std::bit_cast<float>(bits); }

TEST(Bf16FromF32, ExactValuesKeepTheirTopHalf) {
  EXPECT_EQ(bf16FromF32(1.0f), 0x3F80);
  EXPECT_EQ(bf16FromF32(-2.0f), 0xC000);
  EXPECT_EQ(bf16FromF32(0.0f), 0x0000);
  EXPECT_EQ(bf16FromF32(-0.0f), 0x8000);
  EXPECT_EQ(bf16FromF32(std::numeric_limits<float>::infinity()), 0x7F80);
}

TEST(Bf16FromF32, RoundsToNearestTiesToEven) {
  EXPECT_EQ(bf16FromF32(fromBits(0x3F808000)), 0x3F80);  // tie, kept bit even: round down
  EXPECT_EQ(bf16FromF32(fromBits(0x3F818000)), 0x3F82);  // tie, kept bit odd: round up
  EXPECT_EQ(bf16FromF32(fromBits(0x3F808001)), 0x3F81);  // above the tie: up
  EXPECT_EQ(bf16FromF32(fromBits(0x3F807FFF)), 0x3F80);  // below the tie: down
  EXPECT_EQ(bf16FromF32(fromBits(0x7F7FFFFF)), 0x7F80);  // FLT_MAX rounds to infinity, as torch does
}

TEST(Bf16FromF32, NaNStaysNaN) {
  std::uint16_t nan = bf16FromF32(fromBits(0x7F800001));  // signalling NaN whose payload is in the low half
  EXPECT_EQ(nan & 0x7F80, 0x7F80);
  EXPECT_NE(nan & 0x007F, 0);
}

TEST(F32FromF16, CoversNormalsSubnormalsAndSpecials) {
  EXPECT_EQ(f32FromF16(0x3C00), 1.0f);
  EXPECT_EQ(f32FromF16(0xC000), -2.0f);
  EXPECT_EQ(f32FromF16(0x7BFF), 65504.0f);                 // largest half
  EXPECT_EQ(f32FromF16(0x0400), std::ldexp(1.0f, -14));   // smallest normal
  EXPECT_EQ(f32FromF16(0x0001), std::ldexp(1.0f, -24));   // smallest subnormal
  EXPECT_EQ(f32FromF16(0x03FF), std::ldexp(1023.0f, -24)); // largest subnormal
  EXPECT_EQ(f32FromF16(0x0200), std::ldexp(1.0f, -15));
  EXPECT_TRUE(std::signbit(f32FromF16(0x8000)));
  EXPECT_TRUE(std::isinf(f32FromF16(0x7C00)));
  EXPECT_TRUE(std::isnan(f32FromF16(0x7E00)));
}

TEST(F32FromF16, EveryHalfRoundTripsThroughFloat) {
  // Every finite half is exactly representable in float: converting back by the
  // IEEE rule (here: search) must find the same bits. Checks all 63488 finite values.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7C00) == 0x7C00) continue;
    float f = f32FromF16(static_cast<std::uint16_t>(h));
    float magnitude = std::fabs(f);
    int exponent = magnitude == 0 ? -14 : std::max(std::ilogb(magnitude), -14);
    float ulp = std::ldexp(1.0f, exponent - 10);
    double units = magnitude / ulp;
    ASSERT_EQ(units, std::floor(units)) << "half " << h << " not on the half grid";
    ASSERT_EQ(std::signbit(f), (h & 0x8000) != 0) << h;
  }
}

TEST(ConvertToBF16, ConvertsUnalignedSourcesOfEachDtype) {
  std::vector<std::byte> buffer(1 + 3 * 4);
  const float values[3] = {1.0f, -2.5f, 3.140625f};
  std::memcpy(buffer.data() + 1, values, sizeof(values));  // deliberately misaligned
  std::vector<std::uint16_t> out(3);
  convertToBF16(SafetensorsDType::kF32, std::span(buffer).subspan(1), out);
  EXPECT_EQ(out, (std::vector<std::uint16_t>{0x3F80, 0xC020, 0x4049}));

  const std::uint16_t halves[2] = {0x3C00, 0xC100};  // 1.0, -2.5
  std::vector<std::uint16_t> from_half(2);
  convertToBF16(SafetensorsDType::kF16, std::as_bytes(std::span(halves)), from_half);
  EXPECT_EQ(from_half, (std::vector<std::uint16_t>{0x3F80, 0xC020}));
}

}  // namespace
}  // namespace unicorn
