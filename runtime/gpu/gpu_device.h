// The opened logical device: one compute queue, the optional features the device
// has switched on, and the memory-type choices every buffer makes. Everything
// else on the GPU (buffers, pipelines, command streams) is created from it and
// must be destroyed before it.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "runtime/gpu/device_capabilities.h"
#include "runtime/gpu/device_selection.h"
#include "runtime/gpu/vulkan_instance.h"

namespace unicorn::gpu {

class GpuDevice {
 public:
  // Selects a device by `request` (selectDevice's rules) and opens it. Throws
  // Error(kDeviceMissing) naming what is missing; never picks another device.
  static std::unique_ptr<GpuDevice> open(const DeviceRequest& request);

  GpuDevice(const GpuDevice&) = delete;
  GpuDevice& operator=(const GpuDevice&) = delete;
  ~GpuDevice();

  const DeviceCapabilities& capabilities() const { return capabilities_; }
  uint32_t physicalDeviceIndex() const { return physical_device_index_; }
  VkPhysicalDevice physicalDevice() const { return physical_device_; }
  VkDevice handle() const { return device_; }
  VkQueue computeQueue() const { return compute_queue_; }
  uint32_t computeQueueFamily() const { return capabilities_.compute_queue_family; }

  // The first memory type allowed by `type_bits` that has all `required` flags,
  // preferring one that also has all `preferred` flags. nullopt: none qualifies.
  std::optional<uint32_t> findMemoryType(uint32_t type_bits, VkMemoryPropertyFlags required,
                                         VkMemoryPropertyFlags preferred = 0) const;
  VkMemoryPropertyFlags memoryTypeFlags(uint32_t memory_type) const;

  // VK_EXT_external_memory_host's entry point; null when the extension is absent.
  PFN_vkGetMemoryHostPointerPropertiesEXT getMemoryHostPointerProperties() const {
    return get_memory_host_pointer_properties_;
  }

  // Blocks until the queue is idle (used at shutdown and by tests).
  void waitIdle() const;

  // The memory this device's buffers hold, as GpuBuffer reports it: GPU memory
  // allocated now and at most so far, and host memory imported in place.
  struct MemoryUse {
    uint64_t allocated = 0, peak_allocated = 0, imported = 0;
  };
  const MemoryUse& memoryUse() const { return memory_use_; }
  void noteMemory(uint64_t bytes, bool imported, bool freed) {
    uint64_t& tally = imported ? memory_use_.imported : memory_use_.allocated;
    tally = freed ? tally - bytes : tally + bytes;
    if (memory_use_.allocated > memory_use_.peak_allocated) memory_use_.peak_allocated = memory_use_.allocated;
  }

 private:
  GpuDevice(VulkanInstance instance, uint32_t index, VkPhysicalDevice physical_device,
            DeviceCapabilities capabilities);

  VulkanInstance instance_;  // outlives device_: declared first, destroyed last
  uint32_t physical_device_index_ = 0;
  VkPhysicalDevice physical_device_ = VK_NULL_HANDLE;
  DeviceCapabilities capabilities_;
  VkPhysicalDeviceMemoryProperties memory_properties_{};
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue compute_queue_ = VK_NULL_HANDLE;
  PFN_vkGetMemoryHostPointerPropertiesEXT get_memory_host_pointer_properties_ = nullptr;
  MemoryUse memory_use_;
};

}  // namespace unicorn::gpu
