// The global functions templates call: range, namespace, dict, and the two
// transformers adds, raise_exception and strftime_now.
#include <ctime>

#include "runtime/error.h"
#include "runtime/jinja/builtins.h"

namespace unicorn::jinja {

namespace {

// range() builds its list eagerly, so its length is charged to the budget first.
Value makeRange(const CallArguments& arguments, RenderBudget& budget) {
  const auto& p = arguments.positional;
  if (p.empty() || p.size() > 3) failRender("range expected 1 to 3 arguments, got " + std::to_string(p.size()));
  for (const Value& v : p) {
    if (!v.isIntegral()) failRender("'" + v.typeName() + "' object cannot be interpreted as an integer");
  }
  const int64_t start = p.size() == 1 ? 0 : p[0].asInt();
  const int64_t stop = p.size() == 1 ? p[0].asInt() : p[1].asInt();
  const int64_t step = p.size() == 3 ? p[2].asInt() : 1;
  if (step == 0) failRender("range() arg 3 must not be zero");
  // Count in long double to avoid overflow on extreme bounds.
  const long double span = step > 0 ? static_cast<long double>(stop) - start : static_cast<long double>(start) - stop;
  const long double magnitude = step > 0 ? static_cast<long double>(step) : -static_cast<long double>(step);
  const long double count = span <= 0 ? 0 : (span + magnitude - 1) / magnitude;
  if (count > static_cast<long double>(RenderBudget::kMaxSteps)) failRender("range() is too long");
  budget.charge(static_cast<size_t>(count));
  std::vector<Value> items;
  items.reserve(static_cast<size_t>(count));
  for (size_t i = 0; i < static_cast<size_t>(count); ++i) items.push_back(Value::integer(start + static_cast<int64_t>(i) * step));
  return Value::list(std::move(items));
}

// namespace(mapping?, **kwargs) and dict(**kwargs) share their argument rules.
ValueMap mapFromArguments(const CallArguments& arguments, const char* function) {
  ValueMap map;
  if (arguments.positional.size() > 1) failRender(std::string(function) + "() takes at most one positional argument");
  if (arguments.positional.size() == 1) {
    const Value& initial = arguments.positional[0];
    if (!initial.isMap()) failRender(std::string(function) + "() positional argument must be a mapping");
    for (const auto& [key, value] : initial.asMap().entries()) map.set(key, value);
  }
  for (const auto& [key, value] : arguments.keyword) map.set(key, value);
  return map;
}

}  // namespace

ValueMap makeGlobals(RenderBudget& budget) {
  ValueMap globals;
  RenderBudget* budget_pointer = &budget;
  globals.set("range", Value::function("range", [budget_pointer](const CallArguments& arguments) {
    return makeRange(arguments, *budget_pointer);
  }));
  globals.set("namespace", Value::function("namespace", [](const CallArguments& arguments) {
    return Value::newNamespace(mapFromArguments(arguments, "namespace"));
  }));
  globals.set("dict", Value::function("dict", [](const CallArguments& arguments) {
    return Value::map(mapFromArguments(arguments, "dict"));
  }));
  globals.set("raise_exception", Value::function("raise_exception", [](const CallArguments& arguments) -> Value {
    const std::string message = arguments.positional.empty() ? "" : arguments.positional[0].toDisplayString();
    // The template's own words, as transformers reports them (TemplateError).
    throw Error(ExitCode::kInvalidInput, "chat template: " + message);
  }));
  globals.set("strftime_now", Value::function("strftime_now", [](const CallArguments& arguments) {
    if (arguments.positional.empty() || !arguments.positional[0].isString()) failRender("strftime_now needs a format string");
    const std::time_t now = std::time(nullptr);
    std::tm local{};
    localtime_r(&now, &local);
    char buffer[256];
    const size_t length = std::strftime(buffer, sizeof(buffer), arguments.positional[0].asString().c_str(), &local);
    return Value::string(std::string(buffer, length));
  }));
  return globals;
}

}  // namespace unicorn::jinja
