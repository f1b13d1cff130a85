#include "runtime/jinja/value_arithmetic.h"

#include <cmath>
#include <limits>

namespace unicorn::jinja {

namespace {

void failIfUndefined(const Value& value) {
  if (value.isUndefined()) failRender(value.undefinedDescription());
}

[[noreturn]] void failUnsupported(const std::string& op, const Value& left, const Value& right) {
  failRender("unsupported operand type(s) for " + op + ": '" + left.typeName() + "' and '" + right.typeName() + "'");
}

template <typename Operation>
Value checkedInteger(Operation operation, int64_t a, int64_t b) {
  int64_t result = 0;
  if (operation(a, b, &result)) failRender("integer overflow");
  return Value::integer(result);
}
bool addOverflows(int64_t a, int64_t b, int64_t* r) { return __builtin_add_overflow(a, b, r); }
bool subtractOverflows(int64_t a, int64_t b, int64_t* r) { return __builtin_sub_overflow(a, b, r); }
bool multiplyOverflows(int64_t a, int64_t b, int64_t* r) { return __builtin_mul_overflow(a, b, r); }

Value repeat(const Value& sequence, int64_t count, RenderBudget& budget) {
  if (count < 0) count = 0;
  if (sequence.isString()) {
    const std::string& text = sequence.asString();
    if (!text.empty() && static_cast<uint64_t>(count) > RenderBudget::kMaxStringBytes / text.size()) {
      RenderBudget::checkStringSize(RenderBudget::kMaxStringBytes + 1);
    }
    std::string out;
    out.reserve(text.size() * static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) out += text;
    return Value::string(std::move(out));
  }
  const auto& items = sequence.asList().items;
  if (!items.empty()) budget.charge(items.size() * static_cast<size_t>(std::min<int64_t>(count, RenderBudget::kMaxSteps)));
  std::vector<Value> out;
  for (int64_t i = 0; i < count && !items.empty(); ++i) out.insert(out.end(), items.begin(), items.end());
  return Value::list(std::move(out), sequence.asList().is_tuple);
}

double pythonFloatModulo(double a, double b) {
  double result = std::fmod(a, b);
  if (result != 0.0 && ((result < 0) != (b < 0))) result += b;
  return result;
}

}  // namespace

Value unaryArithmetic(const std::string& op, const Value& operand) {
  failIfUndefined(operand);
  if (!operand.isNumber()) failRender("bad operand type for unary " + op + ": '" + operand.typeName() + "'");
  if (op == "+") return operand.isFloat() ? operand : Value::integer(operand.asInt());
  if (operand.isFloat()) return Value::floating(-operand.asDouble());
  if (operand.asInt() == std::numeric_limits<int64_t>::min()) failRender("integer overflow");
  return Value::integer(-operand.asInt());
}

Value binaryArithmetic(const std::string& op, const Value& left, const Value& right, RenderBudget& budget) {
  if (op == "~") {
    // jinja2 converts both sides with str(); Undefined becomes "".
    std::string joined = left.toDisplayString();
    const std::string right_text = right.toDisplayString();
    RenderBudget::checkStringSize(joined.size() + right_text.size());
    joined += right_text;
    return Value::string(std::move(joined));
  }
  failIfUndefined(left);
  failIfUndefined(right);
  const bool both_integral = left.isIntegral() && right.isIntegral();
  const bool both_numbers = left.isNumber() && right.isNumber();

  if (op == "+") {
    if (both_integral) return checkedInteger(addOverflows, left.asInt(), right.asInt());
    if (both_numbers) return Value::floating(left.asDouble() + right.asDouble());
    if (left.isString() && right.isString()) {
      RenderBudget::checkStringSize(left.asString().size() + right.asString().size());
      return Value::string(left.asString() + right.asString());
    }
    if (left.isList() && right.isList() && left.asList().is_tuple == right.asList().is_tuple) {
      std::vector<Value> items = left.asList().items;
      budget.charge(items.size() + right.asList().items.size());
      items.insert(items.end(), right.asList().items.begin(), right.asList().items.end());
      return Value::list(std::move(items), left.asList().is_tuple);
    }
    failUnsupported(op, left, right);
  }
  if (op == "-") {
    if (both_integral) return checkedInteger(subtractOverflows, left.asInt(), right.asInt());
    if (both_numbers) return Value::floating(left.asDouble() - right.asDouble());
    failUnsupported(op, left, right);
  }
  if (op == "*") {
    if (both_integral) return checkedInteger(multiplyOverflows, left.asInt(), right.asInt());
    if (both_numbers) return Value::floating(left.asDouble() * right.asDouble());
    if ((left.isString() || left.isList()) && right.isIntegral()) return repeat(left, right.asInt(), budget);
    if (left.isIntegral() && (right.isString() || right.isList())) return repeat(right, left.asInt(), budget);
    failUnsupported(op, left, right);
  }
  if (!both_numbers) failUnsupported(op, left, right);
  if (op == "/") {
    if (right.asDouble() == 0.0) failRender("division by zero");
    return Value::floating(left.asDouble() / right.asDouble());
  }
  if (op == "//") {
    if (right.asDouble() == 0.0) failRender("integer division or modulo by zero");
    if (both_integral) {
      const int64_t a = left.asInt();
      const int64_t b = right.asInt();
      if (a == std::numeric_limits<int64_t>::min() && b == -1) failRender("integer overflow");
      int64_t quotient = a / b;
      if ((a % b != 0) && ((a < 0) != (b < 0))) --quotient;
      return Value::integer(quotient);
    }
    return Value::floating(std::floor(left.asDouble() / right.asDouble()));
  }
  if (op == "%") {
    if (right.asDouble() == 0.0) failRender("integer division or modulo by zero");
    if (both_integral) {
      const int64_t a = left.asInt();
      const int64_t b = right.asInt();
      if (b == -1) return Value::integer(0);
      int64_t remainder = a % b;
      if (remainder != 0 && ((remainder < 0) != (b < 0))) remainder += b;
      return Value::integer(remainder);
    }
    return Value::floating(pythonFloatModulo(left.asDouble(), right.asDouble()));
  }
  if (op == "**") {
    if (both_integral && right.asInt() >= 0) {
      int64_t base = left.asInt();
      int64_t exponent = right.asInt();
      int64_t power = 1;
      while (exponent > 0) {
        if (exponent & 1) {
          if (__builtin_mul_overflow(power, base, &power)) failRender("integer overflow");
        }
        exponent >>= 1;
        if (exponent > 0 && __builtin_mul_overflow(base, base, &base)) failRender("integer overflow");
      }
      return Value::integer(power);
    }
    if (left.asDouble() == 0.0 && right.asDouble() < 0) failRender("0.0 cannot be raised to a negative power");
    return Value::floating(std::pow(left.asDouble(), right.asDouble()));
  }
  failRender("unknown operator " + op);
}

namespace {

// -1, 0 or 1 for Python's ordering comparisons; fails where Python raises TypeError.
int orderValues(const Value& left, const Value& right, const std::string& op) {
  if (left.isNumber() && right.isNumber()) {
    if (left.isIntegral() && right.isIntegral()) return left.asInt() < right.asInt() ? -1 : left.asInt() > right.asInt();
    const double a = left.asDouble();
    const double b = right.asDouble();
    return a < b ? -1 : (a > b ? 1 : 0);
  }
  if (left.isString() && right.isString()) {
    // Byte order of UTF-8 equals code point order, which is what Python compares.
    const int c = left.asString().compare(right.asString());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (left.isList() && right.isList()) {
    const auto& a = left.asList().items;
    const auto& b = right.asList().items;
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      if (!a[i].equals(b[i])) return orderValues(a[i], b[i], op);
    }
    return a.size() < b.size() ? -1 : (a.size() > b.size() ? 1 : 0);
  }
  failIfUndefined(left);
  failIfUndefined(right);
  failRender("'" + op + "' not supported between instances of '" + left.typeName() + "' and '" + right.typeName() + "'");
}

bool contains(const Value& container, const Value& item) {
  if (container.isString()) {
    if (!item.isString()) failRender("'in <string>' requires string as left operand, not " + item.typeName());
    return container.asString().find(item.asString()) != std::string::npos;
  }
  if (container.isMap()) return item.isString() && container.asMap().find(item.asString()) != nullptr;
  if (container.isNamespace()) failRender("argument of type 'Namespace' is not iterable");
  for (const Value& element : iterateValue(container)) {
    if (element.equals(item)) return true;
  }
  return false;
}

}  // namespace

bool compareValues(const std::string& op, const Value& left, const Value& right) {
  if (op == "==") return left.equals(right);
  if (op == "!=") return !left.equals(right);
  if (op == "in") return contains(right, left);
  if (op == "not in") return !contains(right, left);
  const int order = orderValues(left, right, op);
  if (op == "<") return order < 0;
  if (op == ">") return order > 0;
  if (op == "<=") return order <= 0;
  return order >= 0;
}

}  // namespace unicorn::jinja
