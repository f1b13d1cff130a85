// Verifiers of the unicorn ops. ODS checks element types and ranks; what is
// left here is the arithmetic between shapes (heads x head_dim, [out, in]
// against the input's features, ...) and against the weights they name.
#include "ir/UnicornOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace unicorn;

namespace {

// Token counts are usually dynamic (`?`): an unknown extent agrees with any.
bool extentsAgree(int64_t lhs, int64_t rhs) {
  return ShapedType::isDynamic(lhs) || ShapedType::isDynamic(rhs) || lhs == rhs;
}

int64_t featuresOf(Value activation) {
  return llvm::cast<RankedTensorType>(activation.getType()).getDimSize(1);
}

// One diagnostic format for "these two things must have as many tokens".
LogicalResult verifySameTokenCount(Operation *op, Value lhs, StringRef lhsName, Value rhs,
                                   StringRef rhsName) {
  int64_t lhsRows = llvm::cast<ShapedType>(lhs.getType()).getDimSize(0);
  int64_t rhsRows = llvm::cast<ShapedType>(rhs.getType()).getDimSize(0);
  if (extentsAgree(lhsRows, rhsRows)) return success();
  return op->emitOpError() << lhsName << " has " << lhsRows << " tokens but " << rhsName
                           << " has " << rhsRows;
}

LogicalResult verifyPositive(Operation *op, FloatAttr value, StringRef name) {
  if (value.getValueAsDouble() > 0.0) return success();
  return op->emitOpError() << name << " must be > 0, got " << value.getValueAsDouble();
}

LogicalResult verifyNonNegative(Operation *op, FloatAttr value, StringRef name) {
  if (value.getValueAsDouble() >= 0.0) return success();
  return op->emitOpError() << name << " must be >= 0 (0 = off), got "
                           << value.getValueAsDouble();
}

// Resolves the weight an op names (unicorn.weight or unicorn.stacked_weight)
// and checks it has the rank the op reads it at.
FailureOr<WeightView> lookUpWeight(Operation *user, FlatSymbolRefAttr name, int64_t expectedRank,
                                   SymbolTableCollection &symbolTable) {
  std::optional<WeightView> weight = weightView(symbolTable.lookupNearestSymbolFrom(user, name.getAttr()));
  if (!weight) {
    return user->emitOpError() << "names " << name << ", which is not a unicorn.weight";
  }
  if (weight->type.getRank() != expectedRank) {
    return user->emitOpError() << "needs weight " << name << " of rank " << expectedRank
                               << ", got " << weight->type;
  }
  return *weight;
}

// Shared by linear and lm_head: weight [N, K] against input [T, K] -> [T, N].
LogicalResult verifyMatrixProduct(Operation *op, Value input, Value result,
                                  FlatSymbolRefAttr weightName,
                                  SymbolTableCollection &symbolTable) {
  FailureOr<WeightView> weight = lookUpWeight(op, weightName, 2, symbolTable);
  if (failed(weight)) return failure();
  ArrayRef<int64_t> outIn = weight->type.getShape();
  if (!extentsAgree(featuresOf(input), outIn[1])) {
    return op->emitOpError() << "input has " << featuresOf(input) << " features but weight "
                             << weightName << " is [out=" << outIn[0] << ", in=" << outIn[1]
                             << "]";
  }
  if (!extentsAgree(featuresOf(result), outIn[0])) {
    return op->emitOpError() << "result has " << featuresOf(result) << " features but weight "
                             << weightName << " is [out=" << outIn[0] << ", in=" << outIn[1]
                             << "]";
  }
  return success();
}

// Shared by rms_norm and rms_norm_add: a [features] weight for the input's rows.
LogicalResult verifyNormWeight(Operation *op, FlatSymbolRefAttr weightName, Value input,
                               SymbolTableCollection &symbolTable) {
  FailureOr<WeightView> weight = lookUpWeight(op, weightName, 1, symbolTable);
  if (failed(weight)) return failure();
  int64_t size = weight->type.getDimSize(0);
  if (!extentsAgree(featuresOf(input), size)) {
    return op->emitOpError() << "weight " << weightName << " has " << size
                             << " elements but the input has " << featuresOf(input)
                             << " features";
  }
  return success();
}

}  // namespace

//===----------------------------------------------------------------------===//
// WeightOp
//===----------------------------------------------------------------------===//

LogicalResult WeightOp::verify() {
  RankedTensorType type = getTensorType();
  Type dtype = type.getElementType();
  if (!dtype.isBF16() && !dtype.isF16() && !dtype.isF32()) {
    return emitOpError() << "checkpoint dtype must be bf16, f16 or f32, got " << dtype;
  }
  if (!type.hasStaticShape()) {
    return emitOpError() << "checkpoint shape must be static, got " << type;
  }
  if (type.getRank() != 1 && type.getRank() != 2) {
    return emitOpError() << "must be a vector or a matrix, got rank " << type.getRank();
  }
  if (getQuant() != QuantScheme::None && type.getRank() != 2) {
    return emitOpError() << "quant " << stringifyQuantScheme(getQuant())
                         << " needs a matrix (blocks run along K), got " << type;
  }
  if (getFile().empty()) return emitOpError() << "needs a checkpoint file name";
  return success();
}

int64_t WeightOp::getCheckpointByteSize() {
  RankedTensorType type = getTensorType();
  return type.getNumElements() * type.getElementTypeBitWidth() / 8;
}

std::optional<WeightView> unicorn::weightView(Operation *op) {
  if (auto weight = llvm::dyn_cast_or_null<WeightOp>(op)) {
    return WeightView{weight.getSymName(), weight.getTensorType(), weight.getQuant()};
  }
  if (auto stacked = llvm::dyn_cast_or_null<StackedWeightOp>(op)) {
    return WeightView{stacked.getSymName(), stacked.getTensorType(), stacked.getQuant()};
  }
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// StackedWeightOp
//===----------------------------------------------------------------------===//

LogicalResult StackedWeightOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  RankedTensorType type = getTensorType();
  if (type.getRank() != 2 || !type.hasStaticShape()) {
    return emitOpError() << "must be a static matrix, got " << type;
  }
  if (getParts().size() < 2) return emitOpError() << "stacks at least two weights, got " << getParts().size();
  int64_t rows = 0;
  for (Attribute attr : getParts()) {
    auto name = llvm::cast<FlatSymbolRefAttr>(attr);
    auto part = symbolTable.lookupNearestSymbolFrom<WeightOp>(*this, name);
    if (!part) return emitOpError() << "stacks " << name << ", which is not a unicorn.weight";
    RankedTensorType partType = part.getTensorType();
    if (partType.getRank() != 2 || partType.getDimSize(1) != type.getDimSize(1) ||
        partType.getElementType() != type.getElementType() || part.getQuant() != getQuant()) {
      return emitOpError() << "part " << name << " (" << partType << " quant "
                           << stringifyQuantScheme(part.getQuant()) << ") does not stack into " << type << " quant "
                           << stringifyQuantScheme(getQuant()) << ": parts need its K, dtype and quant";
    }
    rows += partType.getDimSize(0);
  }
  if (rows != type.getDimSize(0)) {
    return emitOpError() << "has " << type.getDimSize(0) << " rows but its parts have " << rows;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// EmbedOp
//===----------------------------------------------------------------------===//

LogicalResult EmbedOp::verify() {
  if (failed(verifyPositive(*this, getScaleAttr(), "scale"))) return failure();
  return verifySameTokenCount(*this, getIds(), "ids", getResult(), "result");
}

LogicalResult EmbedOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightView> table = lookUpWeight(*this, getTableAttr(), 2, symbolTable);
  if (failed(table)) return failure();
  int64_t hidden = table->type.getDimSize(1);
  if (!extentsAgree(featuresOf(getResult()), hidden)) {
    return emitOpError() << "result has " << featuresOf(getResult()) << " features but table "
                         << getTableAttr() << " has rows of " << hidden;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// RmsNormOp
//===----------------------------------------------------------------------===//

LogicalResult RmsNormOp::verify() { return verifyPositive(*this, getEpsAttr(), "eps"); }

LogicalResult RmsNormOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyNormWeight(*this, getWeightAttr(), getInput(), symbolTable);
}

//===----------------------------------------------------------------------===//
// LinearOp
//===----------------------------------------------------------------------===//

LogicalResult LinearOp::verify() {
  return verifySameTokenCount(*this, getInput(), "input", getResult(), "result");
}

LogicalResult LinearOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyMatrixProduct(*this, getInput(), getResult(), getWeightAttr(), symbolTable);
}

//===----------------------------------------------------------------------===//
// FusedLinearOp
//===----------------------------------------------------------------------===//

LogicalResult FusedLinearOp::verify() {
  if (getWeights().size() < 2) {
    return emitOpError() << "fuses at least two weights, got " << getWeights().size();
  }
  return verifySameTokenCount(*this, getInput(), "input", getResult(), "result");
}

LogicalResult FusedLinearOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  int64_t outFeatures = 0;
  for (Attribute name : getWeights()) {
    auto symbol = llvm::cast<FlatSymbolRefAttr>(name);
    FailureOr<WeightView> weight = lookUpWeight(*this, symbol, 2, symbolTable);
    if (failed(weight)) return failure();
    ArrayRef<int64_t> outIn = weight->type.getShape();
    if (!extentsAgree(featuresOf(getInput()), outIn[1])) {
      return emitOpError() << "input has " << featuresOf(getInput()) << " features but weight "
                           << symbol << " is [out=" << outIn[0] << ", in=" << outIn[1] << "]";
    }
    outFeatures += outIn[0];
  }
  if (!extentsAgree(featuresOf(getResult()), outFeatures)) {
    return emitOpError() << "result has " << featuresOf(getResult())
                         << " features but the weights give " << outFeatures;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// ColumnsOp
//===----------------------------------------------------------------------===//

LogicalResult ColumnsOp::verify() {
  int64_t inputFeatures = featuresOf(getInput()), width = featuresOf(getResult());
  if (ShapedType::isDynamic(inputFeatures) || ShapedType::isDynamic(width)) {
    return emitOpError() << "needs static feature counts";
  }
  int64_t offset = static_cast<int64_t>(getOffset());
  if (width == 0 || offset + width > inputFeatures) {
    return emitOpError() << "columns [" << offset << ", " << offset + width
                         << ") are not inside the input's " << inputFeatures << " features";
  }
  return verifySameTokenCount(*this, getInput(), "input", getResult(), "result");
}

//===----------------------------------------------------------------------===//
// RmsNormAddOp
//===----------------------------------------------------------------------===//

LogicalResult RmsNormAddOp::verify() { return verifyPositive(*this, getEpsAttr(), "eps"); }

LogicalResult RmsNormAddOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyNormWeight(*this, getWeightAttr(), getInput(), symbolTable);
}

//===----------------------------------------------------------------------===//
// QkNormRopeOp
//===----------------------------------------------------------------------===//

LogicalResult QkNormRopeOp::verify() {
  int64_t headDim = getHeadDimAttr().getInt();
  // Rotate-half pairs element i with i + head_dim/2.
  if (headDim % 2 != 0) return emitOpError() << "head_dim must be even, got " << headDim;
  int64_t features = featuresOf(getInput());
  if (!ShapedType::isDynamic(features) && features % headDim != 0) {
    return emitOpError() << "input has " << features
                         << " features, not a whole number of heads of " << headDim;
  }
  if (failed(verifyPositive(*this, getEpsAttr(), "eps")) ||
      failed(verifyPositive(*this, getRopeBaseAttr(), "rope_base")) ||
      failed(verifyPositive(*this, getRopeLinearFactorAttr(), "rope_linear_factor"))) {
    return failure();
  }
  return verifySameTokenCount(*this, getInput(), "input", getPositions(), "positions");
}

LogicalResult QkNormRopeOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  FailureOr<WeightView> weight = lookUpWeight(*this, getNormWeightAttr(), 1, symbolTable);
  if (failed(weight)) return failure();
  int64_t size = weight->type.getDimSize(0);
  if (size != getHeadDimAttr().getInt()) {
    return emitOpError() << "norm weight " << getNormWeightAttr() << " has " << size
                         << " elements but head_dim is " << getHeadDimAttr().getInt();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

LogicalResult AttentionOp::verify() {
  int64_t numHeads = getNumHeadsAttr().getInt();
  int64_t numKvHeads = getNumKvHeadsAttr().getInt();
  int64_t headDim = getHeadDimAttr().getInt();
  if (numHeads % numKvHeads != 0) {
    return emitOpError() << "num_heads " << numHeads << " is not a multiple of num_kv_heads "
                         << numKvHeads;
  }
  if (!extentsAgree(featuresOf(getQuery()), numHeads * headDim)) {
    return emitOpError() << "query has " << featuresOf(getQuery()) << " features, expected "
                         << numHeads << " heads x " << headDim;
  }
  if (!extentsAgree(featuresOf(getKey()), numKvHeads * headDim)) {
    return emitOpError() << "key has " << featuresOf(getKey()) << " features, expected "
                         << numKvHeads << " kv heads x " << headDim;
  }
  if (getKey().getType() != getValue().getType()) {
    return emitOpError() << "key " << getKey().getType() << " and value "
                         << getValue().getType() << " must have the same type";
  }
  if (failed(verifyPositive(*this, getScaleAttr(), "scale")) ||
      failed(verifyNonNegative(*this, getSoftcapAttr(), "softcap"))) {
    return failure();
  }
  if (failed(verifySameTokenCount(*this, getQuery(), "query", getKey(), "key"))) return failure();
  return verifySameTokenCount(*this, getQuery(), "query", getPositions(), "positions");
}

//===----------------------------------------------------------------------===//
// LmHeadOp
//===----------------------------------------------------------------------===//

LogicalResult LmHeadOp::verify() {
  if (failed(verifyNonNegative(*this, getSoftcapAttr(), "softcap"))) return failure();
  return verifySameTokenCount(*this, getInput(), "input", getResult(), "result");
}

LogicalResult LmHeadOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  return verifyMatrixProduct(*this, getInput(), getResult(), getWeightAttr(), symbolTable);
}

//===----------------------------------------------------------------------===//
// SampleOp
//===----------------------------------------------------------------------===//

LogicalResult SampleOp::verify() {
  return verifySameTokenCount(*this, getLogits(), "logits", getResult(), "result");
}

#define GET_OP_CLASSES
#include "ir/UnicornOps.cpp.inc"
