#include "runtime/gpu/vulkan_instance.h"

#include <algorithm>
#include <string>
#include <utility>

#include "runtime/error.h"
#include "runtime/gpu/device_capabilities.h"
#include "runtime/gpu/vulkan_error.h"

namespace unicorn::gpu {
namespace {

[[noreturn]] void failNoVulkan(const std::string& why) {
  throw Error(ExitCode::kDeviceMissing, "no Vulkan driver/device: " + why);
}

}  // namespace

VulkanInstance VulkanInstance::create() {
  // vkEnumerateInstanceVersion is 1.1 API: a 1.0 loader does not export it.
  auto enumerate_version = reinterpret_cast<PFN_vkEnumerateInstanceVersion>(
      vkGetInstanceProcAddr(VK_NULL_HANDLE, "vkEnumerateInstanceVersion"));
  uint32_t loader_version = VK_API_VERSION_1_0;
  if (enumerate_version) checkVk(enumerate_version(&loader_version), "asking the Vulkan loader for its version");
  if (loader_version < kMinimumApiVersion) {
    failNoVulkan("the Vulkan loader supports " + formatApiVersion(loader_version) + ", Unicorn needs 1.1 or newer");
  }

  VulkanInstance result;
  result.api_version_ = std::min(loader_version, kRequestedApiVersion);
  VkApplicationInfo application{};
  application.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO;
  application.pApplicationName = "unicorn";
  application.pEngineName = "unicorn";
  application.apiVersion = result.api_version_;
  VkInstanceCreateInfo create_info{};
  create_info.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO;
  create_info.pApplicationInfo = &application;
  VkResult created = vkCreateInstance(&create_info, nullptr, &result.instance_);
  if (created == VK_ERROR_INCOMPATIBLE_DRIVER) {
    // The loader says this when it found no installable client driver at all.
    failNoVulkan("creating a Vulkan instance failed: VK_ERROR_INCOMPATIBLE_DRIVER (no Vulkan driver is installed, "
                 "or none supports Vulkan 1.1)");
  }
  if (created != VK_SUCCESS) failNoVulkan("creating a Vulkan instance failed: " + vkResultName(created));

  uint32_t count = 0;
  checkVk(vkEnumeratePhysicalDevices(result.instance_, &count, nullptr), "listing Vulkan physical devices");
  result.physical_devices_.resize(count);
  // VK_INCOMPLETE cannot happen between two calls with nothing hot-plugged; treat as an error if it does.
  checkVk(vkEnumeratePhysicalDevices(result.instance_, &count, result.physical_devices_.data()),
          "listing Vulkan physical devices");
  result.physical_devices_.resize(count);
  return result;
}

VulkanInstance::VulkanInstance(VulkanInstance&& other) noexcept
    : instance_(std::exchange(other.instance_, VK_NULL_HANDLE)),
      api_version_(other.api_version_),
      physical_devices_(std::move(other.physical_devices_)) {}

VulkanInstance& VulkanInstance::operator=(VulkanInstance&& other) noexcept {
  if (this != &other) {
    if (instance_) vkDestroyInstance(instance_, nullptr);
    instance_ = std::exchange(other.instance_, VK_NULL_HANDLE);
    api_version_ = other.api_version_;
    physical_devices_ = std::move(other.physical_devices_);
  }
  return *this;
}

VulkanInstance::~VulkanInstance() {
  if (instance_) vkDestroyInstance(instance_, nullptr);
}

}  // namespace unicorn::gpu
