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

//===----------------------------------------------------------------------===//
// The short forms of the schedule's patch and workgroup-count attributes
//===----------------------------------------------------------------------===//

namespace {

ParseResult parseChunkValue(AsmParser &parser, ChunkValue &value) {
  StringRef keyword;
  SMLoc at = parser.getCurrentLocation();
  if (parser.parseKeyword(&keyword)) return failure();
  std::optional<ChunkValue> parsed = symbolizeChunkValue(keyword);
  if (!parsed) return parser.emitError(at) << "unknown chunk value '" << keyword << "'";
  value = *parsed;
  return success();
}

}  // namespace

Attribute PushPatchAttr::parse(AsmParser &parser, Type) {
  uint32_t word = 0, multiplier = 1;
  ChunkValue value;
  if (parser.parseLess() || parser.parseInteger(word) || parser.parsePlus() || parser.parseEqual() ||
      parseChunkValue(parser, value)) {
    return {};
  }
  if (succeeded(parser.parseOptionalStar()) && parser.parseInteger(multiplier)) return {};
  if (parser.parseGreater()) return {};
  return PushPatchAttr::get(parser.getContext(), word, value, multiplier);
}

void PushPatchAttr::print(AsmPrinter &printer) const {
  printer << "<" << getWord() << " += " << stringifyChunkValue(getValue());
  if (getMultiplier() != 1) printer << " * " << getMultiplier();
  printer << ">";
}

Attribute WorkgroupCountAttr::parse(AsmParser &parser, Type) {
  uint32_t fixed = 1, divisor = 1;
  ChunkValue value = ChunkValue::Tokens;
  if (parser.parseLess()) return {};
  OptionalParseResult count = parser.parseOptionalInteger(fixed);
  if (count.has_value()) {
    if (failed(*count)) return {};
    if (failed(parser.parseOptionalStar())) {  // a fixed count
      if (parser.parseGreater()) return {};
      return WorkgroupCountAttr::get(parser.getContext(), fixed, ChunkValue::Tokens, 0);
    }
  }
  if (parseChunkValue(parser, value)) return {};
  if (succeeded(parser.parseOptionalSlash()) && parser.parseInteger(divisor)) return {};
  if (parser.parseGreater()) return {};
  if (divisor == 0) {
    parser.emitError(parser.getCurrentLocation()) << "a scaled workgroup count needs a divisor of at least 1";
    return {};
  }
  return WorkgroupCountAttr::get(parser.getContext(), fixed, value, divisor);
}

void WorkgroupCountAttr::print(AsmPrinter &printer) const {
  printer << "<";
  if (getDivisor() == 0) {
    printer << getFixed() << ">";
    return;
  }
  if (getFixed() != 1) printer << getFixed() << " * ";
  printer << stringifyChunkValue(getValue());
  if (getDivisor() != 1) printer << " / " << getDivisor();
  printer << ">";
}

void UnicornDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "ir/UnicornOps.cpp.inc"
      ,
#define GET_OP_LIST
#include "ir/UnicornScheduleOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "ir/UnicornAttrs.cpp.inc"
      >();
}
