#include "runtime/jinja/lexer.h"

#include <cctype>

#include "runtime/error.h"
#include "runtime/jinja/unicode_text.h"

namespace unicorn::jinja {

namespace {

[[noreturn]] void failSyntax(int line, const std::string& what) {
  failInvalidInput("chat template: syntax error at line " + std::to_string(line) + ": " + what);
}

// jinja2 splits the source on any newline sequence, rejoins with "\n" and drops
// one trailing newline (keep_trailing_newline=False).
std::string normalizeNewlines(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      out += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out += source[i];
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string rstripPythonWhitespace(const std::string& text) { return stripText(text, StripSide::kRight); }

// Length in bytes of the run of Python whitespace starting at `pos`.
size_t whitespaceRunLength(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size()) {
    const auto byte = static_cast<unsigned char>(text[end]);
    if (byte < 0x80) {
      if (!isPythonWhitespace(byte)) break;
      ++end;
      continue;
    }
    // Multi-byte: decode just this code point.
    size_t length = (byte & 0xE0) == 0xC0 ? 2 : (byte & 0xF0) == 0xE0 ? 3 : (byte & 0xF8) == 0xF0 ? 4 : 1;
    if (end + length > text.size()) break;
    const std::u32string cp = decodeUtf8(text.substr(end, length));
    if (cp.size() != 1 || !isPythonWhitespace(cp[0])) break;
    end += length;
  }
  return end - pos;
}

bool onlyInlineWhitespace(std::string_view text) {
  if (text.empty()) return false;
  return whitespaceRunLength(text, 0) == text.size();
}

// Python's "unicode-escape" decoding of a string literal's body, which is what
// jinja2 applies: known escapes are replaced, unknown ones kept verbatim.
std::string unescapeStringLiteral(std::string_view body, int line) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] != '\\' || i + 1 >= body.size()) {
      out += body[i];
      continue;
    }
    const char c = body[++i];
    auto readHex = [&](size_t digits) -> char32_t {
      if (i + digits >= body.size()) {
        failSyntax(line, "truncated \\" + std::string(1, c) + " escape in string literal");
      }
      char32_t value = 0;
      for (size_t k = 1; k <= digits; ++k) {
        const char h = body[i + k];
        if (!std::isxdigit(static_cast<unsigned char>(h))) failSyntax(line, "bad hex digit in string literal escape");
        value = value * 16 + static_cast<char32_t>(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
      }
      i += digits;
      return value;
    };
    switch (c) {
      case '\n': break;  // backslash-newline continues the line
      case '\\': out += '\\'; break;
      case '\'': out += '\''; break;
      case '"': out += '"'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case 'x': appendUtf8(out, readHex(2)); break;
      case 'u': appendUtf8(out, readHex(4)); break;
      case 'U': appendUtf8(out, readHex(8)); break;
      default:
        if (c >= '0' && c <= '7') {
          char32_t value = static_cast<char32_t>(c - '0');
          for (int k = 0; k < 2 && i + 1 < body.size() && body[i + 1] >= '0' && body[i + 1] <= '7'; ++k) {
            value = value * 8 + static_cast<char32_t>(body[++i] - '0');
          }
          appendUtf8(out, value);
        } else {
          out += '\\';
          out += c;
        }
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string source) : src_(std::move(source)) {}

  std::vector<Token> run() {
    bool line_starting = true;  // the last thing consumed ended a line (or nothing was consumed)
    while (pos_ < src_.size()) {
      const size_t tag = findNextTag(pos_);
      std::string text = src_.substr(pos_, tag - pos_);
      if (tag == src_.size()) {
        emitText(std::move(text));
        pos_ = tag;
        break;
      }
      const char kind = src_[tag + 1];  // '{', '%' or '#'
      const char modifier = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
      if (modifier == '-') {
        text = rstripPythonWhitespace(text);
      } else if (modifier != '+' && kind != '{') {
        // lstrip_blocks: a block or comment tag alone at the start of its line
        // takes the indentation before it with it.
        const size_t last_newline = text.rfind('\n');
        const size_t line_start = last_newline == std::string::npos ? 0 : last_newline + 1;
        if ((last_newline != std::string::npos || line_starting) &&
            onlyInlineWhitespace(std::string_view(text).substr(line_start))) {
          text.resize(line_start);
        }
      }
      emitText(std::move(text));
      advanceTo(tag);
      pos_ = tag + 2 + ((modifier == '-' || modifier == '+') ? 1 : 0);

      if (kind == '#') {
        lexComment();
      } else if (kind == '{') {
        tokens_.push_back({TokenType::kVariableBegin, "{{", line_});
        lexInsideTag("}}", TokenType::kVariableEnd);
      } else {
        tokens_.push_back({TokenType::kBlockBegin, "{%", line_});
        lexInsideTag("%}", TokenType::kBlockEnd);
      }
      line_starting = pos_ > 0 && src_[pos_ - 1] == '\n';
    }
    tokens_.push_back({TokenType::kEnd, "", line_});
    return std::move(tokens_);
  }

 private:
  size_t findNextTag(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i) {
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    }
    return src_.size();
  }

  void emitText(std::string text) {
    if (text.empty()) return;
    tokens_.push_back({TokenType::kText, std::move(text), line_});
  }

  // Moves the line counter up to byte `target`.
  void advanceTo(size_t target) {
    for (; line_pos_ < target && line_pos_ < src_.size(); ++line_pos_) {
      if (src_[line_pos_] == '\n') ++line_;
    }
  }

  // After a closing delimiter: "-" eats all following whitespace; block and
  // comment ends without "+" eat one newline (trim_blocks).
  void applyEndControl(char modifier, bool is_block_or_comment) {
    if (modifier == '-') {
      pos_ += whitespaceRunLength(src_, pos_);
    } else if (modifier != '+' && is_block_or_comment && pos_ < src_.size() && src_[pos_] == '\n') {
      ++pos_;
    }
  }

  void lexComment() {
    const int start_line = line_;
    const size_t end = src_.find("#}", pos_);
    if (end == std::string::npos) failSyntax(start_line, "unterminated comment");
    const char modifier = end > pos_ && (src_[end - 1] == '-' || src_[end - 1] == '+') ? src_[end - 1] : '\0';
    pos_ = end + 2;
    advanceTo(pos_);
    applyEndControl(modifier, /*is_block_or_comment=*/true);
  }

  void lexInsideTag(const char* closer, TokenType end_type) {
    const int start_line = line_;
    int bracket_depth = 0;
    while (true) {
      while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
      advanceTo(pos_);
      if (pos_ >= src_.size()) failSyntax(start_line, std::string("missing '") + closer + "' before end of template");
      if (bracket_depth == 0) {
        char modifier = '\0';
        size_t at = pos_;
        if ((src_[at] == '-' || src_[at] == '+') && src_.compare(at + 1, 2, closer) == 0) modifier = src_[at++];
        if (src_.compare(at, 2, closer) == 0) {
          tokens_.push_back({end_type, closer, line_});
          pos_ = at + 2;
          applyEndControl(modifier, end_type == TokenType::kBlockEnd);
          return;
        }
      }
      const char c = src_[pos_];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t end = pos_;
        while (end < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[end])) || src_[end] == '_')) ++end;
        tokens_.push_back({TokenType::kName, src_.substr(pos_, end - pos_), line_});
        pos_ = end;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        lexNumber();
      } else if (c == '\'' || c == '"') {
        lexString(c);
      } else {
        lexOperator(bracket_depth);
      }
    }
  }

  void lexNumber() {
    std::string digits;
    bool is_float = false;
    auto takeDigits = [&] {
      while (pos_ < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_')) {
        if (src_[pos_] != '_') digits += src_[pos_];
        ++pos_;
      }
    };
    takeDigits();
    if (pos_ + 1 < src_.size() && src_[pos_] == '.' && std::isdigit(static_cast<unsigned char>(src_[pos_ + 1]))) {
      is_float = true;
      digits += src_[pos_++];
      takeDigits();
    }
    if (pos_ < src_.size() && (src_[pos_] == 'e' || src_[pos_] == 'E')) {
      size_t at = pos_ + 1;
      if (at < src_.size() && (src_[at] == '+' || src_[at] == '-')) ++at;
      if (at < src_.size() && std::isdigit(static_cast<unsigned char>(src_[at]))) {
        is_float = true;
        digits += 'e';
        digits.append(src_, pos_ + 1, at - pos_ - 1);
        pos_ = at;
        takeDigits();
      }
    }
    tokens_.push_back({is_float ? TokenType::kFloat : TokenType::kInteger, digits, line_});
  }

  void lexString(char quote) {
    const int start_line = line_;
    size_t i = pos_ + 1;
    while (i < src_.size() && src_[i] != quote) {
      if (src_[i] == '\\') ++i;
      ++i;
    }
    if (i >= src_.size()) failSyntax(start_line, "unterminated string literal");
    const std::string body = src_.substr(pos_ + 1, i - pos_ - 1);
    tokens_.push_back({TokenType::kString, unescapeStringLiteral(body, start_line), start_line});
    pos_ = i + 1;
    advanceTo(pos_);
  }

  void lexOperator(int& bracket_depth) {
    static const char* const kTwoCharOperators[] = {"//", "**", "==", "!=", "<=", ">="};
    for (const char* op : kTwoCharOperators) {
      if (src_.compare(pos_, 2, op) == 0) {
        tokens_.push_back({TokenType::kOperator, op, line_});
        pos_ += 2;
        return;
      }
    }
    const char c = src_[pos_];
    static const std::string kOneCharOperators = "+-*/%~<>=()[]{},.:|";
    if (kOneCharOperators.find(c) == std::string::npos) {
      failSyntax(line_, std::string("unexpected character '") + c + "'");
    }
    if (c == '(' || c == '[' || c == '{') ++bracket_depth;
    if ((c == ')' || c == ']' || c == '}') && bracket_depth > 0) --bracket_depth;
    tokens_.push_back({TokenType::kOperator, std::string(1, c), line_});
    ++pos_;
  }

  std::string src_;
  size_t pos_ = 0;
  size_t line_pos_ = 0;
  int line_ = 1;
  std::vector<Token> tokens_;
};

}  // namespace

std::vector<Token> tokenizeTemplate(std::string_view source) { return Lexer(normalizeNewlines(source)).run(); }

}  // namespace unicorn::jinja
