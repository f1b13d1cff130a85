// valueFromJson, a template so it serves both nlohmann::json (keys sorted) and
// nlohmann::ordered_json (keys in document order, which is what Python's
// json.load gives transformers). Included from value.h.
#pragma once

#include "runtime/error.h"
#include "runtime/jinja/value.h"

namespace unicorn::jinja {

template <typename Json>
Value valueFromJson(const Json& json, int depth) {
  if (depth > kMaxValueNesting) {
    failInvalidInput("chat template: context nests deeper than " + std::to_string(kMaxValueNesting) + " levels");
  }
  if (json.is_null()) return Value::none();
  if (json.is_boolean()) return Value::boolean(json.template get<bool>());
  if (json.is_number_integer()) {
    if (json.is_number_unsigned() && json.template get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      return Value::floating(json.template get<double>());
    }
    return Value::integer(json.template get<int64_t>());
  }
  if (json.is_number()) return Value::floating(json.template get<double>());
  if (json.is_string()) return Value::string(json.template get<std::string>());
  if (json.is_array()) {
    std::vector<Value> items;
    items.reserve(json.size());
    for (const auto& item : json) items.push_back(valueFromJson(item, depth + 1));
    return Value::list(std::move(items));
  }
  if (json.is_object()) {
    ValueMap map;
    for (auto it = json.begin(); it != json.end(); ++it) map.set(it.key(), valueFromJson(it.value(), depth + 1));
    return Value::map(std::move(map));
  }
  // Binary and discarded JSON values have no Python counterpart.
  failInvalidInput("chat template: context holds a JSON value of unsupported type");
}

}  // namespace unicorn::jinja
