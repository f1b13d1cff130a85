// The library a template calls into: filters (x | trim), tests (x is string),
// attribute/method lookup (message.content.strip()) and globals (range,
// namespace, raise_exception, strftime_now), each with jinja2's behaviour under
// transformers' settings. One header for the three .cc files that implement
// them (builtin_filters.cc, builtin_tests.cc, builtin_members.cc,
// builtin_globals.cc).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "runtime/jinja/value.h"

namespace unicorn::jinja {

// Thrown by builtins and the interpreter for a failure while rendering; the
// interpreter turns it into unicorn::Error with the template line attached.
struct RenderFailure {
  std::string message;
};
[[noreturn]] void failRender(std::string message);

// Work and memory limits of one render, shared by the interpreter and the
// builtins, so neither a huge loop nor a doubling string can run away.
class RenderBudget {
 public:
  static constexpr size_t kMaxSteps = 5'000'000;
  static constexpr size_t kMaxStringBytes = 64u << 20;

  void charge(size_t steps) {
    steps_ += steps;
    if (steps_ > kMaxSteps) failRender("template exceeded its work limit (" + std::to_string(kMaxSteps) + " steps)");
  }
  static void checkStringSize(size_t bytes) {
    if (bytes > kMaxStringBytes) failRender("a string would exceed " + std::to_string(kMaxStringBytes) + " bytes");
  }

 private:
  size_t steps_ = 0;
};

bool isKnownFilter(std::string_view name);
bool isKnownTest(std::string_view name);

Value applyFilter(std::string_view name, const Value& input, const CallArguments& arguments, RenderBudget& budget);
bool applyTest(std::string_view name, const Value& input, const CallArguments& arguments);

// obj.name: methods first, then map items (jinja2's getattr order).
Value getAttribute(const Value& object, std::string_view name, RenderBudget& budget);
// obj[key]: items first, then methods (jinja2's getitem order). Negative list
// indexes count from the end.
Value getItem(const Value& object, const Value& key, RenderBudget& budget);
// obj[start:stop:step] with Python semantics; lists and strings.
Value getSlice(const Value& object, const Value& start, const Value& stop, const Value& step);

// The globals every render sees (range, namespace, dict, raise_exception, strftime_now).
ValueMap makeGlobals(RenderBudget& budget);

// Items a for loop visits: list items, map keys, string characters; Undefined
// is empty. Anything else fails.
std::vector<Value> iterateValue(const Value& value);

// Reads a keyword-or-positional argument of a filter or method.
const Value* findArgument(const CallArguments& arguments, size_t position, std::string_view keyword);

}  // namespace unicorn::jinja
