#include "runtime/tool_main.h"

#include <cstdio>
#include <new>
#include <string>

#include "runtime/error.h"

namespace unicorn {
namespace {

// CLI11 messages may span lines; the contract is one line.
std::string oneLine(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

int reportError(const std::string& tool, const std::string& message, ExitCode code) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: error: %s\n", tool.c_str(), oneLine(message).c_str());
  return static_cast<int>(code);
}

}  // namespace

int runTool(CLI::App& app, int argc, char** argv, const std::function<int()>& body) {
  const std::string tool = app.get_name();
  try {
    try {
      app.parse(argc, argv);
    } catch (const CLI::CallForHelp&) {
      std::fputs(app.help().c_str(), stdout);
      return 0;
    } catch (const CLI::CallForVersion&) {
      std::fputs((app.version() + "\n").c_str(), stdout);
      return 0;
    } catch (const CLI::ParseError& e) {
      return reportError(tool, std::string(e.what()) + " (see --help)", ExitCode::kUsage);
    }
    return body();
  } catch (const Error& e) {
    return reportError(tool, e.what(), e.code());
  } catch (const std::bad_alloc&) {
    return reportError(tool, "out of memory", ExitCode::kInvalidInput);
  } catch (const std::exception& e) {
    // A library threw something we did not translate: still one line, but say it is a bug.
    return reportError(tool, std::string("internal error (please report): ") + e.what(), ExitCode::kInvalidInput);
  }
}

}  // namespace unicorn
