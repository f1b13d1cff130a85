#include "runtime/jinja/interpreter.h"

#include <cmath>
#include <memory>
#include <unordered_map>

#include "runtime/error.h"
#include "runtime/jinja/builtins.h"
#include "runtime/jinja/value_arithmetic.h"

namespace unicorn::jinja {

namespace {

using ast::Expression;
using ast::Statement;

// Macro calls nest at most this deep (each one recurses through the
// interpreter, and a macro may call itself).
constexpr int kMaxMacroCallDepth = 10;
constexpr size_t kStepsPerIteration = 32;

using Frame = std::unordered_map<std::string, Value>;

class Interpreter {
 public:
  Interpreter(const Value& variables) : globals_(std::make_shared<Frame>()), root_(std::make_shared<Frame>()) {
    const ValueMap globals = makeGlobals(budget_);
    for (const auto& [name, value] : globals.entries()) (*globals_)[name] = value;
    for (const auto& [name, value] : variables.asMap().entries()) (*root_)[name] = value;
    frames_ = {globals_, root_};
  }

  std::string run(const ast::Program& program) {
    std::string output;
    output_ = &output;
    try {
      executeBody(program.body);
    } catch (const RenderFailure& failure) {
      failInvalidInput("chat template: line " + std::to_string(line_) + ": " + failure.message);
    }
    return output;
  }

 private:
  enum class Flow { kNormal, kBreak, kContinue };

  Flow executeBody(const ast::Body& body) {
    for (const auto& statement : body) {
      const Flow flow = execute(*statement);
      if (flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

  void emit(std::string_view text) {
    RenderBudget::checkStringSize(output_->size() + text.size());
    output_->append(text);
  }

  Flow execute(const Statement& statement) {
    line_ = statement.line;
    budget_.charge(1);
    switch (statement.kind) {
      case Statement::Kind::kText:
        emit(statement.text);
        return Flow::kNormal;
      case Statement::Kind::kOutput: {
        const Value value = evaluate(*statement.expression);
        if (value.isString()) {
          emit(value.asString());
        } else {
          emit(value.toDisplayString());
        }
        return Flow::kNormal;
      }
      case Statement::Kind::kIf:
        for (const auto& branch : statement.branches) {
          if (evaluate(*branch.condition).truthy()) return executeBody(branch.body);
        }
        return executeBody(statement.else_body);
      case Statement::Kind::kFor:
        executeFor(statement);
        return Flow::kNormal;
      case Statement::Kind::kSet:
        executeSet(statement);
        return Flow::kNormal;
      case Statement::Kind::kBreak:
        return Flow::kBreak;
      case Statement::Kind::kContinue:
        return Flow::kContinue;
      case Statement::Kind::kMacro:
        defineMacro(statement);
        return Flow::kNormal;
      case Statement::Kind::kSequence:
        return executeBody(statement.body);
    }
    return Flow::kNormal;
  }

  // Renders `body` into a string instead of the output (block set, macro call).
  std::string capture(const ast::Body& body) {
    std::string captured;
    std::string* saved = output_;
    output_ = &captured;
    try {
      executeBody(body);
    } catch (...) {
      output_ = saved;
      throw;
    }
    output_ = saved;
    return captured;
  }

  void bindTarget(const ast::AssignTarget& target, const Value& value, Frame& frame) {
    if (!target.unpack) {
      frame[target.names[0]] = value;
      return;
    }
    if (!value.isList() && !value.isString()) failRender("cannot unpack non-iterable " + value.typeName() + " object");
    const std::vector<Value> items = iterateValue(value);
    if (items.size() != target.names.size()) {
      failRender("expected " + std::to_string(target.names.size()) + " values to unpack, got " +
                 std::to_string(items.size()));
    }
    for (size_t i = 0; i < items.size(); ++i) frame[target.names[i]] = items[i];
  }

  void executeSet(const Statement& statement) {
    const Value value = statement.expression ? evaluate(*statement.expression) : Value::string(capture(statement.body));
    const ast::AssignTarget& target = statement.target;
    if (!target.namespace_attribute.empty()) {
      const Value holder = lookup(target.names[0]);
      if (!holder.isNamespace()) failRender("cannot assign attribute on non-namespace object");
      holder.namespaceMap().set(target.namespace_attribute, value);
      return;
    }
    bindTarget(target, value, *frames_.back());
  }

  Value makeLoopObject(const std::vector<Value>& items, size_t index) {
    const auto length = static_cast<int64_t>(items.size());
    const auto i = static_cast<int64_t>(index);
    ValueMap loop;
    loop.set("index", Value::integer(i + 1));
    loop.set("index0", Value::integer(i));
    loop.set("revindex", Value::integer(length - i));
    loop.set("revindex0", Value::integer(length - i - 1));
    loop.set("first", Value::boolean(i == 0));
    loop.set("last", Value::boolean(i == length - 1));
    loop.set("length", Value::integer(length));
    loop.set("depth", Value::integer(1));
    loop.set("depth0", Value::integer(0));
    loop.set("previtem", index > 0 ? items[index - 1] : Value::undefined("there is no previous item"));
    loop.set("nextitem", index + 1 < items.size() ? items[index + 1] : Value::undefined("there is no next item"));
    loop.set("cycle", Value::function("cycle", [i](const CallArguments& arguments) {
      if (arguments.positional.empty()) failRender("no items for cycling given");
      return arguments.positional[static_cast<size_t>(i) % arguments.positional.size()];
    }));
    return Value::map(std::move(loop));
  }

  void executeFor(const Statement& statement) {
    std::vector<Value> items = iterateValue(evaluate(*statement.expression));
    budget_.charge(items.size());
    auto frame = std::make_shared<Frame>();
    frames_.push_back(frame);
    struct PopFrame {
      std::vector<std::shared_ptr<Frame>>& frames;
      ~PopFrame() { frames.pop_back(); }
    } pop_frame{frames_};

    if (statement.condition) {
      // The `if` of a for loop filters before counting, so loop.index counts kept items.
      std::vector<Value> kept;
      for (const Value& item : items) {
        frame->clear();
        bindTarget(statement.target, item, *frame);
        if (evaluate(*statement.condition).truthy()) kept.push_back(item);
      }
      items = std::move(kept);
    }
    for (size_t index = 0; index < items.size(); ++index) {
      // An iteration costs about as much as a few dozen expression steps (scope
      // reset, loop object), so it is charged that way.
      budget_.charge(kStepsPerIteration);
      // jinja2 gives every iteration a fresh scope: a `set` in one iteration
      // is not visible in the next, nor after the loop.
      frame->clear();
      (*frame)["loop"] = makeLoopObject(items, index);
      bindTarget(statement.target, items[index], *frame);
      if (executeBody(statement.body) == Flow::kBreak) break;
    }
    if (items.empty()) {
      frame->clear();
      executeBody(statement.else_body);
    }
  }

  void defineMacro(const Statement& statement) {
    const Statement* macro = &statement;
    (*frames_.back())[statement.name] = Value::function(statement.name, [this, macro](const CallArguments& arguments) {
      return callMacro(*macro, arguments);
    });
  }

  Value callMacro(const Statement& macro, const CallArguments& arguments) {
    if (call_depth_ >= kMaxMacroCallDepth) {
      failRender("macro calls nest deeper than " + std::to_string(kMaxMacroCallDepth));
    }
    if (arguments.positional.size() > macro.parameters.size()) {
      failRender("macro '" + macro.name + "' takes not more than " + std::to_string(macro.parameters.size()) +
                 " argument(s)");
    }
    auto frame = std::make_shared<Frame>();
    // A macro sees the template's top-level names and its parameters, not the
    // caller's locals.
    std::vector<std::shared_ptr<Frame>> macro_frames = {globals_, root_, frame};
    for (size_t i = 0; i < macro.parameters.size(); ++i) {
      const ast::MacroParameter& parameter = macro.parameters[i];
      const Value* keyword = nullptr;
      for (const auto& [name, value] : arguments.keyword) {
        if (name == parameter.name) keyword = &value;
      }
      if (i < arguments.positional.size()) {
        (*frame)[parameter.name] = arguments.positional[i];
      } else if (keyword != nullptr) {
        (*frame)[parameter.name] = *keyword;
      } else if (parameter.default_value) {
        (*frame)[parameter.name] = evaluate(*parameter.default_value);
      } else {
        (*frame)[parameter.name] = Value::undefined("parameter '" + parameter.name + "' was not provided");
      }
    }
    for (const auto& [name, value] : arguments.keyword) {
      bool known = false;
      for (const auto& parameter : macro.parameters) known = known || parameter.name == name;
      if (!known) failRender("macro '" + macro.name + "' takes no keyword argument '" + name + "'");
    }
    std::swap(frames_, macro_frames);
    ++call_depth_;
    const int saved_line = line_;
    std::string rendered;
    try {
      rendered = capture(macro.body);
    } catch (...) {
      std::swap(frames_, macro_frames);
      --call_depth_;
      throw;
    }
    std::swap(frames_, macro_frames);
    --call_depth_;
    line_ = saved_line;
    return Value::string(std::move(rendered));
  }

  Value lookup(const std::string& name) const {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
      const auto found = (*it)->find(name);
      if (found != (*it)->end()) return found->second;
    }
    return Value::undefined("'" + name + "' is undefined");
  }

  static void failIfUndefined(const Value& value) {
    if (value.isUndefined()) failRender(value.undefinedDescription());
  }

  CallArguments evaluateArguments(const Expression& expression, size_t first_operand) {
    CallArguments arguments;
    for (size_t i = first_operand; i < expression.operands.size(); ++i) {
      arguments.positional.push_back(evaluate(*expression.operands[i]));
    }
    for (const auto& [name, value] : expression.keyword_arguments) {
      arguments.keyword.emplace_back(name, evaluate(*value));
    }
    return arguments;
  }

  Value evaluate(const Expression& expression) {
    budget_.charge(1);
    switch (expression.kind) {
      case Expression::Kind::kLiteral:
        return expression.literal;
      case Expression::Kind::kName:
        return lookup(expression.name);
      case Expression::Kind::kList:
      case Expression::Kind::kTuple: {
        std::vector<Value> items;
        items.reserve(expression.operands.size());
        for (const auto& operand : expression.operands) items.push_back(evaluate(*operand));
        return Value::list(std::move(items), expression.kind == Expression::Kind::kTuple);
      }
      case Expression::Kind::kDict: {
        ValueMap map;
        for (size_t i = 0; i + 1 < expression.operands.size(); i += 2) {
          const Value key = evaluate(*expression.operands[i]);
          if (!key.isString()) failRender("only string keys are supported in dict literals, got " + key.typeName());
          map.set(key.asString(), evaluate(*expression.operands[i + 1]));
        }
        return Value::map(std::move(map));
      }
      case Expression::Kind::kAttribute: {
        const Value object = evaluate(*expression.operands[0]);
        failIfUndefined(object);
        return getAttribute(object, expression.name, budget_);
      }
      case Expression::Kind::kSubscript: {
        const Value object = evaluate(*expression.operands[0]);
        failIfUndefined(object);
        return getItem(object, evaluate(*expression.operands[1]), budget_);
      }
      case Expression::Kind::kSlice: {
        const Value object = evaluate(*expression.operands[0]);
        failIfUndefined(object);
        Value bounds[3];
        for (int i = 0; i < 3; ++i) {
          bounds[i] = expression.operands[1 + i] ? evaluate(*expression.operands[1 + i]) : Value::none();
        }
        return getSlice(object, bounds[0], bounds[1], bounds[2]);
      }
      case Expression::Kind::kCall: {
        const Value callee = evaluate(*expression.operands[0]);
        failIfUndefined(callee);
        if (!callee.isFunction()) failRender("'" + callee.typeName() + "' object is not callable");
        const CallArguments arguments = evaluateArguments(expression, 1);
        return callee.asFunction().call(arguments);
      }
      case Expression::Kind::kFilter: {
        const Value input = evaluate(*expression.operands[0]);
        return applyFilter(expression.name, input, evaluateArguments(expression, 1), budget_);
      }
      case Expression::Kind::kTest: {
        const Value input = evaluate(*expression.operands[0]);
        const bool result = applyTest(expression.name, input, evaluateArguments(expression, 1));
        return Value::boolean(result != expression.negated);
      }
      case Expression::Kind::kUnary: {
        const Value operand = evaluate(*expression.operands[0]);
        if (expression.name == "not") return Value::boolean(!operand.truthy());
        return unaryArithmetic(expression.name, operand);
      }
      case Expression::Kind::kBinary:
        return evaluateBinary(expression);
      case Expression::Kind::kCompare: {
        Value left = evaluate(*expression.operands[0]);
        for (size_t i = 0; i < expression.compare_ops.size(); ++i) {
          Value right = evaluate(*expression.operands[i + 1]);
          if (!compareValues(expression.compare_ops[i], left, right)) return Value::boolean(false);
          left = std::move(right);
        }
        return Value::boolean(true);
      }
      case Expression::Kind::kConditional:
        if (evaluate(*expression.operands[1]).truthy()) return evaluate(*expression.operands[0]);
        if (expression.operands[2]) return evaluate(*expression.operands[2]);
        return Value::undefined("the inline if expression evaluated to false and no else section was defined");
    }
    return Value();
  }

  Value evaluateBinary(const Expression& expression) {
    const std::string& op = expression.name;
    Value left = evaluate(*expression.operands[0]);
    // Python's and/or return an operand, not a bool.
    if (op == "and") return left.truthy() ? evaluate(*expression.operands[1]) : left;
    if (op == "or") return left.truthy() ? left : evaluate(*expression.operands[1]);
    const Value right = evaluate(*expression.operands[1]);
    return binaryArithmetic(op, left, right, budget_);
  }

  std::shared_ptr<Frame> globals_;
  std::shared_ptr<Frame> root_;
  std::vector<std::shared_ptr<Frame>> frames_;
  RenderBudget budget_;
  std::string* output_ = nullptr;
  int line_ = 1;
  int call_depth_ = 0;
};

}  // namespace

std::string renderProgram(const ast::Program& program, const Value& variables) {
  if (!variables.isMap()) failInvalidInput("chat template: render variables must be a mapping");
  return Interpreter(variables).run(program);
}

}  // namespace unicorn::jinja
