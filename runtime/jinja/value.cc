#include "runtime/jinja/value.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "runtime/error.h"
#include "runtime/jinja/unicode_text.h"

namespace unicorn::jinja {

namespace {

void checkNesting(int nesting) {
  if (nesting > kMaxValueNesting) {
    failInvalidInput("chat template: a value nests deeper than " + std::to_string(kMaxValueNesting) + " levels");
  }
}

std::string reprString(const std::string& text) {
  const bool has_single = text.find('\'') != std::string::npos;
  const bool has_double = text.find('"') != std::string::npos;
  const char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, quote);
  for (char32_t cp : decodeUtf8(text)) {
    if (cp == '\\') {
      out += "\\\\";
    } else if (cp == static_cast<char32_t>(quote)) {
      out += '\\';
      out += quote;
    } else if (cp == '\n') {
      out += "\\n";
    } else if (cp == '\r') {
      out += "\\r";
    } else if (cp == '\t') {
      out += "\\t";
    } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0xA0)) {
      char buffer[8];
      std::snprintf(buffer, sizeof(buffer), "\\x%02x", static_cast<unsigned>(cp));
      out += buffer;
    } else {
      appendUtf8(out, cp);
    }
  }
  out += quote;
  return out;
}

std::string reprMapBody(const ValueMap& map) {
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : map.entries()) {
    if (!first) out += ", ";
    first = false;
    out += reprString(key) + ": " + value.toRepr();
  }
  return out + "}";
}

}  // namespace

const Value* ValueMap::find(std::string_view key) const {
  const auto it = index_.find(std::string(key));
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

void ValueMap::set(std::string key, Value value) {
  nesting_ = std::max(nesting_, value.nesting() + 1);
  checkNesting(nesting_);
  const auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
}

Value Value::list(std::vector<Value> items, bool is_tuple) {
  auto list = std::make_shared<ValueList>();
  for (const Value& item : items) list->nesting = std::max(list->nesting, item.nesting() + 1);
  checkNesting(list->nesting);
  list->items = std::move(items);
  list->is_tuple = is_tuple;
  return Value(std::shared_ptr<const ValueList>(std::move(list)));
}

Value Value::map(ValueMap map) { return Value(std::make_shared<const ValueMap>(std::move(map))); }

Value Value::newNamespace(ValueMap initial) {
  return Value(std::make_shared<ValueMap>(std::move(initial)), NamespaceTag{});
}

Value Value::function(std::string name, std::function<Value(const CallArguments&)> call) {
  return Value(std::make_shared<const ValueFunction>(ValueFunction{std::move(name), std::move(call)}));
}

int Value::nesting() const {
  switch (kind()) {
    case Kind::kList: return asList().nesting;
    case Kind::kMap: return asMap().nesting();
    // A namespace can change after it is stored, so it cannot promise a depth;
    // counting it as a leaf is safe because assigning into it re-checks.
    default: return 0;
  }
}

bool Value::truthy() const {
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return false;
    case Kind::kBool: return asBool();
    case Kind::kInt: return asInt() != 0;
    case Kind::kFloat: return asDouble() != 0.0;
    case Kind::kString: return !asString().empty();
    case Kind::kList: return !asList().items.empty();
    case Kind::kMap: return asMap().size() != 0;
    case Kind::kNamespace:
    case Kind::kFunction: return true;
  }
  return false;
}

std::string Value::toDisplayString() const {
  switch (kind()) {
    case Kind::kUndefined: return "";
    case Kind::kString: return asString();
    default: return toRepr();
  }
}

std::string Value::toRepr() const {
  switch (kind()) {
    case Kind::kUndefined: return "";
    case Kind::kNone: return "None";
    case Kind::kBool: return asBool() ? "True" : "False";
    case Kind::kInt: return std::to_string(asInt());
    case Kind::kFloat: return formatPythonFloat(asDouble());
    case Kind::kString: return reprString(asString());
    case Kind::kList: {
      const ValueList& list = asList();
      std::string out = list.is_tuple ? "(" : "[";
      for (size_t i = 0; i < list.items.size(); ++i) {
        if (i != 0) out += ", ";
        out += list.items[i].toRepr();
      }
      if (list.is_tuple && list.items.size() == 1) out += ",";
      return out + (list.is_tuple ? ")" : "]");
    }
    case Kind::kMap: return reprMapBody(asMap());
    case Kind::kNamespace: return "<Namespace " + reprMapBody(namespaceMap()) + ">";
    case Kind::kFunction: return "<function " + asFunction().name + ">";
  }
  return "";
}

bool Value::equals(const Value& other) const {
  if (isNumber() && other.isNumber()) {
    if (isIntegral() && other.isIntegral()) return asInt() == other.asInt();
    return asDouble() == other.asDouble();
  }
  if (kind() != other.kind()) return false;
  switch (kind()) {
    case Kind::kUndefined:
    case Kind::kNone: return true;
    case Kind::kString: return asString() == other.asString();
    case Kind::kList: {
      const auto& a = asList().items;
      const auto& b = other.asList().items;
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i].equals(b[i])) return false;
      }
      return true;
    }
    case Kind::kMap: {
      const ValueMap& a = asMap();
      const ValueMap& b = other.asMap();
      if (a.size() != b.size()) return false;
      for (const auto& [key, value] : a.entries()) {
        const Value* theirs = b.find(key);
        if (theirs == nullptr || !value.equals(*theirs)) return false;
      }
      return true;
    }
    case Kind::kNamespace: return &namespaceMap() == &other.namespaceMap();
    case Kind::kFunction: return &asFunction() == &other.asFunction();
    default: return false;
  }
}

std::string Value::typeName() const {
  switch (kind()) {
    case Kind::kUndefined: return "Undefined";
    case Kind::kNone: return "NoneType";
    case Kind::kBool: return "bool";
    case Kind::kInt: return "int";
    case Kind::kFloat: return "float";
    case Kind::kString: return "str";
    case Kind::kList: return asList().is_tuple ? "tuple" : "list";
    case Kind::kMap: return "dict";
    case Kind::kNamespace: return "Namespace";
    case Kind::kFunction: return "function";
  }
  return "object";
}

std::string formatPythonFloat(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  if (value == 0.0) return std::signbit(value) ? "-0.0" : "0.0";
  // Shortest round-tripping digits, found the way repr() defines them.
  char buffer[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buffer, sizeof(buffer), "%.*e", precision - 1, value);
    if (std::strtod(buffer, nullptr) == value) break;
  }
  const std::string scientific = buffer;
  const size_t e_pos = scientific.find('e');
  std::string digits;
  bool negative = false;
  for (size_t i = 0; i < e_pos; ++i) {
    if (scientific[i] == '-') negative = true;
    else if (scientific[i] != '.') digits += scientific[i];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int exponent = std::atoi(scientific.c_str() + e_pos + 1);

  std::string out = negative ? "-" : "";
  if (exponent >= -4 && exponent < 16) {
    if (exponent >= 0) {
      const size_t int_len = static_cast<size_t>(exponent) + 1;
      if (digits.size() <= int_len) {
        out += digits + std::string(int_len - digits.size(), '0') + ".0";
      } else {
        out += digits.substr(0, int_len) + "." + digits.substr(int_len);
      }
    } else {
      out += "0." + std::string(static_cast<size_t>(-exponent - 1), '0') + digits;
    }
    return out;
  }
  out += digits.substr(0, 1);
  if (digits.size() > 1) out += "." + digits.substr(1);
  char exp_buffer[16];
  std::snprintf(exp_buffer, sizeof(exp_buffer), "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
  return out + exp_buffer;
}

}  // namespace unicorn::jinja
