// For the tests of kernels on cooperative-matrix units, which only some devices
// run (tests only: it checks with gtest).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>

#include "runtime/gpu/gpu_device.h"
#include "tests/support/kernel_pipeline.h"

namespace unicorn::test_support {

// Whether `device` runs `request`'s pipeline. Where it does not, the runtime's
// refusal (what the executor falls back on) must say why: the device's name
// and, where the device has no matrix units at all, the feature; checked here
// and printed.
inline bool runsOnMatrixUnits(gpu::GpuDevice& device, const spirv::KernelRequest& request,
                              std::span<const uint32_t> spirv) {
  const std::optional<std::string> missing =
      gpu::ComputePipeline::shortfall(device, kernelPipelineDesc(request, spirv));
  if (!missing) return true;
  const gpu::DeviceCapabilities& caps = device.capabilities();
  const bool has_units = caps.cooperative_matrix && !caps.cooperative_matrix_shapes.empty();
  EXPECT_NE(missing->find(has_units ? "" : "cooperativeMatrix"), std::string::npos) << *missing;
  EXPECT_NE(missing->find(caps.name), std::string::npos) << *missing;
  std::printf("%s does not run here: %s\n", request.kernel.c_str(), missing->c_str());
  return false;
}

}  // namespace unicorn::test_support
