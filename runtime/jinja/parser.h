// Turns template tokens into an ast::Program following jinja2's grammar and
// operator precedence. Syntax errors, unknown tags, filters and tests (which
// jinja2 also rejects when it compiles) become unicorn::Error(kInvalidInput)
// naming the line. Nesting is limited so hostile input cannot exhaust the stack.
#pragma once

#include <string_view>

#include "runtime/jinja/ast.h"

namespace unicorn::jinja {

// Blocks and parenthesised expressions nested deeper than this are refused.
inline constexpr int kMaxTemplateNesting = 64;
// Expression trees taller than this are refused (chains like a+b+c+... and
// x|f|g|... grow without nesting brackets, but evaluating and freeing them recurses).
inline constexpr int kMaxExpressionDepth = 256;

ast::Program parseTemplate(std::string_view source);

}  // namespace unicorn::jinja
