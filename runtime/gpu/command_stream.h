// Recording and submitting GPU work. A CommandStream owns one command buffer and
// the fence of its submission. It is recorded once and may be submitted any
// number of times (the decode step is recorded once and replayed every token);
// record again to change it.
//
//   CommandStream step(device);
//   step.begin();
//   step.dispatch(rms_norm, set0, push, {rows, 1, 1});
//   step.bufferBarrier(Hazard::kComputeToCompute, {{&normed}});
//   step.dispatch(matvec, set1, {}, {groups, 1, 1});
//   step.end();
//   for (...) step.submitAndWait(kDefaultTimeout);
#pragma once

#include <vulkan/vulkan.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <vector>
#include <type_traits>

namespace unicorn::gpu {

class ComputePipeline;
class GpuBuffer;
class GpuDevice;

// How long submitAndWait waits before it reports the GPU as hung. Generous:
// llvmpipe runs kernels on the CPU.
inline constexpr std::chrono::milliseconds kDefaultSubmitTimeout{60'000};

// What a barrier orders: the writes of the first kind of work before the
// reads and writes of the second.
enum class Hazard {
  kComputeToCompute,   // a dispatch writes what a later dispatch reads/writes
  kTransferToCompute,  // a copy writes what a later dispatch or copy reads/writes
  kComputeToTransfer,  // a dispatch or copy writes what a later copy reads/writes
  kComputeToHost,      // a dispatch or copy writes what the CPU reads through a mapping after wait()
};

struct BufferRange {
  const GpuBuffer* buffer = nullptr;
  uint64_t offset = 0;
  uint64_t size = VK_WHOLE_SIZE;
};

class CommandStream {
 public:
  explicit CommandStream(GpuDevice& device);
  CommandStream(CommandStream&& other) noexcept;
  CommandStream& operator=(CommandStream&& other) noexcept;
  CommandStream(const CommandStream&) = delete;
  CommandStream& operator=(const CommandStream&) = delete;
  // Waits for a submission still in flight before freeing the command buffer.
  ~CommandStream();

  // Starts recording, discarding what was recorded before. Not while in flight.
  // `timed`: the recording also writes GPU timestamps at its start and end, so
  // that gpuSeconds() tells how long each submission ran on the GPU (ignored
  // when the device's compute queue has no timestamps). `marks`: room for that
  // many markTime() calls in this recording (needs `timed`).
  void begin(bool timed = false, uint32_t marks = 0);
  // Binds pipeline and set, pushes `push_constants` (exactly the pipeline's
  // push_constant_bytes) and dispatches `groups` workgroups (each <= the
  // device's maxComputeWorkGroupCount: Error(kDeviceMissing) otherwise).
  void dispatch(const ComputePipeline& pipeline, VkDescriptorSet set, std::span<const std::byte> push_constants,
                std::array<uint32_t, 3> groups);
  template <typename PushConstants>
    requires std::is_trivially_copyable_v<PushConstants>
  void dispatch(const ComputePipeline& pipeline, VkDescriptorSet set, const PushConstants& push_constants,
                std::array<uint32_t, 3> groups) {
    dispatch(pipeline, set, std::as_bytes(std::span(&push_constants, 1)), groups);
  }
  // Buffer memory barriers for the given ranges.
  void bufferBarrier(Hazard hazard, std::span<const BufferRange> ranges);
  void bufferBarrier(Hazard hazard, std::initializer_list<BufferRange> ranges) {
    bufferBarrier(hazard, std::span<const BufferRange>(ranges.begin(), ranges.size()));
  }
  // A global memory barrier: orders every buffer at once.
  void memoryBarrier(Hazard hazard);
  void copyBuffer(const GpuBuffer& source, uint64_t source_offset, const GpuBuffer& destination,
                  uint64_t destination_offset, uint64_t size);
  // Fills the whole buffer with zero bytes (a transfer: kTransferToCompute
  // orders it before the dispatches that read it).
  void zeroBuffer(const GpuBuffer& destination);
  // Writes a timestamp once every command recorded before it has finished (a
  // profile: the time between two marks is what the commands between them
  // took, overlap included). A no-op when not timed; at most `marks` per recording.
  void markTime();
  // Finishes recording; the stream can then be submitted any number of times.
  void end();

  // Submits the recording to the compute queue. Not while already in flight.
  void submit();
  // Waits for the submission; throws Error(kDeviceMissing) naming the timeout
  // when it does not finish in time (the stream then stays in flight).
  void wait(std::chrono::nanoseconds timeout = kDefaultSubmitTimeout);
  void submitAndWait(std::chrono::nanoseconds timeout = kDefaultSubmitTimeout) {
    submit();
    wait(timeout);
  }

  // How long the last submission of a timed recording ran on the GPU, from its
  // first command to its last; nullopt when not timed or not finished.
  std::optional<double> gpuSeconds() const;
  // The last submission's markTime() timestamps, in seconds after its start;
  // empty when not timed, not finished or unmarked.
  std::vector<double> markSeconds() const;

  bool isRecording() const { return state_ == State::kRecording; }
  bool isRecorded() const { return state_ == State::kRecorded; }
  bool inFlight() const { return in_flight_; }
  uint64_t submissionCount() const { return submissions_; }

 private:
  enum class State { kEmpty, kRecording, kRecorded };
  void release() noexcept;
  void requireRecording(const char* doing) const;

  GpuDevice* device_ = nullptr;
  VkCommandPool pool_ = VK_NULL_HANDLE;
  VkCommandBuffer commands_ = VK_NULL_HANDLE;
  VkFence fence_ = VK_NULL_HANDLE;
  // Queries: start, end, then the marks (created by the first timed begin, grown when more marks are asked for).
  VkQueryPool timestamps_ = VK_NULL_HANDLE;
  uint32_t query_capacity_ = 0;
  uint32_t marks_allowed_ = 0, marks_recorded_ = 0;
  bool timed_ = false;
  State state_ = State::kEmpty;
  bool in_flight_ = false;
  uint64_t submissions_ = 0;
};

}  // namespace unicorn::gpu
