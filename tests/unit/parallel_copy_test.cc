// parallelCopy must be memcpy: every byte, none past the end, for sizes that
// split unevenly over threads and for more threads than the copy has slices.
#include "runtime/parallel_copy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace unicorn {
namespace {

TEST(ParallelCopy, CopiesEveryByteAndNothingPastTheEnd) {
  constexpr std::size_t kCanary = 64;
  for (std::size_t bytes : {std::size_t(0), std::size_t(1), (std::size_t(4) << 20) - 1, (std::size_t(9) << 20) + 13,
                            (std::size_t(33) << 20) + 4095}) {
    std::vector<std::byte> source(bytes);
    std::uint32_t state = 2463534242u;  // xorshift: no two slices alike
    for (std::byte& b : source) {
      state ^= state << 13, state ^= state >> 17, state ^= state << 5;
      b = static_cast<std::byte>(state);
    }
    for (unsigned threads : {0u, 1u, 3u, 8u, 64u}) {
      std::vector<std::byte> destination(bytes + kCanary, std::byte{0xa5});
      parallelCopy(destination.data(), source.data(), bytes, threads);
      ASSERT_TRUE(std::equal(source.begin(), source.end(), destination.begin()))
          << bytes << " bytes over " << threads << " threads";
      for (std::size_t i = bytes; i < bytes + kCanary; ++i) {
        ASSERT_EQ(destination[i], std::byte{0xa5}) << "written past the end at " << i << " of " << bytes;
      }
    }
  }
}

}  // namespace
}  // namespace unicorn
