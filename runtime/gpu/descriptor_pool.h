// Descriptor sets binding buffer ranges to a pipeline's storage-buffer slots.
// The executor makes every set once, before the first token, from one pool sized
// by the schedule; sets live as long as the pool (no per-set free).
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <span>

namespace unicorn::gpu {

class ComputePipeline;
class GpuBuffer;
class GpuDevice;

struct BufferBinding {
  const GpuBuffer* buffer = nullptr;
  uint64_t offset = 0;             // a multiple of minStorageBufferOffsetAlignment
  uint64_t range = VK_WHOLE_SIZE;  // VK_WHOLE_SIZE: to the end of the buffer
};

class DescriptorPool {
 public:
  // Room for `max_sets` sets holding `max_storage_buffers` descriptors in total.
  static DescriptorPool create(GpuDevice& device, uint32_t max_sets, uint32_t max_storage_buffers);

  DescriptorPool(DescriptorPool&& other) noexcept;
  DescriptorPool& operator=(DescriptorPool&& other) noexcept;
  DescriptorPool(const DescriptorPool&) = delete;
  DescriptorPool& operator=(const DescriptorPool&) = delete;
  ~DescriptorPool();

  // A set for `pipeline` with its descriptors from `bindings`, in binding
  // order (an array binding's elements in turn; one each: bindings[i] at
  // binding i). Checks each binding (count equals the pipeline's descriptors,
  // range inside the buffer, offset alignment: Error(kInvalidInput); range
  // over the device's maxStorageBufferRange: Error(kDeviceMissing) naming the
  // limit) and that the pool has room (std::length_error: the executor sized
  // it wrongly).
  VkDescriptorSet allocate(const ComputePipeline& pipeline, std::span<const BufferBinding> bindings);

  // Points an existing set of `pipeline` at other buffers (same rules). Not while
  // a submitted command stream uses the set.
  void update(VkDescriptorSet set, const ComputePipeline& pipeline, std::span<const BufferBinding> bindings);

 private:
  DescriptorPool() = default;
  void release() noexcept;

  GpuDevice* device_ = nullptr;
  VkDescriptorPool pool_ = VK_NULL_HANDLE;
  uint32_t sets_left_ = 0;
  uint32_t buffers_left_ = 0;
};

}  // namespace unicorn::gpu
