// Operations of the `unicorn` dialect: the graph (UnicornOps.td) and its
// scheduled form (UnicornScheduleOps.td).
#pragma once

#include "ir/UnicornDialect.h"

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#define GET_OP_CLASSES
#include "ir/UnicornOps.h.inc"

// The scheduled form (buffers, kernels, programs of dispatches).
#define GET_OP_CLASSES
#include "ir/UnicornScheduleOps.h.inc"

namespace unicorn {

// What a product or a lookup needs of the weight a symbol names, whichever op
// defines it (a checkpoint tensor, unicorn.weight, or a stack of them,
// unicorn.stacked_weight): its name, [N, K] or [F] type and storage scheme.
struct WeightView {
  llvm::StringRef name;
  mlir::RankedTensorType type;
  QuantScheme quant;
};
// nullopt unless `op` is a unicorn.weight or unicorn.stacked_weight.
std::optional<WeightView> weightView(mlir::Operation *op);

}  // namespace unicorn

