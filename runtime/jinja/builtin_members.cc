// Attribute, item and slice access, and the methods of str and dict that chat
// templates call (message.content.strip(), message.get('tool_calls'), ...).
#include <algorithm>
#include <limits>

#include "runtime/jinja/builtins.h"
#include "runtime/jinja/unicode_text.h"

namespace unicorn::jinja {

void failRender(std::string message) { throw RenderFailure{std::move(message)}; }

const Value* findArgument(const CallArguments& arguments, size_t position, std::string_view keyword) {
  if (position < arguments.positional.size()) return &arguments.positional[position];
  for (const auto& [name, value] : arguments.keyword) {
    if (name == keyword) return &value;
  }
  return nullptr;
}

std::vector<Value> iterateValue(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kUndefined:
      return {};
    case Value::Kind::kList:
      return value.asList().items;
    case Value::Kind::kMap: {
      std::vector<Value> keys;
      for (const auto& entry : value.asMap().entries()) keys.push_back(Value::string(entry.first));
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> characters;
      for (char32_t cp : decodeUtf8(value.asString())) {
        std::string character;
        appendUtf8(character, cp);
        characters.push_back(Value::string(std::move(character)));
      }
      return characters;
    }
    default:
      failRender("'" + value.typeName() + "' object is not iterable");
  }
}

namespace {

std::string optionalString(const CallArguments& arguments, size_t position, std::string_view keyword,
                           bool* present) {
  const Value* value = findArgument(arguments, position, keyword);
  *present = value != nullptr && !value->isNone();
  if (!*present) return "";
  if (!value->isString()) failRender("expected a string argument '" + std::string(keyword) + "'");
  return value->asString();
}

Value stripMethod(const std::string& text, const CallArguments& arguments, StripSide side) {
  bool has_chars = false;
  const std::string chars = optionalString(arguments, 0, "chars", &has_chars);
  return Value::string(has_chars ? stripTextOf(text, chars, side) : stripText(text, side));
}

// str.startswith / str.endswith, with a string or a tuple of strings.
Value affixMethod(const std::string& text, const CallArguments& arguments, bool at_start) {
  const Value* affix = findArgument(arguments, 0, "prefix");
  if (affix == nullptr) failRender("startswith/endswith takes one argument");
  auto matches = [&](const Value& candidate) {
    if (!candidate.isString()) failRender("startswith/endswith expects str or a tuple of str");
    const std::string& a = candidate.asString();
    if (a.size() > text.size()) return false;
    return at_start ? text.compare(0, a.size(), a) == 0 : text.compare(text.size() - a.size(), a.size(), a) == 0;
  };
  if (affix->isList()) {
    for (const Value& candidate : affix->asList().items) {
      if (matches(candidate)) return Value::boolean(true);
    }
    return Value::boolean(false);
  }
  return Value::boolean(matches(*affix));
}

Value splitMethod(const std::string& text, const CallArguments& arguments) {
  bool has_separator = false;
  const std::string separator = optionalString(arguments, 0, "sep", &has_separator);
  const Value* max_split_value = findArgument(arguments, 1, "maxsplit");
  int64_t max_split = max_split_value != nullptr && max_split_value->isIntegral() ? max_split_value->asInt() : -1;
  if (max_split < 0) max_split = std::numeric_limits<int64_t>::max();
  std::vector<Value> parts;
  if (has_separator) {
    if (separator.empty()) failRender("empty separator");
    size_t start = 0;
    while (static_cast<int64_t>(parts.size()) < max_split) {
      const size_t found = text.find(separator, start);
      if (found == std::string::npos) break;
      parts.push_back(Value::string(text.substr(start, found - start)));
      start = found + separator.size();
    }
    parts.push_back(Value::string(text.substr(start)));
    return Value::list(std::move(parts));
  }
  // No separator: split on runs of whitespace, ignoring leading/trailing runs.
  const std::u32string cps = decodeUtf8(text);
  size_t i = 0;
  while (i < cps.size()) {
    while (i < cps.size() && isPythonWhitespace(cps[i])) ++i;
    if (i >= cps.size()) break;
    if (static_cast<int64_t>(parts.size()) == max_split) {
      std::u32string rest = cps.substr(i);
      while (!rest.empty() && isPythonWhitespace(rest.back())) rest.pop_back();
      parts.push_back(Value::string(encodeUtf8(rest)));
      break;
    }
    size_t end = i;
    while (end < cps.size() && !isPythonWhitespace(cps[end])) ++end;
    parts.push_back(Value::string(encodeUtf8(std::u32string_view(cps).substr(i, end - i))));
    i = end;
  }
  return Value::list(std::move(parts));
}

Value stringMethod(const std::string& text, std::string_view name, const CallArguments& arguments,
                   RenderBudget& budget) {
  budget.charge(text.size() / 64 + 1);
  if (name == "strip") return stripMethod(text, arguments, StripSide::kBoth);
  if (name == "lstrip") return stripMethod(text, arguments, StripSide::kLeft);
  if (name == "rstrip") return stripMethod(text, arguments, StripSide::kRight);
  if (name == "startswith") return affixMethod(text, arguments, true);
  if (name == "endswith") return affixMethod(text, arguments, false);
  if (name == "split") return splitMethod(text, arguments);
  if (name == "upper") return Value::string(toUpperAscii(text));
  if (name == "lower") return Value::string(toLowerAscii(text));
  if (name == "title") return Value::string(titleText(text));
  if (name == "capitalize") return Value::string(capitalizeText(text));
  if (name == "replace") {
    CallArguments filter_arguments = arguments;
    return applyFilter("replace", Value::string(text), filter_arguments, budget);
  }
  if (name == "find") {
    bool present = false;
    const std::string needle = optionalString(arguments, 0, "sub", &present);
    const size_t found = text.find(needle);
    if (found == std::string::npos) return Value::integer(-1);
    return Value::integer(static_cast<int64_t>(countCodePoints(std::string_view(text).substr(0, found))));
  }
  if (name == "count") {
    bool present = false;
    const std::string needle = optionalString(arguments, 0, "sub", &present);
    if (needle.empty()) return Value::integer(static_cast<int64_t>(countCodePoints(text)) + 1);
    int64_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + needle.size())) ++count;
    return Value::integer(count);
  }
  if (name == "join") {
    const Value* items = findArgument(arguments, 0, "iterable");
    if (items == nullptr) failRender("join() takes exactly one argument");
    std::string joined;
    bool first = true;
    for (const Value& item : iterateValue(*items)) {
      if (!item.isString()) failRender("sequence item: expected str instance, " + item.typeName() + " found");
      if (!first) joined += text;
      first = false;
      joined += item.asString();
      RenderBudget::checkStringSize(joined.size());
    }
    return Value::string(std::move(joined));
  }
  if (name == "isdigit" || name == "isspace" || name == "isalpha" || name == "isalnum") {
    const std::u32string cps = decodeUtf8(text);
    if (cps.empty()) return Value::boolean(false);
    for (char32_t c : cps) {
      const bool digit = c >= '0' && c <= '9';
      const bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
      const bool ok = name == "isdigit" ? digit
                      : name == "isspace" ? isPythonWhitespace(c)
                      : name == "isalpha" ? alpha
                                          : (alpha || digit);
      if (!ok) return Value::boolean(false);
    }
    return Value::boolean(true);
  }
  failRender("'str' object has no attribute '" + std::string(name) + "'");
}

bool isStringMethod(std::string_view name) {
  static const std::string_view kNames[] = {"strip", "lstrip", "rstrip", "startswith", "endswith", "split",
                                            "upper", "lower", "title", "capitalize", "replace", "find",
                                            "count", "join", "isdigit", "isspace", "isalpha", "isalnum"};
  return std::find(std::begin(kNames), std::end(kNames), name) != std::end(kNames);
}

bool isMapMethod(std::string_view name) { return name == "items" || name == "keys" || name == "values" || name == "get"; }

Value mapMethod(const Value& map_value, std::string_view name, const CallArguments& arguments) {
  const ValueMap& map = map_value.asMap();
  if (name == "get") {
    const Value* key = findArgument(arguments, 0, "key");
    if (key == nullptr) failRender("get expected at least 1 argument, got 0");
    const Value* fallback = findArgument(arguments, 1, "default");
    const Value* found = key->isString() ? map.find(key->asString()) : nullptr;
    if (found != nullptr) return *found;
    return fallback != nullptr ? *fallback : Value::none();
  }
  std::vector<Value> out;
  out.reserve(map.size());
  for (const auto& [key, value] : map.entries()) {
    if (name == "keys") out.push_back(Value::string(key));
    else if (name == "values") out.push_back(value);
    else out.push_back(Value::list({Value::string(key), value}, /*is_tuple=*/true));
  }
  return Value::list(std::move(out));
}

Value boundMethod(const Value& object, std::string_view name, RenderBudget& budget) {
  const std::string method(name);
  RenderBudget* budget_pointer = &budget;
  if (object.isString()) {
    return Value::function(method, [object, method, budget_pointer](const CallArguments& arguments) {
      return stringMethod(object.asString(), method, arguments, *budget_pointer);
    });
  }
  return Value::function(method, [object, method](const CallArguments& arguments) {
    return mapMethod(object, method, arguments);
  });
}

Value noAttribute(const Value& object, std::string_view name) {
  return Value::undefined("'" + object.typeName() + " object' has no attribute '" + std::string(name) + "'");
}

}  // namespace

Value getAttribute(const Value& object, std::string_view name, RenderBudget& budget) {
  if (object.isString()) return isStringMethod(name) ? boundMethod(object, name, budget) : noAttribute(object, name);
  if (object.isMap()) {
    if (isMapMethod(name)) return boundMethod(object, name, budget);
    const Value* found = object.asMap().find(name);
    return found != nullptr ? *found : noAttribute(object, name);
  }
  if (object.isNamespace()) {
    const Value* found = object.namespaceMap().find(name);
    return found != nullptr ? *found : noAttribute(object, name);
  }
  return noAttribute(object, name);
}

Value getItem(const Value& object, const Value& key, RenderBudget& budget) {
  if (key.isIntegral() && (object.isList() || object.isString())) {
    int64_t index = key.asInt();
    if (object.isList()) {
      const auto& items = object.asList().items;
      const auto size = static_cast<int64_t>(items.size());
      if (index < 0) index += size;
      if (index < 0 || index >= size) return Value::undefined("list index out of range");
      return items[static_cast<size_t>(index)];
    }
    const std::u32string cps = decodeUtf8(object.asString());
    const auto size = static_cast<int64_t>(cps.size());
    if (index < 0) index += size;
    if (index < 0 || index >= size) return Value::undefined("string index out of range");
    std::string character;
    appendUtf8(character, cps[static_cast<size_t>(index)]);
    return Value::string(std::move(character));
  }
  if (key.isString()) {
    if (object.isMap()) {
      const Value* found = object.asMap().find(key.asString());
      if (found != nullptr) return *found;
    }
    if (object.isNamespace()) {
      const Value* found = object.namespaceMap().find(key.asString());
      if (found != nullptr) return *found;
    }
    // jinja2 falls back to getattr for obj['name'].
    return getAttribute(object, key.asString(), budget);
  }
  return Value::undefined("'" + object.typeName() + " object' has no item " + key.toRepr());
}

namespace {

// PySlice_AdjustIndices: clamps start/stop for a sequence of `length` items.
void adjustSliceBounds(int64_t length, const Value& start_value, const Value& stop_value, int64_t step,
                       int64_t* start, int64_t* stop) {
  auto readBound = [](const Value& v) {
    if (!v.isIntegral()) failRender("slice indices must be integers or None");
    return v.asInt();
  };
  if (step > 0) {
    *start = start_value.isNone() ? 0 : readBound(start_value);
    *stop = stop_value.isNone() ? length : readBound(stop_value);
    if (*start < 0) *start = std::max<int64_t>(0, *start + length);
    if (*stop < 0) *stop = std::max<int64_t>(0, *stop + length);
    *start = std::min(*start, length);
    *stop = std::min(*stop, length);
  } else {
    *start = start_value.isNone() ? length - 1 : readBound(start_value);
    *stop = stop_value.isNone() ? -1 : readBound(stop_value);
    if (!start_value.isNone() && *start < 0) *start = std::max<int64_t>(-1, *start + length);
    if (!stop_value.isNone() && *stop < 0) *stop = std::max<int64_t>(-1, *stop + length);
    *start = std::min(*start, length - 1);
    *stop = std::min(*stop, length - 1);
  }
}

template <typename Sequence>
Sequence sliceSequence(const Sequence& input, int64_t start, int64_t stop, int64_t step) {
  Sequence out;
  if (step > 0) {
    for (int64_t i = start; i < stop; i += step) out.push_back(input[static_cast<size_t>(i)]);
  } else {
    for (int64_t i = start; i > stop; i += step) out.push_back(input[static_cast<size_t>(i)]);
  }
  return out;
}

}  // namespace

Value getSlice(const Value& object, const Value& start_value, const Value& stop_value, const Value& step_value) {
  if (!step_value.isNone() && !step_value.isIntegral()) failRender("slice indices must be integers or None");
  const int64_t step = step_value.isNone() ? 1 : step_value.asInt();
  if (step == 0) failRender("slice step cannot be zero");
  if (step == std::numeric_limits<int64_t>::min()) failRender("slice step out of range");
  int64_t start = 0;
  int64_t stop = 0;
  if (object.isList()) {
    const auto& items = object.asList().items;
    adjustSliceBounds(static_cast<int64_t>(items.size()), start_value, stop_value, step, &start, &stop);
    return Value::list(sliceSequence(items, start, stop, step), object.asList().is_tuple);
  }
  if (object.isString()) {
    const std::u32string cps = decodeUtf8(object.asString());
    adjustSliceBounds(static_cast<int64_t>(cps.size()), start_value, stop_value, step, &start, &stop);
    return Value::string(encodeUtf8(sliceSequence(cps, start, stop, step)));
  }
  failRender("'" + object.typeName() + "' object is not subscriptable");
}

}  // namespace unicorn::jinja
