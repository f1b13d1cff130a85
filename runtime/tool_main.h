// The error contract every Unicorn command-line tool shares (DESIGN.md): parse the
// flags with CLI11, run the tool, and turn any failure into exactly one line on
// stderr — "<tool>: error: <message>" — and the contract's exit code. Crashes are
// bugs; nothing else is allowed to print an error or choose an exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

namespace unicorn {

// Parses argv into `app`, then runs `body`, whose return value is the exit code.
int runTool(CLI::App& app, int argc, char** argv, const std::function<int()>& body);

}  // namespace unicorn
