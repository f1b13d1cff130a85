// The `unicorn` dialect and its attributes (the weight quantisation scheme).
// Ops are declared in ir/UnicornOps.h.
#pragma once

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/DialectImplementation.h"

#include "ir/UnicornDialect.h.inc"
#include "ir/UnicornEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "ir/UnicornAttrs.h.inc"
