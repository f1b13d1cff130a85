// The plan-memory pass (Passes.td): where every activation of @forward lives.
//
// Values are grouped into allocations (a value, the views of it, the in-place
// results on it), each live from its first definition to its last use in
// program order, and the allocations packed into one arena first-fit: in
// order of their start, each takes the lowest offset at which it overlaps no
// allocation that is live at the same time. That is the classic greedy
// interval packing; for the straight-line Gemma graph it reuses every region
// as soon as its value is dead.
#include <algorithm>

#include "passes/AttentionSplits.h"
#include "passes/Passes.h"

#include "ir/UnicornDialect.h"
#include "ir/UnicornOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"

namespace unicorn {

#define GEN_PASS_DEF_PLANMEMORY
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;

constexpr uint64_t kRegionAlignment = 256;                 // every device's minStorageBufferOffsetAlignment divides it
constexpr uint64_t kMaxRegionBytes = uint64_t(1) << 27;    // the smallest maxStorageBufferRange Vulkan allows
constexpr uint64_t kFloatBytes = 4;

uint64_t alignUp(uint64_t value) { return (value + kRegionAlignment - 1) / kRegionAlignment * kRegionAlignment; }

int64_t featuresOf(Value value) { return llvm::cast<RankedTensorType>(value.getType()).getDimSize(1); }

struct Allocation {
  uint64_t bytes = 0;
  unsigned start = 0, end = 0;  // op indices: defined at start, last read at end
  uint64_t offset = 0;
};

// Where a value sits: in allocation `allocation` at float `base` of rows of `stride`.
struct Placement {
  unsigned allocation = 0;
  uint32_t base = 0, stride = 0;
};

class MemoryPlanner {
 public:
  MemoryPlanner(ModuleOp module, func::FuncOp forward, unsigned chunk, unsigned max_readout_rows)
      : module_(module), forward_(forward), chunk_(chunk), max_readout_rows_(max_readout_rows) {}

  LogicalResult run() {
    Block &body = forward_.getBody().front();
    unsigned index = 0;
    for (Operation &op : body) order_[&op] = index++;
    if (failed(makeCaches(body))) return failure();
    for (Operation &op : body) {
      if (failed(assign(op))) return failure();
    }
    extendLifetimes(body);
    pack();
    annotate(body);
    return success();
  }

 private:
  // A key and a value unicorn.kv_cache per attention layer, before @forward.
  LogicalResult makeCaches(Block &body) {
    OpBuilder builder(forward_);
    for (AttentionOp attention : body.getOps<AttentionOp>()) {
      const int64_t layer = static_cast<int64_t>(attention.getLayer());
      if (!cache_layers_.insert(layer).second) {
        return attention.emitOpError() << "is the second attention of layer " << layer
                                       << ": a layer has one KV cache";
      }
      const int64_t slot_bytes =
          static_cast<int64_t>(attention.getNumKvHeads() * attention.getHeadDim() * kFloatBytes);
      IntegerAttr ring;
      if (attention.getWindow() > 0) ring = builder.getI64IntegerAttr(attention.getWindow() + chunk_ - 1);
      for (KvPart part : {KvPart::Key, KvPart::Value}) {
        KvCacheOp::create(builder, attention.getLoc(),
                          builder.getStringAttr("kv.layers." + std::to_string(layer) + "." +
                                                stringifyKvPart(part).str()),
                          builder.getI64IntegerAttr(layer), KvPartAttr::get(builder.getContext(), part),
                          builder.getI64IntegerAttr(slot_bytes), ring);
      }
    }
    return success();
  }

  LogicalResult assign(Operation &op) {
    if (llvm::isa<func::ReturnOp>(op)) return success();
    if (op.getNumResults() != 1 || !llvm::isa<RankedTensorType>(op.getResult(0).getType()) ||
        llvm::cast<RankedTensorType>(op.getResult(0).getType()).getRank() != 2) {
      return op.emitOpError() << "makes no [tokens, features] activation: plan-memory has no storage for it";
    }
    Value result = op.getResult(0);
    if (auto view = llvm::dyn_cast<ColumnsOp>(op)) {
      Placement source = placement_.lookup(view.getInput());
      source.base += static_cast<uint32_t>(view.getOffset());
      placement_[result] = source;
      return success();
    }
    if (auto in_place = llvm::dyn_cast<RmsNormAddOp>(op)) {
      for (Operation *user : in_place.getResidual().getUsers()) {
        if (user != &op && order_.lookup(user) > order_.lookup(&op)) {
          return op.emitOpError() << "adds into its residual in place, but the residual is read again later";
        }
      }
      placement_[result] = placement_.lookup(in_place.getResidual());
      return success();
    }
    if (auto rope = llvm::dyn_cast<QkNormRopeOp>(op); rope && result.hasOneUse()) {
      OpOperand &use = *result.use_begin();
      if (auto attention = llvm::dyn_cast<AttentionOp>(use.getOwner());
          attention && (use.get() == attention.getKey() || use.get() == attention.getValue()) &&
          attention.getKey() != attention.getValue()) {
        const KvPart part = use.get() == attention.getKey() ? KvPart::Key : KvPart::Value;
        op.setAttr(kStorageAttrName,
                   CacheSlotAttr::get(op.getContext(), static_cast<int64_t>(attention.getLayer()), part));
        in_cache_.insert(result);
        return success();
      }
    }
    if (auto attention = llvm::dyn_cast<AttentionOp>(op)) {
      // Split-K decode attention's partials (one token: [heads, shares, head_dim + 2]),
      // needed only while the op runs.
      const uint32_t splits = decodeAttentionSplits(attention.getWindow());
      if (splits > 1) {
        const uint64_t bytes = alignUp(uint64_t(attention.getNumHeads()) * splits * (attention.getHeadDim() + 2) *
                                       kFloatBytes);
        const unsigned at = order_.lookup(&op);
        allocations_.push_back({bytes, at, at, 0});
        scratch_[&op] = static_cast<unsigned>(allocations_.size() - 1);
      }
    }
    uint64_t rows = chunk_;
    if (llvm::isa<LmHeadOp>(op)) {
      // Logits are computed for the readout rows only (the last token, or every
      // token under --dump-logits): as many rows as one binding holds.
      const uint64_t row_bytes = uint64_t(featuresOf(result)) * kFloatBytes;
      rows = std::min<uint64_t>(chunk_, kMaxRegionBytes / row_bytes);
      if (max_readout_rows_ > 0) rows = std::min<uint64_t>(rows, max_readout_rows_);
      if (rows == 0) {
        return op.emitOpError() << "makes rows of " << row_bytes << " bytes of logits, more than one 128 MiB binding";
      }
      readout_rows_ = static_cast<unsigned>(rows);
    }
    const uint64_t bytes = alignUp(rows * featuresOf(result) * kFloatBytes);
    if (bytes > kMaxRegionBytes) {
      return op.emitOpError() << "makes " << bytes << " bytes for a chunk of " << chunk_
                              << " tokens, more than one 128 MiB binding: use a smaller prefill chunk";
    }
    const unsigned at = order_.lookup(&op);
    allocations_.push_back({bytes, at, at, 0});
    placement_[result] = {static_cast<unsigned>(allocations_.size() - 1), 0,
                          static_cast<uint32_t>(featuresOf(result))};
    return success();
  }

  // An allocation lives until the last use of any value placed in it.
  void extendLifetimes(Block &body) {
    for (Operation &op : body) {
      for (Value result : op.getResults()) {
        if (in_cache_.contains(result)) continue;
        Allocation &allocation = allocations_[placement_.lookup(result).allocation];
        for (Operation *user : result.getUsers()) allocation.end = std::max(allocation.end, order_.lookup(user));
      }
    }
  }

  void pack() {
    std::vector<unsigned> by_start(allocations_.size());
    for (unsigned i = 0; i < by_start.size(); ++i) by_start[i] = i;
    std::stable_sort(by_start.begin(), by_start.end(),
                     [&](unsigned a, unsigned b) { return allocations_[a].start < allocations_[b].start; });
    std::vector<unsigned> placed;
    for (unsigned id : by_start) {
      Allocation &next = allocations_[id];
      // Regions of the allocations live alongside, by offset; take the first gap that fits.
      std::vector<std::pair<uint64_t, uint64_t>> busy;
      for (unsigned other : placed) {
        const Allocation &a = allocations_[other];
        if (a.start <= next.end && next.start <= a.end) busy.push_back({a.offset, a.offset + a.bytes});
      }
      std::sort(busy.begin(), busy.end());
      uint64_t offset = 0;
      for (const auto &[begin, end] : busy) {
        if (offset + next.bytes <= begin) break;
        offset = std::max(offset, end);
      }
      next.offset = offset;
      arena_bytes_ = std::max(arena_bytes_, offset + next.bytes);
      placed.push_back(id);
    }
  }

  void annotate(Block &body) {
    MLIRContext *context = module_.getContext();
    for (Operation &op : body) {
      if (op.getNumResults() != 1 || in_cache_.contains(op.getResult(0))) continue;
      const Placement &p = placement_.lookup(op.getResult(0));
      const Allocation &a = allocations_[p.allocation];
      op.setAttr(kStorageAttrName, ArenaSlotAttr::get(context, a.offset, a.bytes, p.base, p.stride));
    }
    for (const auto& [op, allocation] : scratch_) {
      const Allocation& a = allocations_[allocation];
      op->setAttr(kScratchAttrName, ArenaSlotAttr::get(context, a.offset, a.bytes, 0, 0));
    }
    OpBuilder builder(forward_);
    BufferOp::create(builder, forward_.getLoc(), builder.getStringAttr(kArenaSymbol),
                     BufferKindAttr::get(context, BufferKind::Activations),
                     builder.getI64IntegerAttr(static_cast<int64_t>(std::max<uint64_t>(arena_bytes_, kRegionAlignment))));
    module_->setAttr(kPrefillChunkAttrName, builder.getI64IntegerAttr(chunk_));
    module_->setAttr(kReadoutRowsAttrName, builder.getI64IntegerAttr(readout_rows_));
  }

  ModuleOp module_;
  func::FuncOp forward_;
  unsigned chunk_, max_readout_rows_;  // max_readout_rows_ 0: no cap but the binding's
  unsigned readout_rows_ = 0;  // the LM head's logits rows (0 until it is placed)
  llvm::DenseMap<Operation *, unsigned> order_;
  llvm::DenseMap<Value, Placement> placement_;
  llvm::DenseSet<Value> in_cache_;
  llvm::MapVector<Operation *, unsigned> scratch_;  // op -> its scratch allocation
  llvm::DenseSet<int64_t> cache_layers_;
  std::vector<Allocation> allocations_;
  uint64_t arena_bytes_ = 0;
};

struct PlanMemoryPass : impl::PlanMemoryBase<PlanMemoryPass> {
  using PlanMemoryBase::PlanMemoryBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (prefillChunk == 0) {
      module.emitError() << "unicorn-plan-memory: prefill-chunk must be at least 1";
      return signalPassFailure();
    }
    if (module.lookupSymbol(kArenaSymbol)) {
      module.emitError() << "unicorn-plan-memory: the module is planned already (it has @" << kArenaSymbol << ")";
      return signalPassFailure();
    }
    auto forward = module.lookupSymbol<func::FuncOp>(kForwardSymbol);
    if (!forward || forward.isExternal() || !forward.getBody().hasOneBlock()) {
      module.emitError() << "unicorn-plan-memory: needs the graph as func.func @" << kForwardSymbol
                         << " with one block";
      return signalPassFailure();
    }
    if (failed(MemoryPlanner(module, forward, prefillChunk, maxReadoutRows).run())) signalPassFailure();
  }
};

}  // namespace
}  // namespace unicorn
