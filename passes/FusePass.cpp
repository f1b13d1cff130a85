// The fuse pass (Passes.td): linears of one input into a fused_linear, a
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

// The linears of each input, in program order: one fused_linear per input read
// by two or more, at the first one's place, every former result a view of it.
void fuseLinearsOfOneInput(Block &body) {
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
    auto fused = FusedLinearOp::create(builder, linears.front().getLoc(), fused_type, input,
                                       builder.getArrayAttr(weights));
    // Every view before the first linear's users; the linears go once the
    // builder no longer points at them.
    int64_t offset = 0;
    for (LinearOp linear : linears) {
      auto view = ColumnsOp::create(builder, linear.getLoc(), linear.getType(), fused.getResult(),
                                    builder.getI64IntegerAttr(offset));
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
      fuseLinearsOfOneInput(body);
      fuseResidualIntoPostNorm(body);
    }
  }
};

}  // namespace
}  // namespace unicorn
