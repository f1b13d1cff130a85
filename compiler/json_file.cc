#include "compiler/json_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runtime/error.h"

namespace unicorn {

std::string readTextFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) failInvalidInput(path.string() + ": cannot open: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) failInvalidInput(path.string() + ": cannot read");
  return text.str();
}

nlohmann::json readJsonFile(const std::filesystem::path& path) {
  const std::string text = readTextFile(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // Drop nlohmann's "[json.exception.parse_error.101] " tag; the rest says where ("at line 3, column 7").
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    failInvalidInput(path.string() + ": not valid JSON: " + what);
  }
}

}  // namespace unicorn
