// A jinja2 template compiled once and rendered any number of times, configured
// the way transformers' apply_chat_template configures jinja2: trim_blocks,
// lstrip_blocks, loop controls, the {% generation %} tag, raise_exception,
// strftime_now and a json.dumps-style tojson.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "runtime/jinja/ast.h"
#include "runtime/jinja/value.h"

namespace unicorn::jinja {

class Template {
 public:
  // Throws unicorn::Error(kInvalidInput) with the line of the first syntax error.
  static Template parse(std::string_view source);
  // `variables` must be a map. Throws unicorn::Error(kInvalidInput) on render errors.
  std::string render(const Value& variables) const;

 private:
  explicit Template(std::shared_ptr<const ast::Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const ast::Program> program_;
};

}  // namespace unicorn::jinja
