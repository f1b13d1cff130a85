#include "runtime/gpu/compute_pipeline.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <numeric>
#include <optional>
#include <system_error>
#include <thread>
#include <utility>

#include "runtime/error.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/gpu/spirv_capabilities.h"
#include "runtime/gpu/spirv_instructions.h"
#include "runtime/gpu/vulkan_error.h"
#include "runtime/gpu/vulkan_struct.h"

namespace unicorn::gpu {
namespace {

// The module's own faults: Error(kInvalidInput).
void checkWords(const ComputePipelineDesc& desc, const std::string& kernel) {
  if (!hasSpirvHeader(desc.spirv)) {
    throw Error(ExitCode::kInvalidInput, kernel + ": not a SPIR-V module (" + std::to_string(desc.spirv.size()) +
                                             " words, expected the magic number 0x07230203 first)");
  }
  if (desc.push_constant_bytes % 4 != 0) {
    throw Error(ExitCode::kInvalidInput, kernel + ": push constant size " + std::to_string(desc.push_constant_bytes) +
                                             " is not a multiple of 4");
  }
  if (!desc.array_sizes.empty() && desc.array_sizes.size() != desc.storage_buffer_count) {
    throw Error(ExitCode::kInvalidInput, kernel + ": " + std::to_string(desc.array_sizes.size()) +
                                             " array sizes for " + std::to_string(desc.storage_buffer_count) +
                                             " bindings");
  }
  if (std::find(desc.array_sizes.begin(), desc.array_sizes.end(), 0u) != desc.array_sizes.end()) {
    throw Error(ExitCode::kInvalidInput, kernel + ": a binding of 0 descriptors");
  }
}

// Descriptors at each binding: desc.array_sizes, or one each.
std::vector<uint32_t> arraySizesOf(const ComputePipelineDesc& desc) {
  return desc.array_sizes.empty() ? std::vector<uint32_t>(desc.storage_buffer_count, 1u) : desc.array_sizes;
}

}  // namespace

// What the bundle's kernel asks for, against this device, before Vulkan sees
// it: an over-limit request would otherwise be undefined behaviour in the driver.
std::optional<std::string> ComputePipeline::shortfall(const GpuDevice& device, const ComputePipelineDesc& desc) {
  const DeviceCapabilities& caps = device.capabilities();
  const std::string kernel = "kernel '" + desc.name + "'";
  checkWords(desc, kernel);
  for (uint32_t capability : declaredCapabilities(desc.spirv, kernel)) {
    if (std::optional<std::string> missing = missingFeatureFor(capability, caps)) {
      return kernel + " needs " + *missing + ", which device '" + caps.name + "' lacks";
    }
  }
  for (const CooperativeMatrixType& type : declaredCooperativeMatrices(desc.spirv, kernel)) {
    if (std::optional<std::string> missing = unsupportedMatrix(type, caps.cooperative_matrix_shapes)) {
      return kernel + " multiplies " + *missing + ", which the cooperative-matrix units of device '" + caps.name +
             "' do not";
    }
  }
  if (const uint64_t shared = declaredWorkgroupMemoryBytes(desc.spirv, kernel); shared > caps.max_compute_shared_memory_size) {
    return kernel + " needs " + std::to_string(shared) + " bytes of shared memory; device '" + caps.name + "' has " +
           std::to_string(caps.max_compute_shared_memory_size) + " (maxComputeSharedMemorySize)";
  }
  if (desc.push_constant_bytes > caps.max_push_constants_size) {
    return kernel + " needs " + std::to_string(desc.push_constant_bytes) + " bytes of push constants; device '" +
           caps.name + "' has " + std::to_string(caps.max_push_constants_size) + " (maxPushConstantsSize)";
  }
  const std::vector<uint32_t> array_sizes = arraySizesOf(desc);
  const uint64_t descriptors = std::accumulate(array_sizes.begin(), array_sizes.end(), uint64_t(0));
  if (descriptors > caps.max_per_stage_storage_buffers) {
    return kernel + " binds " + std::to_string(descriptors) + " storage buffers; device '" + caps.name +
           "' allows " + std::to_string(caps.max_per_stage_storage_buffers) + " (maxPerStageDescriptorStorageBuffers)";
  }
  if (descriptors > array_sizes.size() && !caps.storage_buffer_array_dynamic_indexing) {
    return kernel + " indexes an array of storage buffers, which needs shaderStorageBufferArrayDynamicIndexing; device '" +
           caps.name + "' lacks it";
  }
  const uint32_t size = desc.required_subgroup_size;
  if (size != 0) {
    if (!caps.subgroup_size_control) {
      return kernel + " requires subgroup size " + std::to_string(size) + "; device '" + caps.name +
             "' cannot fix the subgroup size of compute shaders (subgroupSizeControl)";
    }
    if (size < caps.min_subgroup_size || size > caps.max_subgroup_size || (size & (size - 1)) != 0) {
      return kernel + " requires subgroup size " + std::to_string(size) + "; device '" + caps.name + "' supports " +
             std::to_string(caps.min_subgroup_size) + " to " + std::to_string(caps.max_subgroup_size);
    }
  }
  return std::nullopt;
}

ComputePipeline ComputePipeline::create(GpuDevice& device, const ComputePipelineDesc& desc) {
  if (std::optional<std::string> missing = shortfall(device, desc)) throw Error(ExitCode::kDeviceMissing, *missing);
  ComputePipeline result;
  result.device_ = &device;
  result.name_ = desc.name;
  result.storage_buffer_count_ = desc.storage_buffer_count;
  result.array_sizes_ = arraySizesOf(desc);
  result.descriptor_count_ = std::accumulate(result.array_sizes_.begin(), result.array_sizes_.end(), 0u);
  result.push_constant_bytes_ = desc.push_constant_bytes;
  const std::string what = " for kernel '" + desc.name + "'";

  std::vector<VkDescriptorSetLayoutBinding> bindings(desc.storage_buffer_count);
  for (uint32_t i = 0; i < desc.storage_buffer_count; ++i) {
    bindings[i].binding = i;
    bindings[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
    bindings[i].descriptorCount = result.array_sizes_[i];
    bindings[i].stageFlags = VK_SHADER_STAGE_COMPUTE_BIT;
  }
  auto set_info = vkStruct<VkDescriptorSetLayoutCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
  set_info.bindingCount = desc.storage_buffer_count;
  set_info.pBindings = bindings.data();
  checkVk(vkCreateDescriptorSetLayout(device.handle(), &set_info, nullptr, &result.set_layout_),
          "creating the descriptor set layout" + what);

  VkPushConstantRange push_range{VK_SHADER_STAGE_COMPUTE_BIT, 0, desc.push_constant_bytes};
  auto layout_info = vkStruct<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
  layout_info.setLayoutCount = 1;
  layout_info.pSetLayouts = &result.set_layout_;
  layout_info.pushConstantRangeCount = desc.push_constant_bytes > 0 ? 1 : 0;
  layout_info.pPushConstantRanges = &push_range;
  checkVk(vkCreatePipelineLayout(device.handle(), &layout_info, nullptr, &result.layout_),
          "creating the pipeline layout" + what);

  auto module_info = vkStruct<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
  module_info.codeSize = desc.spirv.size_bytes();
  module_info.pCode = desc.spirv.data();
  VkShaderModule module = VK_NULL_HANDLE;
  checkVk(vkCreateShaderModule(device.handle(), &module_info, nullptr, &module), "creating the shader module" + what);

  // Each constant is one 32-bit value; the map entries point into `values`.
  std::vector<VkSpecializationMapEntry> entries;
  std::vector<uint32_t> values;
  for (const SpecializationConstant& constant : desc.specialization) {
    entries.push_back({constant.id, static_cast<uint32_t>(values.size() * sizeof(uint32_t)), sizeof(uint32_t)});
    values.push_back(constant.value);
  }
  VkSpecializationInfo specialization{static_cast<uint32_t>(entries.size()), entries.data(),
                                      values.size() * sizeof(uint32_t), values.data()};

  auto required_size = vkStruct<VkPipelineShaderStageRequiredSubgroupSizeCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO);
  required_size.requiredSubgroupSize = desc.required_subgroup_size;
  auto pipeline_info = vkStruct<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
  pipeline_info.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
  pipeline_info.stage.pNext = desc.required_subgroup_size ? &required_size : nullptr;
  pipeline_info.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
  pipeline_info.stage.module = module;
  pipeline_info.stage.pName = desc.entry_point.c_str();
  pipeline_info.stage.pSpecializationInfo = entries.empty() ? nullptr : &specialization;
  pipeline_info.layout = result.layout_;
  result.statistics_captured_ = desc.capture_statistics && device.capabilities().pipeline_executable_info;
  if (result.statistics_captured_) pipeline_info.flags |= VK_PIPELINE_CREATE_CAPTURE_STATISTICS_BIT_KHR;
  VkResult created =
      vkCreateComputePipelines(device.handle(), VK_NULL_HANDLE, 1, &pipeline_info, nullptr, &result.pipeline_);
  // The module is only needed while the pipeline is made.
  vkDestroyShaderModule(device.handle(), module, nullptr);
  checkVk(created, "creating the compute pipeline" + what);
  return result;
}

std::vector<ComputePipeline> ComputePipeline::createAll(GpuDevice& device, std::span<const ComputePipelineDesc> descs,
                                                       unsigned threads, std::vector<double>* seconds) {
  if (threads == 0) threads = std::max(std::thread::hardware_concurrency(), 1u);
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, descs.size()));
  std::vector<std::optional<ComputePipeline>> made(descs.size());
  std::vector<double> took(descs.size(), 0.0);
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  auto work = [&] {
    for (std::size_t i; !failed && (i = next++) < descs.size();) {
      try {
        const auto start = std::chrono::steady_clock::now();
        made[i] = create(device, descs[i]);
        took[i] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
  };
  {
    std::vector<std::jthread> helpers;
    for (unsigned t = 1; t < threads; ++t) {
      try {
        helpers.emplace_back(work);
      } catch (const std::system_error&) {
        break;  // fewer threads: the others, and this one, take the rest
      }
    }
    work();
  }  // the helpers join here
  if (first_error) std::rethrow_exception(first_error);
  if (seconds) *seconds = std::move(took);
  std::vector<ComputePipeline> result;
  result.reserve(made.size());
  for (std::optional<ComputePipeline>& pipeline : made) result.push_back(std::move(*pipeline));
  return result;
}

ComputePipeline::ComputePipeline(ComputePipeline&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      name_(std::move(other.name_)),
      set_layout_(std::exchange(other.set_layout_, VK_NULL_HANDLE)),
      layout_(std::exchange(other.layout_, VK_NULL_HANDLE)),
      pipeline_(std::exchange(other.pipeline_, VK_NULL_HANDLE)),
      storage_buffer_count_(other.storage_buffer_count_),
      array_sizes_(std::move(other.array_sizes_)),
      descriptor_count_(other.descriptor_count_),
      push_constant_bytes_(other.push_constant_bytes_),
      statistics_captured_(other.statistics_captured_) {}

ComputePipeline& ComputePipeline::operator=(ComputePipeline&& other) noexcept {
  if (this != &other) {
    release();
    device_ = std::exchange(other.device_, nullptr);
    name_ = std::move(other.name_);
    set_layout_ = std::exchange(other.set_layout_, VK_NULL_HANDLE);
    layout_ = std::exchange(other.layout_, VK_NULL_HANDLE);
    pipeline_ = std::exchange(other.pipeline_, VK_NULL_HANDLE);
    storage_buffer_count_ = other.storage_buffer_count_;
    array_sizes_ = std::move(other.array_sizes_);
    descriptor_count_ = other.descriptor_count_;
    push_constant_bytes_ = other.push_constant_bytes_;
    statistics_captured_ = other.statistics_captured_;
  }
  return *this;
}

std::vector<PipelineExecutable> ComputePipeline::statistics() const {
  if (!statistics_captured_ || pipeline_ == VK_NULL_HANDLE) return {};
  VkDevice device = device_->handle();
  auto get_properties = reinterpret_cast<PFN_vkGetPipelineExecutablePropertiesKHR>(
      vkGetDeviceProcAddr(device, "vkGetPipelineExecutablePropertiesKHR"));
  auto get_statistics = reinterpret_cast<PFN_vkGetPipelineExecutableStatisticsKHR>(
      vkGetDeviceProcAddr(device, "vkGetPipelineExecutableStatisticsKHR"));
  if (!get_properties || !get_statistics) return {};
  auto pipeline_info = vkStruct<VkPipelineInfoKHR>(VK_STRUCTURE_TYPE_PIPELINE_INFO_KHR);
  pipeline_info.pipeline = pipeline_;
  uint32_t count = 0;
  checkVk(get_properties(device, &pipeline_info, &count, nullptr), "reading the executables of " + name_);
  std::vector<VkPipelineExecutablePropertiesKHR> properties(
      count, vkStruct<VkPipelineExecutablePropertiesKHR>(VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_PROPERTIES_KHR));
  checkVk(get_properties(device, &pipeline_info, &count, properties.data()), "reading the executables of " + name_);
  std::vector<PipelineExecutable> executables;
  for (uint32_t i = 0; i < count; ++i) {
    auto executable_info = vkStruct<VkPipelineExecutableInfoKHR>(VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_INFO_KHR);
    executable_info.pipeline = pipeline_;
    executable_info.executableIndex = i;
    uint32_t statistic_count = 0;
    checkVk(get_statistics(device, &executable_info, &statistic_count, nullptr), "reading the statistics of " + name_);
    std::vector<VkPipelineExecutableStatisticKHR> statistics(
        statistic_count, vkStruct<VkPipelineExecutableStatisticKHR>(VK_STRUCTURE_TYPE_PIPELINE_EXECUTABLE_STATISTIC_KHR));
    checkVk(get_statistics(device, &executable_info, &statistic_count, statistics.data()),
            "reading the statistics of " + name_);
    PipelineExecutable executable{properties[i].name, {}};
    for (uint32_t s = 0; s < statistic_count; ++s) {
      const VkPipelineExecutableStatisticKHR& statistic = statistics[s];
      double value = 0;
      switch (statistic.format) {
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_BOOL32_KHR: value = statistic.value.b32 ? 1 : 0; break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_INT64_KHR: value = static_cast<double>(statistic.value.i64); break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_UINT64_KHR: value = static_cast<double>(statistic.value.u64); break;
        case VK_PIPELINE_EXECUTABLE_STATISTIC_FORMAT_FLOAT64_KHR: value = statistic.value.f64; break;
        default: continue;
      }
      executable.statistics.push_back({statistic.name, statistic.description, value});
    }
    executables.push_back(std::move(executable));
  }
  return executables;
}

ComputePipeline::~ComputePipeline() { release(); }

void ComputePipeline::release() noexcept {
  if (!device_) return;
  if (pipeline_) vkDestroyPipeline(device_->handle(), pipeline_, nullptr);
  if (layout_) vkDestroyPipelineLayout(device_->handle(), layout_, nullptr);
  if (set_layout_) vkDestroyDescriptorSetLayout(device_->handle(), set_layout_, nullptr);
  pipeline_ = VK_NULL_HANDLE;
  layout_ = VK_NULL_HANDLE;
  set_layout_ = VK_NULL_HANDLE;
  device_ = nullptr;
}

}  // namespace unicorn::gpu
