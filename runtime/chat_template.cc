#include "runtime/chat_template.h"

#include "runtime/error.h"
#include "runtime/jinja/value.h"

namespace unicorn {

namespace {

template <typename Json>
std::string renderWith(const jinja::Template& compiled, const Json& context) {
  if (!context.is_object()) failInvalidInput("chat template: the render context must be a JSON object");
  return compiled.render(jinja::valueFromJson(context));
}

}  // namespace

ChatTemplate ChatTemplate::parse(std::string_view source) { return ChatTemplate(jinja::Template::parse(source)); }

std::string ChatTemplate::render(const nlohmann::json& context) const { return renderWith(compiled_, context); }

std::string ChatTemplate::render(const nlohmann::ordered_json& context) const { return renderWith(compiled_, context); }

std::string ChatTemplate::renderUserMessage(std::string_view user_text, const nlohmann::json& special_tokens) const {
  if (!special_tokens.is_object()) failInvalidInput("chat template: special tokens must be a JSON object");
  nlohmann::ordered_json context = nlohmann::ordered_json::object();
  context["messages"] = nlohmann::ordered_json::array(
      {nlohmann::ordered_json{{"role", "user"}, {"content", std::string(user_text)}}});
  context["add_generation_prompt"] = true;
  for (auto it = special_tokens.begin(); it != special_tokens.end(); ++it) {
    context[it.key()] = nlohmann::ordered_json::parse(it.value().dump());
  }
  return render(context);
}

}  // namespace unicorn
