#include "compiler/schedule_extraction.h"

#include <map>

#include "ir/UnicornDialect.h"
#include "ir/UnicornOps.h"

namespace unicorn {
namespace {

using namespace mlir;

// The IR enums mirror the schema's value for value (ir/UnicornAttrs.td).
static_assert(static_cast<int>(ChunkValue::Context) == static_cast<int>(fb::ChunkValue::Context));
static_assert(static_cast<int>(ChunkValue::FirstReadoutRow) == static_cast<int>(fb::ChunkValue::FirstReadoutRow));
static_assert(static_cast<int>(DispatchCondition::SampledToken) == static_cast<int>(fb::DispatchCondition::SampledToken));
static_assert(static_cast<int>(DispatchCondition::OneLogitsRow) == static_cast<int>(fb::DispatchCondition::OneLogitsRow));
fb::ChunkValue toSchema(ChunkValue value) { return static_cast<fb::ChunkValue>(static_cast<int>(value)); }
fb::DispatchCondition toSchema(DispatchCondition value) {
  return static_cast<fb::DispatchCondition>(static_cast<int>(value));
}

spirv::KernelParams kernelParams(DictionaryAttr params) {
  spirv::KernelParams out;
  for (NamedAttribute param : params) {
    const std::string name = param.getName().str();
    if (auto flag = llvm::dyn_cast<BoolAttr>(param.getValue())) {
      out[name] = flag.getValue();
    } else if (auto integer = llvm::dyn_cast<IntegerAttr>(param.getValue())) {
      out[name] = integer.getInt();
    } else {
      out[name] = llvm::cast<FloatAttr>(param.getValue()).getValueAsDouble();  // the verifier admits nothing else
    }
  }
  return out;
}

class Extractor {
 public:
  Extractor(ModuleOp module, const std::vector<std::string>& names, const std::vector<std::uint64_t>& sizes,
            CompiledSchedule& out, std::string& problem)
      : module_(module), sizes_(sizes), out_(out), problem_(problem) {
    for (std::size_t i = 0; i < names.size(); ++i) tensor_index_[names[i]] = static_cast<std::uint32_t>(i);
  }

  bool run() {
    auto chunk = module_->getAttrOfType<IntegerAttr>(kPrefillChunkAttrName);
    auto readout_rows = module_->getAttrOfType<IntegerAttr>(kReadoutRowsAttrName);
    auto top_k = module_->getAttrOfType<IntegerAttr>(kReadoutTopKAttrName);
    auto sampling = module_->getAttrOfType<IntegerAttr>(kSamplingParamsWordAttrName);
    auto logits = module_->getAttrOfType<BindingAttr>(kLogitsAttrName);
    auto setup = module_.lookupSymbol<ProgramOp>(kSetupProgramSymbol);
    auto prefill = module_.lookupSymbol<ProgramOp>(kPrefillProgramSymbol);
    auto decode = module_.lookupSymbol<ProgramOp>(kDecodeProgramSymbol);
    if (!chunk || !readout_rows || !top_k || !sampling || !logits || !setup || !prefill || !decode) {
      return fail("the module is not scheduled (run unicorn-schedule)");
    }
    out_.prefill_chunk = static_cast<std::uint32_t>(chunk.getInt());
    out_.readout_rows = static_cast<std::uint32_t>(readout_rows.getInt());
    out_.readout_top_k = static_cast<std::uint32_t>(top_k.getInt());
    out_.sampling_params_word = static_cast<std::uint32_t>(sampling.getInt());

    for (BufferOp buffer : module_.getOps<BufferOp>()) addBuffer(buffer);
    for (KvCacheOp cache : module_.getOps<KvCacheOp>()) addCache(cache);
    for (KernelOp kernel : module_.getOps<KernelOp>()) {
      kernel_index_[kernel.getSymName().str()] = static_cast<std::uint32_t>(out_.kernels.size());
      ScheduleKernel& added = out_.kernels.emplace_back();
      added.kernel = kernel.getKernel().str();
      added.params = kernelParams(kernel.getParams());
    }
    for (KernelOp kernel : module_.getOps<KernelOp>()) {
      if (std::optional<llvm::StringRef> fallback = kernel.getFallback()) {
        auto index = kernel_index_.find(fallback->str());
        if (index == kernel_index_.end()) return fail("@" + kernel.getSymName().str() + " falls back to no kernel");
        out_.kernels[kernel_index_[kernel.getSymName().str()]].fallback = static_cast<std::int32_t>(index->second);
      }
    }
    if (!program(setup, out_.setup) || !program(prefill, out_.prefill) || !program(decode, out_.decode)) return false;

    std::optional<std::uint32_t> logits_buffer = bufferIndex(logits.getBuffer().getValue());
    if (!logits_buffer) return false;
    out_.logits_buffer = *logits_buffer;
    out_.logits_offset = logits.getOffset();
    if (!step_input_ || !readout_) return fail("the step input or readout buffer is missing");
    out_.step_input_buffer = *step_input_;
    out_.readout_buffer = *readout_;
    return true;
  }

 private:
  bool fail(const std::string& problem) {
    problem_ = problem;
    return false;
  }

  std::uint32_t add(const std::string& symbol, ScheduleBufferPlan plan) {
    const auto index = static_cast<std::uint32_t>(out_.buffers.size());
    buffer_index_[symbol] = index;
    out_.buffers.push_back(std::move(plan));
    return index;
  }

  void addBuffer(BufferOp buffer) {
    ScheduleBufferPlan plan;
    plan.bytes = static_cast<std::uint64_t>(buffer.getBytes());
    switch (buffer.getKind()) {
      case BufferKind::Activations:
        plan.kind = fb::BufferKind::Activation;
        plan.name = "act:" + buffer.getSymName().str();
        break;
      case BufferKind::StepInput:
        plan.kind = fb::BufferKind::StepInput;
        plan.name = "input:ids+positions+sampling";
        break;
      case BufferKind::Readout:
        plan.kind = fb::BufferKind::Readout;
        plan.name = "readout:lse+top-k";
        break;
      case BufferKind::PreviousStepInput:
        plan.kind = fb::BufferKind::PreviousStepInput;
        plan.name = "input:the step before's (its token id)";
        break;
    }
    const std::uint32_t index = add(buffer.getSymName().str(), std::move(plan));
    if (buffer.getKind() == BufferKind::StepInput) step_input_ = index;
    if (buffer.getKind() == BufferKind::Readout) readout_ = index;
  }

  void addCache(KvCacheOp cache) {
    ScheduleBufferPlan plan;
    plan.name = "kv:" + std::to_string(cache.getLayer()) + ":" + stringifyKvPart(cache.getPart()).str();
    plan.kind = cache.getPart() == KvPart::Key ? fb::BufferKind::KeyCache : fb::BufferKind::ValueCache;
    plan.layer = static_cast<std::uint32_t>(cache.getLayer());
    plan.slot_bytes = static_cast<std::uint64_t>(cache.getSlotBytes());
    plan.capacity = cache.getRing() ? fb::KvCapacity::Fixed : fb::KvCapacity::Context;
    plan.fixed_slots = cache.getRing() ? static_cast<std::uint32_t>(*cache.getRing()) : 0;
    add(cache.getSymName().str(), std::move(plan));
  }

  // The buffer a binding names; a weight becomes a buffer on first use.
  std::optional<std::uint32_t> bufferIndex(StringRef symbol) {
    if (auto found = buffer_index_.find(symbol.str()); found != buffer_index_.end()) return found->second;
    std::optional<WeightView> weight = weightView(module_.lookupSymbol(symbol));
    auto tensor = tensor_index_.find(symbol.str());
    if (!weight || tensor == tensor_index_.end()) {
      fail("a dispatch binds @" + symbol.str() + ", which is neither a buffer nor a checkpoint tensor");
      return std::nullopt;
    }
    ScheduleBufferPlan plan;
    plan.name = "weight:" + symbol.str();
    plan.kind = fb::BufferKind::Weight;
    plan.tensor_index = tensor->second;
    plan.bytes = sizes_[tensor->second];
    return add(symbol.str(), std::move(plan));
  }

  bool program(ProgramOp program, std::vector<DispatchPlan>& list) {
    for (DispatchOp dispatch : program.getBody().getOps<DispatchOp>()) {
      DispatchPlan plan;
      auto kernel = kernel_index_.find(dispatch.getKernel().str());
      if (kernel == kernel_index_.end()) return fail("a dispatch runs @" + dispatch.getKernel().str() + ", no kernel");
      plan.kernel = kernel->second;
      for (Attribute attr : dispatch.getBindings()) {
        auto binding = llvm::cast<BindingAttr>(attr);
        std::optional<std::uint32_t> buffer = bufferIndex(binding.getBuffer().getValue());
        if (!buffer) return false;
        plan.bindings.emplace_back(*buffer, binding.getOffset(), binding.getRange());
      }
      for (int64_t word : dispatch.getPush()) plan.push_constants.push_back(static_cast<std::uint32_t>(word));
      for (Attribute attr : dispatch.getPatches()) {
        auto patch = llvm::cast<PushPatchAttr>(attr);
        plan.patches.emplace_back(patch.getWord(), toSchema(patch.getValue()), patch.getMultiplier());
      }
      for (unsigned axis = 0; axis < 3; ++axis) {
        auto count = llvm::cast<WorkgroupCountAttr>(dispatch.getGroups()[axis]);
        plan.groups[axis] = fb::WorkgroupCount(count.getFixed(), toSchema(count.getValue()), count.getDivisor());
      }
      plan.barrier_before = dispatch.getBarrier();
      plan.for_matrix_units = dispatch.getForMatrixUnits();
      plan.condition = toSchema(dispatch.getWhen());
      list.push_back(std::move(plan));
    }
    return true;
  }

  ModuleOp module_;
  const std::vector<std::uint64_t>& sizes_;
  CompiledSchedule& out_;
  std::string& problem_;
  std::map<std::string, std::uint32_t> tensor_index_, buffer_index_, kernel_index_;
  std::optional<std::uint32_t> step_input_, readout_;
};

}  // namespace

bool extractSchedule(ModuleOp module, const std::vector<std::string>& tensor_names,
                     const std::vector<std::uint64_t>& tensor_sizes, CompiledSchedule& out, std::string& problem) {
  out = CompiledSchedule{};
  return Extractor(module, tensor_names, tensor_sizes, out, problem).run();
}

}  // namespace unicorn
