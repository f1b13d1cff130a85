// The quantize pass: marks each unicorn.weight with how the bundle stores it.
// The decision is quant_policy.h's, the same function the bundle writer calls,
// so the IR the later passes (placement, kernels) see and the bytes in the
// bundle always agree on every tensor.
#include "passes/Passes.h"

#include "ir/UnicornDialect.h"
#include "ir/UnicornOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/SmallVector.h"

namespace unicorn {

#define GEN_PASS_DEF_QUANTIZE
#include "passes/Passes.h.inc"

namespace {

QuantScheme schemeFor(WeightFormat format) {
  switch (format) {
    case WeightFormat::kQ8: return QuantScheme::Q8;
    case WeightFormat::kQ4: return QuantScheme::Q4;
    case WeightFormat::kBF16: break;
  }
  return QuantScheme::None;
}

struct QuantizePass : impl::QuantizeBase<QuantizePass> {
  using QuantizeBase::QuantizeBase;

  void runOnOperation() override {
    const QuantScheme requested = schemeFor(weights);
    bool refused = false;
    // Weights are symbols directly in the module (their verifier insists), so
    // the module body is all there is to visit.
    for (WeightOp weight : getOperation().getOps<WeightOp>()) {
      if (failed(assign(weight, requested))) refused = true;
    }
    // Every refused weight has been reported; fail once, after all of them.
    if (refused) signalPassFailure();
  }

 private:
  mlir::LogicalResult assign(WeightOp weight, QuantScheme requested) {
    llvm::ArrayRef<int64_t> dims = weight.getTensorType().getShape();
    // The verifier guarantees a static shape, so every extent is >= 0.
    llvm::SmallVector<std::uint64_t, 2> shape(dims.begin(), dims.end());
    if (requested == QuantScheme::None || !isQuantizable(weight.getSymName(), {shape.data(), shape.size()})) {
      weight.setQuant(QuantScheme::None);
      return mlir::success();
    }
    if (!fillsWholeQuantBlocks(shape[1])) {
      // Named by symbol and shape: the checkpoint key is all a user can act on.
      return weight.emitError() << "weight @" << weight.getSymName() << " " << weight.getTensorType() << ": "
                                << llvm::StringRef(weightFormatName(weights)) << " needs K (its last dimension) to be a "
                                << "multiple of the " << quantBlockElements() << "-element block, got " << shape[1];
    }
    weight.setQuant(requested);
    return mlir::success();
  }
};

}  // namespace
}  // namespace unicorn
