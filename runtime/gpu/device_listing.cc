#include "runtime/gpu/device_listing.h"

namespace unicorn::gpu {
namespace {

std::string yesNo(bool value) { return value ? "yes" : "no"; }

std::string mebibytes(uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

std::string summary(const DeviceCapabilities& caps) {
  return "[" + std::string(deviceTypeName(caps.type)) + ", Vulkan " + formatApiVersion(caps.api_version) +
         ", subgroup " + std::to_string(caps.subgroup_size) + "]";
}

}  // namespace

nlohmann::json capabilitiesToJson(const DeviceCapabilities& caps) {
  return {
      {"name", caps.name},
      {"type", deviceTypeName(caps.type)},
      {"api_version", formatApiVersion(caps.api_version)},
      {"vendor_id", caps.vendor_id},
      {"device_id", caps.device_id},
      {"has_compute_queue", caps.has_compute_queue},
      {"compute_queue_family", caps.compute_queue_family},
      {"storage_buffer_16bit_access", caps.storage_buffer_16bit_access},
      {"subgroup_ops_in_compute", caps.subgroup_ops_in_compute},
      {"subgroup_basic", caps.subgroup_basic},
      {"subgroup_arithmetic", caps.subgroup_arithmetic},
      {"subgroup_shuffle", caps.subgroup_shuffle},
      {"subgroup_size", caps.subgroup_size},
      {"min_subgroup_size", caps.min_subgroup_size},
      {"max_subgroup_size", caps.max_subgroup_size},
      {"subgroup_size_control", caps.subgroup_size_control},
      {"shader_float16", caps.shader_float16},
      {"shader_int8", caps.shader_int8},
      {"shader_integer_dot_product", caps.shader_integer_dot_product},
      {"storage_buffer_8bit_access", caps.storage_buffer_8bit_access},
      {"cooperative_matrix", caps.cooperative_matrix},
      {"external_memory_host", caps.external_memory_host},
      {"min_imported_host_pointer_alignment", caps.min_imported_host_pointer_alignment},
      {"host_visible_device_local_memory", caps.host_visible_device_local_memory},
      {"host_visible_device_local_heap_bytes", caps.host_visible_device_local_heap_bytes},
      {"largest_device_local_heap_bytes", caps.largest_device_local_heap_bytes},
      {"max_storage_buffer_range", caps.max_storage_buffer_range},
      {"max_memory_allocation_size", caps.max_memory_allocation_size},
      {"min_storage_buffer_offset_alignment", caps.min_storage_buffer_offset_alignment},
      {"max_compute_workgroup_invocations", caps.max_compute_workgroup_invocations},
      {"max_compute_workgroup_size", caps.max_compute_workgroup_size},
      {"max_compute_workgroup_count", caps.max_compute_workgroup_count},
      {"max_compute_shared_memory_size", caps.max_compute_shared_memory_size},
      {"max_push_constants_size", caps.max_push_constants_size},
      {"max_per_stage_storage_buffers", caps.max_per_stage_storage_buffers},
      {"max_bound_descriptor_sets", caps.max_bound_descriptor_sets},
      {"timestamp_period_ns", caps.timestamp_period_ns},
  };
}

nlohmann::json deviceListToJson(const std::vector<DeviceReport>& devices, bool allow_software_gpu) {
  nlohmann::json list = nlohmann::json::array();
  for (const DeviceReport& device : devices) {
    list.push_back({{"index", device.index},
                    {"name", device.capabilities.name},
                    {"type", deviceTypeName(device.capabilities.type)},
                    {"api_version", formatApiVersion(device.capabilities.api_version)},
                    {"subgroup_size", device.capabilities.subgroup_size},
                    {"usable", device.usable(allow_software_gpu)},
                    {"why_unusable", device.whyUnusable(allow_software_gpu)},
                    {"missing", device.missing},
                    {"capabilities", capabilitiesToJson(device.capabilities)}});
  }
  return {{"devices", list}};
}

std::string formatDeviceList(const std::vector<DeviceReport>& devices, bool allow_software_gpu) {
  std::string text;
  for (const DeviceReport& device : devices) {
    text += std::to_string(device.index) + ": " + device.capabilities.name + " " + summary(device.capabilities) +
            ": " + (device.usable(allow_software_gpu) ? "usable" : "not usable: " + device.whyUnusable(allow_software_gpu)) +
            "\n";
  }
  if (devices.empty()) text = "no Vulkan devices\n";
  return text;
}

std::string formatCapabilities(const DeviceCapabilities& caps) {
  const auto& size = caps.max_compute_workgroup_size;
  return caps.name + " " + summary(caps) + "\n" +
         "  subgroup size " + std::to_string(caps.subgroup_size) + " (range " + std::to_string(caps.min_subgroup_size) +
         "-" + std::to_string(caps.max_subgroup_size) + ", size control " + yesNo(caps.subgroup_size_control) + ")\n" +
         "  maxStorageBufferRange " + mebibytes(caps.max_storage_buffer_range) + ", maxMemoryAllocationSize " +
         mebibytes(caps.max_memory_allocation_size) + ", maxPushConstantsSize " +
         std::to_string(caps.max_push_constants_size) + " B\n" +
         "  maxComputeWorkGroupInvocations " + std::to_string(caps.max_compute_workgroup_invocations) + ", size " +
         std::to_string(size[0]) + "x" + std::to_string(size[1]) + "x" + std::to_string(size[2]) +
         ", shared memory " + std::to_string(caps.max_compute_shared_memory_size) + " B\n" +
         "  float16 " + yesNo(caps.shader_float16) + ", int8 " + yesNo(caps.shader_int8) + ", integer dot product " +
         yesNo(caps.shader_integer_dot_product) + ", 8-bit storage " +
         yesNo(caps.storage_buffer_8bit_access) + ", cooperative matrix " + yesNo(caps.cooperative_matrix) + "\n" +
         "  host memory import " +
         (caps.external_memory_host
              ? "yes (alignment " + std::to_string(caps.min_imported_host_pointer_alignment) + " B)"
              : std::string("no")) +
         ", host-visible device-local memory " + yesNo(caps.host_visible_device_local_memory) + "\n";
}

}  // namespace unicorn::gpu
