// jinja2's tests: `x is defined`, `x is string`, `n is divisibleby 3`, ...
#include <algorithm>
#include <cmath>

#include "runtime/jinja/builtins.h"
#include "runtime/jinja/value_arithmetic.h"

namespace unicorn::jinja {

namespace {

const std::string_view kTestNames[] = {
    "defined", "undefined", "none", "string", "number", "integer", "float", "boolean", "true", "false",
    "mapping", "iterable", "sequence", "callable", "even", "odd", "divisibleby", "eq", "equalto", "==",
    "ne", "!=", "lt", "lessthan", "<", "le", "<=", "gt", "greaterthan", ">", "ge", ">=", "in", "sameas",
    "lower", "upper"};

const Value& requireArgument(const CallArguments& arguments, std::string_view test) {
  if (arguments.positional.empty()) failRender("test '" + std::string(test) + "' needs an argument");
  return arguments.positional[0];
}

int64_t requireInteger(const Value& value, std::string_view test) {
  if (value.isUndefined()) failRender(value.undefinedDescription());
  if (!value.isNumber()) failRender("test '" + std::string(test) + "' needs a number, got " + value.typeName());
  return value.isFloat() ? static_cast<int64_t>(std::fmod(value.asDouble(), 1e18)) : value.asInt();
}

}  // namespace

bool isKnownTest(std::string_view name) {
  return std::find(std::begin(kTestNames), std::end(kTestNames), name) != std::end(kTestNames);
}

bool applyTest(std::string_view name, const Value& input, const CallArguments& arguments) {
  if (name == "defined") return !input.isUndefined();
  if (name == "undefined") return input.isUndefined();
  if (name == "none") return input.isNone();
  if (name == "string") return input.isString();
  if (name == "number") return input.isNumber();  // Python's bool is a Number
  if (name == "integer") return input.isInt();    // ... but jinja2 excludes it here
  if (name == "float") return input.isFloat();
  if (name == "boolean") return input.isBool();
  if (name == "true") return input.isBool() && input.asBool();
  if (name == "false") return input.isBool() && !input.asBool();
  if (name == "mapping") return input.isMap();
  // Undefined iterates (as empty) and has len() and [] in jinja2.
  if (name == "iterable") return input.isList() || input.isMap() || input.isString() || input.isUndefined();
  if (name == "sequence") return input.isList() || input.isMap() || input.isString() || input.isUndefined();
  if (name == "callable") return input.isFunction();
  if (name == "even") return requireInteger(input, name) % 2 == 0;
  if (name == "odd") return requireInteger(input, name) % 2 != 0;
  if (name == "divisibleby") {
    const int64_t divisor = requireInteger(requireArgument(arguments, name), name);
    if (divisor == 0) failRender("integer division or modulo by zero");
    return requireInteger(input, name) % divisor == 0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return compareValues("==", input, requireArgument(arguments, name));
  if (name == "ne" || name == "!=") return compareValues("!=", input, requireArgument(arguments, name));
  if (name == "lt" || name == "lessthan" || name == "<") return compareValues("<", input, requireArgument(arguments, name));
  if (name == "le" || name == "<=") return compareValues("<=", input, requireArgument(arguments, name));
  if (name == "gt" || name == "greaterthan" || name == ">") return compareValues(">", input, requireArgument(arguments, name));
  if (name == "ge" || name == ">=") return compareValues(">=", input, requireArgument(arguments, name));
  if (name == "in") return compareValues("in", input, requireArgument(arguments, name));
  if (name == "sameas") {
    // Python identity: singletons compare by value, containers by pointer.
    const Value& other = requireArgument(arguments, name);
    if (input.isNone() || input.isBool() || input.isUndefined()) return input.kind() == other.kind() && input.equals(other);
    return false;
  }
  if (name == "lower" || name == "upper") {
    if (!input.isString()) return false;
    bool has_cased = false;
    for (char c : input.asString()) {
      if (c >= 'a' && c <= 'z') {
        if (name == "upper") return false;
        has_cased = true;
      } else if (c >= 'A' && c <= 'Z') {
        if (name == "lower") return false;
        has_cased = true;
      }
    }
    return has_cased;
  }
  failRender("no test named '" + std::string(name) + "'");
}

}  // namespace unicorn::jinja
