// A compute pipeline made from SPIR-V words that the compiler put in the bundle:
// its descriptor set layout (set 0, bindings 0..N-1, all storage buffers), its
// push-constant range and its specialization constants. The runtime never
// compiles shaders; it only specializes them.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace unicorn::gpu {

class GpuDevice;

struct SpecializationConstant {
  uint32_t id = 0;     // the SPIR-V SpecId
  uint32_t value = 0;  // 32-bit: uint, int or bool (0/1) constants
};

struct ComputePipelineDesc {
  std::string name;                // for error messages, e.g. the kernel's name in the bundle
  std::span<const uint32_t> spirv; // the module's words; only read during create()
  std::string entry_point = "main";
  uint32_t storage_buffer_count = 0;  // bindings 0..N-1 of set 0
  // Descriptors at each binding (empty: one each). A binding of more is an
  // array of storage buffers (a table's row slices), indexed by a dynamically
  // uniform value: needs shaderStorageBufferArrayDynamicIndexing.
  std::vector<uint32_t> array_sizes = {};
  uint32_t push_constant_bytes = 0;   // 0 or a multiple of 4, <= maxPushConstantsSize
  std::vector<SpecializationConstant> specialization = {};
  // 0: the driver's default subgroup size. Otherwise the pipeline requires this
  // subgroup size (needs subgroup_size_control and min <= size <= max).
  uint32_t required_subgroup_size = 0;
  // Keep the driver's statistics of the compiled pipeline for statistics()
  // (where the device has pipeline_executable_info; ignored elsewhere).
  bool capture_statistics = false;
};

// One statistic the driver reports of a compiled pipeline's executable (which
// ones is the driver's choice, e.g. a register count); booleans read as 0 / 1.
struct PipelineStatistic {
  std::string name;
  std::string description;
  double value = 0;
};
struct PipelineExecutable {
  std::string name;  // the driver's, e.g. "Compute Shader"
  std::vector<PipelineStatistic> statistics;
};

class ComputePipeline {
 public:
  // Checks the words (non-empty, SPIR-V magic, well-formed instructions:
  // Error(kInvalidInput)), the features the module's capabilities need and the
  // device limits (push constant size, storage buffer count, subgroup size:
  // Error(kDeviceMissing) naming the feature or limit), then creates the layouts
  // and pipeline.
  static ComputePipeline create(GpuDevice& device, const ComputePipelineDesc& desc);
  // What create() would refuse with Error(kDeviceMissing), as its message: a
  // feature or cooperative-matrix shape the module needs, a limit it exceeds;
  // nullopt when the device can run it. Malformed words still throw kInvalidInput.
  static std::optional<std::string> shortfall(const GpuDevice& device, const ComputePipelineDesc& desc);
  // create() for each desc, in order, on up to `threads` threads (0: as many as
  // the machine has): drivers compile each module to machine code here, tens of
  // milliseconds apiece, and a bundle has dozens. The first error is rethrown
  // once every thread has stopped. `seconds`, when given, receives how long
  // each one took, in order.
  static std::vector<ComputePipeline> createAll(GpuDevice& device, std::span<const ComputePipelineDesc> descs,
                                                unsigned threads = 0, std::vector<double>* seconds = nullptr);

  ComputePipeline(ComputePipeline&& other) noexcept;
  ComputePipeline& operator=(ComputePipeline&& other) noexcept;
  ComputePipeline(const ComputePipeline&) = delete;
  ComputePipeline& operator=(const ComputePipeline&) = delete;
  ~ComputePipeline();

  const std::string& name() const { return name_; }
  VkPipeline handle() const { return pipeline_; }
  VkPipelineLayout layout() const { return layout_; }
  VkDescriptorSetLayout setLayout() const { return set_layout_; }
  uint32_t storageBufferCount() const { return storage_buffer_count_; }
  // Descriptors at each binding, and their total: what a set of this pipeline
  // is given (the bindings in order, an array's elements in turn).
  const std::vector<uint32_t>& arraySizes() const { return array_sizes_; }
  uint32_t descriptorCount() const { return descriptor_count_; }
  uint32_t pushConstantBytes() const { return push_constant_bytes_; }
  // The driver's statistics of each executable of a pipeline made with
  // capture_statistics on a device with pipeline_executable_info (VK_KHR_
  // pipeline_executable_properties); empty otherwise.
  std::vector<PipelineExecutable> statistics() const;

 private:
  ComputePipeline() = default;
  void release() noexcept;

  GpuDevice* device_ = nullptr;
  std::string name_;
  VkDescriptorSetLayout set_layout_ = VK_NULL_HANDLE;
  VkPipelineLayout layout_ = VK_NULL_HANDLE;
  VkPipeline pipeline_ = VK_NULL_HANDLE;
  uint32_t storage_buffer_count_ = 0;
  std::vector<uint32_t> array_sizes_;  // one per binding
  uint32_t descriptor_count_ = 0;
  uint32_t push_constant_bytes_ = 0;
  bool statistics_captured_ = false;
};

}  // namespace unicorn::gpu
