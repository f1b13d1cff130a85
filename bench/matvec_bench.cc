// matvec_bench: the decode matrix-vector kernels (matvec_bf16, matvec_quant,
// matvec_quant_dot; the last reads x quantised by quantize_activation, run once
// untimed first, as the schedule shares it between products)
// on the device, over Gemma 3 shapes, for each rows-per-workgroup and
// workgroup size: GPU time per product and the GB/s of weights it streams,
// beside the device's streaming-read bandwidth. Tells the schedule pass which
// launch shape to pick; asserts nothing. One JSON line per configuration.
//
//   build/bench/matvec_bench [--device SPEC] [--allow-software-gpu] [--quick] [--one-allocation]
// (--one-allocation: all weights in one buffer allocated first, see below)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "codegen_spirv/kernel_library.h"
#include "codegen_spirv/kernel_push_constants.h"
#include "codegen_spirv/kernel_specs.h"
#include "codegen_spirv/spirv_kernel_compiler.h"
#include "runtime/error.h"
#include "runtime/gpu/command_stream.h"
#include "runtime/gpu/compute_pipeline.h"
#include "runtime/gpu/descriptor_pool.h"
#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/gpu/random_fill.h"
#include "tests/support/kernel_pipeline.h"

namespace {

using namespace unicorn;
using namespace unicorn::spirv;

struct Shape {
  const char* what;
  uint32_t k, n;
};

enum class Format { kBF16, kQ8, kQ4 };
const char* name(Format f) { return f == Format::kBF16 ? "bf16" : f == Format::kQ8 ? "q8" : "q4"; }

uint64_t weightBytes(Format f, uint32_t k, uint32_t n) {
  const uint64_t rows = n;
  if (f == Format::kBF16) return rows * k * 2;
  const uint64_t quants = rows * (f == Format::kQ8 ? k : k / 2);
  return (quants + 255) / 256 * 256 + rows * (k / 32) * 2 + 4;
}

// Runs `request` `repeats` times in one timed submission (barriers between:
// decode's products are separated by them too); seconds per product.
template <typename Push>
std::optional<double> time(gpu::GpuDevice& device, const KernelRequest& request,
                           const std::vector<const gpu::GpuBuffer*>& buffers, const Push& push,
                           std::array<uint32_t, 3> groups, int repeats) {
  const KernelInfo& info = KernelLibrary::builtin().get(request.kernel);
  gpu::ComputePipeline pipeline = test_support::kernelPipeline(device, request);
  gpu::DescriptorPool pool = gpu::DescriptorPool::create(device, 1, info.storage_buffer_count);
  std::vector<gpu::BufferBinding> bindings;
  for (const gpu::GpuBuffer* buffer : buffers) bindings.push_back({buffer, 0, VK_WHOLE_SIZE});
  VkDescriptorSet set = pool.allocate(pipeline, bindings);
  gpu::CommandStream stream(device);
  auto record = [&](int count) {
    stream.begin(/*timed=*/true);
    for (int i = 0; i < count; ++i) {
      if (i) stream.memoryBarrier(gpu::Hazard::kComputeToCompute);
      stream.dispatch(pipeline, set, push, groups);
    }
    stream.end();
  };
  // Warm-up: the GPU runs its shader clock low when idle (an H200 at 345 of
  // 1980 MHz), and a short burst is measured before it rises.
  record(8);
  const auto warm_up_start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - warm_up_start < std::chrono::milliseconds(50)) stream.submitAndWait();
  record(repeats);
  stream.submitAndWait();
  std::optional<double> seconds = stream.gpuSeconds();
  if (seconds) *seconds /= repeats;
  return seconds;
}

}  // namespace

int main(int argc, char** argv) {
  gpu::DeviceRequest request;
  bool quick = false, one_allocation = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--allow-software-gpu")) request.allow_software_gpu = true;
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--one-allocation")) one_allocation = true;
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) request.spec = argv[++i];
    else {
      std::fprintf(stderr, "usage: matvec_bench [--device SPEC] [--allow-software-gpu] [--quick] [--one-allocation]\n");
      return 1;
    }
  }
  try {
    std::unique_ptr<gpu::GpuDevice> device = gpu::GpuDevice::open(request);
    // Gemma 3 1B's and 27B's decode products (the MLP's up projection alone, and
    // the LM head cut to one 128 MiB binding as the schedule binds it).
    std::vector<Shape> shapes = {{"1b qkv", 1152, 1536},       {"1b gate_up", 1152, 13824}, {"1b down", 6912, 1152},
                                 {"27b qkv", 5376, 8192},      {"27b gate", 5376, 21504},   {"27b down", 21504, 5376},
                                 {"27b lm_head slice", 5376, 12288}};
    std::vector<uint32_t> rows_options = {1, 2, 4, 8, 16, 32}, workgroups = {32, 64, 128, 256};
    if (quick) {
      shapes = {{"small", 256, 512}};
      rows_options = {2, 8};
      workgroups = {32, 64};
    }
    // --one-allocation: every shape's weights in one buffer allocated (and filled)
    // before anything else, instead of a fresh allocation per shape and format:
    // on an H200 the first matrix a process allocated streamed up to 2.8x faster
    // than later ones with the same kernel, and this tells placement from kernel.
    std::optional<gpu::GpuBuffer> shared_weights;
    if (one_allocation) {
      uint64_t largest = 0;
      for (const Shape& shape : shapes) largest = std::max(largest, weightBytes(Format::kBF16, shape.k, shape.n));
      shared_weights = gpu::GpuBuffer::allocate(*device, largest, gpu::MemoryPlacement::kDeviceLocal, "weights");
      gpu::fillWithRandomWords(*device, *shared_weights, 0, largest / 4 * 4, 4, 0x80ff80ffu, 0x3c003c00u);
    }
    for (const Shape& shape : shapes) {
      for (Format format : {Format::kBF16, Format::kQ8, Format::kQ4}) {
        const uint64_t bytes = weightBytes(format, shape.k, shape.n);
        gpu::GpuBuffer x = gpu::GpuBuffer::allocate(*device, uint64_t(shape.k) * 4, gpu::MemoryPlacement::kDeviceLocal, "x");
        std::optional<gpu::GpuBuffer> own_weights;
        if (!one_allocation) own_weights = gpu::GpuBuffer::allocate(*device, bytes, gpu::MemoryPlacement::kDeviceLocal, "w");
        gpu::GpuBuffer& w = one_allocation ? *shared_weights : *own_weights;
        gpu::GpuBuffer y = gpu::GpuBuffer::allocate(*device, uint64_t(shape.n) * 4, gpu::MemoryPlacement::kDeviceLocal, "y");
        // Incompressible contents (random_fill.h): x in +-[0.5, 1), bf16 weights and
        // scales finite, quants random bytes.
        gpu::fillWithRandomWords(*device, x, 0, uint64_t(shape.k) * 4, 1, 0x807fffffu, 0x3f000000u);
        const uint64_t quant_bytes =
            format == Format::kBF16 ? 0 : (uint64_t(shape.n) * (format == Format::kQ8 ? shape.k : shape.k / 2) + 255) / 256 * 256;
        if (!one_allocation) {
          if (quant_bytes) gpu::fillWithRandomWords(*device, w, 0, quant_bytes, 2);
          gpu::fillWithRandomWords(*device, w, quant_bytes, bytes - quant_bytes, 3, 0x80ff80ffu, 0x3c003c00u);
        }
        // matvec_quant_dot's x: quantised once here, as the schedule does once per token.
        std::optional<gpu::GpuBuffer> quantised_x;
        const uint32_t x_units = quantizedActivationUnits(shape.k);
        if (format != Format::kBF16) {
          const BlockQuant quant = format == Format::kQ8 ? BlockQuant::kQ8 : BlockQuant::kQ4;
          quantised_x = gpu::GpuBuffer::allocate(*device, uint64_t(x_units) * 16, gpu::MemoryPlacement::kDeviceLocal, "qx");
          time(*device, quantizeActivationKernel(quant, shape.k), {&x, &*quantised_x},
               QuantizeActivationPush{0, shape.k, 0, x_units, 1}, {(shape.k / 32 + 63) / 64, 1, 1}, 1);
        }
        for (uint32_t rows : rows_options) {
          for (uint32_t workgroup : workgroups) {
            if (rows > workgroup) continue;
            const std::array<uint32_t, 3> groups = {(shape.n + rows - 1) / rows, 1, 1};
            // bf16: matvec_bf16; q8/q4: matvec_quant and matvec_quant_dot.
            std::vector<KernelRequest> kernels;
            const BlockQuant quant = format == Format::kQ8 ? BlockQuant::kQ8 : BlockQuant::kQ4;
            if (format == Format::kBF16) {
              if (rows > 8) continue;  // measured before: more rows only add registers
              kernels.push_back(matvecKernel(shape.k, shape.n, rows, workgroup));
            } else {
              kernels.push_back(quantMatvecKernel(quant, shape.k, shape.n, rows, workgroup));
              kernels.push_back(quantDotMatvecKernel(quant, shape.k, shape.n, rows, workgroup));
            }
            for (const KernelRequest& kernel : kernels) {
              std::optional<double> seconds;
              if (format == Format::kBF16) {
                seconds = time(*device, kernel, {&x, &w, &y}, MatmulPush{0, shape.k, 0, 0, shape.n, 1}, groups, 20);
              } else {
                const uint64_t quants = uint64_t(shape.n) * (format == Format::kQ8 ? shape.k : shape.k / 2);
                const uint32_t scale_base = static_cast<uint32_t>((quants + 255) / 256 * 256 / 2);
                const bool dot = kernel.kernel == "matvec_quant_dot";
                seconds = time(*device, kernel, {dot ? &*quantised_x : &x, &w, &y, &w},
                               QuantMatmulPush{0, dot ? x_units : shape.k, 0, 0, shape.n, 1, scale_base}, groups, 20);
              }
              if (!seconds) throw Error(ExitCode::kDeviceMissing, "the device has no timestamps on its compute queue");
              std::printf("{\"shape\":\"%s\",\"k\":%u,\"n\":%u,\"weights\":\"%s\",\"kernel\":\"%s\","
                          "\"rows_per_workgroup\":%u,\"workgroup_size\":%u,\"one_allocation\":%s,"
                          "\"microseconds\":%.2f,\"GBps\":%.1f}\n",
                          shape.what, shape.k, shape.n, name(format), kernel.kernel.c_str(), rows, workgroup,
                          one_allocation ? "true" : "false",
                          *seconds * 1e6, double(bytes) / *seconds / 1e9);
              std::fflush(stdout);
            }
          }
        }
      }
    }
  } catch (const std::exception& error) {
    std::fprintf(stderr, "matvec_bench: error: %s\n", error.what());
    return 3;
  }
  return 0;
}
