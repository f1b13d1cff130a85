// Executes a parsed template against a context, with jinja2's semantics:
// scoping (a for-loop body gets a fresh scope every iteration, so plain `set`
// inside it does not survive; namespace() is the way out), Undefined, Python
// arithmetic and comparisons, loop variables and break/continue.
#pragma once

#include <string>

#include "runtime/jinja/ast.h"
#include "runtime/jinja/value.h"

namespace unicorn::jinja {

// `variables` must be a map; its entries become the template's top-level names.
// Throws unicorn::Error(kInvalidInput) on any failure, naming the template line.
std::string renderProgram(const ast::Program& program, const Value& variables);

}  // namespace unicorn::jinja
