// Unit tests of the Jinja engine (runtime/jinja). The expected strings are what
// jinja2 3.1 renders for each template under transformers' settings
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
// tojson = json.dumps(ensure_ascii=False)); they were produced by jinja2
// itself, not by this engine.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "runtime/error.h"
#include "runtime/jinja/template.h"
#include "runtime/jinja/value.h"

namespace unicorn::jinja {
namespace {

Value engineContext() {
  return valueFromJson(nlohmann::ordered_json::parse(R"({
    "name": "World", "d": {"b": 2, "a": 1}, "s": "h\u00e9llo", "n": 7,
    "msgs": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}],
    "items": [3, 1, 2]})"));
}

std::string render(const std::string& source, const Value& context = engineContext()) {
  return Template::parse(source).render(context);
}

// Expects an Error(kInvalidInput) whose message contains `fragment`.
void expectInvalidInput(const std::string& source, const std::string& fragment) {
  try {
    render(source);
    ADD_FAILURE() << "no error for: " << source;
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::kInvalidInput) << source;
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
        << "message '" << error.what() << "' lacks '" << fragment << "' for: " << source;
    EXPECT_EQ(std::string(error.what()).find('\n'), std::string::npos) << "message must be one line";
  }
}

struct JinjaCase {
  const char* source;
  const char* expected;
};

// Generated from jinja2 3.1.6 with the context of engineContext().
const JinjaCase kJinja2Cases[] = {
    {R"J(Hello {{ name }}!)J", R"J(Hello World!)J"},
    {R"J({{ 1 + 2 }})J", R"J(3)J"},
    {R"J({{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }})J", R"J(3 -4 1 2 3.5 1024)J"},
    {R"J({{ 1.5 + 1 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 3 / 1 }} {{ 1e-5 }})J", R"J(2.5 0.30000000000000004 1e+20 3.0 1e-05)J"},
    {R"J({{ 'a' ~ 1 ~ none ~ true }})J", R"J(a1NoneTrue)J"},
    {R"J({{ 'a' + 'b' }}{{ 'ab' * 3 }})J", R"J(abababab)J"},
    {R"J({{ none }}|{{ true }}|{{ false }}|{{ undefined_name }}|)J", R"J(None|True|False||)J"},
    {R"J({{ [1, 'a', none, true, 1.5] }})J", R"J([1, 'a', None, True, 1.5])J"},
    {R"J({{ {'k': 'v', 'n': [1, 2]} }})J", R"J({'k': 'v', 'n': [1, 2]})J"},
    {R"J({{ (1, 'x') }}{{ (1,) }})J", R"J((1, 'x')(1,))J"},
    {R"J({{ 'it\'s' }} {{ "q\"q" }} {{ 'tab\there' }} {{ 'a\nb' }} {{ '\u00e9\x41' }} {{ 'keep\d' }})J", R"J(it's q"q tab	here a
b éA keep\d)J"},
    {R"J({{ 'con' 'cat' }})J", R"J(concat)J"},
    {R"J(a  {{- ' b ' -}}  c)J", R"J(a b c)J"},
    {R"J(a
  {%- if true %}
b
  {%- endif %}
c)J", R"J(abc)J"},
    {R"J(  {% if true %}
  yes
  {% endif %}
)J", R"J(  yes
)J"},
    {R"J(x {% if true %}y{% endif %}
z)J", R"J(x yz)J"},
    {R"J({# comment #}
after)J", R"J(after)J"},
    {R"J(  {#- c -#}  x)J", R"J(x)J"},
    {R"J(line
  {{ name }}
)J", R"J(line
  World)J"},
    {R"J({% if true +%}
kept{% endif %})J", R"J(
kept)J"},
    {R"J(  {%+ if true %}x{% endif %})J", R"J(  x)J"},
    {R"J(end
)J", R"J(end)J"},
    {R"J({% for i in [1, 2] %}
  {{ i }}
{% endfor %}
)J", R"J(  1
  2
)J"},
    {R"J(a {{ name }}
{% if true %}b{% endif %})J", R"J(a World
b)J"},
    {R"J({% if n > 10 %}big{% elif n > 5 %}mid{% else %}small{% endif %})J", R"J(mid)J"},
    {R"J({% if not undefined_name %}empty{% endif %})J", R"J(empty)J"},
    {R"J({% if msgs %}has{% endif %}{% if [] %}no{% else %}none{% endif %})J", R"J(hasnone)J"},
    {R"J({{ 'y' if n == 7 else 'n' }})J", R"J(y)J"},
    {R"J([{{ 'y' if false }}])J", R"J([])J"},
    {R"J({% for m in msgs %}{{ loop.index }}/{{ loop.length }}:{{ m.role }}{% if not loop.last %}, {% endif %}{% endfor %})J", R"J(1/2:user, 2/2:assistant)J"},
    {R"J({% for m in msgs %}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.revindex }}{% endfor %})J", R"J(0TrueFalse21FalseTrue1)J"},
    {R"J({% for x in [] %}x{% else %}empty{% endfor %})J", R"J(empty)J"},
    {R"J({% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %})J", R"J(b=2;a=1;)J"},
    {R"J({% for k in d %}{{ k }}{% endfor %})J", R"J(ba)J"},
    {R"J({% for c in 'abc' %}{{ c }}-{% endfor %})J", R"J(a-b-c-)J"},
    {R"J({% for i in items if i > 1 %}{{ loop.index }}:{{ i }} {% endfor %})J", R"J(1:3 2:2 )J"},
    {R"J({% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %})J", R"J(02)J"},
    {R"J({% for i in range(1, 7, 2) %}{{ i }}{% endfor %})J", R"J(135)J"},
    {R"J({% for a in [1,2] %}{% for b in 'xy' %}{{ a }}{{ b }}{{ loop.index }} {% endfor %}{{ loop.index }}|{% endfor %})J", R"J(1x1 1y2 1|2x1 2y2 2|)J"},
    {R"J({% for i in [1,2,3] %}{{ loop.previtem }}<{{ i }}>{{ loop.nextitem }} {% endfor %})J", R"J(<1>2 1<2>3 2<3> )J"},
    {R"J({% for i in [1,2,3] %}{{ loop.cycle('a', 'b') }}{% endfor %})J", R"J(aba)J"},
    {R"J({% set x = 5 %}{{ x * 2 }})J", R"J(10)J"},
    {R"J({% set a, b = 1, 2 %}{{ a }}{{ b }})J", R"J(12)J"},
    {R"J({% set x = 0 %}{% for i in [1,2] %}{{ x }}{% set x = i %}{{ x }}{% endfor %}{{ x }})J", R"J(01020)J"},
    {R"J({% set ns = namespace(found=false, count=0) %}{% for m in msgs %}{% set ns.count = ns.count + 1 %}{% if m.role == 'assistant' %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.count }})J", R"J(True 2)J"},
    {R"J({% set block %}inner {{ name }}{% endset %}[{{ block }}])J", R"J([inner World])J"},
    {R"J({% if true %}{% set y = 3 %}{% endif %}{{ y }})J", R"J(3)J"},
    {R"J({{ s[::-1] }} {{ s[1:3] }} {{ s[-1] }} {{ s|length }} {{ items[1:] }} {{ items[::-1] }} {{ items[-1] }} {{ items[:-1] }})J", R"J(olléh él o 5 [1, 2] [2, 1, 3] 2 [3, 1])J"},
    {R"J({{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' < 'b' }} {{ [1, 2] == [1, 2] }})J", R"J(True False True True True True)J"},
    {R"J({{ 'a' in 'cat' }} {{ 2 in items }} {{ 'a' in d }} {{ 'z' not in d }} {{ 5 not in items }})J", R"J(True True True True True)J"},
    {R"J({{ 0 or 'x' }} {{ 1 and 'y' }} {{ none or [] }} {{ not 0 }})J", R"J(x y [] True)J"},
    {R"J({{ -2 ** 2 }} {{ 2 ** 3 ** 2 }} {{ (1 + 2) * 3 }} {{ 1 + 2 * 3 }} {{ 10 - 2 - 3 }})J", R"J(4 64 9 7 5)J"},
    {R"J({{ d.a }} {{ d['b'] }} {{ msgs[0].content }} {{ msgs[1]['role'] }} {{ d.missing }}|{{ none.foo }}|)J", R"J(1 2 hi assistant ||)J"},
    {R"J({{ msgs.0.role }})J", R"J(user)J"},
    {R"J({{ true + 1 }} {{ -n }} {{ +n }})J", R"J(2 -7 7)J"},
    {R"J({{ [1] + [2, 3] }})J", R"J([1, 2, 3])J"},
    {R"J({{ 'x' ~ 1.0 }})J", R"J(x1.0)J"},
    {R"J({{ 10 / 4 }} {{ 10 // 4 }} {{ 10.5 // 4 }} {{ -7.5 % 2 }})J", R"J(2.5 2 2.0 0.5)J"},
    {R"J({{ undefined_name is defined }} {{ name is defined }} {{ none is none }} {{ name is string }} {{ n is number }} {{ d is mapping }})J", R"J(False True True True True True)J"},
    {R"J({{ msgs is iterable }} {{ name is iterable }} {{ n is iterable }} {{ msgs is sequence }} {{ true is number }} {{ true is integer }})J", R"J(True True False True True False)J"},
    {R"J({{ n is odd }} {{ n is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ true is true }} {{ 1 is true }} {{ n is not none }})J", R"J(True False True False True False True)J"},
    {R"J({{ undefined_name is undefined }} {{ 'abc' is lower }} {{ 'ABC' is upper }} {{ 1.5 is float }} {{ n is eq 7 }})J", R"J(True True True True True)J"},
    {R"J([{{ '  pad  '|trim }}] [{{ 'xxhixx'|trim('x') }}] {{ name|upper }} {{ name|lower }} {{ 'hello world'|capitalize }} {{ 'hello wORLD'|title }})J", R"J([pad] [hi] WORLD world Hello world Hello World)J"},
    {R"J({{ items|length }} {{ d|length }} {{ items|first }} {{ items|last }} {{ 'abc'|first }} {{ items|join(', ') }} {{ items|join }})J", R"J(3 2 3 2 a 3, 1, 2 312)J"},
    {R"J({{ undefined_name|default('dflt') }} {{ ''|default('e', true) }} {{ ''|default('e') }}| {{ name|d('x') }})J", R"J(dflt e | World)J"},
    {R"J({{ d|tojson }} {{ msgs|tojson }} {{ 'é"\n'|tojson }} {{ [1, 2.5, none, true]|tojson }} {{ none|tojson }})J", R"J({"b": 2, "a": 1} [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}] "é\"\n" [1, 2.5, null, true] null)J"},
    {R"J({{ d|tojson(indent=2) }})J", R"J({
  "b": 2,
  "a": 1
})J"},
    {R"J({{ {'b': 1, 'a': [1, {}]}|tojson(indent=2, sort_keys=true) }})J", R"J({
  "a": [
    1,
    {}
  ],
  "b": 1
})J"},
    {R"J({{ 'a-b-c'|replace('-', '+') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|list }} {{ d|list }} {{ '42'|int + 1 }} {{ 'x'|int }} {{ 3.9|int }} {{ '2.5'|float }} {{ 5|string ~ '!' }})J", R"J(a+b+c bba ['a', 'b', 'c'] ['b', 'a'] 43 0 3 2.5 5!)J"},
    {R"J({% for k, v in d|items %}{{ k }}{{ v }}{% endfor %})J", R"J(b2a1)J"},
    {R"J({{ msgs|selectattr('role', 'equalto', 'user')|list|length }} {{ msgs|rejectattr('role', 'eq', 'user')|map(attribute='content')|join }})J", R"J(1 yo)J"},
    {R"J({{ items|sort }} {{ items|sort(reverse=true) }} {{ ['b', 'A', 'a']|sort }} {{ items|reverse|list }} {{ 'abc'|reverse }} {{ [1, 2, 1]|unique|list }})J", R"J([1, 2, 3] [3, 2, 1] ['A', 'a', 'b'] [2, 1, 3] cba [1, 2])J"},
    {R"J({{ items|min }} {{ items|max }} {{ items|sum }} {{ -3|abs }} {{ 'a\nb'|indent(2) }} {{ ['a', 'b']|map('upper')|join }})J", R"J(1 3 6 3 a
  b AB)J"},
    {R"J({{ undefined_name|length }}{{ undefined_name|trim }}{{ undefined_name|join(',') }}{{ undefined_name|list }}{{ undefined_name|upper }})J", R"J(0[])J"},
    {R"J([{{ '  x  '.strip() }}] [{{ '  x  '.lstrip() }}] [{{ '  x  '.rstrip() }}] [{{ 'xxaxx'.strip('x') }}])J", R"J([x] [x  ] [  x] [a])J"},
    {R"J({{ name.startswith('Wo') }} {{ name.endswith('x') }} {{ name.startswith(('a', 'W')) }} {{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }})J", R"J(True False True ['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'])J"},
    {R"J({{ name.upper() }} {{ name.lower() }} {{ 'hello there'.title() }} {{ 'abc'.replace('b', 'B') }} {{ ', '.join(['x', 'y']) }} {{ 'banana'.count('a') }} {{ 'banana'.find('n') }})J", R"J(WORLD world Hello There aBc x, y 3 2)J"},
    {R"J({{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }} {{ d.get('a') }} {{ d.get('zz') }} {{ d.get('zz', 'dflt') }})J", R"J(['b', 'a'] [2, 1] [('b', 2), ('a', 1)] 1 None dflt)J"},
    {R"J({% macro greet(who, punct='!') %}Hi {{ who }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', '?') }} {{ greet(who='C') }})J", R"J(Hi A! Hi B? Hi C!)J"},
    {R"J({{ range(3)|list }} {{ dict(a=1)|tojson }} {{ namespace(a=1).a }})J", R"J([0, 1, 2] {"a": 1} 1)J"},
};

TEST(JinjaEngine, MatchesJinja2OnFeatureCases) {
  for (const JinjaCase& c : kJinja2Cases) {
    SCOPED_TRACE(c.source);
    std::string rendered;
    ASSERT_NO_THROW(rendered = render(c.source));
    EXPECT_EQ(rendered, c.expected);
  }
}

TEST(JinjaEngine, ParsesOnceRendersMany) {
  const Template compiled = Template::parse("{% for x in xs %}{{ x }}{% endfor %}");
  EXPECT_EQ(compiled.render(valueFromJson(nlohmann::json{{"xs", {1, 2}}})), "12");
  EXPECT_EQ(compiled.render(valueFromJson(nlohmann::json{{"xs", {"a"}}})), "a");
  EXPECT_EQ(compiled.render(valueFromJson(nlohmann::json::object())), "");
}

TEST(JinjaEngine, OneTrailingNewlineIsDropped) {
  // keep_trailing_newline=False: exactly one newline goes, CRLF counts as one.
  EXPECT_EQ(render("a\n\n"), "a\n");
  EXPECT_EQ(render("a\r\nb\r\n"), "a\nb");
}

TEST(JinjaEngine, SyntaxErrorsNameTheLine) {
  expectInvalidInput("line one\n{{ 1 + }}", "line 2");
  expectInvalidInput("{% if true %}never closed", "endif");
  expectInvalidInput("{% frobnicate %}", "unknown tag 'frobnicate'");
  expectInvalidInput("{{ x | nosuchfilter }}", "no filter named 'nosuchfilter'");
  expectInvalidInput("{{ x is nosuchtest }}", "no test named 'nosuchtest'");
  expectInvalidInput("{{ 'unterminated }}", "unterminated string");
  expectInvalidInput("{# never closed", "unterminated comment");
  expectInvalidInput("{{ 1 }", "missing '}}'");
  expectInvalidInput("{% break %}", "outside of a loop");
  expectInvalidInput("{% for x in y %}{% endif %}", "syntax error");
  expectInvalidInput("{{ a ! b }}", "unexpected character");
}

TEST(JinjaEngine, RenderErrorsAreInvalidInput) {
  expectInvalidInput("{{ missing.attr }}", "'missing' is undefined");
  expectInvalidInput("{{ missing + 1 }}", "'missing' is undefined");
  expectInvalidInput("{{ d.nothing.deeper }}", "has no attribute 'nothing'");
  expectInvalidInput("{{ 1 / 0 }}", "division by zero");
  expectInvalidInput("{{ 'a' + 1 }}", "unsupported operand");
  expectInvalidInput("{{ 1 < 'a' }}", "not supported");
  expectInvalidInput("{{ name() }}", "not callable");
  expectInvalidInput("{% for x in 5 %}{% endfor %}", "not iterable");
  expectInvalidInput("{{ missing|tojson }}", "not JSON serializable");
  expectInvalidInput("{% set s = 'str' %}{% set s.x = 1 %}", "non-namespace");
  expectInvalidInput("{{ 9223372036854775807 + 1 }}", "overflow");
  expectInvalidInput("{{ 1 }}\n{{ 2 }}\n{{ 1 // 0 }}", "line 3");
}

TEST(JinjaEngine, RaiseExceptionCarriesTheTemplateMessage) {
  try {
    render("{{ raise_exception('Roles must alternate') }}");
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::kInvalidInput);
    EXPECT_STREQ(error.what(), "chat template: Roles must alternate");
  }
}

TEST(JinjaEngine, HostileInputFailsCleanly) {
  const std::string deep_parens = std::string(10000, '(') + "1" + std::string(10000, ')');
  expectInvalidInput("{{ " + deep_parens + " }}", "nests deeper");
  std::string long_chain = "{{ 1";
  for (int i = 0; i < 5000; ++i) long_chain += " + 1";
  expectInvalidInput(long_chain + " }}", "nests deeper");
  std::string filter_chain = "{{ 'x'";
  for (int i = 0; i < 5000; ++i) filter_chain += "|trim";
  expectInvalidInput(filter_chain + " }}", "nests deeper");
  std::string deep_blocks;
  for (int i = 0; i < 1000; ++i) deep_blocks += "{% if true %}";
  expectInvalidInput(deep_blocks, "nests deeper");
  expectInvalidInput("{% for i in range(100000000) %}{% endfor %}", "too long");
  expectInvalidInput("{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}", "work limit");
  expectInvalidInput(
      "{% set ns = namespace(s='xxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
      "exceed");
  expectInvalidInput("{{ 'x' * 1000000000000 }}", "exceed");
  expectInvalidInput(
      "{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% set ns.l = [ns.l] %}{% endfor %}", "nests deeper");
  expectInvalidInput("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "macro calls nest deeper");
}

TEST(JinjaEngine, FloatsPrintLikePythonRepr) {
  EXPECT_EQ(formatPythonFloat(1.0), "1.0");
  EXPECT_EQ(formatPythonFloat(0.1), "0.1");
  EXPECT_EQ(formatPythonFloat(1e16), "1e+16");
  EXPECT_EQ(formatPythonFloat(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(formatPythonFloat(1.5e-7), "1.5e-07");
  EXPECT_EQ(formatPythonFloat(-2.5), "-2.5");
  EXPECT_EQ(formatPythonFloat(1234.5), "1234.5");
}

}  // namespace
}  // namespace unicorn::jinja
