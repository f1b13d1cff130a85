// Literal string replacement with tokenizers' `Replace` semantics (String
// pattern): every non-overlapping occurrence, scanning left to right, is replaced.
// Used by the normaliser and the decoder at run time and by the importer to
// normalise the contents of normalised added tokens.
#pragma once

#include <string>
#include <string_view>

namespace unicorn {

// `pattern` must not be empty (the schema forbids it; callers validate).
inline std::string replaceAll(std::string_view text, std::string_view pattern, std::string_view content) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  while (true) {
    const std::size_t hit = text.find(pattern, pos);
    if (hit == std::string_view::npos) break;
    out.append(text.substr(pos, hit - pos));
    out.append(content);
    pos = hit + pattern.size();
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace unicorn
