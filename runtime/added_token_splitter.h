// Finds added tokens in text the way tokenizers' AddedVocabulary does: matches are
// leftmost-longest and non-overlapping (Aho-Corasick LeftmostLongest), then an
// lstrip/rstrip token swallows the whitespace beside it. The text between matches
// is returned as plain segments for the normaliser and the BPE model.
#pragma once

#include <bitset>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "schemas/tokenizer_generated.h"

namespace unicorn {

struct TextSegment {
  std::size_t begin;
  std::size_t end;
  std::int32_t added_id;  // -1: plain text to normalise and encode
};

class AddedTokenSplitter {
 public:
  // `matcher` may be null (no tokens of this kind). The matcher and the added
  // tokens must already have passed Tokenizer's validation (sorted patterns, ids in range).
  AddedTokenSplitter(const fb::AddedTokenMatcher* matcher,
                     const flatbuffers::Vector<const fb::AddedToken*>* added_tokens);

  // Splits `text` into segments that cover it in order. With rstrip tokens the
  // segments may overlap exactly where tokenizers' would.
  std::vector<TextSegment> split(std::string_view text) const;

  bool empty() const { return pattern_count_ == 0; }

 private:
  std::string_view pattern(std::size_t index) const;
  // Length of the longest pattern that starts at text[pos], 0 if none.
  std::size_t longestMatchAt(std::string_view text, std::size_t pos, std::size_t& pattern_index) const;

  const fb::AddedTokenMatcher* matcher_ = nullptr;
  std::size_t pattern_count_ = 0;
  std::bitset<256> first_bytes_;  // bytes that start some pattern: the cheap rejection
  std::vector<fb::AddedTokenFlag> flags_;  // per pattern
};

}  // namespace unicorn
