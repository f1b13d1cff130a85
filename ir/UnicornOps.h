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
