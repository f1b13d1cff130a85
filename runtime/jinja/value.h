// The dynamic value a template computes with: jinja2's view of Python objects,
// reduced to what chat templates use. Lists and maps are immutable once built
// (transformers renders in jinja2's ImmutableSandboxedEnvironment) and shared by
// pointer; the one mutable container is namespace(), which `set ns.x = ...`
// writes to.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

namespace unicorn::jinja {

class Value;

// Containers nested deeper than this are refused: printing, comparing and
// freeing them recurses, and a hostile template could otherwise build a chain
// deep enough to overflow the stack.
inline constexpr int kMaxValueNesting = 256;

struct ValueList;
class ValueMap;
struct CallArguments;
struct ValueFunction;

// jinja2's default Undefined: prints as "", is false, iterates as empty; using it
// in arithmetic or looking inside it is an error naming what was missing.
struct UndefinedValue {
  std::string description;  // e.g. "'foo' is undefined"
};

struct NamespaceTag {};

class Value {
 public:
  enum class Kind { kUndefined, kNone, kBool, kInt, kFloat, kString, kList, kMap, kNamespace, kFunction };

  Value() : data_(UndefinedValue{}) {}
  static Value undefined(std::string description) { return Value(UndefinedValue{std::move(description)}); }
  static Value none() { return Value(nullptr); }
  static Value boolean(bool b) { return Value(b); }
  static Value integer(int64_t i) { return Value(i); }
  static Value floating(double d) { return Value(d); }
  static Value string(std::string s) { return Value(std::make_shared<const std::string>(std::move(s))); }
  // Fails (unicorn::Error) when the items nest deeper than kMaxValueNesting.
  static Value list(std::vector<Value> items, bool is_tuple = false);
  static Value map(ValueMap map);
  static Value newNamespace(ValueMap initial);
  static Value function(std::string name, std::function<Value(const CallArguments&)> call);

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool isUndefined() const { return kind() == Kind::kUndefined; }
  bool isNone() const { return kind() == Kind::kNone; }
  bool isBool() const { return kind() == Kind::kBool; }
  bool isInt() const { return kind() == Kind::kInt; }
  bool isFloat() const { return kind() == Kind::kFloat; }
  // Python's bool is an int: True + 1 == 2, True == 1.
  bool isIntegral() const { return isInt() || isBool(); }
  bool isNumber() const { return isIntegral() || isFloat(); }
  bool isString() const { return kind() == Kind::kString; }
  bool isList() const { return kind() == Kind::kList; }
  bool isMap() const { return kind() == Kind::kMap; }
  bool isNamespace() const { return kind() == Kind::kNamespace; }
  bool isFunction() const { return kind() == Kind::kFunction; }

  bool asBool() const { return std::get<bool>(data_); }
  int64_t asInt() const { return isBool() ? (asBool() ? 1 : 0) : std::get<int64_t>(data_); }
  double asDouble() const { return isFloat() ? std::get<double>(data_) : static_cast<double>(asInt()); }
  const std::string& asString() const { return *std::get<std::shared_ptr<const std::string>>(data_); }
  const ValueList& asList() const { return *std::get<std::shared_ptr<const ValueList>>(data_); }
  const ValueMap& asMap() const { return *std::get<std::shared_ptr<const ValueMap>>(data_); }
  ValueMap& namespaceMap() const { return *std::get<std::shared_ptr<ValueMap>>(data_); }
  const ValueFunction& asFunction() const { return *std::get<std::shared_ptr<const ValueFunction>>(data_); }
  const std::string& undefinedDescription() const { return std::get<UndefinedValue>(data_).description; }

  // How deep lists/maps nest inside this value (0 for scalars).
  int nesting() const;

  // Python truthiness (Undefined is false).
  bool truthy() const;
  // str(value) as jinja2 prints it: None, True, 1.5, ['a', 1], {'k': 'v'}.
  std::string toDisplayString() const;
  // repr(value) as Python writes it inside a printed container.
  std::string toRepr() const;
  // Python ==, with 1 == 1.0 == True.
  bool equals(const Value& other) const;
  // Python's type name, for error messages ("'int' object is not iterable").
  std::string typeName() const;

 private:
  using Data = std::variant<UndefinedValue, std::nullptr_t, bool, int64_t, double, std::shared_ptr<const std::string>,
                            std::shared_ptr<const ValueList>, std::shared_ptr<const ValueMap>,
                            std::shared_ptr<ValueMap>, std::shared_ptr<const ValueFunction>>;
  template <typename T>
  explicit Value(T data) : data_(std::move(data)) {}
  Value(std::shared_ptr<ValueMap> ns, NamespaceTag) : data_(std::move(ns)) {}

  Data data_;
};

// The containers are defined after Value because they hold Values.
struct ValueList {
  std::vector<Value> items;
  bool is_tuple = false;  // only changes how it prints: (1, 2) instead of [1, 2]
  int nesting = 1;
};

// A dict with string keys that keeps insertion order, as Python's dict does.
class ValueMap {
 public:
  const Value* find(std::string_view key) const;
  void set(std::string key, Value value);
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  int nesting() const { return nesting_; }

 private:
  std::vector<std::pair<std::string, Value>> entries_;
  std::unordered_map<std::string, size_t> index_;
  int nesting_ = 1;
};

// Positional and keyword arguments of a call, in source order.
struct CallArguments {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keyword;
};

// A callable: a global (range, namespace, raise_exception) or a method bound
// to its object (message.content.strip).
struct ValueFunction {
  std::string name;
  std::function<Value(const CallArguments&)> call;
};


// Python's repr() of a float: the shortest digits that read back to the same
// double, in exponent form below 1e-4 or from 1e16 on ("1e+20", "0.1", "1.0").
std::string formatPythonFloat(double value);

// Builds a Value from JSON (nlohmann::json or ordered_json): objects become
// maps in the JSON object's iteration order, null becomes None. Fails when the
// JSON nests deeper than kMaxValueNesting.
template <typename Json>
Value valueFromJson(const Json& json, int depth = 0);

}  // namespace unicorn::jinja

#include "runtime/jinja/value_from_json.h"
