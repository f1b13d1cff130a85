// Reading the text and JSON files of a checkpoint directory, with the error
// contract: a file that cannot be read or parsed is one Error(kInvalidInput) line
// naming it and, for JSON, where the parser stopped.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace unicorn {

std::string readTextFile(const std::filesystem::path& path);
nlohmann::json readJsonFile(const std::filesystem::path& path);

}  // namespace unicorn
