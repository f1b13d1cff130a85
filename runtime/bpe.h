// The BPE model of a tokenizer: one word (a normalised text segment) in, token ids
// out, with tokenizers' semantics: characters are looked up in the vocabulary, a
// missing one becomes its UTF-8 bytes' "<0xXX>" tokens (byte fallback) or the unk
// token, then merges are applied lowest rank first, leftmost first on ties.
//
// Gemma's normaliser turns spaces into "▁", so a whole paragraph is one word: the
// merge loop is a priority queue over a linked list of symbols, O(n log n).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "schemas/tokenizer_generated.h"

namespace unicorn {

class BpeModel {
 public:
  // `table` must already have passed Tokenizer's validation (ids in range, hash
  // tables power-of-two sized); this class trusts those invariants.
  explicit BpeModel(const fb::Tokenizer& table);

  // Appends the ids of `word` to `out`. Bytes that are not well-formed UTF-8 are
  // treated as characters missing from the vocabulary (byte fallback / unk).
  void encodeWord(std::string_view word, std::vector<std::int32_t>& out) const;

  // The model-vocabulary id of `piece`, or -1.
  std::int32_t lookupPiece(std::string_view piece) const;

 private:
  struct MergeRule {
    std::int32_t rank;
    std::int32_t result;
  };
  bool findMerge(std::int32_t left, std::int32_t right, MergeRule& rule) const;
  std::string_view piece(std::int32_t id) const;
  void initialSymbols(std::string_view word, std::vector<std::int32_t>& ids) const;
  void applyMerges(std::vector<std::int32_t>& ids) const;

  const fb::Tokenizer& table_;
  bool has_byte_fallback_;
  // Ids of the single-byte ASCII pieces, looked up once: most text is ASCII and
  // this keeps the hash table off the hot path.
  std::array<std::int32_t, 128> ascii_ids_;
};

}  // namespace unicorn
