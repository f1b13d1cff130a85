// The one error type of Unicorn. Every user-facing failure is an Error carrying
// the process exit code it maps to, and a one-line message that names the file,
// field or device and says what was expected and what was found. main() catches
// it, prints "unicorn-xxx: error: <message>" and exits with code(); nothing else
// prints errors, so every tool speaks the same way.
#pragma once

#include <stdexcept>
#include <string>

namespace unicorn {

// Exit codes of the command-line contract (DESIGN.md).
enum class ExitCode : int {
  kOk = 0,
  kUsage = 1,          // bad flags or arguments
  kInvalidInput = 2,   // checkpoint, bundle or text that cannot be used
  kDeviceMissing = 3,  // a required device is missing or lacks a required feature
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// Shorthands for the common case: a file or field that is not what it must be.
[[noreturn]] inline void failInvalidInput(const std::string& message) {
  throw Error(ExitCode::kInvalidInput, message);
}
[[noreturn]] inline void failUsage(const std::string& message) { throw Error(ExitCode::kUsage, message); }

}  // namespace unicorn
