// Python str semantics over UTF-8 bytes. jinja2 runs on Python strings, so
// length, indexing, slicing and strip() count code points and use Python's idea
// of whitespace; these helpers give the engine the same view of a UTF-8 string.
#pragma once

#include <string>
#include <string_view>

namespace unicorn::jinja {

// Decodes UTF-8 into code points. Invalid bytes decode to U+FFFD one byte at a
// time, so every input yields some text and nothing reads past the end.
std::u32string decodeUtf8(std::string_view text);
std::string encodeUtf8(std::u32string_view code_points);
void appendUtf8(std::string& out, char32_t code_point);

// Number of code points (what Python's len() returns for the decoded string).
size_t countCodePoints(std::string_view text);

// Python's str.isspace() for one code point.
bool isPythonWhitespace(char32_t c);

// str.strip()/lstrip()/rstrip(): with no `chars`, Python whitespace is removed;
// with `chars`, any code point found in it is.
enum class StripSide { kBoth, kLeft, kRight };
std::string stripText(std::string_view text, StripSide side);
std::string stripTextOf(std::string_view text, std::string_view chars, StripSide side);

// Case mapping. Only ASCII letters change (a documented gap: Python maps all of
// Unicode); other code points pass through unchanged.
std::string toUpperAscii(std::string_view text);
std::string toLowerAscii(std::string_view text);
// Python's str.capitalize(): first character upper, the rest lower.
std::string capitalizeText(std::string_view text);
// Python's str.title(): a letter after a non-letter is upper, other letters lower.
std::string titleText(std::string_view text);

}  // namespace unicorn::jinja
