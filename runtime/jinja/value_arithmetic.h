// Python's operators on template values: + - * / // % ** and ~ (jinja2's string
// concatenation), unary minus/plus, and the comparisons == != < > <= >= in /
// not in. Type errors fail the render the way Python raises TypeError.
#pragma once

#include <string>

#include "runtime/jinja/builtins.h"
#include "runtime/jinja/value.h"

namespace unicorn::jinja {

Value unaryArithmetic(const std::string& op, const Value& operand);
Value binaryArithmetic(const std::string& op, const Value& left, const Value& right, RenderBudget& budget);
bool compareValues(const std::string& op, const Value& left, const Value& right);

}  // namespace unicorn::jinja
