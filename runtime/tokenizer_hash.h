// The hash functions of the tokenizer's precomputed lookup tables
// (schemas/tokenizer.fbs: piece_hash_slots, merge_hash_slots). The compiler fills
// the tables and the runtime probes them, so both must hash identically: this
// header is the single definition. Changing a function changes the bundle format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <xxhash.h>

namespace unicorn {

// XXH64 with seed 0: stable across xxhash versions, unlike XXH3 before 0.8.
inline std::uint64_t tokenizerPieceHash(std::string_view piece) {
  return XXH64(piece.data(), piece.size(), 0);
}

// A (left id, right id) pair packed into 64 bits, then SplitMix64's finaliser so
// that neighbouring ids spread over the whole table.
inline std::uint64_t tokenizerPairHash(std::int32_t left, std::int32_t right) {
  std::uint64_t x = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(left)) << 32) |
                    static_cast<std::uint32_t>(right);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Table size for `count` entries: a power of two with load factor at most 1/2,
// so linear probing stays short and there is always an empty slot to stop at.
inline std::size_t tokenizerHashTableSize(std::size_t count) {
  std::size_t size = 16;
  while (size < 2 * count) size *= 2;
  return size;
}

}  // namespace unicorn
