#include "runtime/benchmark.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>

#include "runtime/error.h"
#include "runtime/executor.h"
#include "runtime/gpu/command_stream.h"
#include "runtime/gpu/compute_pipeline.h"
#include "runtime/gpu/descriptor_pool.h"
#include "runtime/gpu/device_listing.h"
#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/gpu/random_fill.h"

namespace unicorn {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

double secondsBetween(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Decode steps run before any measurement, so that first-use costs (driver
// shader caches, page faults in fresh buffers) stay out of the figures.
constexpr std::uint32_t kWarmUpSteps = 4;

// What one decode step reads, from the bundle: every weight the decode program
// binds, whole (a matvec streams all of it), except a table bound only by the
// embedding lookup, which reads one row per token; and, per position, the keys
// and values each attention layer sees.
class DecodeTraffic {
 public:
  explicit DecodeTraffic(const BundleView& bundle) : model_(*bundle.header().model()) {
    const fb::Schedule& schedule = *bundle.header().schedule();
    std::map<std::uint32_t, bool> read_whole;  // weight buffer -> bound by a kernel that reads it all
    for (const fb::Dispatch* dispatch : *schedule.decode()) {
      const std::string kernel = schedule.kernels()->Get(dispatch->kernel())->name()->str();
      const bool lookup = kernel.rfind("embedding", 0) == 0;
      for (const fb::Binding* binding : *dispatch->bindings()) {
        if (schedule.buffers()->Get(binding->buffer())->kind() != fb::BufferKind::Weight) continue;
        read_whole[binding->buffer()] = read_whole[binding->buffer()] || !lookup;
      }
    }
    for (const auto& [buffer, whole] : read_whole) {
      const fb::ScheduleBuffer& plan = *schedule.buffers()->Get(buffer);
      const fb::Tensor& tensor = *bundle.header().tensors()->Get(plan.tensor_index());
      const std::uint64_t rows = tensor.shape()->size() == 2 ? tensor.shape()->Get(0) : 1;
      weight_bytes_ += whole ? plan.bytes() : plan.bytes() / std::max<std::uint64_t>(rows, 1);
    }
    for (const fb::ScheduleBuffer* plan : *schedule.buffers()) {
      if (plan->kind() == fb::BufferKind::KeyCache || plan->kind() == fb::BufferKind::ValueCache) {
        caches_.push_back({plan->slot_bytes(), model_.layer_is_sliding()->Get(plan->layer()) != 0});
      }
    }
  }

  std::uint64_t weightBytes() const { return weight_bytes_; }
  // Keys and values the attention of a token at `position` reads.
  std::uint64_t kvBytes(std::uint32_t position) const {
    std::uint64_t bytes = 0;
    for (const Cache& cache : caches_) {
      const std::uint64_t visible = cache.sliding ? std::min<std::uint64_t>(position + 1, model_.sliding_window())
                                                  : std::uint64_t(position) + 1;
      bytes += visible * cache.slot_bytes;
    }
    return bytes;
  }

 private:
  struct Cache {
    std::uint64_t slot_bytes;
    bool sliding;
  };
  const fb::TextModelConfig& model_;
  std::uint64_t weight_bytes_ = 0;
  std::vector<Cache> caches_;
};

// Multiply-adds of one prompt token in the matrix products (2 FLOPs each): the
// projections of every layer; the LM head runs for one row per prompt, not per token.
double matmulFlopsPerToken(const BundleView& bundle) {
  double flops = 0;
  for (const fb::Tensor* tensor : *bundle.header().tensors()) {
    const std::string name = tensor->name()->str();
    if (tensor->shape()->size() == 2 && name.size() > 12 && name.ends_with("_proj.weight")) {
      flops += 2.0 * double(tensor->shape()->Get(0)) * double(tensor->shape()->Get(1));
    }
  }
  return flops;
}

std::string weightFormat(const BundleView& bundle) {
  std::set<fb::QuantScheme> schemes;
  for (const fb::Tensor* tensor : *bundle.header().tensors()) schemes.insert(tensor->quant());
  if (schemes.contains(fb::QuantScheme::Q4Block32)) return "q4";
  if (schemes.contains(fb::QuantScheme::Q8Block32)) return "q8";
  return "bf16";
}

// Submits the recorded `stream` again and again for `seconds` and returns how
// long that took. Measurements are warmed up because a GPU lowers its clocks
// when idle (an H200's shader clock idles at 345 of 1980 MHz): unwarmed, its
// streaming read came out 1.7 TB/s or 4.2 TB/s from one run to the next, and
// the copy halved with it.
double keepBusy(gpu::CommandStream& stream, double seconds) {
  const Clock::time_point start = Clock::now();
  while (secondsBetween(start, Clock::now()) < seconds) stream.submitAndWait();
  return secondsBetween(start, Clock::now());
}

// The fastest of `trials` submissions of the recorded `stream`, by GPU
// timestamps (the wall clock where the queue has none: gpu_timed false).
struct Fastest {
  double seconds = 0;
  bool gpu_timed = true;
};
Fastest fastestOf(gpu::CommandStream& stream, int trials) {
  Fastest fastest;
  for (int trial = 0; trial < trials; ++trial) {
    const Clock::time_point start = Clock::now();
    stream.submitAndWait();
    const double wall = secondsBetween(start, Clock::now());
    const std::optional<double> gpu_seconds = stream.gpuSeconds();
    fastest.gpu_timed = fastest.gpu_timed && gpu_seconds.has_value();
    const double seconds = gpu_seconds.value_or(wall);
    if (trial == 0 || seconds < fastest.seconds) fastest.seconds = seconds;
  }
  return fastest;
}

// Runs `step` (recording one pass over `bytes` into a stream) once to touch the
// memory, keeps the GPU busy with it for kWarmUpSeconds, then times kPasses in
// one submission (`barrier` between passes), the fastest of kTrials.
json timeBandwidth(gpu::GpuDevice& device, std::uint64_t bytes, double bytes_moved_per_pass, gpu::Hazard barrier,
                   const std::function<void(gpu::CommandStream&)>& step) {
  constexpr int kPasses = 4, kWarmUpPasses = 16, kTrials = 3;
  constexpr double kWarmUpSeconds = 0.3;
  gpu::CommandStream stream(device);
  auto record = [&](int passes) {
    stream.begin(/*timed=*/true);
    for (int i = 0; i < passes; ++i) {
      if (i) stream.memoryBarrier(barrier);
      step(stream);
    }
    stream.end();
  };
  record(1);
  stream.submitAndWait();  // first touch
  record(kWarmUpPasses);
  const double warm_up = keepBusy(stream, kWarmUpSeconds);
  record(kPasses);
  const Fastest fastest = fastestOf(stream, kTrials);
  return {{"bytes", bytes},
          {"passes", kPasses},
          {"trials", kTrials},
          {"warm_up_seconds", warm_up},
          {"seconds", fastest.seconds},
          {"timed_by", fastest.gpu_timed ? "gpu" : "wall"},
          {"GBps", bytes_moved_per_pass * kPasses / fastest.seconds / 1e9}};
}

// A device-local buffer copied to another: counted as bytes read plus written.
json measureCopyBandwidth(gpu::GpuDevice& device) {
  const gpu::DeviceCapabilities& caps = device.capabilities();
  std::uint64_t bytes = std::uint64_t(512) << 20;
  if (caps.max_memory_allocation_size) bytes = std::min(bytes, caps.max_memory_allocation_size / 2);
  gpu::GpuBuffer source = gpu::GpuBuffer::allocate(device, bytes, gpu::MemoryPlacement::kDeviceLocal, "bench:copy source");
  gpu::fillWithRandomWords(device, source, 0, bytes, /*seed=*/2);  // not zeros: random_fill.h
  gpu::GpuBuffer destination =
      gpu::GpuBuffer::allocate(device, bytes, gpu::MemoryPlacement::kDeviceLocal, "bench:copy destination");
  return timeBandwidth(device, bytes, 2.0 * double(bytes), gpu::Hazard::kComputeToTransfer,
                       [&](gpu::CommandStream& stream) { stream.copyBuffer(source, 0, destination, 0, bytes); });
}

// The read-bandwidth probe (gpu/probes/read_bandwidth.comp), as glslc compiled it at build time.
constexpr std::uint32_t kReadProbeSpirv[] = {
#include "runtime/gpu/probes/read_bandwidth.comp.spv.inc"
};

// The probe's pipeline with `source` and `sink` bound; push constant: the
// uvec4 count to read.
struct ReadProbe {
  gpu::ComputePipeline pipeline;
  gpu::DescriptorPool pool;
  VkDescriptorSet set = VK_NULL_HANDLE;
};
ReadProbe makeReadProbe(gpu::GpuDevice& device, const gpu::GpuBuffer& source, const gpu::GpuBuffer& sink) {
  gpu::ComputePipelineDesc desc;
  desc.name = "read_bandwidth probe";
  desc.spirv = kReadProbeSpirv;
  desc.storage_buffer_count = 2;
  desc.push_constant_bytes = 4;
  ReadProbe probe{gpu::ComputePipeline::create(device, desc), gpu::DescriptorPool::create(device, 1, 2)};
  const std::vector<gpu::BufferBinding> bindings = {{&source, 0, VK_WHOLE_SIZE}, {&sink, 0, VK_WHOLE_SIZE}};
  probe.set = probe.pool.allocate(probe.pipeline, bindings);
  return probe;
}

// A device-local buffer streamed once by a kernel that reads 16 bytes per
// invocation per step, as a matvec does: the bandwidth decode can reach. The
// buffer holds random words: zeros (a fresh allocation) may be read faster than
// weights can be (random_fill.h).
json measureReadBandwidth(gpu::GpuDevice& device) {
  const gpu::DeviceCapabilities& caps = device.capabilities();
  std::uint64_t bytes = std::uint64_t(512) << 20;
  if (caps.max_memory_allocation_size) bytes = std::min(bytes, caps.max_memory_allocation_size / 2);
  bytes = std::min(bytes, caps.max_storage_buffer_range) / 16 * 16;
  constexpr std::uint32_t kGroups = 8192, kGroupSize = 256;
  gpu::GpuBuffer source = gpu::GpuBuffer::allocate(device, bytes, gpu::MemoryPlacement::kDeviceLocal, "bench:read source");
  gpu::fillWithRandomWords(device, source, 0, bytes, /*seed=*/1);
  gpu::GpuBuffer sink = gpu::GpuBuffer::allocate(device, std::uint64_t(kGroups) * kGroupSize * 4,
                                                 gpu::MemoryPlacement::kDeviceLocal, "bench:read sink");
  const ReadProbe probe = makeReadProbe(device, source, sink);
  const std::uint32_t count = static_cast<std::uint32_t>(bytes / 16);
  return timeBandwidth(device, bytes, double(bytes), gpu::Hazard::kComputeToCompute, [&](gpu::CommandStream& stream) {
    stream.dispatch(probe.pipeline, probe.set, count, {kGroups, 1, 1});
  });
}

// What one dependent dispatch costs on this device however little it does: the
// read probe over nothing (one workgroup, one word written each), dispatched
// kDispatches times with a compute barrier before each, as decode's dispatches
// mostly are; warmed up like the bandwidths, best of 3. A decode step cannot
// take less than its dispatches times this.
json measureDispatchCost(gpu::GpuDevice& device) {
  constexpr int kDispatches = 256, kTrials = 3;
  constexpr double kWarmUpSeconds = 0.1;
  gpu::GpuBuffer source = gpu::GpuBuffer::allocate(device, 16, gpu::MemoryPlacement::kDeviceLocal, "bench:empty source");
  gpu::GpuBuffer sink = gpu::GpuBuffer::allocate(device, 256 * 4, gpu::MemoryPlacement::kDeviceLocal, "bench:empty sink");
  const ReadProbe probe = makeReadProbe(device, source, sink);
  gpu::CommandStream stream(device);
  stream.begin(/*timed=*/true);
  for (int i = 0; i < kDispatches; ++i) {
    if (i) stream.memoryBarrier(gpu::Hazard::kComputeToCompute);
    stream.dispatch(probe.pipeline, probe.set, std::uint32_t{0}, {1, 1, 1});
  }
  stream.end();
  keepBusy(stream, kWarmUpSeconds);
  const Fastest fastest = fastestOf(stream, kTrials);
  if (!fastest.gpu_timed) return {{"skipped", "the device has no timestamps on its compute queue"}};
  return {{"dispatches", kDispatches}, {"seconds_per_dispatch", fastest.seconds / kDispatches}};
}

// Token ids for synthetic prompts: spread over the vocabulary, deterministic.
std::vector<std::int32_t> syntheticPrompt(std::uint32_t tokens, std::uint32_t vocab) {
  std::vector<std::int32_t> ids(tokens);
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  for (std::int32_t& id : ids) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    id = static_cast<std::int32_t>((state >> 33) % vocab);
  }
  return ids;
}

struct PrefillTiming {
  double wall = 0, gpu = 0;
  bool gpu_timed = true;
};

// The prompt in the bundle's chunks from position `first`, the last chunk with logits.
PrefillTiming prefill(ScheduleExecutor& executor, std::span<const std::int32_t> ids, std::uint32_t first = 0) {
  PrefillTiming timing;
  const Clock::time_point start = Clock::now();
  for (std::size_t at = 0; at < ids.size(); at += executor.prefillChunk()) {
    const std::size_t count = std::min<std::size_t>(executor.prefillChunk(), ids.size() - at);
    executor.prefill(ids.subspan(at, count), first + static_cast<std::uint32_t>(at), at + count == ids.size(),
                     nullptr);
    const std::optional<double> gpu_seconds = executor.lastGpuSeconds();
    timing.gpu += gpu_seconds.value_or(0);
    timing.gpu_timed = timing.gpu_timed && gpu_seconds.has_value();
  }
  timing.wall = secondsBetween(start, Clock::now());
  return timing;
}

// `tokens` prompt tokens after `context` already in the KV cache (prefilled
// first, untimed): at a long context the attention's share grows.
json measurePrefill(ScheduleExecutor& executor, const BundleView& bundle, std::uint32_t tokens, std::uint32_t context) {
  if (std::uint64_t(context) + tokens > executor.context()) {
    return {{"tokens", tokens}, {"context", context}, {"skipped", "the prompt exceeds the model's context"}};
  }
  const fb::TextModelConfig& model = *bundle.header().model();
  const std::vector<std::int32_t> ids = syntheticPrompt(context + tokens, model.vocab_size());
  const std::span<const std::int32_t> timed = std::span(ids).subspan(context);
  prefill(executor, timed.first(std::min<std::size_t>(timed.size(), executor.prefillChunk())));  // warm-up
  if (context > 0) prefill(executor, std::span(ids).first(context));
  const PrefillTiming timing = prefill(executor, timed, context);
  const double matmul_flops = matmulFlopsPerToken(bundle) * tokens;
  json out = {{"tokens", tokens},
              {"context", context},
              {"chunk", executor.prefillChunk()},
              {"seconds", timing.wall},
              {"tokens_per_second", tokens / timing.wall},
              {"matmul_flops", matmul_flops},
              {"matmul_TFLOPs", matmul_flops / timing.wall / 1e12}};
  if (timing.gpu_timed) {
    out["gpu_seconds"] = timing.gpu;
    out["gpu_tokens_per_second"] = tokens / timing.gpu;
  }
  return out;
}

// Where a profile's GPU time went, kernel by kernel (the name before its
// specialisation, largest first), and each kernel's specialisations apart
// (which product shape of a matvec is slow, say), largest first too.
// A profile's dispatches by kernel, largest first, and by specialisation;
// for the products (matvec*, which read each weight they bind once) each
// specialisation's weight bytes and the rate it read them at, to set beside
// the roofline.
json profileByKernel(const ScheduleExecutor& executor, const std::vector<ScheduleExecutor::DispatchTime>& times) {
  struct Entry {
    std::uint32_t dispatches = 0;
    double seconds = 0;
    std::uint64_t weight_bytes = 0;
  };
  std::map<std::string, Entry> by_kernel;
  std::map<std::string, std::map<std::string, Entry>> by_specialisation;  // kernel -> its full names
  double total = 0;
  for (const ScheduleExecutor::DispatchTime& t : times) {
    const std::string& full_name = executor.kernelName(t.kernel);
    const std::string name = full_name.substr(0, full_name.find(" ("));
    for (Entry* entry : {&by_kernel[name], &by_specialisation[name][full_name]}) {
      entry->dispatches += 1;
      entry->seconds += t.seconds;
      entry->weight_bytes += t.weight_bytes;
    }
    total += t.seconds;
  }
  auto largestFirst = [](const std::map<std::string, Entry>& entries) {
    std::vector<std::pair<std::string, Entry>> sorted(entries.begin(), entries.end());
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.second.seconds > b.second.seconds; });
    return sorted;
  };
  json kernels = json::array();
  for (const auto& [name, entry] : largestFirst(by_kernel)) {
    json specialisations = json::array();
    for (const auto& [full_name, part] : largestFirst(by_specialisation[name])) {
      json specialisation = {{"name", full_name}, {"dispatches", part.dispatches}, {"seconds", part.seconds}};
      if (name.starts_with("matvec")) {
        specialisation["weight_bytes"] = part.weight_bytes;
        if (part.seconds > 0) specialisation["weight_GBps"] = double(part.weight_bytes) / part.seconds / 1e9;
      }
      specialisations.push_back(specialisation);
    }
    kernels.push_back({{"kernel", name},
                       {"dispatches", entry.dispatches},
                       {"seconds", entry.seconds},
                       {"share", total > 0 ? entry.seconds / total : 0.0},
                       {"specialisations", specialisations}});
  }
  return {{"dispatches", times.size()}, {"seconds", total}, {"kernels", kernels}};
}

constexpr const char* kNoTimestamps = "the device has no timestamps on its compute queue";

// The last submission's dispatch-by-dispatch times, kernel by kernel; the
// executor back to timing whole submissions.
json lastSubmissionProfile(ScheduleExecutor& executor) {
  const ScheduleExecutor::Profile times = executor.lastProfile();
  executor.setGpuTiming(true);
  if (times.dispatches.empty()) return {{"skipped", kNoTimestamps}};
  return profileByKernel(executor, times.dispatches);
}

// One decode step at `position` (over what the cache holds), timed dispatch by
// dispatch.
json profileStep(ScheduleExecutor& executor, std::uint32_t position) {
  executor.setGpuTiming(true, /*per_dispatch=*/true);
  executor.decode(position);
  json profile = lastSubmissionProfile(executor);
  if (!profile.contains("skipped")) profile["position"] = position;
  return profile;
}

json measureDecode(ScheduleExecutor& executor, const BundleView& bundle, const DecodeTraffic& traffic,
                   std::uint32_t context, std::uint32_t steps, double roofline_GBps) {
  const std::uint32_t prompt = std::max<std::uint32_t>(context, 1);  // a step needs a token before it
  if (std::uint64_t(prompt) + steps > executor.context()) {
    return {{"context", context},
            {"skipped", "context " + std::to_string(context) + " + " + std::to_string(steps) +
                            " steps exceeds the model's " + std::to_string(executor.context()) + " positions"}};
  }
  const std::vector<std::int32_t> ids = syntheticPrompt(prompt, bundle.header().model()->vocab_size());
  prefill(executor, ids);
  double gpu = 0;
  bool gpu_timed = true;
  std::uint64_t kv_bytes = 0;
  // As generation runs it: the next step queued while one runs.
  const Clock::time_point start = Clock::now();
  if (steps > 0) executor.submitDecode(prompt);
  for (std::uint32_t step = 0; step < steps; ++step) {
    if (step + 1 < steps) executor.submitDecode(prompt + step + 1);
    executor.finishDecode();
    const std::optional<double> gpu_seconds = executor.lastGpuSeconds();
    gpu += gpu_seconds.value_or(0);
    gpu_timed = gpu_timed && gpu_seconds.has_value();
  }
  const double wall = secondsBetween(start, Clock::now());
  for (std::uint32_t step = 0; step < steps; ++step) kv_bytes += traffic.kvBytes(prompt + step);
  const double bytes_per_token = double(traffic.weightBytes()) + double(kv_bytes) / steps;
  const double tokens_per_second = steps / wall;
  const double GBps = bytes_per_token * tokens_per_second / 1e9;
  json out = {{"context", context},
              {"tokens", steps},
              {"seconds", wall},
              {"tokens_per_second", tokens_per_second},
              {"bytes_per_token", {{"weights", traffic.weightBytes()},
                                   {"kv", double(kv_bytes) / steps},
                                   {"total", bytes_per_token}}},
              {"GBps", GBps},
              {"fraction_of_roofline", GBps / roofline_GBps},
              {"roofline_tokens_per_second", roofline_GBps * 1e9 / bytes_per_token}};
  if (gpu_timed) {
    out["gpu_seconds_per_token"] = gpu / steps;
    out["wall_seconds_per_token"] = wall / steps;
    // What the GPU did not spend computing: gaps between steps (each is queued
    // while the one before runs, so the CPU's round trip is hidden unless it is
    // slower than a step).
    out["overhead_seconds_per_token"] = (wall - gpu) / steps;
    out["gpu_GBps"] = bytes_per_token * steps / gpu / 1e9;
    out["gpu_fraction_of_roofline"] = bytes_per_token * steps / gpu / 1e9 / roofline_GBps;
    // Where a step of this context goes: one from the middle of the timed
    // range, its keys as many as an average step's (a step at context 1 alone
    // hid attention that grew with the keys).
    if (steps > 0) out["profile"] = profileStep(executor, prompt + steps / 2);
  }
  return out;
}


// One decode step at context 1, timed dispatch by dispatch.
json measureDecodeProfile(ScheduleExecutor& executor) {
  const std::int32_t first_id = 0;
  executor.prefill(std::span(&first_id, 1), 0, /*compute_logits=*/true, nullptr);
  executor.setGpuTiming(true, /*per_dispatch=*/true);  // the warm-up replays the timed recording
  for (std::uint32_t step = 0; step < kWarmUpSteps; ++step) executor.decode(1 + step);
  json profile = profileStep(executor, 1 + kWarmUpSteps);
  if (!profile.contains("skipped")) profile["context"] = 1;
  return profile;
}

// One whole prefill chunk from position 0, timed dispatch by dispatch (after
// a warm-up chunk).
json measurePrefillProfile(ScheduleExecutor& executor, const BundleView& bundle) {
  const std::uint32_t tokens = std::min(executor.prefillChunk(), executor.context());
  const std::vector<std::int32_t> ids = syntheticPrompt(tokens, bundle.header().model()->vocab_size());
  executor.setGpuTiming(true, /*per_dispatch=*/true);
  executor.prefill(ids, 0, /*compute_logits=*/true, nullptr);
  executor.prefill(ids, 0, /*compute_logits=*/true, nullptr);
  json profile = lastSubmissionProfile(executor);
  if (!profile.contains("skipped")) profile["tokens"] = tokens;
  return profile;
}

std::uint64_t peakResidentBytes() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return std::uint64_t(usage.ru_maxrss) * 1024;  // Linux reports KiB
}

// What the driver says of each pipeline this device runs, compiled again
// with its statistics kept (after the timed runs: it takes as long as the
// load's compilation): per module its executables' statistics, e.g. the
// registers an invocation takes, which bound how many workgroups share a
// compute unit. Where the device cannot say, why.
json readPipelineStatistics(gpu::GpuDevice& device, const ScheduleExecutor& executor) {
  if (!device.capabilities().pipeline_executable_info) {
    return {{"skipped", "the device has no VK_KHR_pipeline_executable_properties (pipelineExecutableInfo)"}};
  }
  std::vector<gpu::ComputePipelineDesc> descs = executor.modulesRun();
  for (gpu::ComputePipelineDesc& desc : descs) desc.capture_statistics = true;
  json modules = json::array();
  for (const gpu::ComputePipeline& pipeline : gpu::ComputePipeline::createAll(device, descs)) {
    json executables = json::array();
    for (const gpu::PipelineExecutable& executable : pipeline.statistics()) {
      json statistics = json::object();
      for (const gpu::PipelineStatistic& statistic : executable.statistics) statistics[statistic.name] = statistic.value;
      executables.push_back({{"name", executable.name}, {"statistics", statistics}});
    }
    modules.push_back({{"kernel", pipeline.name()}, {"executables", executables}});
  }
  return {{"modules", modules}};
}

}  // namespace

// A host-visible (staging) buffer copied into device-local memory: the bus's
// speed, what staged weight uploads reach at best. Counted once (bytes over the
// bus); on a device whose memory is the host's it is a copy within that memory.
json measureUploadBandwidth(gpu::GpuDevice& device) {
  const gpu::DeviceCapabilities& caps = device.capabilities();
  std::uint64_t bytes = std::uint64_t(256) << 20;
  if (caps.max_memory_allocation_size) bytes = std::min(bytes, caps.max_memory_allocation_size / 2);
  gpu::GpuBuffer source = gpu::GpuBuffer::allocate(device, bytes, gpu::MemoryPlacement::kHostVisible, "bench:upload source");
  gpu::fillWithRandomWords(device, source, 0, bytes, /*seed=*/3);
  gpu::GpuBuffer destination =
      gpu::GpuBuffer::allocate(device, bytes, gpu::MemoryPlacement::kDeviceLocal, "bench:upload destination");
  return timeBandwidth(device, bytes, double(bytes), gpu::Hazard::kTransferToCompute,
                       [&](gpu::CommandStream& stream) { stream.copyBuffer(source, 0, destination, 0, bytes); });
}

json runBenchmark(const BundleView& bundle, const BenchmarkOptions& options) {
  ScheduleExecutor::requireRunnable(bundle, 1);
  const fb::TextModelConfig& model = *bundle.header().model();
  std::uint32_t needed = options.prefill_context + options.prefill_tokens;
  for (std::uint32_t context : options.decode_contexts) {
    needed = std::max(needed, std::max<std::uint32_t>(context, 1) + options.decode_tokens);
  }
  // The warm-up decodes positions 1..kWarmUpSteps, the profile 1..kWarmUpSteps + 1.
  needed = std::max(needed, 2 + kWarmUpSteps);
  const std::uint32_t context = std::min(needed, model.max_position_embeddings());

  const Clock::time_point device_start = Clock::now();
  std::unique_ptr<gpu::GpuDevice> device = gpu::GpuDevice::open(options.device);
  const Clock::time_point device_open = Clock::now();
  ScheduleExecutor executor(bundle, *device, context);
  executor.setGpuTiming(true);
  const Clock::time_point resident = Clock::now();
  const std::int32_t first_id = model.bos_token_id() >= 0 ? model.bos_token_id() : 0;
  executor.prefill(std::span(&first_id, 1), 0, /*compute_logits=*/true, nullptr);
  executor.sampledToken();
  const Clock::time_point first_token = Clock::now();
  for (std::uint32_t step = 0; step < kWarmUpSteps; ++step) executor.decode(1 + step);

  std::uint64_t copied = 0, imported = 0, staged = 0;  // staged: the part of copied that went through staging
  for (const gpu::ResidencyReport& report : executor.residency()) {
    (report.path == gpu::ResidencyPath::kImportedHostPointer ? imported : copied) += report.bytes;
    if (report.path == gpu::ResidencyPath::kStagedUpload) staged += report.bytes;
  }
  json report;
  report["device"] = gpu::capabilitiesToJson(device->capabilities());
  report["bundle"] = {{"path", bundle.path().string()},
                      {"weights", weightFormat(bundle)},
                      {"layers", model.num_hidden_layers()},
                      {"hidden", model.hidden_size()},
                      {"vocab", model.vocab_size()},
                      {"context", context}};
  report["load"] = {{"seconds_to_first_token", secondsBetween(options.process_start, first_token)},
                    {"open_and_verify_seconds", secondsBetween(options.process_start, options.bundle_opened)},
                    {"device_seconds", secondsBetween(device_start, device_open)},
                    {"resident_seconds", secondsBetween(device_open, resident)},
                    {"first_prefill_seconds", secondsBetween(resident, first_token)},
                    {"weights_copied_bytes", copied},
                    {"weights_imported_bytes", imported},
                    {"weights_staged_bytes", staged},
                    {"weights_seconds", executor.loadTimes().weights_seconds},
                    {"upload_seconds", executor.loadTimes().upload_seconds},
                    {"pipelines", executor.loadTimes().pipelines},
                    {"pipelines_seconds", executor.loadTimes().pipelines_seconds},
                    {"setup_seconds", executor.loadTimes().setup_seconds}};
  // The staged copy's own speed: its bytes over the uploader's time (allocations
  // between uploads left out). Copies through a mapping are not timed apart.
  if (staged) report["load"]["copy_GBps"] = staged / executor.loadTimes().upload_seconds / 1e9;
  report["load"]["slowest_pipelines"] = json::array();
  for (const auto& [name, seconds] : executor.loadTimes().slowest_pipelines) {
    report["load"]["slowest_pipelines"].push_back({{"kernel", name}, {"seconds", seconds}});
  }

  report["upload_bandwidth"] = measureUploadBandwidth(*device);
  if (staged) {
    report["load"]["fraction_of_upload_bandwidth"] =
        report["load"]["copy_GBps"].get<double>() / report["upload_bandwidth"]["GBps"].get<double>();
  }
  report["copy_bandwidth"] = measureCopyBandwidth(*device);
  report["read_bandwidth"] = measureReadBandwidth(*device);
  // The roofline: the better of what a copy (bytes read + written) and a
  // streaming read reach on this device, measured just now.
  const double roofline_GBps = std::max(report["copy_bandwidth"]["GBps"].get<double>(),
                                        report["read_bandwidth"]["GBps"].get<double>());
  report["roofline_GBps"] = roofline_GBps;
  // Which kernels this device ran in place of the bundle's first choice.
  report["kernel_substitutions"] = json::array();
  for (const ScheduleExecutor::KernelSubstitution& s : executor.substitutions()) {
    report["kernel_substitutions"].push_back(
        {{"kernel", bundle.header().schedule()->kernels()->Get(s.kernel)->name()->str()},
         {"ran", executor.kernelName(s.kernel)},
         {"because", s.reason}});
  }
  report["prefill"] = measurePrefill(executor, bundle, options.prefill_tokens, options.prefill_context);
  const DecodeTraffic traffic(bundle);
  report["decode"] = json::array();
  for (std::uint32_t decode_context : options.decode_contexts) {
    report["decode"].push_back(
        measureDecode(executor, bundle, traffic, decode_context, options.decode_tokens, roofline_GBps));
  }
  report["decode_profile"] = measureDecodeProfile(executor);
  report["prefill_profile"] = measurePrefillProfile(executor, bundle);
  report["dispatch_cost"] = measureDispatchCost(*device);
  if (!report["decode_profile"].contains("skipped") && !report["dispatch_cost"].contains("skipped")) {
    // The launch floor of one decode step: what its dispatches cost doing nothing.
    report["decode_profile"]["launch_floor_seconds"] =
        report["decode_profile"]["dispatches"].get<double>() * report["dispatch_cost"]["seconds_per_dispatch"].get<double>();
  }
  report["pipeline_statistics"] = readPipelineStatistics(*device, executor);
  report["memory"] = {{"peak_host_rss_bytes", peakResidentBytes()},
                      {"peak_gpu_allocated_bytes", device->memoryUse().peak_allocated},
                      {"gpu_imported_bytes", device->memoryUse().imported}};
  return report;
}

std::string formatBenchmark(const json& r) {
  std::string out;
  char line[512];
  auto add = [&](const char* format, auto... values) {
    std::snprintf(line, sizeof line, format, values...);
    out += line;
  };
  const double GiB = 1024.0 * 1024.0 * 1024.0;
  add("device   %s\n", r["device"]["name"].get<std::string>().c_str());
  if (const json& substituted = r["kernel_substitutions"]; !substituted.empty()) {
    add("kernels  %zu ran their fallback, e.g. %s\n", substituted.size(),
        substituted[0]["because"].get<std::string>().c_str());
  }
  add("bundle   %s (%s weights, %d layers, hidden %d), context %d\n", r["bundle"]["path"].get<std::string>().c_str(),
      r["bundle"]["weights"].get<std::string>().c_str(), r["bundle"]["layers"].get<int>(),
      r["bundle"]["hidden"].get<int>(), r["bundle"]["context"].get<int>());
  const json& load = r["load"];
  add("load     %.3f s to the first token (open+verify %.3f s, device %.3f s, ready to run %.3f s: weights "
      "%.3f s, %.2f GiB copied, %.2f GiB imported in place, beside %d pipelines made in %.3f s, then setup "
      "%.3f s; first prefill %.3f s)\n",
      load["seconds_to_first_token"].get<double>(), load["open_and_verify_seconds"].get<double>(),
      load["device_seconds"].get<double>(), load["resident_seconds"].get<double>(),
      load["weights_seconds"].get<double>(), load["weights_copied_bytes"].get<double>() / GiB,
      load["weights_imported_bytes"].get<double>() / GiB, load["pipelines"].get<int>(),
      load["pipelines_seconds"].get<double>(), load["setup_seconds"].get<double>(),
      load["first_prefill_seconds"].get<double>());
  if (load.contains("fraction_of_upload_bandwidth")) {
    add("upload   weights copied at %.1f GB/s (%.3f s) = %.0f%% of the %.1f GB/s a staging buffer reaches into "
        "device memory\n",
        load["copy_GBps"].get<double>(), load["upload_seconds"].get<double>(),
        100 * load["fraction_of_upload_bandwidth"].get<double>(), r["upload_bandwidth"]["GBps"].get<double>());
  }
  add("memory   %.1f GB/s copying (bytes read + written), %.1f GB/s streaming reads: roofline %.1f GB/s\n",
      r["copy_bandwidth"]["GBps"].get<double>(), r["read_bandwidth"]["GBps"].get<double>(),
      r["roofline_GBps"].get<double>());
  const json& p = r["prefill"];
  if (p.contains("skipped")) {
    add("prefill  %d tokens: skipped (%s)\n", p["tokens"].get<int>(), p["skipped"].get<std::string>().c_str());
  } else {
    add("prefill  %d tokens after %d: %.1f tokens/s, %.2f TFLOP/s in the matrix products (%.3f s, chunks of %d)\n",
        p["tokens"].get<int>(), p["context"].get<int>(), p["tokens_per_second"].get<double>(),
        p["matmul_TFLOPs"].get<double>(), p["seconds"].get<double>(), p["chunk"].get<int>());
  }
  // A profile's kernels, largest first: name, share of the GPU time, dispatches.
  auto addKernelShares = [&](const json& profile) {
    for (const json& k : profile["kernels"]) {
      add(" %s %.1f%% (%d)", k["kernel"].get<std::string>().c_str(), 100 * k["share"].get<double>(),
          k["dispatches"].get<int>());
    }
    out += "\n";
  };
  for (const json& d : r["decode"]) {
    if (d.contains("skipped")) {
      add("decode   context %d: skipped (%s)\n", d["context"].get<int>(), d["skipped"].get<std::string>().c_str());
      continue;
    }
    add("decode   context %d: %.1f tokens/s, %.1f MB/token (weights %.1f, KV %.1f), %.1f GB/s = %.1f%% of the "
        "roofline (%.1f tokens/s)",
        d["context"].get<int>(), d["tokens_per_second"].get<double>(), d["bytes_per_token"]["total"].get<double>() / 1e6,
        d["bytes_per_token"]["weights"].get<double>() / 1e6, d["bytes_per_token"]["kv"].get<double>() / 1e6,
        d["GBps"].get<double>(), 100 * d["fraction_of_roofline"].get<double>(),
        d["roofline_tokens_per_second"].get<double>());
    if (d.contains("gpu_seconds_per_token")) {
      add("; GPU %.3f ms/token (%.1f%% of the roofline), overhead %.3f ms/token",
          1e3 * d["gpu_seconds_per_token"].get<double>(), 100 * d["gpu_fraction_of_roofline"].get<double>(),
          1e3 * d["overhead_seconds_per_token"].get<double>());
    }
    out += "\n";
    if (d.contains("profile") && !d["profile"].contains("skipped")) {
      add("         a step at position %d, %.3f ms on the GPU:", d["profile"]["position"].get<int>(),
          1e3 * d["profile"]["seconds"].get<double>());
      addKernelShares(d["profile"]);
    }
  }
  const json& profile = r["decode_profile"];
  if (profile.contains("skipped")) {
    add("profile  skipped (%s)\n", profile["skipped"].get<std::string>().c_str());
  } else {
    add("profile  one decode step, %d dispatches, %.3f ms on the GPU", profile["dispatches"].get<int>(),
        1e3 * profile["seconds"].get<double>());
    if (profile.contains("launch_floor_seconds")) {
      add(" (of which at least %.3f ms launching them: %.1f us each doing nothing)",
          1e3 * profile["launch_floor_seconds"].get<double>(),
          1e6 * r["dispatch_cost"]["seconds_per_dispatch"].get<double>());
    }
    out += ":";
    addKernelShares(profile);
  }
  if (const json& chunk = r["prefill_profile"]; !chunk.contains("skipped")) {
    add("profile  one prefill chunk of %d tokens, %d dispatches, %.3f ms on the GPU:", chunk["tokens"].get<int>(),
        chunk["dispatches"].get<int>(), 1e3 * chunk["seconds"].get<double>());
    addKernelShares(chunk);
  }
  if (const json& statistics = r["pipeline_statistics"]; statistics.contains("skipped")) {
    add("kernels  compiled form: skipped (%s)\n", statistics["skipped"].get<std::string>().c_str());
  } else {
    add("kernels  compiled form of %zu pipelines: the driver's statistics in --json's pipeline_statistics\n",
        statistics["modules"].size());
  }
  const json& m = r["memory"];
  add("peak     host RSS %.2f GiB, peak GPU allocated %.2f GiB, host memory imported %.2f GiB\n",
      m["peak_host_rss_bytes"].get<double>() / GiB, m["peak_gpu_allocated_bytes"].get<double>() / GiB,
      m["gpu_imported_bytes"].get<double>() / GiB);
  return out;
}

}  // namespace unicorn
