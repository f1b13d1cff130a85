// Turns Vulkan results into Unicorn errors. Every failing Vulkan call becomes an
// Error that names the VkResult and what the runtime was doing, so a user sees
// "creating the compute pipeline 'rms_norm' failed: VK_ERROR_OUT_OF_DEVICE_MEMORY"
// rather than a bare code.
//
// Exit code: a Vulkan call that fails means the device cannot do what the bundle
// needs (no driver, out of device memory, device lost), which is exit 3
// (ExitCode::kDeviceMissing) under the command-line contract.
#pragma once

#include <vulkan/vulkan.h>

#include <string>
#include <string_view>

namespace unicorn::gpu {

// "VK_ERROR_OUT_OF_DEVICE_MEMORY"; "VkResult(-1234)" for a code this build does not know.
std::string vkResultName(VkResult result);

// Throws Error(kDeviceMissing, "<doing> failed: <VkResult name>") unless result is VK_SUCCESS.
// `doing` reads as a gerund phrase: "allocating 64 MiB of device memory".
void checkVk(VkResult result, std::string_view doing);

}  // namespace unicorn::gpu
