#include "runtime/token_stream_decoder.h"

#include "runtime/utf8.h"

namespace unicorn {

TokenStreamDecoder::TokenStreamDecoder(const Tokenizer& tokenizer, bool skip_special)
    : tokenizer_(tokenizer), skip_special_(skip_special), strip_left_(tokenizer.decoderStripLeading()) {}

std::string TokenStreamDecoder::emit(std::string text) {
  // The decoder strips the start of the whole text: only while nothing else has
  // been emitted, up to strip_left_ copies.
  const std::string_view strip = tokenizer_.decoderStripContent();
  std::size_t cut = 0;
  while (!emitted_anything_ && strip_left_ > 0 && !strip.empty() && text.compare(cut, strip.size(), strip) == 0) {
    cut += strip.size();
    --strip_left_;
  }
  text.erase(0, cut);
  if (!text.empty()) emitted_anything_ = true;
  return text;
}

std::string TokenStreamDecoder::push(std::int32_t id) {
  const std::optional<Tokenizer::DecodedToken> token = tokenizer_.decodeToken(id, skip_special_);
  if (!token) return {};
  std::string out;
  if (!token->is_byte) {
    out = finish();
    out += emit(token->text);
    return out;
  }
  pending_bytes_.push_back(static_cast<char>(token->byte));
  // Replace leading bytes that can no longer start a character, then release a
  // character as soon as it is complete.
  while (!pending_bytes_.empty()) {
    const utf8::Prefix state = utf8::classifyCharacterPrefix(pending_bytes_);
    if (state == utf8::Prefix::kIncomplete) break;
    if (state == utf8::Prefix::kComplete) {
      out += emit(std::move(pending_bytes_));
      pending_bytes_.clear();
      break;
    }
    out += emit(std::string(utf8::kReplacementCharacter));
    pending_bytes_.erase(0, 1);
  }
  return out;
}

std::string TokenStreamDecoder::finish() {
  std::string out;
  for (std::size_t i = 0; i < pending_bytes_.size(); ++i) out += emit(std::string(utf8::kReplacementCharacter));
  pending_bytes_.clear();
  return out;
}

}  // namespace unicorn
