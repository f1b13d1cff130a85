#include "runtime/gpu/device_capabilities.h"

#include "runtime/gpu/device_feature_chain.h"

#include <algorithm>
#include <cstring>

#include "runtime/gpu/vulkan_error.h"
#include "runtime/gpu/vulkan_struct.h"

namespace unicorn::gpu {
namespace {

bool hasExtension(const std::vector<VkExtensionProperties>& extensions, const char* name) {
  return std::any_of(extensions.begin(), extensions.end(),
                     [&](const VkExtensionProperties& e) { return std::strcmp(e.extensionName, name) == 0; });
}

std::vector<VkExtensionProperties> deviceExtensions(VkPhysicalDevice device) {
  uint32_t count = 0;
  checkVk(vkEnumerateDeviceExtensionProperties(device, nullptr, &count, nullptr), "listing device extensions");
  std::vector<VkExtensionProperties> extensions(count);
  checkVk(vkEnumerateDeviceExtensionProperties(device, nullptr, &count, extensions.data()),
          "listing device extensions");
  extensions.resize(count);
  return extensions;
}

DeviceType toDeviceType(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return DeviceType::kIntegratedGpu;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return DeviceType::kDiscreteGpu;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return DeviceType::kVirtualGpu;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return DeviceType::kCpu;
    default: return DeviceType::kOther;
  }
}

void readQueues(VkPhysicalDevice device, DeviceCapabilities& caps) {
  uint32_t count = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, nullptr);
  std::vector<VkQueueFamilyProperties> families(count);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &count, families.data());
  for (uint32_t i = 0; i < count; ++i) {
    if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && families[i].queueCount > 0) {
      caps.has_compute_queue = true;
      caps.compute_queue_family = i;
      if (families[i].timestampValidBits == 0) caps.timestamp_period_ns = 0;
      return;
    }
  }
}

void readMemory(VkPhysicalDevice device, DeviceCapabilities& caps) {
  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(device, &memory);
  for (uint32_t h = 0; h < memory.memoryHeapCount; ++h) {
    if (memory.memoryHeaps[h].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) {
      caps.largest_device_local_heap_bytes = std::max<uint64_t>(caps.largest_device_local_heap_bytes,
                                                                memory.memoryHeaps[h].size);
    }
  }
  constexpr VkMemoryPropertyFlags kMappedDeviceLocal = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                                       VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  for (uint32_t t = 0; t < memory.memoryTypeCount; ++t) {
    if ((memory.memoryTypes[t].propertyFlags & kMappedDeviceLocal) == kMappedDeviceLocal) {
      caps.host_visible_device_local_memory = true;
      caps.host_visible_device_local_heap_bytes =
          std::max<uint64_t>(caps.host_visible_device_local_heap_bytes,
                             memory.memoryHeaps[memory.memoryTypes[t].heapIndex].size);
    }
  }
}

}  // namespace

std::string_view deviceTypeName(DeviceType type) {
  switch (type) {
    case DeviceType::kIntegratedGpu: return "integrated";
    case DeviceType::kDiscreteGpu: return "discrete";
    case DeviceType::kVirtualGpu: return "virtual";
    case DeviceType::kCpu: return "cpu";
    case DeviceType::kOther: return "other";
  }
  return "other";
}

std::string formatApiVersion(uint32_t version) {
  return std::to_string(VK_API_VERSION_MAJOR(version)) + "." + std::to_string(VK_API_VERSION_MINOR(version)) + "." +
         std::to_string(VK_API_VERSION_PATCH(version));
}

DeviceCapabilities readDeviceCapabilities(VkInstance instance, VkPhysicalDevice device) {
  DeviceCapabilities caps;
  VkPhysicalDeviceProperties properties;
  vkGetPhysicalDeviceProperties(device, &properties);
  caps.name = properties.deviceName;
  caps.type = toDeviceType(properties.deviceType);
  caps.api_version = properties.apiVersion;
  caps.vendor_id = properties.vendorID;
  caps.device_id = properties.deviceID;
  const VkPhysicalDeviceLimits& limits = properties.limits;
  caps.max_storage_buffer_range = limits.maxStorageBufferRange;
  caps.min_storage_buffer_offset_alignment = limits.minStorageBufferOffsetAlignment;
  caps.max_compute_workgroup_invocations = limits.maxComputeWorkGroupInvocations;
  std::copy(std::begin(limits.maxComputeWorkGroupSize), std::end(limits.maxComputeWorkGroupSize),
            caps.max_compute_workgroup_size.begin());
  std::copy(std::begin(limits.maxComputeWorkGroupCount), std::end(limits.maxComputeWorkGroupCount),
            caps.max_compute_workgroup_count.begin());
  caps.max_compute_shared_memory_size = limits.maxComputeSharedMemorySize;
  caps.max_push_constants_size = limits.maxPushConstantsSize;
  caps.max_per_stage_storage_buffers = limits.maxPerStageDescriptorStorageBuffers;
  caps.max_bound_descriptor_sets = limits.maxBoundDescriptorSets;
  caps.timestamp_period_ns = limits.timestampComputeAndGraphics ? limits.timestampPeriod : 0;
  readQueues(device, caps);
  readMemory(device, caps);

  const std::vector<VkExtensionProperties> extensions = deviceExtensions(device);
  caps.external_memory_host = hasExtension(extensions, VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
  const bool has_cooperative_matrix = hasExtension(extensions, kCooperativeMatrixExtension);
  const bool has_executable_properties =
      hasExtension(extensions, VK_KHR_PIPELINE_EXECUTABLE_PROPERTIES_EXTENSION_NAME);

  // Structures of Vulkan 1.1 and later may only be queried from a device that
  // supports them; a 1.0 device is reported with its basics and refused.
  if (caps.api_version < VK_API_VERSION_1_1) return caps;
  const bool is_1_2 = caps.api_version >= VK_API_VERSION_1_2;
  const bool is_1_3 = caps.api_version >= VK_API_VERSION_1_3;
  const bool has_8bit_storage = is_1_2 || hasExtension(extensions, VK_KHR_8BIT_STORAGE_EXTENSION_NAME);
  const bool has_float16_int8 = is_1_2 || hasExtension(extensions, VK_KHR_SHADER_FLOAT16_INT8_EXTENSION_NAME);
  const bool has_size_control = is_1_3 || hasExtension(extensions, VK_EXT_SUBGROUP_SIZE_CONTROL_EXTENSION_NAME);
  const bool has_integer_dot =
      is_1_3 || hasExtension(extensions, VK_KHR_SHADER_INTEGER_DOT_PRODUCT_EXTENSION_NAME);

  // Features: each struct is chained only when the device knows it.
  DeviceFeatureChain chain(
      {has_8bit_storage, has_float16_int8, has_size_control, has_integer_dot, has_cooperative_matrix,
       has_executable_properties});
  vkGetPhysicalDeviceFeatures2(device, &chain.features);
  caps.shader_integer_dot_product = has_integer_dot && chain.integer_dot.shaderIntegerDotProduct;
  caps.storage_buffer_16bit_access = chain.storage16.storageBuffer16BitAccess;
  caps.storage_buffer_array_dynamic_indexing = chain.features.features.shaderStorageBufferArrayDynamicIndexing;
  caps.storage_buffer_8bit_access = has_8bit_storage && chain.storage8.storageBuffer8BitAccess;
  caps.shader_float16 = has_float16_int8 && chain.float16_int8.shaderFloat16;
  caps.shader_int8 = has_float16_int8 && chain.float16_int8.shaderInt8;
  caps.cooperative_matrix = has_cooperative_matrix && chain.cooperative_matrix.cooperativeMatrix;
  if (caps.cooperative_matrix) caps.cooperative_matrix_shapes = readCooperativeMatrixShapes(instance, device);
  caps.pipeline_executable_info =
      has_executable_properties && chain.executable_properties.pipelineExecutableInfo;

  // Properties.
  auto properties2 = vkStruct<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
  auto subgroup = vkStruct<VkPhysicalDeviceSubgroupProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES);
  auto maintenance3 = vkStruct<VkPhysicalDeviceMaintenance3Properties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES);
  auto size_control_properties = vkStruct<VkPhysicalDeviceSubgroupSizeControlProperties>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES);
  auto host_memory = vkStruct<VkPhysicalDeviceExternalMemoryHostPropertiesEXT>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT);
  properties2.pNext = &subgroup;
  subgroup.pNext = &maintenance3;
  void** tail = &maintenance3.pNext;
  if (has_size_control) { *tail = &size_control_properties; tail = &size_control_properties.pNext; }
  if (caps.external_memory_host) { *tail = &host_memory; tail = &host_memory.pNext; }
  vkGetPhysicalDeviceProperties2(device, &properties2);

  caps.max_memory_allocation_size = maintenance3.maxMemoryAllocationSize;
  caps.subgroup_size = subgroup.subgroupSize;
  caps.subgroup_ops_in_compute = subgroup.supportedStages & VK_SHADER_STAGE_COMPUTE_BIT;
  caps.subgroup_basic = subgroup.supportedOperations & VK_SUBGROUP_FEATURE_BASIC_BIT;
  caps.subgroup_arithmetic = subgroup.supportedOperations & VK_SUBGROUP_FEATURE_ARITHMETIC_BIT;
  caps.subgroup_shuffle = subgroup.supportedOperations & VK_SUBGROUP_FEATURE_SHUFFLE_BIT;
  caps.min_subgroup_size = caps.max_subgroup_size = caps.subgroup_size;
  if (has_size_control && chain.size_control.subgroupSizeControl &&
      (size_control_properties.requiredSubgroupSizeStages & VK_SHADER_STAGE_COMPUTE_BIT)) {
    caps.subgroup_size_control = true;
    caps.min_subgroup_size = size_control_properties.minSubgroupSize;
    caps.max_subgroup_size = size_control_properties.maxSubgroupSize;
  }
  if (caps.external_memory_host) {
    caps.min_imported_host_pointer_alignment = host_memory.minImportedHostPointerAlignment;
  }
  return caps;
}

std::vector<std::string> missingRequirements(const DeviceCapabilities& caps) {
  std::vector<std::string> missing;
  if (caps.api_version < VK_API_VERSION_1_1) {
    // Nothing else was queried from a 1.0 device.
    missing.push_back("Vulkan 1.1 (it has " + formatApiVersion(caps.api_version) + ")");
    return missing;
  }
  if (!caps.has_compute_queue) missing.push_back("a compute queue");
  if (!caps.storage_buffer_16bit_access) missing.push_back("storageBuffer16BitAccess");
  if (!caps.subgroup_ops_in_compute) {
    missing.push_back("subgroup operations in compute shaders");
  } else {
    if (!caps.subgroup_basic) missing.push_back("basic subgroup operations");
    if (!caps.subgroup_arithmetic) missing.push_back("subgroup arithmetic");
    if (!caps.subgroup_shuffle) missing.push_back("subgroup shuffle");
    // attention.comp shares a key's score among up to 4 neighbouring lanes of a subgroup.
    if (caps.subgroup_size < 4) {
      missing.push_back("subgroups of at least 4 invocations (it has " + std::to_string(caps.subgroup_size) + ")");
    }
  }
  return missing;
}

}  // namespace unicorn::gpu
