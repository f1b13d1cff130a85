#include "runtime/jinja/template.h"

#include "runtime/jinja/interpreter.h"
#include "runtime/jinja/parser.h"

namespace unicorn::jinja {

Template Template::parse(std::string_view source) {
  return Template(std::make_shared<const ast::Program>(parseTemplate(source)));
}

std::string Template::render(const Value& variables) const { return renderProgram(*program_, variables); }

}  // namespace unicorn::jinja
