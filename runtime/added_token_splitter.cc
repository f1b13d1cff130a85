#include "runtime/added_token_splitter.h"

#include <algorithm>

#include "runtime/utf8.h"

namespace unicorn {

AddedTokenSplitter::AddedTokenSplitter(const fb::AddedTokenMatcher* matcher,
                                       const flatbuffers::Vector<const fb::AddedToken*>* added_tokens)
    : matcher_(matcher), pattern_count_(matcher && matcher->ids() ? matcher->ids()->size() : 0) {
  flags_.resize(pattern_count_, fb::AddedTokenFlag::NONE);
  for (std::size_t i = 0; i < pattern_count_; ++i) {
    const std::string_view text = pattern(i);
    if (!text.empty()) first_bytes_.set(static_cast<unsigned char>(text[0]));
    // added_tokens is sorted by id (validated), so its flags are a binary search away.
    const std::int32_t id = matcher_->ids()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (!added_tokens) continue;
    const auto found = std::lower_bound(added_tokens->begin(), added_tokens->end(), id,
                                        [](const fb::AddedToken* token, std::int32_t wanted) { return token->id() < wanted; });
    if (found != added_tokens->end() && found->id() == id) flags_[i] = found->flags();
  }
}

std::string_view AddedTokenSplitter::pattern(std::size_t index) const {
  const auto* offsets = matcher_->pattern_offsets();
  const std::uint32_t begin = offsets->Get(static_cast<flatbuffers::uoffset_t>(index));
  const std::uint32_t end = offsets->Get(static_cast<flatbuffers::uoffset_t>(index + 1));
  return {reinterpret_cast<const char*>(matcher_->pattern_bytes()->data()) + begin, end - begin};
}

// The patterns are sorted bytewise, so those sharing the first d bytes of the text
// form one contiguous range [lo, hi); each further byte narrows it by binary
// search. Within a range, a pattern that is exactly the d-byte prefix sorts first.
std::size_t AddedTokenSplitter::longestMatchAt(std::string_view text, std::size_t pos,
                                               std::size_t& pattern_index) const {
  std::size_t lo = 0, hi = pattern_count_, best = 0;
  for (std::size_t depth = 0;; ++depth) {
    if (lo < hi && pattern(lo).size() == depth) {
      if (depth > 0) {
        best = depth;
        pattern_index = lo;
      }
      ++lo;  // patterns are unique, so at most one ends here
    }
    if (lo >= hi || pos + depth >= text.size()) break;
    const unsigned char wanted = static_cast<unsigned char>(text[pos + depth]);
    const auto byte_at = [&](std::size_t index) { return static_cast<unsigned char>(pattern(index)[depth]); };
    // Every pattern in [lo, hi) is longer than `depth` now.
    std::size_t first = lo, count = hi - lo;
    while (count > 0) {  // lower bound of `wanted`
      const std::size_t step = count / 2;
      if (byte_at(first + step) < wanted) {
        first += step + 1;
        count -= step + 1;
      } else {
        count = step;
      }
    }
    std::size_t last = first;
    count = hi - first;
    while (count > 0) {  // upper bound of `wanted`
      const std::size_t step = count / 2;
      if (byte_at(last + step) <= wanted) {
        last += step + 1;
        count -= step + 1;
      } else {
        count = step;
      }
    }
    lo = first;
    hi = last;
  }
  return best;
}

namespace {

// Start of the whitespace run that ends at `end` (tokenizers' space_leftmost_at_end).
std::size_t whitespaceRunStartBefore(std::string_view text, std::size_t end) {
  std::size_t start = end;
  while (start > 0) {
    std::size_t lead = start - 1;
    while (lead > 0 && start - lead < 4 && (static_cast<unsigned char>(text[lead]) & 0xC0) == 0x80) --lead;
    const utf8::Unit unit = utf8::nextUnit(text, lead);
    if (!unit.valid || lead + unit.length != start || !utf8::isWhitespace(unit.codepoint)) break;
    start = lead;
  }
  return start;
}

// Length of the whitespace run that starts at `begin` (tokenizers' space_rightmost_at_start).
std::size_t whitespaceRunLengthAfter(std::string_view text, std::size_t begin) {
  std::size_t end = begin;
  while (end < text.size()) {
    const utf8::Unit unit = utf8::nextUnit(text, end);
    if (!unit.valid || !utf8::isWhitespace(unit.codepoint)) break;
    end += unit.length;
  }
  return end - begin;
}

}  // namespace

std::vector<TextSegment> AddedTokenSplitter::split(std::string_view text) const {
  std::vector<TextSegment> segments;
  std::size_t emitted_up_to = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t index = 0;
    const std::size_t length = first_bytes_.test(static_cast<unsigned char>(text[pos]))
                                   ? longestMatchAt(text, pos, index)
                                   : 0;
    if (length == 0) {
      ++pos;
      continue;
    }
    std::size_t start = pos, stop = pos + length;
    const fb::AddedTokenFlag flags = flags_[index];
    if ((flags & fb::AddedTokenFlag::Lstrip) != fb::AddedTokenFlag::NONE) {
      start = std::max(whitespaceRunStartBefore(text, start), emitted_up_to);
    }
    if ((flags & fb::AddedTokenFlag::Rstrip) != fb::AddedTokenFlag::NONE) {
      stop += whitespaceRunLengthAfter(text, stop);
    }
    if (emitted_up_to < start) segments.push_back({emitted_up_to, start, -1});
    segments.push_back({start, stop, matcher_->ids()->Get(static_cast<flatbuffers::uoffset_t>(index))});
    emitted_up_to = stop;
    // The search resumes after the match itself, not after swallowed whitespace,
    // as Aho-Corasick's iterator does in tokenizers.
    pos += length;
  }
  if (emitted_up_to < text.size()) segments.push_back({emitted_up_to, text.size(), -1});
  return segments;
}

}  // namespace unicorn
