// Executes a bundle's schedule (schemas/schedule.fbs) on one Vulkan device.
//
// Construction does everything that is not per token (DESIGN.md "The runtime"):
// every weight the schedule names is made resident (imported in place where the
// device can, else copied, and the report says which), activation buffers and
// KV caches are allocated (global layers' caches sized by the context), one
// pipeline per kernel module (the sample kernel's only once sampling is asked
// for) and one descriptor set per dispatch are created, and the decode step is
// recorded for good. Per token, only the position is written into a small
// host-visible buffer, the recording is replayed, and the sampled token id —
// written by the argmax kernel on the GPU — is read back.
//
// The decode step is recorded twice, each copy with a step input of its own
// (token id, position), so that a step can be submitted while the one before it
// still runs: the GPU never waits for the CPU's round trip between tokens. Each
// recording's embedding reads its token id from the other one's input, where
// that one's argmax or sample wrote it (the schedule binds it as
// PreviousStepInput), so the feed from one step to the next never passes
// through the CPU and costs no copy, and the CPU reads a step's token from that
// step's own input, which nothing rewrites until the step after next.
//
// A prefill chunk is recorded when it runs (its token count patches push
// constants and workgroup counts, and whether logits are read out selects
// dispatches): a handful of recordings per prompt, each of ~10 commands per layer.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "runtime/bundle_view.h"
#include "runtime/gpu/command_stream.h"
#include "runtime/gpu/compute_pipeline.h"
#include "runtime/gpu/descriptor_pool.h"
#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/gpu/residency.h"

namespace unicorn {

// What --dump-logits reads for one position.
struct LogitsReadout {
  std::uint32_t position = 0;
  float log_sum_exp = 0;
  std::vector<std::pair<std::int32_t, float>> top;  // descending logit, ties by ascending id
  std::vector<float> logits;  // every id's logit; only under ScheduleExecutor::captureFullLogits
};

// Sampling settings (unicorn-exec --temperature, --top-k, --top-p, --seed).
struct SamplingSettings {
  float temperature = 0.0f;  // 0: greedy
  std::uint32_t top_k = 0;   // 0: off
  float top_p = 1.0f;        // 1: off
  std::uint64_t seed = 0;    // with (seed, position) the draw is reproducible
};

class ScheduleExecutor {
 public:
  // Throws Error(kInvalidInput) when the bundle cannot be run (no schedule)
  // or `context` is out of range, Error(kDeviceMissing) when the
  // device lacks what the schedule needs. `context`: positions the global-layer
  // KV caches hold. `bundle` and `device` must outlive the executor: it reads
  // the schedule in place, and its buffers and pipelines are the device's.
  ScheduleExecutor(const BundleView& bundle, gpu::GpuDevice& device, std::uint32_t context);
  // The checks the constructor starts with, for callers that want them before
  // opening a device: the bundle has a schedule, and the context lies in
  // 1..max_position_embeddings.
  static void requireRunnable(const BundleView& bundle, std::uint32_t context);
  ~ScheduleExecutor();
  ScheduleExecutor(const ScheduleExecutor&) = delete;
  ScheduleExecutor& operator=(const ScheduleExecutor&) = delete;

  std::uint32_t prefillChunk() const { return prefill_chunk_; }
  // The most tokens of a prefill chunk with a readout (prefill's `readout`,
  // --dump-logits): as many rows of logits as the bundle has room for.
  std::uint32_t readoutChunk() const { return readout_rows_; }
  std::uint32_t context() const { return context_; }
  std::uint32_t readoutTopK() const { return readout_top_k_; }
  const std::vector<gpu::ResidencyReport>& residency() const { return residency_; }
  // Where construction spent its time. The pipelines are made on other threads
  // while the weights are copied, so the two overlap.
  struct LoadTimes {
    double weights_seconds = 0;    // allocating every buffer and making the weights resident
    double upload_seconds = 0;     // of those, staging and copying weights (StagedUploader's busy time)
    double pipelines_seconds = 0;  // creating the pipelines (drivers compile them here)
    double setup_seconds = 0;      // running the setup program (Schedule.setup) once
    std::uint32_t pipelines = 0;
    // The slowest few pipelines (module name, seconds), slowest first: on many
    // cores the slowest one is the pipelines' time.
    std::vector<std::pair<std::string, double>> slowest_pipelines;
  };
  const LoadTimes& loadTimes() const { return load_times_; }

  // Runs one prefill chunk: `ids` (1..prefillChunk() tokens, 1..readoutChunk()
  // with a readout) at positions first_position, first_position + 1, ... When
  // `compute_logits`, the next token is sampled greedily from the last position
  // (sampledToken()); when `readout` is non-null, every position's lse and
  // top-k are appended to it.
  void prefill(std::span<const std::int32_t> ids, std::uint32_t first_position, bool compute_logits,
               std::vector<LogitsReadout>* readout);
  // Feeds the last sampled token at `position` and samples the next one.
  void decode(std::uint32_t position);
  // decode() in two halves, so that the next step can be queued while this one
  // runs: submitDecode feeds the token the step before it samples (even one
  // still running) at `position`; at most two steps are in flight (a third is a
  // std::logic_error). finishDecode waits for the oldest and returns its token.
  // Generation submits the step after the one it waits for, and drops that
  // step's token if it stops early (it then only wrote a KV slot past the end).
  void submitDecode(std::uint32_t position);
  std::int32_t finishDecode();
  // How the next token is chosen, for every chunk and step from now on: greedy
  // (temperature 0: argmax, the default) or drawn by the sample kernel with
  // these settings (schemas/schedule.fbs, SamplingParams). Re-records the
  // decode step. Error(kUsage) for a negative or non-finite temperature or a
  // top_p outside (0, 1].
  void setSampling(const SamplingSettings& settings);
  // setSampling's checks alone, for callers that want them before opening a device.
  static void requireValidSampling(const SamplingSettings& settings);
  // Whether prefill readouts also carry every id's logit (LogitsReadout::logits):
  // vocab_size floats per position, read back from the GPU (--logits-out).
  void captureFullLogits(bool capture) { capture_full_logits_ = capture; }
  // The token id the last prefill (with logits) or decode step sampled.
  std::int32_t sampledToken() const;

  // Whether every chunk and step from now on is timed on the GPU (timestamps
  // around the recording; re-records the decode step), for lastGpuSeconds().
  // `per_dispatch`: prefill chunks and the decode step also write a timestamp
  // after each dispatch, for lastProfile() (a profile: it adds a little time).
  void setGpuTiming(bool timed, bool per_dispatch = false);
  // How long the last prefill chunk or decode step ran on the GPU; nullopt
  // without GPU timing or when the device has no timestamps.
  std::optional<double> lastGpuSeconds() const;
  // The last prefill chunk or decode step under per-dispatch timing: each
  // recorded dispatch's kernel (index into the schedule's kernels), the GPU
  // seconds from the previous dispatch's end to its own, and the bytes of
  // weights its bindings cover, each byte once (what a product reads). Empty
  // without per-dispatch timing.
  struct DispatchTime {
    std::uint32_t kernel = 0;
    double seconds = 0;
    std::uint64_t weight_bytes = 0;
  };
  struct Profile {
    std::vector<DispatchTime> dispatches;
  };
  Profile lastProfile() const;

  // The kernels this device could not run, each replaced by its fallback
  // (schedule.fbs, KernelModule.fallback): indices into the schedule's kernels
  // and why (ComputePipeline::shortfall's message).
  struct KernelSubstitution {
    std::uint32_t kernel = 0, fallback = 0;
    std::string reason;
  };
  const std::vector<KernelSubstitution>& substitutions() const { return substitutions_; }
  // The name of the module run for dispatched schedule kernel `kernel` (its
  // fallback's where substituted).
  const std::string& kernelName(std::uint32_t kernel) const;
  // The pipelines of the modules this device runs (each dispatched kernel's
  // own, or its fallback's; the sample kernel's included), once each, in
  // module order: for reading their compiled form (--bench's statistics).
  std::vector<gpu::ComputePipelineDesc> modulesRun() const;

 private:
  // Records `list` as one chunk of `tokens`; returns the indices of the
  // dispatches whose conditions held (those recorded). A decode step's
  // (`decode_step`) first waits on the step before's writes.
  std::vector<std::uint32_t> record(gpu::CommandStream& stream,
                                    const flatbuffers::Vector<flatbuffers::Offset<fb::Dispatch>>& list,
                                    const std::vector<VkDescriptorSet>& sets, std::uint32_t tokens, bool logits,
                                    bool dump, bool per_dispatch = false, bool decode_step = false) const;
  void recordDecode();
  // Allocates the descriptor set of every dispatch whose pipeline exists and
  // that has none yet (the sample kernel's sets wait for its pipeline).
  void allocateSets();
  // Runs the schedule's setup program once (the constructor), leaving out the
  // dispatches whose results nothing that runs on this device reads
  // (setupNeeded, from the prefill and decode dispatches' modules; their
  // kernels are not even compiled then).
  void runSetup(gpu::GpuDevice& device);
  std::vector<bool> setupNeeded() const;
  // How many of a dispatch of `kernel`'s bindings are bound here: those of the
  // module it runs (its fallback's, where the device cannot run it).
  std::uint32_t descriptorsBound(std::uint32_t kernel) const;
  // The same for one list: `step_input` stands wherever it binds the step
  // input buffer, `previous` where a decode step binds the step before's
  // (PreviousStepInput).
  void allocateSetsOf(const flatbuffers::Vector<flatbuffers::Offset<fb::Dispatch>>& list, gpu::GpuBuffer* step_input,
                      gpu::GpuBuffer* previous, std::vector<VkDescriptorSet>& sets);
  // Waits for every decode step in flight, their tokens unread (before a
  // prefill or a re-recording touches what they use).
  void drainDecode();
  // The pipeline a dispatch of schedule kernel `kernel` runs.
  const gpu::ComputePipeline& pipelineFor(std::uint32_t kernel) const {
    return pipelines_.at(pipeline_of_kernel_.at(kernel));
  }

  const fb::Schedule* schedule_ = nullptr;  // verified by BundleView
  std::uint32_t context_ = 0, prefill_chunk_ = 0, readout_rows_ = 0, readout_top_k_ = 0, vocab_ = 0;
  bool capture_full_logits_ = false;
  bool sampling_ = false;  // record the sample kernel instead of argmax
  bool timed_ = false;     // record GPU timestamps (setGpuTiming)
  bool profiled_ = false;  // and one after each dispatch (prefill chunks and decode steps)
  std::vector<std::uint32_t> decode_recorded_;  // the decode dispatches recorded, in order (both recordings)
  std::vector<std::uint32_t> prefill_recorded_;  // the last prefill chunk's, in order
  const gpu::CommandStream* last_stream_ = nullptr;  // the stream submitted last
  std::vector<gpu::ResidencyReport> residency_;
  LoadTimes load_times_;
  std::vector<std::unique_ptr<gpu::GpuBuffer>> buffers_;  // by schedule buffer index
  gpu::GpuDevice* device_ = nullptr;
  std::vector<gpu::ComputePipeline> pipelines_;            // one per module that runs
  // Made by the first setSampling that samples; they will take the next indices of pipelines_.
  std::vector<gpu::ComputePipelineDesc> deferred_pipelines_;
  static constexpr std::uint32_t kNoPipeline = ~std::uint32_t(0);
  std::vector<std::uint32_t> pipeline_of_kernel_;          // by kernel index: into pipelines_ (kNoPipeline: not dispatched)
  std::vector<std::uint32_t> module_of_kernel_;            // by kernel index: the module it runs (kNoPipeline: none)
  std::vector<KernelSubstitution> substitutions_;
  // Whether some kernel with a fallback runs its own module here (else the
  // dispatches for_matrix_units are left out).
  bool own_modules_with_fallback_run_ = false;
  std::vector<bool> setup_needed_;  // by setup dispatch: whether runSetup runs it (setupNeeded)
  std::unique_ptr<gpu::DescriptorPool> pool_;
  std::vector<VkDescriptorSet> prefill_sets_;
  std::unique_ptr<gpu::CommandStream> prefill_stream_;
  // The two decode recordings (see the top of this file): recording r binds
  // step_inputs_[r] wherever the schedule binds its step input, and
  // step_inputs_[1 - r] where it binds the step before's. [0] is the
  // schedule's own step input buffer, which prefill uses; [1] its twin.
  std::array<gpu::GpuBuffer*, 2> step_inputs_{};
  std::unique_ptr<gpu::GpuBuffer> twin_step_input_;
  std::array<std::vector<VkDescriptorSet>, 2> decode_sets_;
  std::array<std::unique_ptr<gpu::CommandStream>, 2> decode_streams_;
  unsigned next_decode_ = 1;           // the recording the next step uses: after a prefill, [1]
  std::deque<unsigned> in_flight_;     // recordings submitted and not yet finished, oldest first
  unsigned sampled_input_ = 0;         // whose step input holds the token sampledToken() returns
};

}  // namespace unicorn
