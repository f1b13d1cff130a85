// The place pass (Passes.td): every op of the graph gets a device.
#include "passes/Passes.h"

#include "ir/UnicornDialect.h"
#include "ir/UnicornOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace unicorn {

#define GEN_PASS_DEF_PLACE
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

// The ops an NPU placement would take: the matrix products, where its
// matrix engines beat the iGPU's (prefill) at a fraction of the power.
bool wantsNpu(Operation *op) { return llvm::isa<LinearOp, FusedLinearOp>(op); }

struct PlacePass : impl::PlaceBase<PlacePass> {
  using PlaceBase::PlaceBase;

  void runOnOperation() override {
    if (target != "igpu" && target != "npu+igpu") {
      getOperation().emitError() << "unicorn-place: unknown target '" << target << "' (igpu or npu+igpu)";
      return signalPassFailure();
    }
    const bool npu = target == "npu+igpu";
    auto igpu = DeviceAttr::get(&getContext(), Device::Igpu);
    for (func::FuncOp function : getOperation().getOps<func::FuncOp>()) {
      WalkResult walk = function.walk([&](Operation *op) {
        if (op == function.getOperation() || llvm::isa<func::ReturnOp>(op)) return WalkResult::advance();
        if (npu && wantsNpu(op)) {
          op->emitError() << "target npu+igpu: this op would run on the NPU, but no NPU code can be "
                             "generated (codegen_aie needs an AIE tile compiler, Peano/llvm-aie, which is "
                             "not available); use target igpu";
          return WalkResult::interrupt();
        }
        op->setAttr(kDeviceAttrName, igpu);
        return WalkResult::advance();
      });
      if (walk.wasInterrupted()) return signalPassFailure();
    }
  }
};

}  // namespace
}  // namespace unicorn
