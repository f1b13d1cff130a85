#include "runtime/gpu/descriptor_pool.h"

#include <algorithm>
#include <stdexcept>
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

// Resolves VK_WHOLE_SIZE and checks every binding against the buffer and the
// device limits; returns the descriptor infos to write.
std::vector<VkDescriptorBufferInfo> checkedBindings(const GpuDevice& device, const ComputePipeline& pipeline,
                                                    std::span<const BufferBinding> bindings) {
  const DeviceCapabilities& caps = device.capabilities();
  const std::string kernel = "kernel '" + pipeline.name() + "'";
  if (bindings.size() != pipeline.descriptorCount()) {
    throw Error(ExitCode::kInvalidInput, kernel + " has " + std::to_string(pipeline.descriptorCount()) +
                                             " storage buffer descriptors, " + std::to_string(bindings.size()) +
                                             " were given");
  }
  std::vector<VkDescriptorBufferInfo> infos;
  for (size_t i = 0; i < bindings.size(); ++i) {
    const BufferBinding& binding = bindings[i];
    const std::string where = kernel + " binding " + std::to_string(i);
    if (!binding.buffer || !binding.buffer->handle()) throw std::invalid_argument(where + ": no buffer");
    const GpuBuffer& buffer = *binding.buffer;
    const uint64_t size = buffer.size();
    if (binding.offset >= size) {
      throw Error(ExitCode::kInvalidInput, where + ": offset " + std::to_string(binding.offset) +
                                               " is past the end of buffer '" + buffer.label() + "' (" +
                                               std::to_string(size) + " bytes)");
    }
    const uint64_t range = binding.range == VK_WHOLE_SIZE ? size - binding.offset : binding.range;
    if (range == 0 || range > size - binding.offset) {
      throw Error(ExitCode::kInvalidInput, where + ": range [" + std::to_string(binding.offset) + ", +" +
                                               std::to_string(range) + ") is not inside buffer '" + buffer.label() +
                                               "' (" + std::to_string(size) + " bytes)");
    }
    if (caps.min_storage_buffer_offset_alignment && binding.offset % caps.min_storage_buffer_offset_alignment) {
      throw Error(ExitCode::kInvalidInput, where + ": offset " + std::to_string(binding.offset) +
                                               " is not a multiple of minStorageBufferOffsetAlignment (" +
                                               std::to_string(caps.min_storage_buffer_offset_alignment) + ")");
    }
    if (range > caps.max_storage_buffer_range) {
      throw Error(ExitCode::kDeviceMissing,
                  where + " spans " + std::to_string(range) + " bytes of '" + buffer.label() + "'; device '" +
                      caps.name + "' binds at most " + std::to_string(caps.max_storage_buffer_range) +
                      " (maxStorageBufferRange): the tensor must be split");
    }
    infos.push_back({buffer.handle(), binding.offset, range});
  }
  return infos;
}

// One write per binding: an array binding takes its run of `infos` at once.
void writeSet(const GpuDevice& device, VkDescriptorSet set, const ComputePipeline& pipeline,
              const std::vector<VkDescriptorBufferInfo>& infos) {
  const std::vector<uint32_t>& array_sizes = pipeline.arraySizes();
  std::vector<VkWriteDescriptorSet> writes(array_sizes.size());
  uint32_t first = 0;
  for (uint32_t i = 0; i < array_sizes.size(); ++i) {
    writes[i].sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET;
    writes[i].dstSet = set;
    writes[i].dstBinding = i;
    writes[i].descriptorCount = array_sizes[i];
    writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    writes[i].pBufferInfo = &infos[first];
    first += array_sizes[i];
  }
  vkUpdateDescriptorSets(device.handle(), static_cast<uint32_t>(writes.size()), writes.data(), 0, nullptr);
}

}  // namespace

DescriptorPool DescriptorPool::create(GpuDevice& device, uint32_t max_sets, uint32_t max_storage_buffers) {
  DescriptorPool result;
  result.device_ = &device;
  result.sets_left_ = max_sets;
  result.buffers_left_ = max_storage_buffers;
  // A pool size of 0 descriptors is invalid in Vulkan; a pool for sets with no
  // bindings still needs one entry.
  VkDescriptorPoolSize pool_size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, std::max(max_storage_buffers, 1u)};
  auto info = vkStruct<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
  info.maxSets = std::max(max_sets, 1u);
  info.poolSizeCount = 1;
  info.pPoolSizes = &pool_size;
  checkVk(vkCreateDescriptorPool(device.handle(), &info, nullptr, &result.pool_),
          "creating a descriptor pool for " + std::to_string(max_sets) + " sets");
  return result;
}

VkDescriptorSet DescriptorPool::allocate(const ComputePipeline& pipeline, std::span<const BufferBinding> bindings) {
  std::vector<VkDescriptorBufferInfo> infos = checkedBindings(*device_, pipeline, bindings);
  // Counted here because running out inside the driver is reported vaguely
  // (VK_ERROR_OUT_OF_POOL_MEMORY or worse, on 1.0 drivers, nothing).
  if (sets_left_ == 0 || buffers_left_ < infos.size()) {
    throw std::length_error("descriptor pool exhausted allocating a set for kernel '" + pipeline.name() +
                            "' (size the pool from the schedule)");
  }
  VkDescriptorSetLayout layout = pipeline.setLayout();
  auto info = vkStruct<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
  info.descriptorPool = pool_;
  info.descriptorSetCount = 1;
  info.pSetLayouts = &layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  checkVk(vkAllocateDescriptorSets(device_->handle(), &info, &set),
          "allocating a descriptor set for kernel '" + pipeline.name() + "'");
  sets_left_ -= 1;
  buffers_left_ -= static_cast<uint32_t>(infos.size());
  writeSet(*device_, set, pipeline, infos);
  return set;
}

void DescriptorPool::update(VkDescriptorSet set, const ComputePipeline& pipeline,
                            std::span<const BufferBinding> bindings) {
  writeSet(*device_, set, pipeline, checkedBindings(*device_, pipeline, bindings));
}

DescriptorPool::DescriptorPool(DescriptorPool&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      pool_(std::exchange(other.pool_, VK_NULL_HANDLE)),
      sets_left_(other.sets_left_),
      buffers_left_(other.buffers_left_) {}

DescriptorPool& DescriptorPool::operator=(DescriptorPool&& other) noexcept {
  if (this != &other) {
    release();
    device_ = std::exchange(other.device_, nullptr);
    pool_ = std::exchange(other.pool_, VK_NULL_HANDLE);
    sets_left_ = other.sets_left_;
    buffers_left_ = other.buffers_left_;
  }
  return *this;
}

DescriptorPool::~DescriptorPool() { release(); }

void DescriptorPool::release() noexcept {
  // Destroying the pool frees every set allocated from it.
  if (device_ && pool_) vkDestroyDescriptorPool(device_->handle(), pool_, nullptr);
  pool_ = VK_NULL_HANDLE;
  device_ = nullptr;
}

}  // namespace unicorn::gpu
