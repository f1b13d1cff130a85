// One entry point of a prebuilt SPIR-V module (the kernels written in MLIR's
// SPIR-V dialect). A dialect kernel may hold several entry points over shared
// functions, e.g. the cooperative-matrix products' `main` and `main_split`
// (split-K's, the only one that uses the partials' bindings). Vulkan asks a
// pipeline layout for every resource its entry point statically uses, and the
// bundle's readers (bindings, shared memory) read a module whole; so the
// compiler keeps the specialisation's entry point alone, named `main`, with
// only the functions it calls and the global variables they use.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace unicorn::spirv {

// `words` with `entry_point` as its only entry point, renamed "main": the
// other entry points and their execution modes dropped, then every function
// it does not reach through OpFunctionCall, then every module-scope
// OpVariable no kept function names (with the names, decorations and
// interface entries of what went). A literal operand that merely equals a
// variable's id (of an instruction whose literals it does not tell apart)
// keeps that variable: the check errs towards keeping.
// Throws Error(kInvalidInput) naming `what` for words that are not a module
// or a module without that entry point.
std::vector<uint32_t> withOnlyEntryPoint(std::string_view what, std::span<const uint32_t> words,
                                         std::string_view entry_point);

}  // namespace unicorn::spirv
