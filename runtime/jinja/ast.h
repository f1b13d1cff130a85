// The parsed form of a template: a tree of statements (text, output, if, for,
// set, ...) over expressions. Built once by the parser, read-only afterwards,
// so one parsed template renders any number of times.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "runtime/jinja/value.h"

namespace unicorn::jinja::ast {

struct Expression;
using ExpressionPtr = std::unique_ptr<Expression>;

struct Expression {
  enum class Kind {
    kLiteral,      // literal
    kName,         // name
    kList,         // operands = items
    kTuple,        // operands = items
    kDict,         // operands = key0, value0, key1, value1, ...
    kAttribute,    // operands[0].name
    kSubscript,    // operands[0][operands[1]]
    kSlice,        // operands[0][operands[1]:operands[2]:operands[3]], each bound may be null
    kCall,         // operands[0](operands[1..], keyword_arguments)
    kFilter,       // operands[0] | name(operands[1..], keyword_arguments)
    kTest,         // operands[0] is [not] name(operands[1..])
    kUnary,        // name is "-", "+" or "not"; operands[0]
    kBinary,       // name is the operator ("+", "~", "and", "in", "not in", ...); operands[0], operands[1]
    kCompare,      // operands[0] compare_ops[0] operands[1] compare_ops[1] ... (Python chaining)
    kConditional,  // operands[0] if operands[1] else operands[2] (operands[2] may be null)
  };

  Kind kind;
  int line = 0;
  std::string name;
  Value literal;
  std::vector<ExpressionPtr> operands;
  std::vector<std::pair<std::string, ExpressionPtr>> keyword_arguments;
  std::vector<std::string> compare_ops;
  bool negated = false;  // kTest: "is not"
  int depth = 1;         // height of this subtree; the parser bounds it
};

struct Statement;
using StatementPtr = std::unique_ptr<Statement>;
using Body = std::vector<StatementPtr>;

// Where `set` and `for` store values: plain names (several for unpacking,
// {% for key, value in ... %}) or one namespace attribute (ns.attr).
struct AssignTarget {
  std::vector<std::string> names;
  std::string namespace_attribute;  // non-empty: names[0] is the namespace
  bool unpack = false;              // names came as a tuple, even a 1-tuple
};

struct IfBranch {
  ExpressionPtr condition;
  Body body;
};

struct MacroParameter {
  std::string name;
  ExpressionPtr default_value;  // may be null
};

struct Statement {
  enum class Kind {
    kText,      // text
    kOutput,    // {{ expression }}
    kIf,        // branches, else_body
    kFor,       // target in expression [if condition]: body, else_body
    kSet,       // target = expression, or {% set target %}body{% endset %}
    kBreak,
    kContinue,
    kMacro,     // name(parameters): body
    kSequence,  // body (e.g. transformers' {% generation %} ... {% endgeneration %})
  };

  Kind kind;
  int line = 0;
  std::string text;
  ExpressionPtr expression;
  ExpressionPtr condition;
  std::vector<IfBranch> branches;
  AssignTarget target;
  Body body;
  Body else_body;
  std::string name;
  std::vector<MacroParameter> parameters;
};

struct Program {
  Body body;
};

}  // namespace unicorn::jinja::ast
