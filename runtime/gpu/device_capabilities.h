// What a physical device can do, read at run time. Kernels and the executor size
// themselves from this (subgroup size, buffer range, allocation size, push
// constant space) instead of assuming one GPU: llvmpipe has subgroup 8 and a
// 128 MiB maxStorageBufferRange, RDNA3 runs wave32 or wave64.
#pragma once

#include <vulkan/vulkan.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/gpu/cooperative_matrix.h"

namespace unicorn::gpu {

enum class DeviceType { kIntegratedGpu, kDiscreteGpu, kVirtualGpu, kCpu, kOther };

// "integrated", "discrete", "virtual", "cpu", "other" (the names --list-devices prints).
std::string_view deviceTypeName(DeviceType type);
// "1.3.230"
std::string formatApiVersion(uint32_t version);

struct DeviceCapabilities {
  // Identity.
  std::string name;  // VkPhysicalDeviceProperties::deviceName
  DeviceType type = DeviceType::kOther;
  uint32_t api_version = 0;
  uint32_t vendor_id = 0;
  uint32_t device_id = 0;

  // Required (see missingRequirements): Vulkan 1.1+, a compute queue, 16-bit
  // storage, basic/arithmetic/shuffle subgroup operations in compute shaders, and
  // subgroups of at least 4 invocations.
  bool has_compute_queue = false;
  uint32_t compute_queue_family = 0;  // valid when has_compute_queue
  bool storage_buffer_16bit_access = false;
  bool subgroup_ops_in_compute = false;  // subgroupSupportedStages has COMPUTE
  bool subgroup_basic = false;
  bool subgroup_arithmetic = false;
  bool subgroup_shuffle = false;

  // Subgroup size: `subgroup_size` is what a pipeline gets by default; with
  // subgroup_size_control a pipeline may require any power of two in
  // [min_subgroup_size, max_subgroup_size] (RDNA: 32 or 64).
  uint32_t subgroup_size = 0;
  uint32_t min_subgroup_size = 0;
  uint32_t max_subgroup_size = 0;
  bool subgroup_size_control = false;  // VK_EXT_subgroup_size_control / 1.3, usable in compute

  // Optional capabilities; GpuDevice enables each one the device has.
  bool shader_float16 = false;
  bool shader_int8 = false;
  bool storage_buffer_8bit_access = false;
  // Arrays of storage buffers indexed by a dynamically uniform value
  // (shaderStorageBufferArrayDynamicIndexing): kernels that bind a table's row
  // slices as one array binding need it.
  bool storage_buffer_array_dynamic_indexing = false;
  // Packed 4 x 8-bit dot products (shaderIntegerDotProduct: core in Vulkan 1.3,
  // where every device has it, else VK_KHR_shader_integer_dot_product): the
  // quantised decode kernels need it.
  bool shader_integer_dot_product = false;
  // VK_KHR_cooperative_matrix's cooperativeMatrix feature, and the products the
  // units run (runtime/gpu/cooperative_matrix.h; the NV extension is not used).
  bool cooperative_matrix = false;
  std::vector<CooperativeMatrixShape> cooperative_matrix_shapes;
  // VK_KHR_pipeline_executable_properties' pipelineExecutableInfo: the driver's
  // statistics of a compiled pipeline (registers, shared memory, ...), which
  // --bench reports; nothing else depends on it.
  bool pipeline_executable_info = false;

  // Importing host memory (the mmapped bundle) as device memory.
  bool external_memory_host = false;  // VK_EXT_external_memory_host
  uint64_t min_imported_host_pointer_alignment = 0;  // valid when external_memory_host

  // Memory.
  bool host_visible_device_local_memory = false;  // a DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT type
  uint64_t largest_device_local_heap_bytes = 0;
  // The heap behind that host-visible device-local type (a discrete GPU without
  // resizable BAR has one of only 256 MiB); 0 when there is none.
  uint64_t host_visible_device_local_heap_bytes = 0;

  // Limits the kernels and the memory plan must respect.
  uint64_t max_storage_buffer_range = 0;
  uint64_t max_memory_allocation_size = 0;
  uint64_t min_storage_buffer_offset_alignment = 0;
  uint32_t max_compute_workgroup_invocations = 0;
  std::array<uint32_t, 3> max_compute_workgroup_size{};
  std::array<uint32_t, 3> max_compute_workgroup_count{};
  uint32_t max_compute_shared_memory_size = 0;
  uint32_t max_push_constants_size = 0;
  uint32_t max_per_stage_storage_buffers = 0;
  uint32_t max_bound_descriptor_sets = 0;
  float timestamp_period_ns = 0;  // 0: the compute queue has no timestamps
};

// Reads everything above from the device (properties2/features2 chains, queue
// families, memory types, extension list). Never throws for a missing feature:
// that is for missingRequirements to say.
DeviceCapabilities readDeviceCapabilities(VkInstance instance, VkPhysicalDevice device);

// The required features the device lacks, each a short phrase naming it, e.g.
// "Vulkan 1.1 (it has 1.0.68)", "storageBuffer16BitAccess", "subgroup shuffle in
// compute shaders". Empty: the device can run Unicorn's kernels.
std::vector<std::string> missingRequirements(const DeviceCapabilities& capabilities);

}  // namespace unicorn::gpu
