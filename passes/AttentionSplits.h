// How many shares split-K decode attention cuts a layer's visible keys into
// (attention.comp, SPLITS): plan-memory sizes the partials' scratch by it and
// schedule lowers by it, so both read it here.
//
// One decode token has only num_heads workgroups of attention, too few to
// stream a long KV cache at memory speed; each share is a workgroup of its own.
// A sliding layer sees at most `window` keys: shares of about 32 keys, from 1
// (no split, the plain kernel) up to 32. A global layer's keys grow with the
// context, which only the run knows: always 32 shares.
#pragma once

#include <algorithm>
#include <cstdint>

namespace unicorn {

inline constexpr std::uint32_t kMaxAttentionSplits = 32;

inline std::uint32_t decodeAttentionSplits(std::uint64_t window) {
  if (window == 0) return kMaxAttentionSplits;
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(window / 32, 1, kMaxAttentionSplits));
}

}  // namespace unicorn
