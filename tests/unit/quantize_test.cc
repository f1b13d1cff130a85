// Block quantisation (Q8Block32 / Q4Block32). Expected values follow from the
// format's definition in schemas/bundle.fbs — scale = bf16(max|w| / QMAX), q =
// round-half-away(w / scale) clamped to [-QMAX, QMAX], planar quants then scales,
// Q4 as offset-binary nibbles with even k low — and the decoding below is written
// from that text, not from the quantiser's code.
#include "compiler/quantize.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "compiler/bf16_conversion.h"
#include "compiler/weight_scheme.h"
#include "runtime/error.h"
#include "schemas/tensor_layout.h"

namespace unicorn {
namespace {

using fb::QuantScheme;

constexpr std::uint64_t kBlock = 32;

// The quantiser's output for `rows` x `k` values.
struct Quantised {
  std::vector<std::byte> quants;
  std::vector<std::uint16_t> scales;
};

std::uint64_t quantRowBytes(QuantScheme scheme, std::uint64_t k) { return scheme == QuantScheme::Q8Block32 ? k : k / 2; }

std::span<const std::byte> bytesOf(const std::vector<float>& values) { return std::as_bytes(std::span(values)); }

Quantised quantise(QuantScheme scheme, const std::vector<float>& values, std::uint64_t k, unsigned threads = 1) {
  const std::uint64_t rows = values.size() / k;
  Quantised out{std::vector<std::byte>(rows * quantRowBytes(scheme, k)), std::vector<std::uint16_t>(rows * k / kBlock)};
  EXPECT_EQ(quantizeRows(scheme, SafetensorsDType::kF32, bytesOf(values), k, out.quants, out.scales, threads),
            std::nullopt);
  return out;
}

float scaleValue(std::uint16_t bf16_bits) { return std::bit_cast<float>(static_cast<std::uint32_t>(bf16_bits) << 16); }

// The stored integer of element e (row-major over all rows), decoded as bundle.fbs says:
// Q8 the int8 at byte e; Q4 from little-endian uint32 words, element 8j+i = ((word_j >> 4i) & 15) - 8.
int storedQuant(QuantScheme scheme, const std::vector<std::byte>& quants, std::uint64_t e) {
  if (scheme == QuantScheme::Q8Block32) return static_cast<std::int8_t>(quants[e]);
  std::uint32_t word;
  std::memcpy(&word, quants.data() + (e / 8) * 4, 4);
  return static_cast<int>((word >> (4 * (e % 8))) & 15u) - 8;
}

float decoded(QuantScheme scheme, const Quantised& q, std::uint64_t e) {
  return static_cast<float>(storedQuant(scheme, q.quants, e)) * scaleValue(q.scales[e / kBlock]);
}

int qmax(QuantScheme scheme) { return scheme == QuantScheme::Q8Block32 ? 127 : 7; }

class BlockQuantisation : public ::testing::TestWithParam<QuantScheme> {};

TEST_P(BlockQuantisation, ExactMultiplesOfTheScaleRoundTripExactly) {
  const QuantScheme scheme = GetParam();
  const int max = qmax(scheme);
  // Scales exactly representable in bf16 (3 * 2^-8, 2^-6, 5 * 2^3), so max * s / max = s.
  for (float s : {0.01171875f, 0.015625f, 40.0f}) {
    std::vector<float> values(2 * kBlock);
    for (std::uint64_t i = 0; i < values.size(); ++i) {
      const int k = static_cast<int>(i % (2 * max + 1)) - max;  // sweeps -max..max
      values[i] = static_cast<float>(k) * s;
    }
    values[3] = static_cast<float>(max) * s;  // each block holds the extreme, so its scale is s
    values[kBlock + 3] = static_cast<float>(-max) * s;
    Quantised q = quantise(scheme, values, 2 * kBlock);
    EXPECT_EQ(scaleValue(q.scales[0]), s);
    EXPECT_EQ(scaleValue(q.scales[1]), s);
    for (std::uint64_t e = 0; e < values.size(); ++e) {
      ASSERT_EQ(decoded(scheme, q, e), values[e]) << "s " << s << " element " << e;
    }
  }
}

TEST_P(BlockQuantisation, EveryElementLiesWithinHalfAScale) {
  const QuantScheme scheme = GetParam();
  std::mt19937 rng(7);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const std::uint64_t k = 256, rows = 64;
  std::vector<float> values(rows * k);
  // Magnitudes from 1e-30 to 1e30 per row; some rows uniform, some heavy-tailed.
  for (std::uint64_t r = 0; r < rows; ++r) {
    const float magnitude = std::pow(10.0f, -30.0f + 60.0f * static_cast<float>(r) / rows);
    for (std::uint64_t i = 0; i < k; ++i) {
      float x = normal(rng);
      if (r % 3 == 1) x = x * x * x;
      values[r * k + i] = x * magnitude;
    }
  }
  Quantised q = quantise(scheme, values, k);
  for (std::uint64_t e = 0; e < values.size(); ++e) {
    const float scale = scaleValue(q.scales[e / kBlock]);
    ASSERT_LE(std::fabs(decoded(scheme, q, e) - values[e]), scale / 2) << "element " << e;
    ASSERT_LE(std::abs(storedQuant(scheme, q.quants, e)), qmax(scheme));
  }
}

TEST_P(BlockQuantisation, ScaleIsTheBlockMaximumOverQmaxInBf16) {
  const QuantScheme scheme = GetParam();
  std::vector<float> values(kBlock, 0.25f);
  values[17] = -3.3f;
  Quantised q = quantise(scheme, values, kBlock);
  EXPECT_EQ(q.scales[0], bf16FromF32(3.3f / static_cast<float>(qmax(scheme))));
}

TEST_P(BlockQuantisation, AllZeroBlockHasZeroScaleAndZeroQuants) {
  const QuantScheme scheme = GetParam();
  std::vector<float> values(2 * kBlock, 0.0f);
  values[kBlock] = 1.0f;  // the second block is not zero: only the first must be
  values[5] = -0.0f;
  Quantised q = quantise(scheme, values, 2 * kBlock);
  EXPECT_EQ(q.scales[0], 0);
  for (std::uint64_t e = 0; e < kBlock; ++e) EXPECT_EQ(storedQuant(scheme, q.quants, e), 0);
  // Zero is stored as 0x00 in Q8 and as the nibble 8 (0x88 per byte) in Q4.
  const std::byte zero_byte = scheme == QuantScheme::Q8Block32 ? std::byte{0x00} : std::byte{0x88};
  for (std::uint64_t b = 0; b < quantRowBytes(scheme, kBlock); ++b) EXPECT_EQ(q.quants[b], zero_byte);
}

TEST_P(BlockQuantisation, BlockExtremesMapToPlusMinusQmax) {
  const QuantScheme scheme = GetParam();
  const int max = qmax(scheme);
  // Many maxima, so that bf16 rounds absmax / QMAX both up and down; when it rounds
  // down the extreme exceeds QMAX * scale (by under half a step) and must still be QMAX.
  int rounded_down = 0;
  for (int step = 0; step < 2000; ++step) {
    const float absmax = 0.001f * static_cast<float>(1000 + step * 7) / 997.0f;
    std::vector<float> values(kBlock, absmax / 3.0f);
    values[0] = absmax;
    values[31] = -absmax;
    Quantised q = quantise(scheme, values, kBlock);
    rounded_down += scaleValue(q.scales[0]) < absmax / static_cast<float>(max);
    ASSERT_EQ(storedQuant(scheme, q.quants, 0), max) << absmax;
    ASSERT_EQ(storedQuant(scheme, q.quants, 31), -max) << absmax;
  }
  EXPECT_GT(rounded_down, 100);  // the clamping case was exercised
}

TEST_P(BlockQuantisation, HalvesRoundAwayFromZero) {
  const QuantScheme scheme = GetParam();
  const int max = qmax(scheme);
  std::vector<float> values(kBlock, 0.0f);
  values[0] = static_cast<float>(max);  // scale exactly 1
  values[1] = 2.5f;                     // to even: 2
  values[2] = -2.5f;
  values[3] = 0.5f;                     // to even: 0
  values[4] = -0.5f;
  values[5] = 1.5f;
  values[6] = 0.49999997f;              // just below a half: rounds toward zero
  Quantised q = quantise(scheme, values, kBlock);
  ASSERT_EQ(scaleValue(q.scales[0]), 1.0f);
  const int expected[] = {max, 3, -3, 1, -1, 2, 0};
  for (int e = 0; e < 7; ++e) EXPECT_EQ(storedQuant(scheme, q.quants, e), expected[e]) << "element " << e;
}

TEST_P(BlockQuantisation, MultiThreadedOutputEqualsSingleThreaded) {
  const QuantScheme scheme = GetParam();
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  const std::uint64_t k = 320, rows = 1531;  // a prime row count: uneven splits
  std::vector<float> values(rows * k);
  for (float& v : values) v = normal(rng);
  Quantised single = quantise(scheme, values, k, 1);
  for (unsigned threads : {2u, 3u, 8u, 64u}) {
    Quantised multi = quantise(scheme, values, k, threads);
    EXPECT_EQ(multi.quants, single.quants) << threads << " threads";
    EXPECT_EQ(multi.scales, single.scales) << threads << " threads";
  }
}

TEST_P(BlockQuantisation, Bf16F16AndF32SourcesOfTheSameValuesAgree) {
  const QuantScheme scheme = GetParam();
  const std::uint64_t k = 64;
  std::vector<float> values(3 * k);
  std::vector<std::uint16_t> as_bf16(values.size()), as_f16(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    // Multiples of 1/64 up to 2: exact in bf16 (8 significant bits), f16 and f32.
    const int n = static_cast<int>((i * 37) % 257) - 128;
    values[i] = static_cast<float>(n) / 64.0f;
    as_bf16[i] = bf16FromF32(values[i]);
  }
  // f16 bit patterns of n/64 built from the IEEE definition: sign, exponent bias 15, 10-bit mantissa
  // (zero stays the all-zero pattern).
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    if (v == 0.0f) continue;
    int exponent;
    const float mantissa = std::frexp(std::fabs(v), &exponent);  // v = m * 2^e, m in [0.5, 1)
    const auto fraction = static_cast<std::uint16_t>((mantissa * 2.0f - 1.0f) * 1024.0f);
    as_f16[i] = static_cast<std::uint16_t>((v < 0 ? 0x8000 : 0) | ((exponent - 1 + 15) << 10) | fraction);
    ASSERT_EQ(f32FromF16(as_f16[i]), v);
  }
  Quantised from_f32 = quantise(scheme, values, k);
  for (auto [dtype, bits] : {std::pair{SafetensorsDType::kBF16, &as_bf16}, std::pair{SafetensorsDType::kF16, &as_f16}}) {
    Quantised other{std::vector<std::byte>(from_f32.quants.size()), std::vector<std::uint16_t>(from_f32.scales.size())};
    EXPECT_EQ(quantizeRows(scheme, dtype, std::as_bytes(std::span(*bits)), k, other.quants, other.scales, 2),
              std::nullopt);
    EXPECT_EQ(other.quants, from_f32.quants) << dtypeName(dtype);
    EXPECT_EQ(other.scales, from_f32.scales) << dtypeName(dtype);
  }
}

TEST_P(BlockQuantisation, NonFiniteValuesNameTheFirstBadRow) {
  const QuantScheme scheme = GetParam();
  const std::uint64_t k = 64, rows = 4096;
  std::vector<float> values(rows * k, 0.5f);
  values[3000 * k + 40] = std::numeric_limits<float>::infinity();
  values[1234 * k + 7] = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::byte> quants(rows * quantRowBytes(scheme, k));
  std::vector<std::uint16_t> scales(rows * k / kBlock);
  for (unsigned threads : {1u, 4u}) {
    EXPECT_EQ(quantizeRows(scheme, SafetensorsDType::kF32, bytesOf(values), k, quants, scales, threads), 1234u);
  }
}

TEST_P(BlockQuantisation, DequantizeRowsMatchesTheFormatDefinition) {
  const QuantScheme scheme = GetParam();
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const std::uint64_t k = 96;
  std::vector<float> values(5 * k);
  for (float& v : values) v = uniform(rng);
  Quantised q = quantise(scheme, values, k);
  std::vector<float> out(values.size());
  dequantizeRows(scheme, q.quants, q.scales, k, out);
  for (std::uint64_t e = 0; e < values.size(); ++e) ASSERT_EQ(out[e], decoded(scheme, q, e)) << e;
}

// Relative RMS error on Gaussian weights. For 32 Gaussian values the block maximum
// is about 2.35 sigma, so the step is 2.35 sigma / QMAX and uniform rounding error
// has RMS step / sqrt(12): about 0.53% of sigma for Q8 and 9.7% for Q4. The bounds
// leave room around those; the lower bounds make sure the error is real.
TEST_P(BlockQuantisation, RelativeRmsErrorOnGaussianWeights) {
  const QuantScheme scheme = GetParam();
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  const std::uint64_t k = 1024, rows = 256;
  std::vector<float> values(rows * k);
  for (float& v : values) v = normal(rng);
  Quantised q = quantise(scheme, values, k);
  double error = 0, signal = 0;
  for (std::uint64_t e = 0; e < values.size(); ++e) {
    const double d = decoded(scheme, q, e) - values[e];
    error += d * d;
    signal += static_cast<double>(values[e]) * values[e];
  }
  const double relative = std::sqrt(error / signal);
  if (scheme == QuantScheme::Q8Block32) {
    EXPECT_LT(relative, 0.01);
    EXPECT_GT(relative, 0.003);
  } else {
    EXPECT_LT(relative, 0.15);
    EXPECT_GT(relative, 0.05);
  }
}

INSTANTIATE_TEST_SUITE_P(Schemes, BlockQuantisation,
                         ::testing::Values(QuantScheme::Q8Block32, QuantScheme::Q4Block32),
                         [](const auto& info) { return info.param == QuantScheme::Q8Block32 ? "Q8" : "Q4"; });

TEST(Q8Block32, StoresTwosComplementBytes) {
  std::vector<float> values(kBlock, 0.0f);
  values[0] = 127.0f;  // scale 1
  values[1] = -1.0f;
  values[2] = -127.0f;
  values[3] = 5.0f;
  Quantised q = quantise(QuantScheme::Q8Block32, values, kBlock);
  EXPECT_EQ(q.quants[0], std::byte{0x7F});
  EXPECT_EQ(q.quants[1], std::byte{0xFF});
  EXPECT_EQ(q.quants[2], std::byte{0x81});
  EXPECT_EQ(q.quants[3], std::byte{0x05});
  EXPECT_EQ(q.scales[0], 0x3F80);  // bf16 1.0
}

TEST(Q4Block32, PacksEvenElementsInTheLowNibbleAsOffsetBinary) {
  std::vector<float> values(kBlock, 0.0f);
  const float head[] = {1, -2, 7, -7, 0, 3, -1, 6};  // absmax 7: scale 1
  std::copy(std::begin(head), std::end(head), values.begin());
  Quantised q = quantise(QuantScheme::Q4Block32, values, kBlock);
  // Byte j holds element 2j in bits 0-3 and 2j+1 in bits 4-7, each as q + 8.
  EXPECT_EQ(q.quants[0], std::byte{0x69});  // 1+8 = 9 low, -2+8 = 6 high
  EXPECT_EQ(q.quants[1], std::byte{0x1F});  // 7+8 = 15 low, -7+8 = 1 high
  EXPECT_EQ(q.quants[2], std::byte{0xB8});  // 0+8 = 8 low, 3+8 = 11 high
  EXPECT_EQ(q.quants[3], std::byte{0xE7});  // -1+8 = 7 low, 6+8 = 14 high
  for (int b = 4; b < 16; ++b) EXPECT_EQ(q.quants[b], std::byte{0x88});
  EXPECT_EQ(q.scales[0], 0x3F80);
}

TEST(TensorLayout, QuantsThenScalesOnA256ByteBoundary) {
  auto q4 = blockQuantLayout(QuantScheme::Q4Block32, 3, 64);
  ASSERT_TRUE(q4);
  EXPECT_EQ(q4->quant_row_bytes, 32u);
  EXPECT_EQ(q4->quants_bytes, 96u);
  EXPECT_EQ(q4->scales_offset, 256u);
  EXPECT_EQ(q4->scales_bytes, 12u);  // 3 rows x 2 blocks x 2 bytes
  EXPECT_EQ(q4->total_bytes, 268u);
  auto odd = blockQuantLayout(QuantScheme::Q4Block32, 3, 32);
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->scales_bytes, 6u);   // 3 scales: an odd count
  EXPECT_EQ(odd->total_bytes, 264u);  // padded to a whole word
  auto q8 = blockQuantLayout(QuantScheme::Q8Block32, 2, 128);
  ASSERT_TRUE(q8);
  EXPECT_EQ(q8->scales_offset, 256u);  // already aligned: no padding
  EXPECT_EQ(q8->total_bytes, 256u + 16u);
  EXPECT_FALSE(blockQuantLayout(QuantScheme::Q8Block32, 2, 48));
  EXPECT_FALSE(blockQuantLayout(QuantScheme::Q8Block32, 2, 0));
  EXPECT_FALSE(blockQuantLayout(QuantScheme::None, 2, 64));
  EXPECT_FALSE(blockQuantLayout(QuantScheme::Q8Block32, UINT64_MAX / 32, 64));  // overflows
}

TEST(TensorLayout, StoredSizeRefusesInconsistentCombinations) {
  const std::vector<std::uint64_t> matrix = {4, 64}, vector = {64};
  EXPECT_EQ(storedTensorSize(fb::DType::BF16, QuantScheme::None, matrix).bytes, 512u);
  EXPECT_EQ(storedTensorSize(fb::DType::F32, QuantScheme::None, vector).bytes, 256u);
  EXPECT_EQ(storedTensorSize(fb::DType::I8, QuantScheme::Q8Block32, matrix).bytes, 256u + 16u);
  EXPECT_NE(storedTensorSize(fb::DType::I8, QuantScheme::None, matrix).problem, nullptr);
  EXPECT_NE(storedTensorSize(fb::DType::BF16, QuantScheme::Q8Block32, matrix).problem, nullptr);
  EXPECT_NE(storedTensorSize(fb::DType::I4, QuantScheme::Q8Block32, matrix).problem, nullptr);
  EXPECT_NE(storedTensorSize(fb::DType::I8, QuantScheme::Q8Block32, vector).problem, nullptr);
  EXPECT_NE(storedTensorSize(fb::DType::I4, QuantScheme::Q4Block32, std::vector<std::uint64_t>{4, 40}).problem, nullptr);
  EXPECT_NE(storedTensorSize(fb::DType::F32, QuantScheme::None, std::vector<std::uint64_t>{1ull << 40, 1ull << 30}).problem,
            nullptr);
  EXPECT_NE(storedTensorSize(fb::DType::I8, static_cast<QuantScheme>(9), matrix).problem, nullptr);
}

TEST(WeightScheme, QuantisesMatricesAndKeepsNormsBf16) {
  const std::vector<std::uint64_t> matrix = {128, 64}, norm = {64};
  for (const char* name : {"layers.0.self_attn.q_proj.weight", "layers.3.self_attn.o_proj.weight",
                           "layers.6.mlp.down_proj.weight", "embed_tokens.weight", "lm_head.weight"}) {
    WeightScheme q8 = chooseWeightScheme(WeightFormat::kQ8, name, matrix);
    EXPECT_EQ(q8.quant, QuantScheme::Q8Block32) << name;
    EXPECT_EQ(q8.dtype, fb::DType::I8) << name;
    WeightScheme q4 = chooseWeightScheme(WeightFormat::kQ4, name, matrix);
    EXPECT_EQ(q4.quant, QuantScheme::Q4Block32) << name;
    EXPECT_EQ(q4.dtype, fb::DType::I4) << name;
    EXPECT_EQ(chooseWeightScheme(WeightFormat::kBF16, name, matrix).quant, QuantScheme::None) << name;
  }
  for (const char* name : {"layers.0.input_layernorm.weight", "layers.0.self_attn.q_norm.weight", "norm.weight"}) {
    WeightScheme scheme = chooseWeightScheme(WeightFormat::kQ4, name, norm);
    EXPECT_EQ(scheme.quant, QuantScheme::None) << name;
    EXPECT_EQ(scheme.dtype, fb::DType::BF16) << name;
  }
  EXPECT_EQ(parseWeightFormat("q8"), WeightFormat::kQ8);
  EXPECT_EQ(parseWeightFormat("q4"), WeightFormat::kQ4);
  EXPECT_EQ(parseWeightFormat("bf16"), WeightFormat::kBF16);
  EXPECT_EQ(parseWeightFormat("int8"), std::nullopt);
}

TEST(WeightScheme, InputDimensionNotAMultipleOf32IsAnErrorNamingTheTensor) {
  try {
    chooseWeightScheme(WeightFormat::kQ8, "layers.2.mlp.up_proj.weight", {128, 40});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::kInvalidInput);
    const std::string message = error.what();
    EXPECT_NE(message.find("layers.2.mlp.up_proj.weight"), std::string::npos) << message;
    EXPECT_NE(message.find("40"), std::string::npos) << message;
  }
  // bf16 stores any shape.
  EXPECT_EQ(chooseWeightScheme(WeightFormat::kBF16, "layers.2.mlp.up_proj.weight", {128, 40}).quant, QuantScheme::None);
}

// The policy that the quantize pass applies to the IR (quant_policy.h): the bundle's
// scheme must follow it tensor for tensor, or the IR and the bundle disagree.
TEST(QuantPolicy, BundleSchemeFollowsThePolicyTheQuantizePassApplies) {
  const std::vector<std::pair<std::string, std::vector<std::uint64_t>>> tensors = {
      {"embed_tokens.weight", {256, 64}},
      {"lm_head.weight", {256, 64}},
      {"layers.0.self_attn.k_proj.weight", {32, 64}},
      {"layers.0.mlp.down_proj.weight", {64, 128}},
      {"layers.0.self_attn.k_norm.weight", {32}},
      {"layers.0.post_feedforward_layernorm.weight", {64}},
      {"norm.weight", {64}},
      // Rank decides too: a 1-D tensor under a projection's name has no K to block along.
      {"layers.0.mlp.up_proj.weight", {64}},
      // Matrices the policy does not name (the multimodal projector is skipped, but the
      // rule is by name, not by accident of what the checkpoint reader keeps).
      {"multi_modal_projector.mm_input_projection_weight", {64, 64}},
  };
  int quantised = 0;
  for (const auto& [name, shape] : tensors) {
    const bool expected = isQuantizable(name, shape);
    quantised += expected;
    for (WeightFormat format : {WeightFormat::kQ8, WeightFormat::kQ4}) {
      EXPECT_EQ(chooseWeightScheme(format, name, shape).quant != QuantScheme::None, expected) << name;
    }
    EXPECT_EQ(chooseWeightScheme(WeightFormat::kBF16, name, shape).quant, QuantScheme::None) << name;
  }
  EXPECT_EQ(quantised, 4);
  EXPECT_FALSE(isQuantizable("layers.0.mlp.up_proj.weight", std::vector<std::uint64_t>{64}));
  EXPECT_FALSE(isQuantizable("multi_modal_projector.mm_input_projection_weight", std::vector<std::uint64_t>{64, 64}));
}

TEST(QuantPolicy, BlocksAndFormatNamesAreTheBundleFormats) {
  EXPECT_EQ(quantBlockElements(), kQuantBlockElements);
  for (std::uint64_t k : {32u, 64u, 1152u, 21504u}) EXPECT_TRUE(fillsWholeQuantBlocks(k)) << k;
  for (std::uint64_t k : {0u, 16u, 40u, 1150u}) EXPECT_FALSE(fillsWholeQuantBlocks(k)) << k;
  for (WeightFormat format : {WeightFormat::kBF16, WeightFormat::kQ8, WeightFormat::kQ4}) {
    EXPECT_EQ(parseWeightFormat(weightFormatName(format)), format);
  }
}

}  // namespace
}  // namespace unicorn
