// Verifiers of the scheduled form (UnicornScheduleOps.td). What they check is
// what the runtime's schedule checker (runtime/schedule_check.cc) would
// otherwise reject in the bundle: caught here, it names the op that is wrong.
#include "ir/UnicornOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace unicorn;

namespace {
// Vulkan's minStorageBufferOffsetAlignment is at most 256 on every device.
constexpr uint64_t kBindingAlignment = 256;
}  // namespace

//===----------------------------------------------------------------------===//
// KernelOp
//===----------------------------------------------------------------------===//

LogicalResult KernelOp::verify() {
  if (getKernel().empty()) return emitOpError() << "needs a library kernel name";
  if (std::optional<StringRef> fallback = getFallback()) {
    auto target = SymbolTable::lookupNearestSymbolFrom<KernelOp>(*this, getFallbackAttr());
    if (!target) return emitOpError() << "falls back to @" << *fallback << ", which is no unicorn.kernel";
    if (target == *this || target.getFallback()) {
      return emitOpError() << "falls back to @" << *fallback << ", which is itself or has a fallback of its own";
    }
  }
  for (NamedAttribute param : getParams()) {
    if (!llvm::isa<IntegerAttr, FloatAttr, BoolAttr>(param.getValue())) {
      return emitOpError() << "parameter '" << param.getName().getValue()
                           << "' must be an integer, float or bool, got " << param.getValue();
    }
  }
  return success();
}

//===----------------------------------------------------------------------===//
// DispatchOp
//===----------------------------------------------------------------------===//

LogicalResult DispatchOp::verify() {
  if (getGroups().size() != 3) {
    return emitOpError() << "needs 3 workgroup counts (x, y, z), got " << getGroups().size();
  }
  for (int64_t word : getPush()) {
    if (word < 0 || word > static_cast<int64_t>(UINT32_MAX)) {
      return emitOpError() << "push-constant word " << word << " is not a 32-bit unsigned value";
    }
  }
  for (Attribute attr : getPatches()) {
    auto patch = llvm::cast<PushPatchAttr>(attr);
    if (patch.getWord() >= getPush().size()) {
      return emitOpError() << "patches word " << patch.getWord() << " of " << getPush().size();
    }
  }
  for (Attribute attr : getBindings()) {
    auto binding = llvm::cast<BindingAttr>(attr);
    if (binding.getOffset() % kBindingAlignment != 0) {
      return emitOpError() << "binds " << binding.getBuffer() << " at offset " << binding.getOffset()
                           << ", not a multiple of " << kBindingAlignment;
    }
  }
  return success();
}

LogicalResult DispatchOp::verifySymbolUses(SymbolTableCollection &symbolTable) {
  auto kernel = symbolTable.lookupNearestSymbolFrom<KernelOp>(*this, getKernelAttr());
  if (!kernel) return emitOpError() << "names " << getKernelAttr() << ", which is not a unicorn.kernel";
  for (Attribute attr : getBindings()) {
    auto binding = llvm::cast<BindingAttr>(attr);
    Operation *buffer = symbolTable.lookupNearestSymbolFrom(*this, binding.getBuffer());
    if (!buffer || !llvm::isa<BufferOp, KvCacheOp, WeightOp, StackedWeightOp>(buffer)) {
      return emitOpError() << "binds " << binding.getBuffer()
                           << ", which is not a unicorn.buffer, unicorn.kv_cache or a weight";
    }
    if (auto sized = llvm::dyn_cast<BufferOp>(buffer)) {
      const uint64_t bytes = static_cast<uint64_t>(sized.getBytes());
      const uint64_t end = binding.getRange() == 0 ? bytes : binding.getOffset() + binding.getRange();
      if (binding.getOffset() >= bytes || end > bytes || end < binding.getOffset()) {
        return emitOpError() << "binds [" << binding.getOffset() << ", " << end << ") of "
                             << binding.getBuffer() << ", which has " << bytes << " bytes";
      }
    }
  }
  return success();
}

#define GET_OP_CLASSES
#include "ir/UnicornScheduleOps.cpp.inc"
