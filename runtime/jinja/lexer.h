// Splits template source into tokens the way jinja2's lexer does under
// transformers' settings (trim_blocks=True, lstrip_blocks=True,
// keep_trailing_newline=False): text runs, tag delimiters and the expression
// tokens inside tags. Whitespace control ({%- -%}, {%+ +%}, trim/lstrip) is
// resolved here, so the parser only ever sees the text that will be printed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace unicorn::jinja {

enum class TokenType {
  kText,           // literal output
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,
  kString,   // value holds the unescaped string
  kInteger,  // value holds the digits (underscores removed)
  kFloat,
  kOperator,  // + - * / // % ** ~ == != < > <= >= = ( ) [ ] { } , . : |
  kEnd,
};

struct Token {
  TokenType type;
  std::string value;
  int line;
};

// Throws unicorn::Error(kInvalidInput) naming the line on an unterminated tag,
// comment or string, or a character that cannot start a token.
std::vector<Token> tokenizeTemplate(std::string_view source);

}  // namespace unicorn::jinja
