#include "compiler/chat_template_source.h"

#include <nlohmann/json.hpp>

#include "compiler/json_file.h"

#include "runtime/chat_template.h"
#include "runtime/error.h"

namespace unicorn {
namespace {

std::string templateFromTokenizerConfig(const std::filesystem::path& path) {
  nlohmann::json config = readJsonFile(path);
  if (!config.is_object()) failInvalidInput(path.string() + ": not a JSON object");
  auto entry = config.find("chat_template");
  if (entry == config.end() || entry->is_null()) return "";
  if (entry->is_string()) return entry->get<std::string>();
  if (entry->is_array()) {
    for (const nlohmann::json& named : *entry) {
      if (named.is_object() && named.value("name", "") == "default" && named.contains("template") &&
          named["template"].is_string()) {
        return named["template"].get<std::string>();
      }
    }
    failInvalidInput(path.string() + ": chat_template is a list without a \"default\" template");
  }
  failInvalidInput(path.string() + ": chat_template is neither a string nor a list of named templates");
}

}  // namespace

std::string readChatTemplate(const std::filesystem::path& model_dir) {
  std::filesystem::path source_path = model_dir / "chat_template.jinja";
  std::string source;
  if (std::filesystem::exists(source_path)) {
    source = readTextFile(source_path);
  } else {
    source_path = model_dir / "tokenizer_config.json";
    if (!std::filesystem::exists(source_path)) return "";
    source = templateFromTokenizerConfig(source_path);
  }
  if (source.empty()) return source;
  try {
    ChatTemplate::parse(source);
  } catch (const Error& e) {
    failInvalidInput(source_path.string() + ": " + e.what());
  }
  return source;
}

}  // namespace unicorn
