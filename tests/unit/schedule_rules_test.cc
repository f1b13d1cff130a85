// The schedule pass's two plain rules, apart from MLIR: where barriers go
// (passes/DispatchHazards.h) and how matrices are cut into bindable row slices
// (passes/WeightRowSlices.h).
#include <gtest/gtest.h>

#include "passes/DispatchHazards.h"
#include "passes/WeightRowSlices.h"

namespace unicorn {
namespace {

using Range = DispatchHazards::Range;

// Conditions as the schedule numbers them: 0 always, 1 logits needed, 2 dump logits.
constexpr int kAlways = 0, kLogits = 1, kDump = 2;
bool implies(int when, int other) { return other == kAlways || when == other || (other == kLogits && when != kAlways); }

Range region(std::uint64_t begin, std::uint64_t end, const char* buffer = "arena") { return {buffer, begin, end}; }

// Emits a dispatch the way the schedule pass does and says whether it got a barrier.
bool dispatch(DispatchHazards& hazards, std::vector<Range> reads, std::vector<Range> writes, int when = kAlways) {
  const bool barrier = hazards.needsBarrier(reads, writes, when);
  hazards.record(reads, writes, when, barrier);
  return barrier;
}

TEST(DispatchHazardsTest, OrdersEveryConflictAndNothingElse) {
  DispatchHazards hazards(implies);
  EXPECT_FALSE(dispatch(hazards, {region(0, 256, "input")}, {region(0, 256)}));  // first: nothing before it
  EXPECT_TRUE(dispatch(hazards, {region(0, 256)}, {region(256, 512)}));         // read after write
  EXPECT_FALSE(dispatch(hazards, {region(0, 256)}, {region(512, 768)}));        // reads what is ordered already
  EXPECT_TRUE(dispatch(hazards, {region(1024, 1280)}, {region(0, 128)}));       // write after read (region 0 was read)
  EXPECT_TRUE(dispatch(hazards, {}, {region(64, 65)}));                         // write after write
  EXPECT_FALSE(dispatch(hazards, {region(2048, 4096)}, {region(4096, 8192)}));  // touching, not overlapping
  EXPECT_FALSE(dispatch(hazards, {region(0, 256, "weights")}, {region(0, 256, "other")}));  // other buffers
}

TEST(DispatchHazardsTest, AGroupIsCheckedAgainstWhatCameBefore) {
  DispatchHazards hazards(implies);
  dispatch(hazards, {}, {region(0, 256)});
  hazards.beginGroup();
  // Three slices writing disjoint columns of one output range: one barrier (for x).
  EXPECT_TRUE(dispatch(hazards, {region(0, 256)}, {region(256, 1024)}));
  EXPECT_FALSE(dispatch(hazards, {region(0, 256)}, {region(256, 1024)}));
  EXPECT_FALSE(dispatch(hazards, {region(0, 256)}, {region(256, 1024)}));
  hazards.endGroup();
  // After the group its writes count again.
  EXPECT_TRUE(dispatch(hazards, {region(256, 1024)}, {region(2048, 4096)}));
}

TEST(DispatchHazardsTest, ABarrierOrdersOnlyTheRunsThatRecordIt) {
  DispatchHazards hazards(implies);
  dispatch(hazards, {}, {region(0, 256)});
  // Recorded only under --dump-logits: its barrier is missing from other runs.
  EXPECT_TRUE(dispatch(hazards, {region(0, 256)}, {region(4096, 8192, "readout")}, kDump));
  EXPECT_TRUE(dispatch(hazards, {region(0, 256)}, {region(512, 768)}, kAlways));
  // A barrier on a logits-needed dispatch orders a dump-logits one after it,
  // which is recorded only in runs that record it.
  DispatchHazards logits(implies);
  dispatch(logits, {}, {region(0, 256)});
  EXPECT_TRUE(dispatch(logits, {region(0, 256)}, {region(512, 768)}, kLogits));
  EXPECT_FALSE(dispatch(logits, {region(0, 256)}, {region(1024, 1280)}, kDump));
  // ... but not an every-run dispatch.
  EXPECT_TRUE(dispatch(logits, {region(0, 256)}, {region(2048, 2304)}, kAlways));
}

// The slices cover the rows once, in order, each binding within 128 MiB and on
// a 256-byte offset.
void expectBindable(const std::vector<WeightRowSlice>& slices, std::uint32_t n, std::uint64_t row_bytes) {
  ASSERT_FALSE(slices.empty());
  std::uint32_t next = 0;
  for (const WeightRowSlice& s : slices) {
    EXPECT_EQ(s.row_begin, next);
    next += s.row_count;
    EXPECT_EQ(s.data_offset % kBindingOffsetAlignment, 0u);
    EXPECT_EQ(s.scales_offset % kBindingOffsetAlignment, 0u);
    EXPECT_LE(s.data_range, kMaxBindingBytes);
    EXPECT_LE(s.scales_range, kMaxBindingBytes);
    if (slices.size() > 1) {
      EXPECT_GE(s.data_range, s.row_count * row_bytes);
      // Split: equal slices (the last fewer), rows or quants starting their
      // windows, so one dispatch can bind them all as an array (the embedding).
      if (&s != &slices.back()) EXPECT_EQ(s.row_count, slices[0].row_count);
      EXPECT_EQ(s.data_base, 0u);
    }
  }
  EXPECT_EQ(next, n);
}

TEST(WeightRowSlicesTest, AMatrixThatFitsIsBoundWhole) {
  std::vector<WeightRowSlice> slices = weightRowSlices(6912, 1152, std::nullopt, 6912ull * 1152 * 2, 0, 1);
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(slices[0].row_count, 6912u);
  EXPECT_EQ(slices[0].data_range, 0u);  // to the end: the whole tensor
}

TEST(WeightRowSlicesTest, LargeMatricesSplitIntoBindableSlices) {
  // Gemma 3 1B's embedding in bf16: 262144 x 1152 x 2 = 576 MiB.
  const std::uint32_t vocab = 262144, hidden = 1152;
  std::vector<WeightRowSlice> bf16 = weightRowSlices(vocab, hidden, std::nullopt, 2ull * vocab * hidden, 0, 1);
  EXPECT_EQ(bf16.size(), 5u);
  expectBindable(bf16, vocab, 2 * hidden);
  // 27B's in q4: quants then scales; slices window both.
  const std::uint32_t wide = 5376;
  const std::uint64_t quants = std::uint64_t(262208) * wide / 2, scales_offset = (quants + 255) / 256 * 256;
  const std::uint64_t stored = scales_offset + 262208ull * (wide / 32) * 2;
  std::vector<WeightRowSlice> q4 =
      weightRowSlices(262208, wide, spirv::BlockQuant::kQ4, stored, scales_offset, 1);
  EXPECT_GT(q4.size(), 5u);
  expectBindable(q4, 262208, wide / 2);
  for (const WeightRowSlice& s : q4) {
    EXPECT_GE(s.scales_offset, scales_offset - 255);  // the scales window lies in the scales part
    EXPECT_LE(s.scales_offset + s.scales_range, stored);
  }
}

TEST(WeightRowSlicesTest, ForcedSlicesKeepTheirAlignment) {
  // bf16 rows of 64 bytes: slices are multiples of 4 rows.
  std::vector<WeightRowSlice> slices = weightRowSlices(48, 32, std::nullopt, 48 * 64, 0, 3);
  ASSERT_EQ(slices.size(), 3u);
  expectBindable(slices, 48, 64);
  for (const WeightRowSlice& s : slices) EXPECT_EQ(s.row_count % 4, 0u);
}

TEST(WeightRowSlicesTest, RowsTooWideForOneBindingAreRefused) {
  // bf16 rows of 2 MiB start on 256-byte offsets one by one: 63 rows per slice.
  EXPECT_FALSE(weightRowSlices(1024, 1u << 20, std::nullopt, 1024ull << 21, 0, 1).empty());
  // Rows of 2 MiB + 4 bytes realign only every 64 rows, which is 128 MiB + 256
  // bytes: no aligned slice fits a binding.
  EXPECT_TRUE(weightRowSlices(1024, (1u << 20) + 2, std::nullopt, 1024ull * ((1u << 21) + 4), 0, 1).empty());
}

}  // namespace
}  // namespace unicorn
