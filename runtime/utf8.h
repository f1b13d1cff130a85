// UTF-8 scanning for the tokenizer and the chat template engine. Input text is untrusted bytes: a byte that does
// not start a well-formed sequence (RFC 3629: no overlongs, no surrogates, nothing
// above U+10FFFF) is reported as a one-byte unit so callers can treat it like a
// character that is missing from the vocabulary (byte fallback), never read past
// the end, and never loop.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace unicorn::utf8 {

struct Unit {
  std::size_t length;   // bytes, 1..4
  bool valid;           // false: a single stray byte
  char32_t codepoint;   // meaningful only when valid
};

// The unit starting at text[pos]; pos < text.size().
inline Unit nextUnit(std::string_view text, std::size_t pos) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(pos);
  if (lead < 0x80) return {1, true, lead};
  std::size_t length;
  char32_t cp;
  unsigned char min_second = 0x80, max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    cp = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    cp = lead & 0x0F;
    if (lead == 0xE0) min_second = 0xA0;  // overlong
    if (lead == 0xED) max_second = 0x9F;  // surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    cp = lead & 0x07;
    if (lead == 0xF0) min_second = 0x90;  // overlong
    if (lead == 0xF4) max_second = 0x8F;  // above U+10FFFF
  } else {
    return {1, false, 0};
  }
  if (text.size() - pos < length) return {1, false, 0};
  for (std::size_t i = 1; i < length; ++i) {
    const unsigned char c = byte(pos + i);
    const unsigned char lo = i == 1 ? min_second : 0x80;
    const unsigned char hi = i == 1 ? max_second : 0xBF;
    if (c < lo || c > hi) return {1, false, 0};
    cp = (cp << 6) | (c & 0x3F);
  }
  return {length, true, cp};
}

inline bool isValid(std::string_view text) {
  for (std::size_t pos = 0; pos < text.size();) {
    const Unit unit = nextUnit(text, pos);
    if (!unit.valid) return false;
    pos += unit.length;
  }
  return true;
}

// How the bytes so far relate to one UTF-8 character: used by the streaming
// decoder to hold back an incomplete character without ever emitting half of it.
enum class Prefix { kComplete, kIncomplete, kInvalid };
inline Prefix classifyCharacterPrefix(std::string_view bytes) {
  if (bytes.empty()) return Prefix::kIncomplete;
  const Unit unit = nextUnit(bytes, 0);
  if (unit.valid) return unit.length == bytes.size() ? Prefix::kComplete : Prefix::kInvalid;
  // Not a whole character: still a possible prefix if padding it with the smallest
  // allowed continuation bytes would make one.
  for (const char pad_byte : {'\x80', '\x90', '\xA0'}) {
    std::string padded(bytes);
    while (padded.size() < 4) padded.push_back(pad_byte);
    const Unit padded_unit = nextUnit(padded, 0);
    if (padded_unit.valid && padded_unit.length > bytes.size()) return Prefix::kIncomplete;
  }
  return Prefix::kInvalid;
}

// Rust's char::is_whitespace (the Unicode White_Space property), which tokenizers
// uses for the lstrip/rstrip flags of added tokens.
inline bool isWhitespace(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || c == 0x20 || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000;
}

inline constexpr std::string_view kReplacementCharacter = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace unicorn::utf8
