// The Gemma 3 text decoder of a checkpoint as a `unicorn` dialect module
// (ir/UnicornOps.td): one unicorn.weight symbol per checkpoint tensor, pointing
// into its safetensors file (bytes are never copied into the IR), and a
// func.func @forward(ids, positions) -> logits that reads top to bottom like
// transformers' Gemma3ForCausalLM.forward.
//
// The pass pipeline (quantize, fuse, place, plan-memory, schedule) will run on
// this module; --dump-ir writes it after every step. MLIR lives behind this
// interface so the rest of the compiler (built with exceptions) never includes
// MLIR headers (built without).
#pragma once

#include <memory>
#include <string>

#include "compiler/checkpoint.h"

namespace unicorn {

class GemmaGraph {
 public:
  // Builds the module from a validated checkpoint.
  explicit GemmaGraph(const Checkpoint& checkpoint);
  ~GemmaGraph();
  GemmaGraph(const GemmaGraph&) = delete;
  GemmaGraph& operator=(const GemmaGraph&) = delete;

  // Runs the MLIR verifier. The checkpoint was validated before, so a failure is
  // a bug of the builder; `diagnostics` receives MLIR's messages. (This code is
  // built without exceptions, like LLVM: the caller turns false into an Error.)
  bool verify(std::string& diagnostics) const;

  // The module in MLIR's textual form, as unicorn-opt parses it.
  std::string text() const;

 private:
  struct Module;
  std::unique_ptr<Module> module_;
};

}  // namespace unicorn
