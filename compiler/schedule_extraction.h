// Reads a scheduled unicorn module (after the schedule pass) into a
// CompiledSchedule: the MLIR side of the hand-over to the bundle writer.
// Included only by MLIR-side code (gemma_graph.cc); callers elsewhere use
// GemmaGraph::extractSchedule.
#pragma once

#include <string>
#include <vector>

#include "compiler/compiled_schedule.h"
#include "mlir/IR/BuiltinOps.h"

namespace unicorn {

// Weight buffers are indexed into `tensor_names` (the bundle's tensor table, in
// its order) and sized by `tensor_sizes`. Buffers come in a fixed order: step
// input, readout, arena, KV caches, then weights in order of first use. On
// failure (a module the schedule pass did not produce) returns false with the
// reason in `problem`.
bool extractSchedule(mlir::ModuleOp module, const std::vector<std::string>& tensor_names,
                     const std::vector<std::uint64_t>& tensor_sizes, CompiledSchedule& out, std::string& problem);

}  // namespace unicorn
