// jinja2's filters as transformers exposes them (tojson replaced by a
// json.dumps wrapper: no HTML escaping, keys unsorted, ensure_ascii=False).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "runtime/jinja/builtins.h"
#include "runtime/jinja/unicode_text.h"
#include "runtime/jinja/value_arithmetic.h"

namespace unicorn::jinja {

namespace {

const std::string_view kFilterNames[] = {
    "trim", "upper", "lower", "capitalize", "title", "length", "count", "first", "last", "join", "default", "d",
    "tojson", "replace", "list", "int", "float", "string", "items", "selectattr", "rejectattr", "select", "reject",
    "map", "reverse", "sort", "abs", "safe", "indent", "unique", "min", "max", "sum", "wordcount", "dictsort"};

bool optionalBool(const CallArguments& arguments, size_t position, std::string_view keyword) {
  const Value* value = findArgument(arguments, position, keyword);
  return value != nullptr && value->truthy();
}

void failIfUndefined(const Value& value) {
  if (value.isUndefined()) failRender(value.undefinedDescription());
}

// --- tojson: Python's json.dumps --------------------------------------------

struct JsonStyle {
  std::string indent;  // empty: single line
  bool pretty = false;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool ensure_ascii = false;
  bool sort_keys = false;
};

void appendJsonString(std::string& out, const std::string& text, bool ensure_ascii) {
  out += '"';
  for (char32_t cp : decodeUtf8(text)) {
    char buffer[16];
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp < 0x20 || (ensure_ascii && cp >= 0x7F)) {
      if (cp >= 0x10000) {
        const char32_t v = cp - 0x10000;
        std::snprintf(buffer, sizeof(buffer), "\\u%04x\\u%04x", static_cast<unsigned>(0xD800 + (v >> 10)),
                      static_cast<unsigned>(0xDC00 + (v & 0x3FF)));
      } else {
        std::snprintf(buffer, sizeof(buffer), "\\u%04x", static_cast<unsigned>(cp));
      }
      out += buffer;
    } else {
      appendUtf8(out, cp);
    }
  }
  out += '"';
}

void appendJson(std::string& out, const Value& value, const JsonStyle& style, int depth, RenderBudget& budget) {
  budget.charge(1);
  RenderBudget::checkStringSize(out.size());
  auto newline = [&](int level) {
    if (!style.pretty) return;
    out += '\n';
    for (int i = 0; i < level; ++i) out += style.indent;
  };
  switch (value.kind()) {
    case Value::Kind::kNone: out += "null"; return;
    case Value::Kind::kBool: out += value.asBool() ? "true" : "false"; return;
    case Value::Kind::kInt: out += std::to_string(value.asInt()); return;
    case Value::Kind::kFloat: {
      const double d = value.asDouble();
      if (std::isnan(d)) out += "NaN";
      else if (std::isinf(d)) out += d > 0 ? "Infinity" : "-Infinity";
      else out += formatPythonFloat(d);
      return;
    }
    case Value::Kind::kString: appendJsonString(out, value.asString(), style.ensure_ascii); return;
    case Value::Kind::kList: {
      const auto& items = value.asList().items;
      if (items.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i != 0) out += style.item_separator;
        newline(depth + 1);
        appendJson(out, items[i], style, depth + 1, budget);
      }
      newline(depth);
      out += ']';
      return;
    }
    case Value::Kind::kMap: {
      std::vector<const std::pair<std::string, Value>*> entries;
      for (const auto& entry : value.asMap().entries()) entries.push_back(&entry);
      if (entries.empty()) {
        out += "{}";
        return;
      }
      if (style.sort_keys) {
        std::stable_sort(entries.begin(), entries.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
      }
      out += '{';
      for (size_t i = 0; i < entries.size(); ++i) {
        if (i != 0) out += style.item_separator;
        newline(depth + 1);
        appendJsonString(out, entries[i]->first, style.ensure_ascii);
        out += style.key_separator;
        appendJson(out, entries[i]->second, style, depth + 1, budget);
      }
      newline(depth);
      out += '}';
      return;
    }
    default:
      failRender("Object of type " + value.typeName() + " is not JSON serializable");
  }
}

Value toJson(const Value& input, const CallArguments& arguments, RenderBudget& budget) {
  JsonStyle style;
  const Value* indent = findArgument(arguments, 0, "indent");
  if (indent != nullptr && !indent->isNone()) {
    style.pretty = true;
    style.item_separator = ",";
    if (indent->isString()) {
      style.indent = indent->asString();
    } else if (indent->isIntegral()) {
      style.indent = std::string(static_cast<size_t>(std::clamp<int64_t>(indent->asInt(), 0, 64)), ' ');
    } else {
      failRender("tojson indent must be an int or a string");
    }
  }
  style.ensure_ascii = optionalBool(arguments, 1, "ensure_ascii");
  const Value* separators = findArgument(arguments, 2, "separators");
  if (separators != nullptr && !separators->isNone()) {
    if (!separators->isList() || separators->asList().items.size() != 2 || !separators->asList().items[0].isString() ||
        !separators->asList().items[1].isString()) {
      failRender("tojson separators must be a pair of strings");
    }
    style.item_separator = separators->asList().items[0].asString();
    style.key_separator = separators->asList().items[1].asString();
  }
  style.sort_keys = optionalBool(arguments, 3, "sort_keys");
  std::string out;
  appendJson(out, input, style, 0, budget);
  return Value::string(std::move(out));
}

// --- conversions ----------------------------------------------------------

// Python's int(str): optional sign, digits with single underscores, surrounding whitespace.
bool parsePythonInt(const std::string& raw, int64_t* out) {
  const std::string text = stripText(raw, StripSide::kBoth);
  std::string digits;
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) digits += text[i++];
  bool previous_digit = false;
  for (; i < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i]))) {
      digits += text[i];
      previous_digit = true;
    } else if (text[i] == '_' && previous_digit && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i + 1]))) {
      previous_digit = false;
    } else {
      return false;
    }
  }
  if (digits.empty() || digits == "+" || digits == "-") return false;
  errno = 0;
  *out = std::strtoll(digits.c_str(), nullptr, 10);
  return errno != ERANGE;
}

bool parsePythonFloat(const std::string& raw, double* out) {
  const std::string text = stripText(raw, StripSide::kBoth);
  if (text.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(text.c_str(), &end);
  return end == text.c_str() + text.size();
}

Value toInt(const Value& input, const CallArguments& arguments) {
  const Value* fallback = findArgument(arguments, 0, "default");
  const Value default_value = fallback != nullptr ? *fallback : Value::integer(0);
  if (input.isIntegral()) return Value::integer(input.asInt());
  if (input.isFloat()) {
    const double d = input.asDouble();
    if (!std::isfinite(d) || std::fabs(d) >= 9.2e18) return default_value;
    return Value::integer(static_cast<int64_t>(d));
  }
  if (input.isString()) {
    int64_t parsed = 0;
    if (parsePythonInt(input.asString(), &parsed)) return Value::integer(parsed);
    double as_float = 0;
    if (parsePythonFloat(input.asString(), &as_float) && std::isfinite(as_float) && std::fabs(as_float) < 9.2e18) {
      return Value::integer(static_cast<int64_t>(as_float));
    }
  }
  return default_value;
}

Value toFloat(const Value& input, const CallArguments& arguments) {
  const Value* fallback = findArgument(arguments, 0, "default");
  const Value default_value = fallback != nullptr ? *fallback : Value::floating(0.0);
  if (input.isNumber()) return Value::floating(input.asDouble());
  double parsed = 0;
  if (input.isString() && parsePythonFloat(input.asString(), &parsed)) return Value::floating(parsed);
  return default_value;
}

// str(value) for filters that take text; Undefined becomes "".
std::string textOf(const Value& value) { return value.toDisplayString(); }

Value replaceText(const std::string& text, const CallArguments& arguments) {
  const Value* old_value = findArgument(arguments, 0, "old");
  const Value* new_value = findArgument(arguments, 1, "new");
  if (old_value == nullptr || new_value == nullptr) failRender("replace needs 'old' and 'new'");
  const std::string old_text = textOf(*old_value);
  const std::string new_text = textOf(*new_value);
  const Value* count_value = findArgument(arguments, 2, "count");
  int64_t remaining = count_value != nullptr && count_value->isIntegral() && count_value->asInt() >= 0
                          ? count_value->asInt()
                          : INT64_MAX;
  std::string out;
  if (old_text.empty()) {
    // Python inserts `new` before every character and at the end.
    for (char32_t cp : decodeUtf8(text)) {
      if (remaining-- > 0) out += new_text;
      appendUtf8(out, cp);
      RenderBudget::checkStringSize(out.size());
    }
    if (remaining > 0) out += new_text;
    return Value::string(std::move(out));
  }
  size_t start = 0;
  while (remaining-- > 0) {
    const size_t found = text.find(old_text, start);
    if (found == std::string::npos) break;
    out.append(text, start, found - start);
    out += new_text;
    RenderBudget::checkStringSize(out.size());
    start = found + old_text.size();
  }
  out.append(text, start, std::string::npos);
  RenderBudget::checkStringSize(out.size());
  return Value::string(std::move(out));
}

// jinja2's attribute paths: "a.b" looks up a then b; digits index lists.
Value lookupAttributePath(const Value& item, const std::string& path, RenderBudget& budget) {
  Value current = item;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    int64_t index = 0;
    if (current.isUndefined()) return current;
    current = (!part.empty() && std::all_of(part.begin(), part.end(), ::isdigit) && current.isList() &&
               (index = std::atoll(part.c_str()), true))
                  ? getItem(current, Value::integer(index), budget)
                  : getItem(current, Value::string(part), budget);
    if (dot == std::string::npos) return current;
    start = dot + 1;
  }
}

Value selectItems(std::string_view name, const Value& input, const CallArguments& arguments, RenderBudget& budget) {
  const bool by_attribute = name == "selectattr" || name == "rejectattr";
  const bool keep_matches = name == "selectattr" || name == "select";
  size_t next = 0;
  std::string attribute;
  if (by_attribute) {
    if (arguments.positional.empty() || !arguments.positional[0].isString()) failRender(std::string(name) + " needs an attribute name");
    attribute = arguments.positional[0].asString();
    next = 1;
  }
  std::string test;
  if (next < arguments.positional.size()) {
    if (!arguments.positional[next].isString()) failRender(std::string(name) + " needs a test name");
    test = arguments.positional[next].asString();
    if (!isKnownTest(test)) failRender("no test named '" + test + "'");
    ++next;
  }
  CallArguments test_arguments;
  test_arguments.positional.assign(arguments.positional.begin() + static_cast<std::ptrdiff_t>(next), arguments.positional.end());
  std::vector<Value> kept;
  for (const Value& item : iterateValue(input)) {
    budget.charge(1);
    const Value subject = by_attribute ? lookupAttributePath(item, attribute, budget) : item;
    const bool matches = test.empty() ? subject.truthy() : applyTest(test, subject, test_arguments);
    if (matches == keep_matches) kept.push_back(item);
  }
  return Value::list(std::move(kept));
}

Value mapItems(const Value& input, const CallArguments& arguments, RenderBudget& budget) {
  std::vector<Value> out;
  const Value* attribute = nullptr;
  for (const auto& [keyword, value] : arguments.keyword) {
    if (keyword == "attribute") attribute = &value;
  }
  if (attribute != nullptr) {
    if (!attribute->isString()) failRender("map attribute must be a string");
    const Value* fallback = nullptr;
    for (const auto& [keyword, value] : arguments.keyword) {
      if (keyword == "default") fallback = &value;
    }
    for (const Value& item : iterateValue(input)) {
      Value mapped = lookupAttributePath(item, attribute->asString(), budget);
      out.push_back(mapped.isUndefined() && fallback != nullptr ? *fallback : mapped);
    }
    return Value::list(std::move(out));
  }
  if (arguments.positional.empty() || !arguments.positional[0].isString()) failRender("map needs a filter name or attribute=");
  const std::string filter = arguments.positional[0].asString();
  if (!isKnownFilter(filter)) failRender("no filter named '" + filter + "'");
  CallArguments filter_arguments;
  filter_arguments.positional.assign(arguments.positional.begin() + 1, arguments.positional.end());
  for (const Value& item : iterateValue(input)) out.push_back(applyFilter(filter, item, filter_arguments, budget));
  return Value::list(std::move(out));
}

Value sortItems(const Value& input, const CallArguments& arguments, RenderBudget& budget) {
  const bool reverse = optionalBool(arguments, 0, "reverse");
  const bool case_sensitive = optionalBool(arguments, 1, "case_sensitive");
  const Value* attribute = findArgument(arguments, 2, "attribute");
  std::vector<Value> items = iterateValue(input);
  budget.charge(items.size() * 8);
  auto key = [&](const Value& item) {
    Value k = attribute != nullptr && attribute->isString() ? lookupAttributePath(item, attribute->asString(), budget) : item;
    if (!case_sensitive && k.isString()) return Value::string(toLowerAscii(k.asString()));
    return k;
  };
  std::vector<std::pair<Value, Value>> keyed;
  for (Value& item : items) keyed.emplace_back(key(item), std::move(item));
  std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& a, const auto& b) {
    return reverse ? compareValues("<", b.first, a.first) : compareValues("<", a.first, b.first);
  });
  std::vector<Value> sorted;
  for (auto& [k, item] : keyed) sorted.push_back(std::move(item));
  return Value::list(std::move(sorted));
}

Value indentText(const std::string& text, const CallArguments& arguments) {
  const Value* width = findArgument(arguments, 0, "width");
  std::string indentation = "    ";
  if (width != nullptr && width->isString()) indentation = width->asString();
  else if (width != nullptr && width->isIntegral()) indentation = std::string(static_cast<size_t>(std::clamp<int64_t>(width->asInt(), 0, 256)), ' ');
  const bool first = optionalBool(arguments, 1, "first");
  const bool blank = optionalBool(arguments, 2, "blank");
  // Python's splitlines() on text + "\n", as jinja2 does.
  std::vector<std::string> lines;
  std::string current;
  const std::string source = text + "\n";
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\n' || source[i] == '\r') {
      if (source[i] == '\r' && i + 1 < source.size() && source[i + 1] == '\n') ++i;
      lines.push_back(current);
      current.clear();
    } else {
      current += source[i];
    }
  }
  if (!current.empty()) lines.push_back(current);
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i != 0) {
      out += '\n';
      if (blank || !lines[i].empty()) out += indentation;
    }
    out += lines[i];
    RenderBudget::checkStringSize(out.size());
  }
  return Value::string(first ? indentation + out : out);
}

}  // namespace

bool isKnownFilter(std::string_view name) {
  return std::find(std::begin(kFilterNames), std::end(kFilterNames), name) != std::end(kFilterNames);
}

Value applyFilter(std::string_view name, const Value& input, const CallArguments& arguments, RenderBudget& budget) {
  budget.charge(1);
  if (name == "default" || name == "d") {
    const Value* fallback = findArgument(arguments, 0, "default_value");
    const bool boolean = optionalBool(arguments, 1, "boolean");
    if (input.isUndefined() || (boolean && !input.truthy())) return fallback != nullptr ? *fallback : Value::string("");
    return input;
  }
  if (name == "trim") {
    const Value* chars = findArgument(arguments, 0, "chars");
    if (chars != nullptr && chars->isString()) return Value::string(stripTextOf(textOf(input), chars->asString(), StripSide::kBoth));
    return Value::string(stripText(textOf(input), StripSide::kBoth));
  }
  if (name == "upper") return Value::string(toUpperAscii(textOf(input)));
  if (name == "lower") return Value::string(toLowerAscii(textOf(input)));
  if (name == "capitalize") return Value::string(capitalizeText(textOf(input)));
  if (name == "title") return Value::string(titleText(textOf(input)));
  if (name == "safe") return input;
  if (name == "string") return Value::string(textOf(input));
  if (name == "tojson") return toJson(input, arguments, budget);
  if (name == "replace") return replaceText(textOf(input), arguments);
  if (name == "indent") return indentText(textOf(input), arguments);
  if (name == "int") return toInt(input, arguments);
  if (name == "float") return toFloat(input, arguments);
  if (name == "length" || name == "count") {
    if (input.isString()) return Value::integer(static_cast<int64_t>(countCodePoints(input.asString())));
    if (input.isList()) return Value::integer(static_cast<int64_t>(input.asList().items.size()));
    if (input.isMap()) return Value::integer(static_cast<int64_t>(input.asMap().size()));
    if (input.isUndefined()) return Value::integer(0);
    failRender("object of type '" + input.typeName() + "' has no len()");
  }
  if (name == "wordcount") {
    CallArguments none;
    const std::string text = textOf(input);
    return applyFilter("length", getAttribute(Value::string(text), "split", budget).asFunction().call(none), none, budget);
  }
  if (name == "abs") {
    failIfUndefined(input);
    if (input.isFloat()) return Value::floating(std::fabs(input.asDouble()));
    if (input.isIntegral()) return input.asInt() < 0 ? unaryArithmetic("-", input) : Value::integer(input.asInt());
    failRender("bad operand type for abs(): '" + input.typeName() + "'");
  }
  if (name == "items") {
    if (input.isUndefined()) return Value::list({});
    if (!input.isMap()) failRender("can only get item pairs from a mapping");
    return getAttribute(input, "items", budget).asFunction().call(CallArguments{});
  }
  if (name == "dictsort") {
    if (!input.isMap()) failRender("dictsort needs a mapping");
    CallArguments sort_arguments;
    return sortItems(getAttribute(input, "items", budget).asFunction().call(CallArguments{}), sort_arguments, budget);
  }
  if (name == "selectattr" || name == "rejectattr" || name == "select" || name == "reject") {
    return selectItems(name, input, arguments, budget);
  }
  if (name == "map") return mapItems(input, arguments, budget);
  if (name == "sort") return sortItems(input, arguments, budget);

  // The rest work on the items of a sequence.
  if (input.isNamespace() || input.isFunction() || input.isNumber() || input.isNone()) {
    failRender("'" + input.typeName() + "' object is not iterable");
  }
  std::vector<Value> items = iterateValue(input);
  budget.charge(items.size());
  if (name == "list") return Value::list(std::move(items));
  if (name == "first") return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
  if (name == "last") return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
  if (name == "reverse") {
    std::reverse(items.begin(), items.end());
    if (input.isString()) {
      std::string reversed;
      for (const Value& character : items) reversed += character.asString();
      return Value::string(std::move(reversed));
    }
    return Value::list(std::move(items));
  }
  if (name == "join") {
    const Value* separator = findArgument(arguments, 0, "d");
    const Value* attribute = findArgument(arguments, 1, "attribute");
    const std::string glue = separator != nullptr ? textOf(*separator) : "";
    std::string joined;
    for (size_t i = 0; i < items.size(); ++i) {
      if (i != 0) joined += glue;
      const Value item = attribute != nullptr && attribute->isString()
                             ? lookupAttributePath(items[i], attribute->asString(), budget)
                             : items[i];
      joined += textOf(item);
      RenderBudget::checkStringSize(joined.size());
    }
    return Value::string(std::move(joined));
  }
  if (name == "unique") {
    std::vector<Value> unique;
    for (const Value& item : items) {
      bool seen = false;
      for (const Value& kept : unique) seen = seen || kept.equals(item);
      budget.charge(unique.size());
      if (!seen) unique.push_back(item);
    }
    return Value::list(std::move(unique));
  }
  if (name == "min" || name == "max") {
    if (items.empty()) return Value::undefined("No aggregated item, sequence was empty.");
    Value best = items[0];
    for (const Value& item : items) {
      if (compareValues(name == "min" ? "<" : ">", item, best)) best = item;
    }
    return best;
  }
  if (name == "sum") {
    Value total = Value::integer(0);
    for (const Value& item : items) total = binaryArithmetic("+", total, item, budget);
    return total;
  }
  failRender("no filter named '" + std::string(name) + "'");
}

}  // namespace unicorn::jinja
