#include "runtime/jinja/parser.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <initializer_list>

#include "runtime/error.h"
#include "runtime/jinja/builtins.h"
#include "runtime/jinja/lexer.h"

namespace unicorn::jinja {

namespace {

using ast::Expression;
using ast::ExpressionPtr;
using ast::Statement;
using ast::StatementPtr;

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : tokens_(std::move(tokens)) {}

  ast::Program parseProgram() {
    ast::Program program;
    std::string end_tag;
    program.body = parseBody({}, &end_tag);
    return program;
  }

 private:
  // Counts one level of nesting for as long as it lives.
  class NestingGuard {
   public:
    explicit NestingGuard(Parser& parser) : parser_(parser) {
      if (++parser_.nesting_ > kMaxTemplateNesting) {
        parser_.fail("template nests deeper than " + std::to_string(kMaxTemplateNesting) + " levels");
      }
    }
    ~NestingGuard() { --parser_.nesting_; }
    NestingGuard(const NestingGuard&) = delete;
    NestingGuard& operator=(const NestingGuard&) = delete;

   private:
    Parser& parser_;
  };

  [[noreturn]] void fail(const std::string& what) const {
    failInvalidInput("chat template: syntax error at line " + std::to_string(current().line) + ": " + what);
  }

  const Token& current() const { return tokens_[pos_]; }
  const Token& peek(size_t ahead = 1) const { return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)]; }
  void advance() {
    if (current().type != TokenType::kEnd) ++pos_;
  }

  bool atOperator(std::string_view op) const { return current().type == TokenType::kOperator && current().value == op; }
  bool atName(std::string_view name) const { return current().type == TokenType::kName && current().value == name; }

  void expectOperator(std::string_view op) {
    if (!atOperator(op)) fail("expected '" + std::string(op) + "', found " + describe(current()));
    advance();
  }
  void expectName(std::string_view name) {
    if (!atName(name)) fail("expected '" + std::string(name) + "', found " + describe(current()));
    advance();
  }
  std::string expectIdentifier() {
    if (current().type != TokenType::kName) fail("expected a name, found " + describe(current()));
    std::string name = current().value;
    advance();
    return name;
  }
  void expectBlockEnd() {
    if (current().type != TokenType::kBlockEnd) fail("expected end of tag '%}', found " + describe(current()));
    advance();
  }

  static std::string describe(const Token& token) {
    switch (token.type) {
      case TokenType::kEnd: return "end of template";
      case TokenType::kText: return "text";
      case TokenType::kBlockEnd: return "'%}'";
      case TokenType::kVariableEnd: return "'}}'";
      case TokenType::kString: return "a string";
      default: return "'" + token.value + "'";
    }
  }

  // Statements until `{% <one of end_tags> ...`; the tag name is consumed and
  // returned in *end_tag, the rest of that tag is left to the caller.
  ast::Body parseBody(std::initializer_list<std::string_view> end_tags, std::string* end_tag) {
    NestingGuard guard(*this);
    ast::Body body;
    while (true) {
      const Token& token = current();
      if (token.type == TokenType::kEnd) {
        if (end_tags.size() == 0) return body;
        std::string expected;
        for (std::string_view tag : end_tags) expected += (expected.empty() ? "'" : " or '") + std::string(tag) + "'";
        fail("unexpected end of template, expected " + expected);
      }
      if (token.type == TokenType::kText) {
        auto text = std::make_unique<Statement>();
        text->kind = Statement::Kind::kText;
        text->line = token.line;
        text->text = token.value;
        body.push_back(std::move(text));
        advance();
      } else if (token.type == TokenType::kVariableBegin) {
        advance();
        auto output = std::make_unique<Statement>();
        output->kind = Statement::Kind::kOutput;
        output->line = token.line;
        output->expression = parseTuple(/*allow_conditional=*/true);
        if (current().type != TokenType::kVariableEnd) fail("expected '}}', found " + describe(current()));
        advance();
        body.push_back(std::move(output));
      } else if (token.type == TokenType::kBlockBegin) {
        advance();
        if (current().type == TokenType::kName) {
          for (std::string_view tag : end_tags) {
            if (current().value == tag) {
              *end_tag = current().value;
              advance();
              return body;
            }
          }
        }
        body.push_back(parseStatement());
      } else {
        fail("unexpected " + describe(token));
      }
    }
  }

  StatementPtr parseStatement() {
    const int line = current().line;
    const std::string keyword = expectIdentifier();
    auto statement = std::make_unique<Statement>();
    statement->line = line;
    if (keyword == "if") {
      parseIf(*statement);
    } else if (keyword == "for") {
      parseFor(*statement);
    } else if (keyword == "set") {
      parseSet(*statement);
    } else if (keyword == "break" || keyword == "continue") {
      if (loop_depth_ == 0) fail("'" + keyword + "' outside of a loop");
      statement->kind = keyword == "break" ? Statement::Kind::kBreak : Statement::Kind::kContinue;
      expectBlockEnd();
    } else if (keyword == "macro") {
      parseMacro(*statement);
    } else if (keyword == "generation") {
      // transformers' AssistantTracker tag: renders its body unchanged.
      statement->kind = Statement::Kind::kSequence;
      expectBlockEnd();
      std::string end_tag;
      statement->body = parseBody({"endgeneration"}, &end_tag);
      expectBlockEnd();
    } else {
      pos_ -= 1;
      fail("unknown tag '" + keyword + "'");
    }
    return statement;
  }

  void parseIf(Statement& statement) {
    statement.kind = Statement::Kind::kIf;
    while (true) {
      ast::IfBranch branch;
      branch.condition = parseTuple(/*allow_conditional=*/true);
      expectBlockEnd();
      std::string end_tag;
      branch.body = parseBody({"elif", "else", "endif"}, &end_tag);
      statement.branches.push_back(std::move(branch));
      if (end_tag == "elif") continue;
      if (end_tag == "else") {
        expectBlockEnd();
        statement.else_body = parseBody({"endif"}, &end_tag);
      }
      expectBlockEnd();
      return;
    }
  }

  ast::AssignTarget parseAssignTarget(bool allow_namespace_attribute) {
    ast::AssignTarget target;
    const bool parenthesised = atOperator("(");
    if (parenthesised) advance();
    target.names.push_back(expectIdentifier());
    if (allow_namespace_attribute && !parenthesised && atOperator(".")) {
      advance();
      target.namespace_attribute = expectIdentifier();
      return target;
    }
    while (atOperator(",")) {
      target.unpack = true;
      advance();
      if (current().type != TokenType::kName) break;  // trailing comma
      target.names.push_back(expectIdentifier());
    }
    if (parenthesised) expectOperator(")");
    return target;
  }

  void parseFor(Statement& statement) {
    statement.kind = Statement::Kind::kFor;
    statement.target = parseAssignTarget(/*allow_namespace_attribute=*/false);
    expectName("in");
    // As in jinja2, the iterable takes no inline if: a trailing `if` filters items.
    statement.expression = parseTuple(/*allow_conditional=*/false);
    if (atName("if")) {
      advance();
      statement.condition = parseExpression(true);
    }
    if (atName("recursive")) fail("recursive loops are not supported");
    expectBlockEnd();
    ++loop_depth_;
    std::string end_tag;
    statement.body = parseBody({"else", "endfor"}, &end_tag);
    --loop_depth_;
    if (end_tag == "else") {
      expectBlockEnd();
      statement.else_body = parseBody({"endfor"}, &end_tag);
    }
    expectBlockEnd();
  }

  void parseSet(Statement& statement) {
    statement.kind = Statement::Kind::kSet;
    statement.target = parseAssignTarget(/*allow_namespace_attribute=*/true);
    if (atOperator("=")) {
      advance();
      statement.expression = parseTuple(/*allow_conditional=*/true);
      expectBlockEnd();
      return;
    }
    if (statement.target.unpack) fail("a block set assigns one name");
    expectBlockEnd();
    std::string end_tag;
    statement.body = parseBody({"endset"}, &end_tag);
    expectBlockEnd();
  }

  void parseMacro(Statement& statement) {
    statement.kind = Statement::Kind::kMacro;
    statement.name = expectIdentifier();
    expectOperator("(");
    while (!atOperator(")")) {
      ast::MacroParameter parameter;
      parameter.name = expectIdentifier();
      if (atOperator("=")) {
        advance();
        parameter.default_value = parseExpression(true);
      }
      statement.parameters.push_back(std::move(parameter));
      if (!atOperator(",")) break;
      advance();
    }
    expectOperator(")");
    expectBlockEnd();
    // A loop outside does not make break/continue valid inside the macro.
    const int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    std::string end_tag;
    statement.body = parseBody({"endmacro"}, &end_tag);
    loop_depth_ = saved_loop_depth;
    if (current().type == TokenType::kName) advance();  // {% endmacro name %}
    expectBlockEnd();
  }

  // Records the subtree height of a node whose operands are all in place.
  ExpressionPtr withDepth(ExpressionPtr node) {
    int depth = 0;
    for (const auto& operand : node->operands) {
      if (operand) depth = std::max(depth, operand->depth);
    }
    for (const auto& [keyword, value] : node->keyword_arguments) depth = std::max(depth, value->depth);
    node->depth = depth + 1;
    if (node->depth > kMaxExpressionDepth) {
      fail("expression nests deeper than " + std::to_string(kMaxExpressionDepth) + " levels");
    }
    return node;
  }

  ExpressionPtr makeExpression(Expression::Kind kind, int line) {
    auto expression = std::make_unique<Expression>();
    expression->kind = kind;
    expression->line = line;
    return expression;
  }

  // expression (',' expression)* — several become a tuple, as in {{ a, b }}.
  ExpressionPtr parseTuple(bool allow_conditional) {
    const int line = current().line;
    ExpressionPtr first = parseExpression(allow_conditional);
    if (!atOperator(",")) return first;
    auto tuple = makeExpression(Expression::Kind::kTuple, line);
    tuple->operands.push_back(std::move(first));
    while (atOperator(",")) {
      advance();
      if (current().type == TokenType::kBlockEnd || current().type == TokenType::kVariableEnd || atName("if")) break;
      tuple->operands.push_back(parseExpression(allow_conditional));
    }
    return withDepth(std::move(tuple));
  }

  ExpressionPtr parseExpression(bool allow_conditional) {
    NestingGuard guard(*this);
    return allow_conditional ? parseConditional() : parseOr();
  }

  ExpressionPtr parseConditional() {
    ExpressionPtr value = parseOr();
    while (atName("if")) {
      const int line = current().line;
      advance();
      auto conditional = makeExpression(Expression::Kind::kConditional, line);
      ExpressionPtr condition = parseOr();
      ExpressionPtr otherwise;
      if (atName("else")) {
        NestingGuard guard(*this);
        advance();
        otherwise = parseConditional();
      }
      conditional->operands.push_back(std::move(value));
      conditional->operands.push_back(std::move(condition));
      conditional->operands.push_back(std::move(otherwise));
      value = withDepth(std::move(conditional));
    }
    return value;
  }

  ExpressionPtr makeBinary(std::string op, ExpressionPtr left, ExpressionPtr right, int line) {
    auto binary = makeExpression(Expression::Kind::kBinary, line);
    binary->name = std::move(op);
    binary->operands.push_back(std::move(left));
    binary->operands.push_back(std::move(right));
    return withDepth(std::move(binary));
  }

  ExpressionPtr parseOr() {
    ExpressionPtr left = parseAnd();
    while (atName("or")) {
      const int line = current().line;
      advance();
      left = makeBinary("or", std::move(left), parseAnd(), line);
    }
    return left;
  }

  ExpressionPtr parseAnd() {
    ExpressionPtr left = parseNot();
    while (atName("and")) {
      const int line = current().line;
      advance();
      left = makeBinary("and", std::move(left), parseNot(), line);
    }
    return left;
  }

  ExpressionPtr parseNot() {
    if (atName("not")) {
      NestingGuard guard(*this);
      const int line = current().line;
      advance();
      auto negation = makeExpression(Expression::Kind::kUnary, line);
      negation->name = "not";
      negation->operands.push_back(parseNot());
      return withDepth(std::move(negation));
    }
    return parseCompare();
  }

  ExpressionPtr parseCompare() {
    const int line = current().line;
    ExpressionPtr first = parseAdditive();
    ExpressionPtr compare;
    while (true) {
      std::string op;
      if (current().type == TokenType::kOperator &&
          (current().value == "==" || current().value == "!=" || current().value == "<" || current().value == ">" ||
           current().value == "<=" || current().value == ">=")) {
        op = current().value;
        advance();
      } else if (atName("in")) {
        op = "in";
        advance();
      } else if (atName("not") && peek().type == TokenType::kName && peek().value == "in") {
        op = "not in";
        advance();
        advance();
      } else {
        break;
      }
      if (!compare) {
        compare = makeExpression(Expression::Kind::kCompare, line);
        compare->operands.push_back(std::move(first));
      }
      compare->compare_ops.push_back(op);
      compare->operands.push_back(parseAdditive());
    }
    return compare ? withDepth(std::move(compare)) : std::move(first);
  }

  ExpressionPtr parseAdditive() {
    ExpressionPtr left = parseConcat();
    while (atOperator("+") || atOperator("-")) {
      const int line = current().line;
      std::string op = current().value;
      advance();
      left = makeBinary(op, std::move(left), parseConcat(), line);
    }
    return left;
  }

  ExpressionPtr parseConcat() {
    ExpressionPtr left = parseMultiplicative();
    while (atOperator("~")) {
      const int line = current().line;
      advance();
      left = makeBinary("~", std::move(left), parseMultiplicative(), line);
    }
    return left;
  }

  ExpressionPtr parseMultiplicative() {
    ExpressionPtr left = parsePower();
    while (atOperator("*") || atOperator("/") || atOperator("//") || atOperator("%")) {
      const int line = current().line;
      std::string op = current().value;
      advance();
      left = makeBinary(op, std::move(left), parsePower(), line);
    }
    return left;
  }

  // jinja2 quirk kept on purpose: ** is left-associative and binds looser
  // than unary minus (-2 ** 2 == 4).
  ExpressionPtr parsePower() {
    ExpressionPtr left = parseUnary(true);
    while (atOperator("**")) {
      const int line = current().line;
      advance();
      left = makeBinary("**", std::move(left), parseUnary(true), line);
    }
    return left;
  }

  ExpressionPtr parseUnary(bool with_filters) {
    NestingGuard guard(*this);
    const int line = current().line;
    ExpressionPtr node;
    if (atOperator("-") || atOperator("+")) {
      std::string op = current().value;
      advance();
      node = makeExpression(Expression::Kind::kUnary, line);
      node->name = op;
      node->operands.push_back(parseUnary(false));
      node = withDepth(std::move(node));
    } else {
      node = parsePostfix(parsePrimary());
    }
    return with_filters ? parseFiltersAndTests(std::move(node)) : std::move(node);
  }

  ExpressionPtr parsePrimary() {
    const Token token = current();
    switch (token.type) {
      case TokenType::kName: {
        advance();
        if (token.value == "true" || token.value == "True") return makeLiteral(Value::boolean(true), token.line);
        if (token.value == "false" || token.value == "False") return makeLiteral(Value::boolean(false), token.line);
        if (token.value == "none" || token.value == "None") return makeLiteral(Value::none(), token.line);
        auto name = makeExpression(Expression::Kind::kName, token.line);
        name->name = token.value;
        return name;
      }
      case TokenType::kString: {
        // Adjacent string literals concatenate, as in Python.
        std::string text;
        while (current().type == TokenType::kString) {
          text += current().value;
          advance();
        }
        return makeLiteral(Value::string(std::move(text)), token.line);
      }
      case TokenType::kInteger: {
        advance();
        errno = 0;
        const long long parsed = std::strtoll(token.value.c_str(), nullptr, 10);
        if (errno == ERANGE) fail("integer literal out of range: " + token.value);
        return makeLiteral(Value::integer(parsed), token.line);
      }
      case TokenType::kFloat:
        advance();
        return makeLiteral(Value::floating(std::strtod(token.value.c_str(), nullptr)), token.line);
      case TokenType::kOperator:
        if (token.value == "(") return parseParenthesised();
        if (token.value == "[") return parseListLiteral();
        if (token.value == "{") return parseDictLiteral();
        break;
      default:
        break;
    }
    fail("unexpected " + describe(token));
  }

  ExpressionPtr makeLiteral(Value value, int line) {
    auto literal = makeExpression(Expression::Kind::kLiteral, line);
    literal->literal = std::move(value);
    return literal;
  }

  ExpressionPtr parseParenthesised() {
    const int line = current().line;
    expectOperator("(");
    if (atOperator(")")) {
      advance();
      return makeExpression(Expression::Kind::kTuple, line);
    }
    ExpressionPtr first = parseExpression(true);
    if (atOperator(")")) {
      advance();
      return first;
    }
    auto tuple = makeExpression(Expression::Kind::kTuple, line);
    tuple->operands.push_back(std::move(first));
    while (atOperator(",")) {
      advance();
      if (atOperator(")")) break;
      tuple->operands.push_back(parseExpression(true));
    }
    expectOperator(")");
    return withDepth(std::move(tuple));
  }

  ExpressionPtr parseListLiteral() {
    auto list = makeExpression(Expression::Kind::kList, current().line);
    expectOperator("[");
    while (!atOperator("]")) {
      list->operands.push_back(parseExpression(true));
      if (!atOperator(",")) break;
      advance();
    }
    expectOperator("]");
    return withDepth(std::move(list));
  }

  ExpressionPtr parseDictLiteral() {
    auto dict = makeExpression(Expression::Kind::kDict, current().line);
    expectOperator("{");
    while (!atOperator("}")) {
      dict->operands.push_back(parseExpression(true));
      expectOperator(":");
      dict->operands.push_back(parseExpression(true));
      if (!atOperator(",")) break;
      advance();
    }
    expectOperator("}");
    return withDepth(std::move(dict));
  }

  ExpressionPtr parsePostfix(ExpressionPtr node) {
    while (true) {
      const int line = current().line;
      if (atOperator(".")) {
        advance();
        if (current().type == TokenType::kInteger) {
          // foo.0 is foo[0]
          auto subscript = makeExpression(Expression::Kind::kSubscript, line);
          subscript->operands.push_back(std::move(node));
          subscript->operands.push_back(makeLiteral(Value::integer(std::strtoll(current().value.c_str(), nullptr, 10)), line));
          advance();
          node = withDepth(std::move(subscript));
          continue;
        }
        auto attribute = makeExpression(Expression::Kind::kAttribute, line);
        attribute->name = expectIdentifier();
        attribute->operands.push_back(std::move(node));
        node = withDepth(std::move(attribute));
      } else if (atOperator("[")) {
        node = withDepth(parseSubscript(std::move(node)));
      } else if (atOperator("(")) {
        node = withDepth(parseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  ExpressionPtr parseSubscript(ExpressionPtr object) {
    NestingGuard guard(*this);
    const int line = current().line;
    expectOperator("[");
    ExpressionPtr bounds[3];
    int part = 0;
    bool is_slice = false;
    while (true) {
      if (!atOperator(":") && !atOperator("]")) bounds[part] = parseExpression(true);
      if (atOperator(":") && part < 2) {
        is_slice = true;
        advance();
        ++part;
        continue;
      }
      break;
    }
    expectOperator("]");
    if (!is_slice) {
      if (!bounds[0]) fail("empty subscript");
      auto subscript = makeExpression(Expression::Kind::kSubscript, line);
      subscript->operands.push_back(std::move(object));
      subscript->operands.push_back(std::move(bounds[0]));
      return subscript;
    }
    auto slice = makeExpression(Expression::Kind::kSlice, line);
    slice->operands.push_back(std::move(object));
    for (auto& bound : bounds) slice->operands.push_back(std::move(bound));
    return slice;
  }

  // Parses "(args)" into `call`'s operands (after any already there) and keyword_arguments.
  void parseArguments(Expression& call) {
    NestingGuard guard(*this);
    expectOperator("(");
    while (!atOperator(")")) {
      if (current().type == TokenType::kName && peek().type == TokenType::kOperator && peek().value == "=") {
        std::string keyword = current().value;
        advance();
        advance();
        call.keyword_arguments.emplace_back(std::move(keyword), parseExpression(true));
      } else {
        if (!call.keyword_arguments.empty()) fail("positional argument after keyword argument");
        call.operands.push_back(parseExpression(true));
      }
      if (!atOperator(",")) break;
      advance();
    }
    expectOperator(")");
  }

  ExpressionPtr parseCall(ExpressionPtr callee) {
    auto call = makeExpression(Expression::Kind::kCall, current().line);
    call->operands.push_back(std::move(callee));
    parseArguments(*call);
    return call;
  }

  ExpressionPtr parseFiltersAndTests(ExpressionPtr node) {
    while (true) {
      const int line = current().line;
      if (atOperator("|")) {
        advance();
        auto filter = makeExpression(Expression::Kind::kFilter, line);
        filter->name = expectIdentifier();
        if (!isKnownFilter(filter->name)) {
          pos_ -= 1;
          fail("no filter named '" + filter->name + "'");
        }
        filter->operands.push_back(std::move(node));
        if (atOperator("(")) parseArguments(*filter);
        node = withDepth(std::move(filter));
      } else if (atName("is")) {
        advance();
        auto test = makeExpression(Expression::Kind::kTest, line);
        if (atName("not")) {
          test->negated = true;
          advance();
        }
        test->name = expectIdentifier();
        if (!isKnownTest(test->name)) {
          pos_ -= 1;
          fail("no test named '" + test->name + "'");
        }
        test->operands.push_back(std::move(node));
        if (atOperator("(")) {
          parseArguments(*test);
        } else if (startsTestArgument()) {
          // jinja2 allows one argument without parentheses: `x is divisibleby 3`.
          test->operands.push_back(parsePostfix(parsePrimary()));
        }
        node = withDepth(std::move(test));
      } else if (atOperator("(")) {
        node = withDepth(parseCall(std::move(node)));
      } else {
        return node;
      }
    }
  }

  bool startsTestArgument() const {
    const Token& token = current();
    if (token.type == TokenType::kName) {
      return token.value != "else" && token.value != "or" && token.value != "and" && token.value != "is";
    }
    if (token.type == TokenType::kString || token.type == TokenType::kInteger || token.type == TokenType::kFloat) {
      return true;
    }
    return token.type == TokenType::kOperator && (token.value == "[" || token.value == "{");
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
  int nesting_ = 0;
  int loop_depth_ = 0;
};

}  // namespace

ast::Program parseTemplate(std::string_view source) { return Parser(tokenizeTemplate(source)).parseProgram(); }

}  // namespace unicorn::jinja
