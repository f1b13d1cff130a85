// A builtin kernel, specialised by a KernelRequest, compiled to SPIR-V and made
// a compute pipeline on a device: how the kernel tests and benches run what
// unicorn-compile would put in a bundle, with the binding count and push-constant
// size the kernel library declares. Test and bench support only: the runtime
// itself never compiles shaders.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "codegen_spirv/kernel_specs.h"
#include "runtime/gpu/compute_pipeline.h"

namespace unicorn::test_support {

// Compiles `request` (throws the compiler's Error naming the kernel).
std::vector<uint32_t> compileKernel(const spirv::KernelRequest& request);

// What kernelPipeline creates the pipeline from (as unicorn-exec would from the
// bundle's module): for ComputePipeline::shortfall.
gpu::ComputePipelineDesc kernelPipelineDesc(const spirv::KernelRequest& request, std::span<const uint32_t> spirv);

// The pipeline of `request` from its compiled words (compiling is the slow
// part: callers that reuse a specialisation keep the words).
gpu::ComputePipeline kernelPipeline(gpu::GpuDevice& device, const spirv::KernelRequest& request,
                                    std::span<const uint32_t> spirv);
// Both steps at once.
gpu::ComputePipeline kernelPipeline(gpu::GpuDevice& device, const spirv::KernelRequest& request);

}  // namespace unicorn::test_support
