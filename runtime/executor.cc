#include "runtime/executor.h"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "runtime/error.h"
#include "runtime/gpu/staged_uploader.h"
#include "runtime/schedule_check.h"

namespace unicorn {
namespace {

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// The run-time values a chunk's push constants and workgroup counts depend on
// (schemas/schedule.fbs, ChunkValue).
struct ChunkValues {
  std::uint32_t tokens, readout_rows, context;
  std::uint32_t get(fb::ChunkValue value) const {
    switch (value) {
      case fb::ChunkValue::Tokens: return tokens;
      case fb::ChunkValue::LastToken: return tokens - 1;
      case fb::ChunkValue::ReadoutRows: return readout_rows;
      case fb::ChunkValue::FirstReadoutRow: return tokens - readout_rows;
      case fb::ChunkValue::LastReadoutRow: return readout_rows - 1;
      case fb::ChunkValue::Context: return context;
    }
    return 0;
  }
};

// The pipeline of one of the schedule's kernel modules.
gpu::ComputePipelineDesc pipelineDesc(const fb::KernelModule& module) {
  gpu::ComputePipelineDesc desc;
  desc.name = module.name()->str();
  desc.spirv = std::span<const std::uint32_t>(module.spirv()->data(), module.spirv()->size());
  desc.entry_point = module.entry_point()->str();
  desc.storage_buffer_count = module.binding_count();
  if (module.array_sizes()) desc.array_sizes.assign(module.array_sizes()->begin(), module.array_sizes()->end());
  desc.push_constant_bytes = module.push_constant_bytes();
  desc.required_subgroup_size = module.subgroup_size();
  return desc;
}

// The bytes of weights a dispatch binds, each byte once where its bindings
// overlap (a quantised weight's dispatch binds its segment whole as quants and
// again as scales): what a product reads.
std::uint64_t weightBytesBound(const fb::Schedule& schedule, const fb::Dispatch& dispatch) {
  std::vector<std::tuple<std::uint32_t, std::uint64_t, std::uint64_t>> windows;  // buffer, begin, end
  for (const fb::Binding* binding : *dispatch.bindings()) {
    const fb::ScheduleBuffer& buffer = *schedule.buffers()->Get(binding->buffer());
    if (buffer.kind() != fb::BufferKind::Weight) continue;
    const std::uint64_t end = binding->range() != 0 ? binding->offset() + binding->range() : buffer.bytes();
    windows.emplace_back(binding->buffer(), binding->offset(), end);
  }
  std::sort(windows.begin(), windows.end());
  std::uint64_t bytes = 0, covered_end = 0;
  for (std::size_t w = 0; w < windows.size(); ++w) {
    const auto [buffer, begin, end] = windows[w];
    const bool same_buffer = w > 0 && std::get<0>(windows[w - 1]) == buffer;
    const std::uint64_t from = same_buffer ? std::max(begin, covered_end) : begin;
    if (end > from) bytes += end - from;
    covered_end = same_buffer ? std::max(covered_end, end) : end;
  }
  return bytes;
}

}  // namespace

void ScheduleExecutor::requireRunnable(const BundleView& bundle, std::uint32_t context) {
  if (!bundle.header().schedule()) {
    throw Error(ExitCode::kInvalidInput, bundle.path().string() + ": cannot generate: it has no execution schedule "
                                                                  "(recompile it with this unicorn-compile)");
  }
  const fb::TextModelConfig& model = *bundle.header().model();
  if (context == 0 || context > model.max_position_embeddings()) {
    throw Error(ExitCode::kInvalidInput, "--ctx " + std::to_string(context) + " is outside 1.." +
                                             std::to_string(model.max_position_embeddings()) +
                                             " (the model's max_position_embeddings)");
  }
}

ScheduleExecutor::ScheduleExecutor(const BundleView& bundle, gpu::GpuDevice& device, std::uint32_t context) {
  requireRunnable(bundle, context);
  device_ = &device;
  context_ = context;
  schedule_ = bundle.header().schedule();
  prefill_chunk_ = schedule_->prefill_chunk();
  readout_rows_ = readoutRows(*schedule_);
  readout_top_k_ = schedule_->readout_top_k();
  vocab_ = bundle.header().model()->vocab_size();

  // One pipeline per module that runs: each dispatched kernel's own, or its
  // fallback's where this device cannot run it (the schedule check made the
  // fallback a true stand-in); a kernel without one that cannot run refuses the
  // device. A fallback nothing needs here is never compiled. Modules only the
  // sample kernel's dispatches run are made when sampling is first asked for
  // (setSampling): greedy generation, the default, never needs them, and on an
  // H200 the sample kernel took 1.1-1.8 s to compile, ten times any other.
  // The setup program's kernels count only where its dispatches run
  // (setupNeeded, which needs the other programs' modules first).
  const std::uint32_t kernel_count = schedule_->kernels()->size();
  std::vector<bool> dispatched(kernel_count, false), needed_now(kernel_count, false);
  for (const auto* list : {schedule_->prefill(), schedule_->decode()}) {
    for (const fb::Dispatch* dispatch : *list) {
      dispatched[dispatch->kernel()] = true;
      if (dispatch->condition() != fb::DispatchCondition::SampledToken) needed_now[dispatch->kernel()] = true;
    }
  }
  module_of_kernel_.assign(kernel_count, kNoPipeline);
  std::map<std::uint32_t, bool> module_needed_now;  // by module (kernel index)
  auto chooseModule = [&](std::uint32_t i) {
    const fb::KernelModule& module = *schedule_->kernels()->Get(i);
    std::uint32_t runs = i;
    if (module.fallback() >= 0) {
      if (std::optional<std::string> missing = gpu::ComputePipeline::shortfall(device, pipelineDesc(module))) {
        runs = static_cast<std::uint32_t>(module.fallback());
        substitutions_.push_back({i, runs, *missing});
      }
    }
    module_of_kernel_[i] = runs;
    module_needed_now[runs] = module_needed_now[runs] || needed_now[i];
    if (module.fallback() >= 0 && runs == i) own_modules_with_fallback_run_ = true;
  };
  for (std::uint32_t i = 0; i < kernel_count; ++i) {
    if (dispatched[i]) chooseModule(i);
  }
  if (schedule_->setup()) {
    setup_needed_ = setupNeeded();
    for (std::uint32_t i = 0; i < schedule_->setup()->size(); ++i) {
      const std::uint32_t kernel = schedule_->setup()->Get(i)->kernel();
      if (!setup_needed_[i] || module_of_kernel_[kernel] != kNoPipeline) continue;
      needed_now[kernel] = true;
      chooseModule(kernel);
    }
  }
  // Pipelines are indexed as pipelines_ will hold them: those made now, then the deferred ones.
  std::map<std::uint32_t, std::uint32_t> pipeline_of_module;
  std::vector<gpu::ComputePipelineDesc> descs;
  for (bool now : {true, false}) {
    for (const auto& [module, needed] : module_needed_now) {
      if (needed != now) continue;
      pipeline_of_module[module] = static_cast<std::uint32_t>(descs.size() + deferred_pipelines_.size());
      (now ? descs : deferred_pipelines_).push_back(pipelineDesc(*schedule_->kernels()->Get(module)));
    }
  }
  pipeline_of_kernel_.assign(kernel_count, kNoPipeline);
  for (std::uint32_t i = 0; i < kernel_count; ++i) {
    if (module_of_kernel_[i] != kNoPipeline) pipeline_of_kernel_[i] = pipeline_of_module.at(module_of_kernel_[i]);
  }
  // Drivers compile the pipelines while this thread copies the weights.
  std::future<std::vector<gpu::ComputePipeline>> pipelines = std::async(std::launch::async, [&device, &descs, this] {
    const Clock::time_point start = Clock::now();
    std::vector<double> seconds;
    std::vector<gpu::ComputePipeline> made = gpu::ComputePipeline::createAll(device, descs, 0, &seconds);
    load_times_.pipelines_seconds = secondsSince(start);
    for (std::size_t i = 0; i < descs.size(); ++i) load_times_.slowest_pipelines.emplace_back(descs[i].name, seconds[i]);
    std::sort(load_times_.slowest_pipelines.begin(), load_times_.slowest_pipelines.end(),
              [](const auto& a, const auto& b) { return a.second > b.second; });
    load_times_.slowest_pipelines.resize(std::min<std::size_t>(load_times_.slowest_pipelines.size(), 3));
    return made;
  });

  // Buffers, in schedule order. Weights first become resident: nothing is
  // loaded once tokens flow. DESIGN.md: an integrated GPU reads the mapped bundle
  // in place (zero copies); a discrete GPU gets one upload into its own memory —
  // its memory is faster than reading over the bus, and drivers such as NVIDIA's
  // refuse to import file-backed mappings at all.
  const gpu::ResidencyPolicy weight_policy = device.capabilities().type == gpu::DeviceType::kDiscreteGpu
                                                 ? gpu::ResidencyPolicy::kCopy
                                                 : gpu::ResidencyPolicy::kImportOrCopy;
  const Clock::time_point weights_start = Clock::now();
  gpu::StagedUploader uploader(device);  // one ring of staging chunks for every weight
  for (const fb::ScheduleBuffer* plan : *schedule_->buffers()) {
    const std::string label = plan->name() ? plan->name()->str() : "buffer";
    switch (plan->kind()) {
      case fb::BufferKind::Weight: {
        const fb::Tensor& tensor = *bundle.header().tensors()->Get(plan->tensor_index());
        gpu::ResidentBuffer resident =
            gpu::makeResident(device, bundle.tensorBytes(tensor), weight_policy, label, &uploader);
        residency_.push_back(resident.report);
        buffers_.push_back(std::make_unique<gpu::GpuBuffer>(std::move(resident.buffer)));
        break;
      }
      case fb::BufferKind::PreviousStepInput:
        buffers_.push_back(nullptr);  // the other step input, bound per decode recording
        break;
      case fb::BufferKind::StepInput:
      case fb::BufferKind::Readout:
        buffers_.push_back(std::make_unique<gpu::GpuBuffer>(
            gpu::GpuBuffer::allocate(device, plan->bytes(), gpu::MemoryPlacement::kHostVisible, label)));
        break;
      case fb::BufferKind::Activation:
        buffers_.push_back(std::make_unique<gpu::GpuBuffer>(
            gpu::GpuBuffer::allocate(device, plan->bytes(), gpu::MemoryPlacement::kDeviceLocal, label)));
        break;
      case fb::BufferKind::KeyCache:
      case fb::BufferKind::ValueCache: {
        const std::uint64_t slots = plan->capacity() == fb::KvCapacity::Context ? context : plan->fixed_slots();
        // Attention binds a layer's whole cache as one storage buffer.
        const std::uint64_t binding_limit = device.capabilities().max_storage_buffer_range;
        if (binding_limit && slots * plan->slot_bytes() > binding_limit) {
          throw Error(ExitCode::kDeviceMissing,
                      "--ctx " + std::to_string(context) + ": layer " + std::to_string(plan->layer()) +
                          "'s KV cache needs " + std::to_string(slots * plan->slot_bytes()) +
                          " bytes in one binding; device '" + device.capabilities().name + "' binds at most " +
                          std::to_string(binding_limit) + " (maxStorageBufferRange): use --ctx " +
                          std::to_string(binding_limit / plan->slot_bytes()) + " or less");
        }
        buffers_.push_back(std::make_unique<gpu::GpuBuffer>(gpu::GpuBuffer::allocate(
            device, slots * plan->slot_bytes(), gpu::MemoryPlacement::kDeviceLocal,
            label + " (" + std::to_string(slots) + " slots)")));
        break;
      }
    }
  }

  uploader.finish();  // every weight is resident from here on
  // Activation buffers start zeroed (schemas/schedule.fbs): split-K
  // attention's counts rely on it, and a stale arena cannot leak into a run.
  {
    gpu::CommandStream zeroing(device);
    zeroing.begin();
    for (std::size_t i = 0; i < buffers_.size(); ++i) {
      if (schedule_->buffers()->Get(i)->kind() == fb::BufferKind::Activation) zeroing.zeroBuffer(*buffers_[i]);
    }
    zeroing.memoryBarrier(gpu::Hazard::kTransferToCompute);
    zeroing.end();
    zeroing.submitAndWait();
  }
  gpu::GpuBuffer& step_input = *buffers_[schedule_->step_input_buffer()];
  twin_step_input_ = std::make_unique<gpu::GpuBuffer>(gpu::GpuBuffer::allocate(
      device, step_input.size(), gpu::MemoryPlacement::kHostVisible, step_input.label() + " (second decode recording)"));
  const std::vector<std::byte> zeros(step_input.size());
  twin_step_input_->write(0, zeros);
  step_inputs_ = {&step_input, twin_step_input_.get()};
  load_times_.weights_seconds = secondsSince(weights_start);
  load_times_.upload_seconds = uploader.busySeconds();
  pipelines_ = pipelines.get();
  load_times_.pipelines = static_cast<std::uint32_t>(pipelines_.size());

  std::uint32_t sets = 0, bindings = 0;
  const auto* setup = schedule_->setup();
  for (const auto* list : {schedule_->prefill(), schedule_->decode(), schedule_->decode(), setup}) {  // decode: twice
    if (!list) continue;
    sets += list->size();
    for (const fb::Dispatch* dispatch : *list) bindings += dispatch->bindings()->size();
  }
  pool_ = std::make_unique<gpu::DescriptorPool>(gpu::DescriptorPool::create(device, sets, bindings));
  prefill_sets_.assign(schedule_->prefill()->size(), VK_NULL_HANDLE);
  for (unsigned r = 0; r < 2; ++r) {
    decode_sets_[r].assign(schedule_->decode()->size(), VK_NULL_HANDLE);
    decode_streams_[r] = std::make_unique<gpu::CommandStream>(device);
  }
  allocateSets();
  prefill_stream_ = std::make_unique<gpu::CommandStream>(device);
  runSetup(device);
  recordDecode();
}

std::uint32_t ScheduleExecutor::descriptorsBound(std::uint32_t kernel) const {
  const fb::KernelModule& module = *schedule_->kernels()->Get(module_of_kernel_[kernel]);
  if (!module.array_sizes()) return module.binding_count();
  return std::accumulate(module.array_sizes()->begin(), module.array_sizes()->end(), 0u);
}

std::vector<bool> ScheduleExecutor::setupNeeded() const {
  // The activation ranges the chunks' and steps' dispatches bind as they run
  // here: a fallback binds only the first of its kernel's bindings.
  std::vector<std::tuple<std::uint32_t, std::uint64_t, std::uint64_t>> bound;  // buffer, begin, end
  auto rangeOf = [this](const fb::Binding& b) {
    const std::uint64_t end = b.range() != 0 ? b.offset() + b.range() : schedule_->buffers()->Get(b.buffer())->bytes();
    return std::make_tuple(b.buffer(), b.offset(), end);
  };
  for (const auto* list : {schedule_->prefill(), schedule_->decode()}) {
    for (const fb::Dispatch* d : *list) {
      const std::uint32_t descriptors = std::min(descriptorsBound(d->kernel()), d->bindings()->size());
      for (std::uint32_t j = 0; j < descriptors; ++j) {
        const fb::Binding& b = *d->bindings()->Get(j);
        if (schedule_->buffers()->Get(b.buffer())->kind() == fb::BufferKind::Activation) bound.push_back(rangeOf(b));
      }
    }
  }
  const auto& setup = *schedule_->setup();
  std::vector<bool> needed(setup.size(), false);
  for (std::uint32_t i = 0; i < setup.size(); ++i) {
    for (const fb::Binding* b : *setup.Get(i)->bindings()) {
      if (schedule_->buffers()->Get(b->buffer())->kind() != fb::BufferKind::Activation) continue;
      const auto [buffer, begin, end] = rangeOf(*b);
      for (const auto& [other, other_begin, other_end] : bound) {
        if (other == buffer && begin < other_end && other_begin < end) needed[i] = true;
      }
    }
  }
  return needed;
}

void ScheduleExecutor::runSetup(gpu::GpuDevice& device) {
  const auto* setup = schedule_->setup();
  if (!setup || setup->size() == 0) return;
  // Once, before any chunk: what the programs read that the weights alone
  // determine (schedule.fbs, Schedule.setup), where anything that runs here
  // reads it: a product on its tiled fallback reads no row bounds.
  const Clock::time_point start = Clock::now();
  const std::vector<bool>& needed = setup_needed_;
  if (std::find(needed.begin(), needed.end(), true) == needed.end()) return;
  std::vector<VkDescriptorSet> sets(setup->size(), VK_NULL_HANDLE);
  allocateSetsOf(*setup, nullptr, nullptr, sets);
  gpu::CommandStream stream(device);
  stream.begin();
  for (std::uint32_t i = 0; i < setup->size(); ++i) {
    if (!needed[i]) continue;
    // No conditions, patches or chunk-counted workgroups (the schedule check).
    const fb::Dispatch& d = *setup->Get(i);
    const std::vector<std::uint32_t> push(d.push_constants()->begin(), d.push_constants()->end());
    const std::array<std::uint32_t, 3> groups{d.groups()->Get(0)->fixed(), d.groups()->Get(1)->fixed(),
                                              d.groups()->Get(2)->fixed()};
    stream.dispatch(pipelineFor(d.kernel()), sets[i], std::as_bytes(std::span(push)), groups);
  }
  stream.memoryBarrier(gpu::Hazard::kComputeToCompute);  // for every submission after
  stream.end();
  stream.submitAndWait();
  load_times_.setup_seconds = secondsSince(start);
}

ScheduleExecutor::~ScheduleExecutor() {
  // Streams wait for their submissions; the device outlives everything here.
  prefill_stream_.reset();
  for (std::unique_ptr<gpu::CommandStream>& stream : decode_streams_) stream.reset();
}

void ScheduleExecutor::recordDecode() {
  drainDecode();
  for (unsigned r = 0; r < 2; ++r) {
    decode_recorded_ = record(*decode_streams_[r], *schedule_->decode(), decode_sets_[r], /*tokens=*/1,
                              /*logits=*/true, /*dump=*/false, profiled_, /*decode_step=*/true);
  }
}

std::vector<gpu::ComputePipelineDesc> ScheduleExecutor::modulesRun() const {
  std::set<std::uint32_t> modules;
  for (std::uint32_t module : module_of_kernel_) {
    if (module != kNoPipeline) modules.insert(module);
  }
  std::vector<gpu::ComputePipelineDesc> descs;
  for (std::uint32_t module : modules) descs.push_back(pipelineDesc(*schedule_->kernels()->Get(module)));
  return descs;
}

const std::string& ScheduleExecutor::kernelName(std::uint32_t kernel) const {
  const std::uint32_t pipeline = pipeline_of_kernel_.at(kernel);
  return pipeline < pipelines_.size() ? pipelines_[pipeline].name()
                                      : deferred_pipelines_.at(pipeline - pipelines_.size()).name;
}

void ScheduleExecutor::allocateSetsOf(const flatbuffers::Vector<flatbuffers::Offset<fb::Dispatch>>& list,
                                      gpu::GpuBuffer* step_input, gpu::GpuBuffer* previous,
                                      std::vector<VkDescriptorSet>& sets) {
  for (std::uint32_t i = 0; i < list.size(); ++i) {
    const fb::Dispatch& dispatch = *list.Get(i);
    if (sets[i] != VK_NULL_HANDLE || pipeline_of_kernel_[dispatch.kernel()] >= pipelines_.size()) continue;
    // A fallback binds what the kernel it stands in for binds first, and
    // not what that one alone reads after (the schedule check holds it).
    const gpu::ComputePipeline& pipeline = pipelineFor(dispatch.kernel());
    std::vector<gpu::BufferBinding> bound;
    for (const fb::Binding* b : *dispatch.bindings()) {
      if (bound.size() == pipeline.descriptorCount()) break;
      gpu::GpuBuffer* buffer = b->buffer() == schedule_->step_input_buffer() ? step_input
                               : buffers_[b->buffer()]                         ? buffers_[b->buffer()].get()
                                                                               : previous;
      bound.push_back({buffer, b->offset(), b->range() == 0 ? VK_WHOLE_SIZE : b->range()});
    }
    sets[i] = pool_->allocate(pipeline, bound);
  }
}

void ScheduleExecutor::allocateSets() {
  // The schedule check admits PreviousStepInput in decode dispatches only.
  allocateSetsOf(*schedule_->prefill(), step_inputs_[0], nullptr, prefill_sets_);
  for (unsigned r = 0; r < 2; ++r) {
    allocateSetsOf(*schedule_->decode(), step_inputs_[r], step_inputs_[1 - r], decode_sets_[r]);
  }
}

void ScheduleExecutor::drainDecode() {
  for (; !in_flight_.empty(); in_flight_.pop_front()) decode_streams_[in_flight_.front()]->wait();
}

std::vector<std::uint32_t> ScheduleExecutor::record(gpu::CommandStream& stream,
                                                    const flatbuffers::Vector<flatbuffers::Offset<fb::Dispatch>>& list,
                                                    const std::vector<VkDescriptorSet>& sets, std::uint32_t tokens,
                                                    bool logits, bool dump, bool per_dispatch,
                                                    bool decode_step) const {
  const ChunkValues values{tokens, dump ? tokens : 1u, context_};
  std::vector<std::uint32_t> recorded;
  stream.begin(timed_, per_dispatch ? list.size() : 0);
  // The step before may still be running (submitDecode): its writes (KV
  // slots, activations, the token id this step reads from its input) reach
  // this step's dispatches.
  if (decode_step) stream.memoryBarrier(gpu::Hazard::kComputeToCompute);
  for (std::uint32_t i = 0; i < list.size(); ++i) {
    const fb::Dispatch& d = *list.Get(i);
    if (d.condition() == fb::DispatchCondition::LogitsNeeded && !logits) continue;
    if (d.condition() == fb::DispatchCondition::DumpLogits && !dump) continue;
    if (d.condition() == fb::DispatchCondition::OneLogitsRow && (!logits || dump)) continue;
    if (d.condition() == fb::DispatchCondition::GreedyToken && (!logits || sampling_)) continue;
    if (d.condition() == fb::DispatchCondition::SampledToken && (!logits || !sampling_)) continue;
    if (d.for_matrix_units() && !own_modules_with_fallback_run_) {
      // What it writes only the kernels with a fallback (the
      // cooperative-matrix products) read, and here their fallbacks run:
      // left out, its barrier kept (the schedule's hazards count on it).
      if (d.barrier_before()) stream.memoryBarrier(gpu::Hazard::kComputeToCompute);
      continue;
    }
    std::vector<std::uint32_t> push(d.push_constants()->begin(), d.push_constants()->end());
    if (d.patches()) {
      for (const fb::PushPatch* p : *d.patches()) push[p->word()] += p->multiplier() * values.get(p->value());
    }
    std::array<std::uint32_t, 3> groups{};
    for (std::uint32_t axis = 0; axis < 3; ++axis) {
      const fb::WorkgroupCount& g = *d.groups()->Get(axis);
      groups[axis] = g.divisor() == 0 ? g.fixed() : g.fixed() * ((values.get(g.value()) + g.divisor() - 1) / g.divisor());
    }
    if (d.barrier_before()) stream.memoryBarrier(gpu::Hazard::kComputeToCompute);
    stream.dispatch(pipelineFor(d.kernel()), sets[i], std::as_bytes(std::span(push)), groups);
    if (per_dispatch) stream.markTime();
    recorded.push_back(i);
  }
  // The CPU reads the sampled id (and the readout) through their mappings.
  stream.memoryBarrier(gpu::Hazard::kComputeToHost);
  stream.end();
  return recorded;
}

void ScheduleExecutor::prefill(std::span<const std::int32_t> ids, std::uint32_t first_position, bool compute_logits,
                               std::vector<LogitsReadout>* readout) {
  if (ids.empty() || ids.size() > (readout ? readout_rows_ : prefill_chunk_)) {
    throw std::logic_error("prefill chunk of " + std::to_string(ids.size()) + " tokens" +
                           (readout ? " with a readout" : ""));
  }
  const std::uint32_t tokens = static_cast<std::uint32_t>(ids.size());
  if (std::uint64_t(first_position) + tokens > context_) {
    throw Error(ExitCode::kInvalidInput, "position " + std::to_string(first_position + tokens - 1) +
                                             " does not fit the context of " + std::to_string(context_) +
                                             " tokens (--ctx)");
  }
  drainDecode();  // their tokens are superseded; they must not read the input rewritten here
  std::vector<std::uint32_t> input(2 * prefill_chunk_, 0);
  for (std::uint32_t t = 0; t < tokens; ++t) {
    if (ids[t] < 0 || std::uint32_t(ids[t]) >= vocab_) {
      throw Error(ExitCode::kInvalidInput, "token id " + std::to_string(ids[t]) + " is outside the vocabulary 0.." +
                                               std::to_string(vocab_ - 1));
    }
    input[t] = static_cast<std::uint32_t>(ids[t]);
    input[prefill_chunk_ + t] = first_position + t;
  }
  step_inputs_[0]->write(0, std::as_bytes(std::span(input)));
  const bool dump = readout != nullptr;
  prefill_recorded_ =
      record(*prefill_stream_, *schedule_->prefill(), prefill_sets_, tokens, compute_logits || dump, dump, profiled_);
  prefill_stream_->submitAndWait();
  last_stream_ = prefill_stream_.get();
  sampled_input_ = 0;  // the prefill's token is in the schedule's own step input,
  next_decode_ = 1;    // which the second recording reads it from (PreviousStepInput)
  if (!dump) return;
  const std::uint32_t row_words = schedule_->readout_row_words();
  std::vector<std::uint32_t> rows(std::size_t(tokens) * row_words);
  buffers_[schedule_->readout_buffer()]->read(0, std::as_writable_bytes(std::span(rows)));
  auto asFloat = [](std::uint32_t bits) {
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
  };
  // One read for the chunk: on a discrete GPU each read is a staged copy.
  std::vector<float> full;
  if (capture_full_logits_) {
    full.resize(std::size_t(tokens) * vocab_);
    buffers_[schedule_->logits_buffer()]->read(schedule_->logits_offset(), std::as_writable_bytes(std::span(full)));
  }
  for (std::uint32_t t = 0; t < tokens; ++t) {
    const std::uint32_t* row = &rows[std::size_t(t) * row_words];
    LogitsReadout entry{first_position + t, asFloat(row[0]), {}, {}};
    for (std::uint32_t r = 0; r < readout_top_k_; ++r) {
      entry.top.emplace_back(static_cast<std::int32_t>(row[1 + 2 * r]), asFloat(row[2 + 2 * r]));
    }
    if (capture_full_logits_) entry.logits.assign(full.begin() + std::size_t(t) * vocab_, full.begin() + std::size_t(t + 1) * vocab_);
    readout->push_back(std::move(entry));
  }
}

void ScheduleExecutor::decode(std::uint32_t position) {
  submitDecode(position);
  drainDecode();
  last_stream_ = decode_streams_[next_decode_ ^ 1u].get();
  sampled_input_ = next_decode_ ^ 1u;
}

void ScheduleExecutor::submitDecode(std::uint32_t position) {
  if (position >= context_) {
    throw Error(ExitCode::kInvalidInput, "position " + std::to_string(position) + " does not fit the context of " +
                                             std::to_string(context_) + " tokens (--ctx)");
  }
  if (in_flight_.size() == 2) throw std::logic_error("submitDecode: two decode steps are already in flight");
  const unsigned r = next_decode_;
  // positions[0]; the recording reads ids[0] from the other recording's input.
  step_inputs_[r]->write(std::uint64_t(prefill_chunk_) * 4, std::as_bytes(std::span(&position, 1)));
  decode_streams_[r]->submit();
  in_flight_.push_back(r);
  next_decode_ = r ^ 1u;
}

std::int32_t ScheduleExecutor::finishDecode() {
  if (in_flight_.empty()) throw std::logic_error("finishDecode: no decode step in flight");
  const unsigned r = in_flight_.front();
  decode_streams_[r]->wait();
  in_flight_.pop_front();
  last_stream_ = decode_streams_[r].get();
  sampled_input_ = r;
  return sampledToken();
}

void ScheduleExecutor::setGpuTiming(bool timed, bool per_dispatch) {
  timed_ = timed;
  profiled_ = timed && per_dispatch;
  last_stream_ = nullptr;
  recordDecode();
}

ScheduleExecutor::Profile ScheduleExecutor::lastProfile() const {
  const bool prefill_last = last_stream_ == prefill_stream_.get();
  const bool decode_last = last_stream_ == decode_streams_[0].get() || last_stream_ == decode_streams_[1].get();
  if (!profiled_ || !(prefill_last || decode_last)) return {};
  const auto& program = prefill_last ? *schedule_->prefill() : *schedule_->decode();
  const std::vector<std::uint32_t>& recorded = prefill_last ? prefill_recorded_ : decode_recorded_;
  const std::vector<double> marks = last_stream_->markSeconds();
  if (marks.size() != recorded.size()) return {};
  Profile profile;
  double previous = 0;
  for (std::size_t i = 0; i < recorded.size(); ++i) {
    const fb::Dispatch& dispatch = *program.Get(recorded[i]);
    const double mark = marks[i];
    profile.dispatches.push_back(
        {dispatch.kernel(), std::max(0.0, mark - previous), weightBytesBound(*schedule_, dispatch)});
    previous = std::max(previous, mark);
  }
  return profile;
}

std::optional<double> ScheduleExecutor::lastGpuSeconds() const {
  return last_stream_ ? last_stream_->gpuSeconds() : std::nullopt;
}

void ScheduleExecutor::requireValidSampling(const SamplingSettings& settings) {
  if (!(settings.temperature >= 0.0f) || !std::isfinite(settings.temperature)) {
    throw Error(ExitCode::kUsage, "--temperature must be a finite number >= 0 (0: greedy)");
  }
  if (!(settings.top_p > 0.0f && settings.top_p <= 1.0f)) {
    throw Error(ExitCode::kUsage, "--top-p must lie in (0, 1] (1: off)");
  }
}

void ScheduleExecutor::setSampling(const SamplingSettings& settings) {
  requireValidSampling(settings);
  const std::uint32_t words[5] = {std::bit_cast<std::uint32_t>(settings.temperature), settings.top_k,
                                  std::bit_cast<std::uint32_t>(settings.top_p),
                                  static_cast<std::uint32_t>(settings.seed),
                                  static_cast<std::uint32_t>(settings.seed >> 32)};
  drainDecode();  // a step in flight may still read the parameters
  if (settings.temperature > 0.0f && !deferred_pipelines_.empty()) {
    for (gpu::ComputePipeline& pipeline : gpu::ComputePipeline::createAll(*device_, deferred_pipelines_)) {
      pipelines_.push_back(std::move(pipeline));
    }
    deferred_pipelines_.clear();
    allocateSets();
  }
  for (gpu::GpuBuffer* input : step_inputs_) {
    input->write(std::uint64_t(schedule_->sampling_params_word()) * 4, std::as_bytes(std::span(words)));
  }
  sampling_ = settings.temperature > 0.0f;
  recordDecode();
}

std::int32_t ScheduleExecutor::sampledToken() const {
  std::uint32_t id = 0;
  step_inputs_[sampled_input_]->read(0, std::as_writable_bytes(std::span(&id, 1)));
  return static_cast<std::int32_t>(id);
}

}  // namespace unicorn
