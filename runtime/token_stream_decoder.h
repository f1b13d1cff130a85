// Decodes generated token ids one at a time into text that can be printed at once:
// a UTF-8 character spread over several byte-fallback tokens is held back until it
// is complete, so no output chunk ever ends inside a character.
//
// For well-formed byte runs the concatenated output equals Tokenizer::decode of
// all ids. A byte run that is not valid UTF-8 differs on purpose: decode() turns
// the whole run into one U+FFFD per byte, while the stream has already emitted
// the complete characters before the bad byte and replaces only the bytes that
// cannot be part of a character (as tokenizers' DecodeStream emits text as soon
// as it is valid).
#pragma once

#include <cstdint>
#include <string>

#include "runtime/tokenizer.h"

namespace unicorn {

class TokenStreamDecoder {
 public:
  TokenStreamDecoder(const Tokenizer& tokenizer, bool skip_special);

  // The text that `id` completes; may be empty (a partial character, a skipped token).
  std::string push(std::int32_t id);
  // End of stream: bytes of an unfinished character become U+FFFD each.
  std::string finish();

 private:
  std::string emit(std::string text);  // applies the decoder's leading strip

  const Tokenizer& tokenizer_;
  bool skip_special_;
  std::string pending_bytes_;    // an incomplete UTF-8 character from byte fallback
  std::uint32_t strip_left_;     // leading strip copies still allowed to remove
  bool emitted_anything_ = false;
};

}  // namespace unicorn
