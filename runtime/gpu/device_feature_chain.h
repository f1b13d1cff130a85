// The Vulkan feature structs Unicorn reads and enables, chained behind one
// VkPhysicalDeviceFeatures2. readDeviceCapabilities queries a chain,
// GpuDevice enables from one: both build it here, so they cannot disagree on
// which struct carries which feature or which structs a device may be given
// (a struct is chained only when the device knows it: its Vulkan version or
// extension).
#pragma once

#include <vulkan/vulkan.h>

#include "runtime/gpu/cooperative_matrix.h"

namespace unicorn::gpu {

struct DeviceFeatureChain {
  // Which optional structs to chain (16-bit storage is always there: required).
  struct Present {
    bool storage8 = false;
    bool float16_int8 = false;
    bool size_control = false;
    bool integer_dot = false;
    bool cooperative_matrix = false;
    bool executable_properties = false;
  };
  explicit DeviceFeatureChain(Present present);
  // The chain points into itself.
  DeviceFeatureChain(const DeviceFeatureChain&) = delete;
  DeviceFeatureChain& operator=(const DeviceFeatureChain&) = delete;

  VkPhysicalDeviceFeatures2 features{};  // the head: pass &features
  VkPhysicalDevice16BitStorageFeatures storage16{};
  VkPhysicalDevice8BitStorageFeatures storage8{};
  VkPhysicalDeviceShaderFloat16Int8Features float16_int8{};
  VkPhysicalDeviceSubgroupSizeControlFeatures size_control{};
  VkPhysicalDeviceShaderIntegerDotProductFeatures integer_dot{};
  CooperativeMatrixFeatures cooperative_matrix{};
  VkPhysicalDevicePipelineExecutablePropertiesFeaturesKHR executable_properties{};
};

}  // namespace unicorn::gpu
