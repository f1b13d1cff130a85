// Finds a checkpoint's chat template. transformers saves it as chat_template.jinja
// (newer versions) or as "chat_template" in tokenizer_config.json — a string, or a
// list of {"name", "template"} of which "default" is the one apply_chat_template uses.
#pragma once

#include <filesystem>
#include <string>

namespace unicorn {

// The template source, verbatim, or "" when the checkpoint has none. The template
// is parsed once here so that a template we cannot render fails the compile
// (Error(kInvalidInput) naming the file) instead of the first chat at run time.
std::string readChatTemplate(const std::filesystem::path& model_dir);

}  // namespace unicorn
