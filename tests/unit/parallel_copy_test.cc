// parallelCopy and ParallelCopier must be memcpy: every byte, none past the
// end, for sizes that split unevenly over threads, for more threads than the
// copy has slices, and for one copier's threads given copy after copy.
#include "runtime/parallel_copy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace unicorn {
namespace {

const std::vector<std::size_t> kSizes = {0, 1, (std::size_t(4) << 20) - 1, (std::size_t(9) << 20) + 13,
                                         (std::size_t(33) << 20) + 4095};

std::vector<std::byte> randomBytes(std::size_t bytes, std::uint32_t seed) {
  std::vector<std::byte> out(bytes);
  std::uint32_t state = seed;  // xorshift: no two slices alike
  for (std::byte& b : out) {
    state ^= state << 13, state ^= state >> 17, state ^= state << 5;
    b = static_cast<std::byte>(state);
  }
  return out;
}

// Copies `source` with `copy` into a buffer with a canary past its end; checks both.
template <typename Copy>
void expectMemcpy(const std::vector<std::byte>& source, Copy copy, const std::string& what) {
  constexpr std::size_t kCanary = 64;
  std::vector<std::byte> destination(source.size() + kCanary, std::byte{0xa5});
  copy(destination.data(), source.data(), source.size());
  ASSERT_TRUE(std::equal(source.begin(), source.end(), destination.begin())) << what;
  for (std::size_t i = source.size(); i < destination.size(); ++i) {
    ASSERT_EQ(destination[i], std::byte{0xa5}) << what << ": written past the end at " << i;
  }
}

TEST(ParallelCopy, CopiesEveryByteAndNothingPastTheEnd) {
  for (std::size_t bytes : kSizes) {
    const std::vector<std::byte> source = randomBytes(bytes, 2463534242u);
    for (unsigned threads : {0u, 1u, 3u, 8u, 64u}) {
      expectMemcpy(source, [&](std::byte* d, const std::byte* s, std::size_t n) { parallelCopy(d, s, n, threads); },
                   std::to_string(bytes) + " bytes over " + std::to_string(threads) + " threads");
    }
  }
}

TEST(ParallelCopy, OneCopierCopiesAgainAndAgain) {
  for (unsigned threads : {1u, 3u, 16u}) {
    ParallelCopier copier(threads);
    EXPECT_EQ(copier.threads(), threads);
    // Every size twice, with other contents: nothing of one copy leaks into the next.
    for (int round = 0; round < 2; ++round) {
      for (std::size_t bytes : kSizes) {
        const std::vector<std::byte> source = randomBytes(bytes, 88675123u + round);
        expectMemcpy(source, [&](std::byte* d, const std::byte* s, std::size_t n) { copier.copy(d, s, n); },
                     std::to_string(bytes) + " bytes, round " + std::to_string(round) + ", " +
                         std::to_string(threads) + " threads");
      }
    }
  }
}

}  // namespace
}  // namespace unicorn
