// The process's Vulkan instance and the physical devices it sees. Creating it is
// the first point where "no Vulkan driver" can be detected: the loader refuses an
// instance when no installable client driver (ICD) is present.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <vector>

namespace unicorn::gpu {

// The Vulkan version the runtime is written against; it asks the instance for it
// (or the loader's version if that is lower) and requires at least 1.1 from devices.
inline constexpr uint32_t kRequestedApiVersion = VK_API_VERSION_1_3;
inline constexpr uint32_t kMinimumApiVersion = VK_API_VERSION_1_1;

class VulkanInstance {
 public:
  // Throws Error(kDeviceMissing, "no Vulkan driver/device: ...") when the loader
  // cannot create an instance (no ICD, loader older than 1.1).
  static VulkanInstance create();

  VulkanInstance(VulkanInstance&& other) noexcept;
  VulkanInstance& operator=(VulkanInstance&& other) noexcept;
  VulkanInstance(const VulkanInstance&) = delete;
  VulkanInstance& operator=(const VulkanInstance&) = delete;
  ~VulkanInstance();

  VkInstance handle() const { return instance_; }
  uint32_t apiVersion() const { return api_version_; }
  // In the loader's order; an index into this vector is what `--device N` means.
  // May be empty (a loader with drivers that expose no device).
  const std::vector<VkPhysicalDevice>& physicalDevices() const { return physical_devices_; }

 private:
  VulkanInstance() = default;
  VkInstance instance_ = VK_NULL_HANDLE;
  uint32_t api_version_ = 0;
  std::vector<VkPhysicalDevice> physical_devices_;
};

}  // namespace unicorn::gpu
