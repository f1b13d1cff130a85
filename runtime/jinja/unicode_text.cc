#include "runtime/jinja/unicode_text.h"

#include "runtime/utf8.h"

namespace unicorn::jinja {

std::u32string decodeUtf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    // A byte that starts no well-formed sequence becomes U+FFFD on its own.
    const utf8::Unit unit = utf8::nextUnit(text, pos);
    out.push_back(unit.valid ? unit.codepoint : char32_t{0xFFFD});
    pos += unit.length;
  }
  return out;
}

void appendUtf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x110000) {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    appendUtf8(out, 0xFFFD);
  }
}

std::string encodeUtf8(std::u32string_view code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (char32_t cp : code_points) appendUtf8(out, cp);
  return out;
}

size_t countCodePoints(std::string_view text) {
  // Pure ASCII is the common case; only decode when needed.
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return decodeUtf8(text).size();
  }
  return text.size();
}

bool isPythonWhitespace(char32_t c) {
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D:
    case 0x1C: case 0x1D: case 0x1E: case 0x1F: case 0x20:
    case 0x85: case 0xA0: case 0x1680:
    case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

namespace {

template <typename ShouldStrip>
std::string stripWith(std::string_view text, StripSide side, ShouldStrip should_strip) {
  const std::u32string cps = decodeUtf8(text);
  size_t begin = 0;
  size_t end = cps.size();
  if (side != StripSide::kRight) {
    while (begin < end && should_strip(cps[begin])) ++begin;
  }
  if (side != StripSide::kLeft) {
    while (end > begin && should_strip(cps[end - 1])) --end;
  }
  return encodeUtf8(std::u32string_view(cps).substr(begin, end - begin));
}

bool isAsciiLetter(char32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
char32_t upperAscii(char32_t c) { return (c >= 'a' && c <= 'z') ? c - 32 : c; }
char32_t lowerAscii(char32_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

}  // namespace

std::string stripText(std::string_view text, StripSide side) {
  return stripWith(text, side, isPythonWhitespace);
}

std::string stripTextOf(std::string_view text, std::string_view chars, StripSide side) {
  const std::u32string set = decodeUtf8(chars);
  return stripWith(text, side, [&set](char32_t c) { return set.find(c) != std::u32string::npos; });
}

std::string toUpperAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return out;
}

std::string toLowerAscii(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  }
  return out;
}

std::string capitalizeText(std::string_view text) {
  std::u32string cps = decodeUtf8(text);
  for (size_t i = 0; i < cps.size(); ++i) cps[i] = i == 0 ? upperAscii(cps[i]) : lowerAscii(cps[i]);
  return encodeUtf8(cps);
}

std::string titleText(std::string_view text) {
  std::u32string cps = decodeUtf8(text);
  bool previous_is_letter = false;
  for (char32_t& c : cps) {
    c = previous_is_letter ? lowerAscii(c) : upperAscii(c);
    previous_is_letter = isAsciiLetter(c);
  }
  return encodeUtf8(cps);
}

}  // namespace unicorn::jinja
