// The fuse pass (Passes.td): linears of one input into one product (their
// weights stacked into one matrix where they can be, else a fused_linear), a
// post-norm and the residual add after it into rms_norm_add.
#include "passes/Passes.h"

#include "ir/UnicornDialect.h"
#include "ir/UnicornOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

namespace unicorn {

#define GEN_PASS_DEF_FUSE
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

// Whether `op` is the last use of `value` in program order (all of the graph
// is one block: the function body).
bool isLastUse(Value value, Operation *op) {
  for (Operation *user : value.getUsers()) {
    if (user != op && (user->getBlock() != op->getBlock() || op->isBeforeInBlock(user))) return false;
  }
  return true;
}

// The name of a stack of weights: their common prefix and suffix (cut at
// dots) around the parts that differ, joined by '+':
// layers.0.mlp.gate_proj.weight, layers.0.mlp.up_proj.weight ->
// layers.0.mlp.gate_proj+up_proj.weight.
std::string stackedName(ArrayRef<StringRef> names) {
  StringRef first = names.front();
  size_t prefix = first.size(), suffix = first.size();
  for (StringRef name : names.drop_front()) {
    size_t p = 0;
    while (p < std::min(prefix, name.size()) && first[p] == name[p]) ++p;
    prefix = p;
    size_t q = 0;
    while (q < std::min(suffix, name.size()) && first[first.size() - 1 - q] == name[name.size() - 1 - q]) ++q;
    suffix = q;
  }
  prefix = first.substr(0, prefix).rfind('.') + 1;  // npos + 1 = 0: no dot, no prefix
  const size_t dot = first.substr(first.size() - suffix).find('.');
  suffix = dot == StringRef::npos ? 0 : suffix - dot;
  std::string stacked = first.substr(0, prefix).str();
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) stacked += '+';
    stacked += names[i].drop_front(prefix).drop_back(suffix).str();
  }
  return stacked + first.substr(first.size() - suffix).str();
}

// The weights of `linears` stacked into one unicorn.stacked_weight, where they
// can be: matrices of one dtype and quant (K agrees: one input), each read by
// its linear alone (the bundle then stores the stack instead of them).
StackedWeightOp stackWeights(ModuleOp module, ArrayRef<LinearOp> linears) {
  llvm::SmallVector<WeightOp> parts;
  for (LinearOp linear : linears) {
    auto weight = module.lookupSymbol<WeightOp>(linear.getWeightAttr().getAttr());
    if (!weight) return {};
    std::optional<SymbolTable::UseRange> uses = SymbolTable::getSymbolUses(weight.getSymNameAttr(), module);
    if (!uses || std::distance(uses->begin(), uses->end()) != 1) return {};
    if (!parts.empty() && (weight.getTensorType().getElementType() != parts.front().getTensorType().getElementType() ||
                           weight.getQuant() != parts.front().getQuant())) {
      return {};
    }
    parts.push_back(weight);
  }
  llvm::SmallVector<StringRef> names;
  llvm::SmallVector<Attribute> refs;
  int64_t rows = 0;
  for (WeightOp part : parts) {
    names.push_back(part.getSymName());
    refs.push_back(FlatSymbolRefAttr::get(part.getSymNameAttr()));
    rows += part.getTensorType().getDimSize(0);
  }
  const std::string name = stackedName(names);
  if (module.lookupSymbol(name)) return {};
  RankedTensorType first = parts.front().getTensorType();
  OpBuilder builder(module.getContext());
  builder.setInsertionPointAfter(parts.back());
  return StackedWeightOp::create(builder, parts.back().getLoc(), builder.getStringAttr(name),
                                 TypeAttr::get(RankedTensorType::get({rows, first.getDimSize(1)}, first.getElementType())),
                                 builder.getArrayAttr(refs), QuantSchemeAttr::get(module.getContext(), parts.front().getQuant()));
}

// The linears of each input, in program order: one product per input read by
// two or more, at the first one's place, every former result a view of it: a
// linear with their weights stacked, or a fused_linear of them where they do
// not stack.
void fuseLinearsOfOneInput(ModuleOp module, Block &body) {
  llvm::MapVector<Value, llvm::SmallVector<LinearOp, 3>> by_input;
  for (LinearOp linear : body.getOps<LinearOp>()) by_input[linear.getInput()].push_back(linear);
  for (auto &[input, linears] : by_input) {
    if (linears.size() < 2) continue;
    OpBuilder builder(linears.front());
    llvm::SmallVector<Attribute> weights;
    int64_t width = 0;
    for (LinearOp linear : linears) {
      weights.push_back(linear.getWeightAttr());
      width += llvm::cast<RankedTensorType>(linear.getType()).getDimSize(1);
    }
    auto input_type = llvm::cast<RankedTensorType>(input.getType());
    auto fused_type = RankedTensorType::get({input_type.getDimSize(0), width}, input_type.getElementType());
    Value fused;
    if (StackedWeightOp stacked = stackWeights(module, linears)) {
      fused = LinearOp::create(builder, linears.front().getLoc(), fused_type, input,
                               FlatSymbolRefAttr::get(stacked.getSymNameAttr()));
    } else {
      fused = FusedLinearOp::create(builder, linears.front().getLoc(), fused_type, input, builder.getArrayAttr(weights));
    }
    // Every view before the first linear's users; the linears go once the
    // builder no longer points at them.
    int64_t offset = 0;
    for (LinearOp linear : linears) {
      auto view = ColumnsOp::create(builder, linear.getLoc(), linear.getType(), fused, builder.getI64IntegerAttr(offset));
      offset += llvm::cast<RankedTensorType>(linear.getType()).getDimSize(1);
      linear.getResult().replaceAllUsesWith(view.getResult());
    }
    for (LinearOp linear : linears) linear.erase();
  }
}

// add(residual, rms_norm(x)) -> rms_norm_add(x, residual) when nothing else
// reads the norm and nothing later reads the residual (the add happens in place).
void fuseResidualIntoPostNorm(Block &body) {
  for (AddOp add : llvm::make_early_inc_range(body.getOps<AddOp>())) {
    // The graph builder writes residual + norm; look at operand 1 first.
    for (unsigned norm_operand : {1u, 0u}) {
      auto norm = add->getOperand(norm_operand).getDefiningOp<RmsNormOp>();
      Value residual = add->getOperand(1 - norm_operand);
      if (!norm || !norm->hasOneUse() || !isLastUse(residual, add)) continue;
      OpBuilder builder(add);
      auto fused = RmsNormAddOp::create(builder, add.getLoc(), add.getType(), norm.getInput(), residual,
                                        norm.getWeightAttr(), norm.getEpsAttr());
      add.getResult().replaceAllUsesWith(fused.getResult());
      add.erase();
      norm.erase();
      break;
    }
  }
}

struct FusePass : impl::FuseBase<FusePass> {
  using FuseBase::FuseBase;

  void runOnOperation() override {
    for (func::FuncOp function : getOperation().getOps<func::FuncOp>()) {
      if (function.isExternal()) continue;
      Block &body = function.getBody().front();
      fuseLinearsOfOneInput(getOperation(), body);
      fuseResidualIntoPostNorm(body);
    }
  }
};

}  // namespace
}  // namespace unicorn
