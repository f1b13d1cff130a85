// Vulkan's extensible structures start with sType and must be zero elsewhere.
// `auto info = vkStruct<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);`
// says both in one line (and keeps -Wmissing-field-initializers quiet, which
// `VkX x{sType}` does not).
#pragma once

#include <vulkan/vulkan.h>

namespace unicorn::gpu {

template <typename VulkanStruct>
VulkanStruct vkStruct(VkStructureType type) {
  VulkanStruct value{};
  value.sType = type;
  return value;
}

}  // namespace unicorn::gpu
