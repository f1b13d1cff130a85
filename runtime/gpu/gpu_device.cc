#include "runtime/gpu/gpu_device.h"

#include <utility>
#include <vector>

#include "runtime/gpu/device_feature_chain.h"
#include "runtime/gpu/vulkan_error.h"
#include "runtime/gpu/vulkan_struct.h"

namespace unicorn::gpu {
namespace {

// Device extensions to enable: only those that bring something the device lacks
// in its core version, and only when advertised (capabilities were read from the
// same list).
std::vector<const char*> extensionsToEnable(const DeviceCapabilities& caps) {
  std::vector<const char*> names;
  if (caps.external_memory_host) names.push_back(VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
  if (caps.api_version < VK_API_VERSION_1_2) {
    if (caps.storage_buffer_8bit_access) names.push_back(VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
    if (caps.shader_float16 || caps.shader_int8) names.push_back(VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  }
  if (caps.api_version < VK_API_VERSION_1_3 && caps.subgroup_size_control) {
    names.push_back(VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  }
  if (caps.api_version < VK_API_VERSION_1_3 && caps.shader_integer_dot_product) {
    names.push_back(VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);
  }
  if (caps.cooperative_matrix) names.push_back(kCooperativeMatrixExtension);
  if (caps.pipeline_executable_info) names.push_back(VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);
  return names;
}

}  // namespace

std::unique_ptr<GpuDevice> GpuDevice::open(const DeviceRequest& request) {
  VulkanInstance instance = VulkanInstance::create();
  std::vector<DeviceReport> reports = describeDevices(instance);
  const uint32_t index = selectDevice(reports, request);
  VkPhysicalDevice physical_device = instance.physicalDevices()[index];
  return std::unique_ptr<GpuDevice>(
      new GpuDevice(std::move(instance), index, physical_device, std::move(reports[index].capabilities)));
}

GpuDevice::GpuDevice(VulkanInstance instance, uint32_t index, VkPhysicalDevice physical_device,
                     DeviceCapabilities capabilities)
    : instance_(std::move(instance)),
      physical_device_index_(index),
      physical_device_(physical_device),
      capabilities_(std::move(capabilities)) {
  vkGetPhysicalDeviceMemoryProperties(physical_device_, &memory_properties_);

  const float priority = 1.0f;
  auto queue_info = vkStruct<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
  queue_info.queueFamilyIndex = capabilities_.compute_queue_family;
  queue_info.queueCount = 1;
  queue_info.pQueuePriorities = &priority;

  // Enable the required feature and every optional one the device has, so
  // kernels may rely on what DeviceCapabilities says.
  DeviceFeatureChain chain({capabilities_.storage_buffer_8bit_access,
                            capabilities_.shader_float16 || capabilities_.shader_int8,
                            capabilities_.subgroup_size_control, capabilities_.shader_integer_dot_product,
                            capabilities_.cooperative_matrix, capabilities_.pipeline_executable_info});
  chain.storage16.storageBuffer16BitAccess = VK_TRUE;
  chain.features.features.shaderStorageBufferArrayDynamicIndexing = capabilities_.storage_buffer_array_dynamic_indexing;
  chain.storage8.storageBuffer8BitAccess = capabilities_.storage_buffer_8bit_access;
  chain.float16_int8.shaderFloat16 = capabilities_.shader_float16;
  chain.float16_int8.shaderInt8 = capabilities_.shader_int8;
  chain.size_control.subgroupSizeControl = capabilities_.subgroup_size_control;
  chain.integer_dot.shaderIntegerDotProduct = capabilities_.shader_integer_dot_product;
  chain.cooperative_matrix.cooperativeMatrix = capabilities_.cooperative_matrix;
  chain.executable_properties.pipelineExecutableInfo = capabilities_.pipeline_executable_info;

  const std::vector<const char*> extensions = extensionsToEnable(capabilities_);
  auto device_info = vkStruct<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
  device_info.pNext = &chain.features;
  device_info.queueCreateInfoCount = 1;
  device_info.pQueueCreateInfos = &queue_info;
  device_info.enabledExtensionCount = static_cast<uint32_t>(extensions.size());
  device_info.ppEnabledExtensionNames = extensions.data();
  checkVk(vkCreateDevice(physical_device_, &device_info, nullptr, &device_),
          "opening Vulkan device '" + capabilities_.name + "'");
  vkGetDeviceQueue(device_, capabilities_.compute_queue_family, 0, &compute_queue_);
  if (capabilities_.external_memory_host) {
    get_memory_host_pointer_properties_ = reinterpret_cast<PFN_vkGetMemoryHostPointerPropertiesEXT>(
        vkGetDeviceProcAddr(device_, "vkGetMemoryHostPointerPropertiesEXT"));
  }
}

GpuDevice::~GpuDevice() {
  if (device_) {
    // Nothing may still run on the queue when the device goes; errors here have nowhere to go.
    vkDeviceWaitIdle(device_);
    vkDestroyDevice(device_, nullptr);
  }
}

std::optional<uint32_t> GpuDevice::findMemoryType(uint32_t type_bits, VkMemoryPropertyFlags required,
                                                  VkMemoryPropertyFlags preferred) const {
  std::optional<uint32_t> first_acceptable;  // has the required flags but not all preferred ones
  for (uint32_t t = 0; t < memory_properties_.memoryTypeCount; ++t) {
    if (!(type_bits & (1u << t))) continue;
    const VkMemoryPropertyFlags flags = memory_properties_.memoryTypes[t].propertyFlags;
    if ((flags & required) != required) continue;
    if ((flags & preferred) == preferred) return t;
    if (!first_acceptable) first_acceptable = t;
  }
  return first_acceptable;
}

VkMemoryPropertyFlags GpuDevice::memoryTypeFlags(uint32_t memory_type) const {
  return memory_type < memory_properties_.memoryTypeCount ? memory_properties_.memoryTypes[memory_type].propertyFlags
                                                          : 0;
}

void GpuDevice::waitIdle() const { checkVk(vkDeviceWaitIdle(device_), "waiting for the GPU to become idle"); }

}  // namespace unicorn::gpu
