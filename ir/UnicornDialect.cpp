// Registers the unicorn dialect's ops and attributes with an MLIRContext.
#include "ir/UnicornDialect.h"

#include "ir/UnicornOps.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace unicorn;

#include "ir/UnicornDialect.cpp.inc"
#include "ir/UnicornEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "ir/UnicornAttrs.cpp.inc"

void UnicornDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/UnicornOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ir/UnicornAttrs.cpp.inc"
      >();
}
