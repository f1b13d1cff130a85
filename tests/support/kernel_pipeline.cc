#include "tests/support/kernel_pipeline.h"

#include "codegen_spirv/kernel_library.h"
#include "codegen_spirv/spirv_kernel_compiler.h"

namespace unicorn::test_support {

std::vector<uint32_t> compileKernel(const spirv::KernelRequest& request) {
  return spirv::SpirvKernelCompiler().compile(request.kernel, request.defines);
}

gpu::ComputePipelineDesc kernelPipelineDesc(const spirv::KernelRequest& request, std::span<const uint32_t> spirv) {
  const spirv::KernelInfo& info = spirv::KernelLibrary::builtin().get(request.kernel);
  gpu::ComputePipelineDesc desc;
  desc.name = spirv::describeSpecialisation(request.kernel, request.defines);
  desc.spirv = spirv;
  desc.storage_buffer_count = info.bindingCount(request.defines);
  desc.array_sizes = info.arraySizes(request.defines);
  desc.push_constant_bytes = info.push_constant_bytes;
  desc.required_subgroup_size = info.subgroup_size;
  return desc;
}

gpu::ComputePipeline kernelPipeline(gpu::GpuDevice& device, const spirv::KernelRequest& request,
                                    std::span<const uint32_t> spirv) {
  return gpu::ComputePipeline::create(device, kernelPipelineDesc(request, spirv));
}

gpu::ComputePipeline kernelPipeline(gpu::GpuDevice& device, const spirv::KernelRequest& request) {
  const std::vector<uint32_t> words = compileKernel(request);
  return kernelPipeline(device, request, words);
}

}  // namespace unicorn::test_support
