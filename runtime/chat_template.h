// A checkpoint's chat template (the "chat_template" of tokenizer_config.json),
// rendered exactly as transformers' apply_chat_template renders it with jinja2.
// Parsed once; render() may be called any number of times.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "runtime/jinja/template.h"

namespace unicorn {

class ChatTemplate {
 public:
  // Throws Error(kInvalidInput) naming the line of a syntax error.
  static ChatTemplate parse(std::string_view source);

  // `context` is what transformers passes to the template: {"messages": [...],
  // "add_generation_prompt": bool, "bos_token": ..., "eos_token": ..., ...}.
  // A message's content may be a string or a list of {"type": "text", "text": ...}
  // parts. Throws Error(kInvalidInput) for render errors and for the template's
  // own raise_exception("msg") (message "chat template: msg").
  std::string render(const nlohmann::json& context) const;
  // Same, keeping the context's key order (json sorts object keys; transformers
  // sees them in insertion order, which tojson and dict iteration reveal).
  std::string render(const nlohmann::ordered_json& context) const;

  // What `unicorn-exec --chat TEXT` sends: one user message and the prompt for
  // the model's turn. `special_tokens` is an object such as
  // {"bos_token": "<bos>", "eos_token": "<eos>"}, passed to the template as is.
  std::string renderUserMessage(std::string_view user_text, const nlohmann::json& special_tokens) const;

 private:
  explicit ChatTemplate(jinja::Template compiled) : compiled_(std::move(compiled)) {}
  jinja::Template compiled_;
};

}  // namespace unicorn
