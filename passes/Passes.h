// The unicorn pass pipeline (Passes.td): pass constructors, their options
// structs, and registration for unicorn-opt.
#pragma once

#include <memory>

#include "compiler/quant_policy.h"
#include "mlir/Pass/Pass.h"

namespace unicorn {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

}  // namespace unicorn
