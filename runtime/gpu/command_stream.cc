#include "runtime/gpu/command_stream.h"

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "runtime/error.h"
#include "runtime/gpu/compute_pipeline.h"
#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/gpu/vulkan_error.h"
#include "runtime/gpu/vulkan_struct.h"

namespace unicorn::gpu {
namespace {

struct BarrierScopes {
  VkPipelineStageFlags source_stages;
  VkAccessFlags source_access;
  VkPipelineStageFlags destination_stages;
  VkAccessFlags destination_access;
};

BarrierScopes scopesOf(Hazard hazard) {
  constexpr VkPipelineStageFlags kCompute = VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
  constexpr VkPipelineStageFlags kTransfer = VK_PIPELINE_STAGE_TRANSFER_BIT;
  constexpr VkAccessFlags kShaderAll = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
  constexpr VkAccessFlags kTransferAll = VK_ACCESS_TRANSFER_READ_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  constexpr VkAccessFlags kAnyWrite = VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT;
  switch (hazard) {
    case Hazard::kComputeToCompute:
      return {kCompute, VK_ACCESS_SHADER_WRITE_BIT, kCompute, kShaderAll};
    case Hazard::kTransferToCompute:
      return {kTransfer, VK_ACCESS_TRANSFER_WRITE_BIT, kCompute | kTransfer, kShaderAll | kTransferAll};
    case Hazard::kComputeToTransfer:
      return {kCompute | kTransfer, kAnyWrite, kTransfer, kTransferAll};
    case Hazard::kComputeToHost:
      return {kCompute | kTransfer, kAnyWrite, VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT};
  }
  throw std::invalid_argument("unknown Hazard");
}

}  // namespace

CommandStream::CommandStream(GpuDevice& device) : device_(&device) {
  auto pool_info = vkStruct<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
  // Each stream re-records its one buffer; the pool is the stream's own, so no
  // two threads share it.
  pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool_info.queueFamilyIndex = device.computeQueueFamily();
  checkVk(vkCreateCommandPool(device.handle(), &pool_info, nullptr, &pool_), "creating a command pool");
  try {
    auto buffer_info = vkStruct<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    buffer_info.commandPool = pool_;
    buffer_info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    buffer_info.commandBufferCount = 1;
    checkVk(vkAllocateCommandBuffers(device.handle(), &buffer_info, &commands_), "allocating a command buffer");
    auto fence_info = vkStruct<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
    checkVk(vkCreateFence(device.handle(), &fence_info, nullptr, &fence_), "creating a fence");
  } catch (...) {
    release();  // the destructor does not run for a constructor that throws
    throw;
  }
}

CommandStream::CommandStream(CommandStream&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      pool_(std::exchange(other.pool_, VK_NULL_HANDLE)),
      commands_(std::exchange(other.commands_, VK_NULL_HANDLE)),
      fence_(std::exchange(other.fence_, VK_NULL_HANDLE)),
      timestamps_(std::exchange(other.timestamps_, VK_NULL_HANDLE)),
      query_capacity_(std::exchange(other.query_capacity_, 0)),
      marks_allowed_(std::exchange(other.marks_allowed_, 0)),
      marks_recorded_(std::exchange(other.marks_recorded_, 0)),
      timed_(std::exchange(other.timed_, false)),
      state_(std::exchange(other.state_, State::kEmpty)),
      in_flight_(std::exchange(other.in_flight_, false)),
      submissions_(std::exchange(other.submissions_, 0)) {}

CommandStream& CommandStream::operator=(CommandStream&& other) noexcept {
  if (this != &other) {
    release();
    device_ = std::exchange(other.device_, nullptr);
    pool_ = std::exchange(other.pool_, VK_NULL_HANDLE);
    commands_ = std::exchange(other.commands_, VK_NULL_HANDLE);
    fence_ = std::exchange(other.fence_, VK_NULL_HANDLE);
    timestamps_ = std::exchange(other.timestamps_, VK_NULL_HANDLE);
    query_capacity_ = std::exchange(other.query_capacity_, 0);
    marks_allowed_ = std::exchange(other.marks_allowed_, 0);
    marks_recorded_ = std::exchange(other.marks_recorded_, 0);
    timed_ = std::exchange(other.timed_, false);
    state_ = std::exchange(other.state_, State::kEmpty);
    in_flight_ = std::exchange(other.in_flight_, false);
    submissions_ = std::exchange(other.submissions_, 0);
  }
  return *this;
}

CommandStream::~CommandStream() { release(); }

void CommandStream::release() noexcept {
  if (!device_) return;
  VkDevice device = device_->handle();
  if (in_flight_ && fence_) {
    // The command buffer may not be freed while the GPU still executes it; a
    // failure here (device lost) leaves nothing better to do than to go on.
    vkWaitForFences(device, 1, &fence_, VK_TRUE, UINT64_MAX);
  }
  if (fence_) vkDestroyFence(device, fence_, nullptr);
  if (timestamps_) vkDestroyQueryPool(device, timestamps_, nullptr);
  if (pool_) vkDestroyCommandPool(device, pool_, nullptr);  // frees commands_ too
  fence_ = VK_NULL_HANDLE;
  timestamps_ = VK_NULL_HANDLE;
  query_capacity_ = 0;
  pool_ = VK_NULL_HANDLE;
  commands_ = VK_NULL_HANDLE;
  in_flight_ = false;
  device_ = nullptr;
}

void CommandStream::requireRecording(const char* doing) const {
  if (state_ != State::kRecording) {
    throw std::logic_error(std::string(doing) + " outside begin()/end() of a command stream");
  }
}

void CommandStream::begin(bool timed, uint32_t marks) {
  if (in_flight_) throw std::logic_error("re-recording a command stream that is still in flight (wait() first)");
  checkVk(vkResetCommandBuffer(commands_, 0), "resetting a command buffer");
  state_ = State::kEmpty;
  timed_ = timed && device_->capabilities().timestamp_period_ns > 0;
  marks_allowed_ = timed_ ? marks : 0;
  marks_recorded_ = 0;
  if (timed_ && query_capacity_ < 2 + marks_allowed_) {
    if (timestamps_) vkDestroyQueryPool(device_->handle(), timestamps_, nullptr);
    timestamps_ = VK_NULL_HANDLE;
    query_capacity_ = 0;
    auto pool_info = vkStruct<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
    pool_info.queryType = VK_QUERY_TYPE_TIMESTAMP;
    pool_info.queryCount = 2 + marks_allowed_;
    checkVk(vkCreateQueryPool(device_->handle(), &pool_info, nullptr, &timestamps_), "creating a timestamp query pool");
    query_capacity_ = pool_info.queryCount;
  }
  auto info = vkStruct<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
  // No ONE_TIME_SUBMIT: the recording is replayed (the decode step, every token).
  checkVk(vkBeginCommandBuffer(commands_, &info), "beginning to record a command buffer");
  state_ = State::kRecording;
  if (timed_) {
    vkCmdResetQueryPool(commands_, timestamps_, 0, 2 + marks_allowed_);
    vkCmdWriteTimestamp(commands_, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, timestamps_, 0);
  }
}

std::optional<double> CommandStream::gpuSeconds() const {
  if (!timed_ || in_flight_ || submissions_ == 0 || state_ != State::kRecorded) return std::nullopt;
  uint64_t ticks[2] = {0, 0};
  VkResult result = vkGetQueryPoolResults(device_->handle(), timestamps_, 0, 2, sizeof(ticks), ticks,
                                          sizeof(uint64_t), VK_QUERY_RESULT_64_BIT);
  if (result != VK_SUCCESS || ticks[1] < ticks[0]) return std::nullopt;
  return double(ticks[1] - ticks[0]) * device_->capabilities().timestamp_period_ns * 1e-9;
}

std::vector<double> CommandStream::markSeconds() const {
  if (!timed_ || in_flight_ || submissions_ == 0 || state_ != State::kRecorded || marks_recorded_ == 0) return {};
  std::vector<uint64_t> ticks(2 + marks_recorded_);
  VkResult result = vkGetQueryPoolResults(device_->handle(), timestamps_, 0, uint32_t(ticks.size()),
                                          ticks.size() * sizeof(uint64_t), ticks.data(), sizeof(uint64_t),
                                          VK_QUERY_RESULT_64_BIT);
  if (result != VK_SUCCESS) return {};
  std::vector<double> seconds;
  for (uint32_t i = 0; i < marks_recorded_; ++i) {
    const uint64_t mark = ticks[2 + i];
    seconds.push_back(mark < ticks[0] ? 0.0 : double(mark - ticks[0]) * device_->capabilities().timestamp_period_ns * 1e-9);
  }
  return seconds;
}

void CommandStream::markTime() {
  requireRecording("markTime");
  if (!timed_) return;
  if (marks_recorded_ == marks_allowed_) {
    throw std::logic_error("markTime beyond the " + std::to_string(marks_allowed_) + " marks begin() made room for");
  }
  vkCmdWriteTimestamp(commands_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamps_, 2 + marks_recorded_++);
}

void CommandStream::dispatch(const ComputePipeline& pipeline, VkDescriptorSet set,
                             std::span<const std::byte> push_constants, std::array<uint32_t, 3> groups) {
  requireRecording("dispatch");
  if (push_constants.size() != pipeline.pushConstantBytes()) {
    throw std::invalid_argument("kernel '" + pipeline.name() + "' takes " +
                                std::to_string(pipeline.pushConstantBytes()) + " bytes of push constants, " +
                                std::to_string(push_constants.size()) + " were given");
  }
  const DeviceCapabilities& caps = device_->capabilities();
  for (int axis = 0; axis < 3; ++axis) {
    if (groups[axis] > caps.max_compute_workgroup_count[axis]) {
      throw Error(ExitCode::kDeviceMissing,
                  "kernel '" + pipeline.name() + "' dispatches " + std::to_string(groups[axis]) +
                      " workgroups along axis " + std::to_string(axis) + "; device '" + caps.name + "' allows " +
                      std::to_string(caps.max_compute_workgroup_count[axis]) + " (maxComputeWorkGroupCount)");
    }
  }
  vkCmdBindPipeline(commands_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.handle());
  if (pipeline.storageBufferCount() > 0) {
    vkCmdBindDescriptorSets(commands_, VK_PIPELINE_BIND_POINT_COMPUTE, pipeline.layout(), 0, 1, &set, 0, nullptr);
  }
  if (!push_constants.empty()) {
    vkCmdPushConstants(commands_, pipeline.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0,
                       static_cast<uint32_t>(push_constants.size()), push_constants.data());
  }
  vkCmdDispatch(commands_, groups[0], groups[1], groups[2]);
}

void CommandStream::bufferBarrier(Hazard hazard, std::span<const BufferRange> ranges) {
  requireRecording("bufferBarrier");
  const BarrierScopes scopes = scopesOf(hazard);
  std::vector<VkBufferMemoryBarrier> barriers;
  for (const BufferRange& range : ranges) {
    if (!range.buffer || !range.buffer->handle()) throw std::invalid_argument("bufferBarrier: no buffer");
    auto barrier = vkStruct<VkBufferMemoryBarrier>(VK_STRUCTURE_TYPE_BUFFER_MEMORY_BARRIER);
    barrier.srcAccessMask = scopes.source_access;
    barrier.dstAccessMask = scopes.destination_access;
    barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
    barrier.buffer = range.buffer->handle();
    barrier.offset = range.offset;
    barrier.size = range.size;
    barriers.push_back(barrier);
  }
  vkCmdPipelineBarrier(commands_, scopes.source_stages, scopes.destination_stages, 0, 0, nullptr,
                       static_cast<uint32_t>(barriers.size()), barriers.data(), 0, nullptr);
}

void CommandStream::memoryBarrier(Hazard hazard) {
  requireRecording("memoryBarrier");
  const BarrierScopes scopes = scopesOf(hazard);
  auto barrier = vkStruct<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  barrier.srcAccessMask = scopes.source_access;
  barrier.dstAccessMask = scopes.destination_access;
  vkCmdPipelineBarrier(commands_, scopes.source_stages, scopes.destination_stages, 0, 1, &barrier, 0, nullptr, 0,
                       nullptr);
}

void CommandStream::copyBuffer(const GpuBuffer& source, uint64_t source_offset, const GpuBuffer& destination,
                               uint64_t destination_offset, uint64_t size) {
  requireRecording("copyBuffer");
  if (source_offset > source.size() || size > source.size() - source_offset ||
      destination_offset > destination.size() || size > destination.size() - destination_offset) {
    throw std::out_of_range("copying " + std::to_string(size) + " bytes from '" + source.label() + "'+" +
                            std::to_string(source_offset) + " to '" + destination.label() + "'+" +
                            std::to_string(destination_offset) + " runs past a buffer's end");
  }
  VkBufferCopy region{source_offset, destination_offset, size};
  vkCmdCopyBuffer(commands_, source.handle(), destination.handle(), 1, &region);
}

void CommandStream::zeroBuffer(const GpuBuffer& destination) {
  requireRecording("zeroBuffer");
  // VK_WHOLE_SIZE fills whole words: buffer sizes here are multiples of 4.
  vkCmdFillBuffer(commands_, destination.handle(), 0, VK_WHOLE_SIZE, 0);
}

void CommandStream::end() {
  requireRecording("end");
  if (timed_) vkCmdWriteTimestamp(commands_, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamps_, 1);
  state_ = State::kEmpty;  // a failed end leaves nothing submittable
  checkVk(vkEndCommandBuffer(commands_), "finishing a command buffer");
  state_ = State::kRecorded;
}

void CommandStream::submit() {
  if (state_ != State::kRecorded) throw std::logic_error("submitting a command stream that is not recorded");
  if (in_flight_) throw std::logic_error("submitting a command stream that is still in flight (wait() first)");
  checkVk(vkResetFences(device_->handle(), 1, &fence_), "resetting a fence");
  auto info = vkStruct<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  info.commandBufferCount = 1;
  info.pCommandBuffers = &commands_;
  checkVk(vkQueueSubmit(device_->computeQueue(), 1, &info, fence_), "submitting work to the GPU");
  in_flight_ = true;
  ++submissions_;
}

void CommandStream::wait(std::chrono::nanoseconds timeout) {
  if (!in_flight_) throw std::logic_error("waiting for a command stream that was not submitted");
  const uint64_t nanoseconds = timeout.count() < 0 ? 0 : static_cast<uint64_t>(timeout.count());
  VkResult result = vkWaitForFences(device_->handle(), 1, &fence_, VK_TRUE, nanoseconds);
  if (result == VK_TIMEOUT) {
    throw Error(ExitCode::kDeviceMissing,
                "the GPU did not finish submitted work within " +
                    std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()) +
                    " ms (device '" + device_->capabilities().name + "')");
  }
  checkVk(result, "waiting for GPU work to finish");
  in_flight_ = false;
}

}  // namespace unicorn::gpu
