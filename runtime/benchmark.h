// unicorn-exec --bench: how fast a bundle runs on this device, every figure
// beside the limit it is bound by (DESIGN.md "Performance method").
//
// Measured in one run, on the device generation would use:
//  - load: process start to the first generated token (bundle mapped and
//    verified, weights resident, pipelines created, a one-token prefill);
//  - the device's memory bandwidth: a device-local buffer copied to another
//    (bytes read plus written per second) and one streamed by a read-only
//    kernel; the better of the two is the roofline bandwidth;
//  - prefill: tokens per second over a prompt of `prefill_tokens` (after
//    `prefill_context` tokens already in the KV cache), in the bundle's
//    chunks, and the matrix-product FLOP/s that makes;
//  - decode: tokens per second over `decode_tokens` steps after a prompt of
//    each of `decode_contexts` tokens, the bytes each step reads (weights +
//    the KV it attends to), the GB/s that makes, its fraction of the roofline
//    bandwidth and the roofline tokens/s (roofline bandwidth / bytes per token);
//    GPU time per step beside wall time, whose difference is the cost of
//    submitting and waiting (launch overhead);
//  - peak host memory (RSS) and peak GPU memory allocated.
// Timings are wall clock unless named GPU (timestamps on the compute queue).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/bundle_view.h"
#include "runtime/gpu/device_selection.h"

namespace unicorn::gpu {
class GpuDevice;
}  // namespace unicorn::gpu

namespace unicorn {

struct BenchmarkOptions {
  gpu::DeviceRequest device;
  std::uint32_t prefill_tokens = 512;
  std::uint32_t prefill_context = 0;
  std::uint32_t decode_tokens = 128;
  std::vector<std::uint32_t> decode_contexts = {0, 4096};
  // When the process started and when the bundle was open and verified (the
  // caller opens it, so its errors are reported like every other mode's).
  std::chrono::steady_clock::time_point process_start, bundle_opened;
};

// The bus's speed: a host-visible (staging) buffer copied into device-local
// memory, timed on the GPU after a warm-up ({"bytes", "seconds", "GBps", ...}).
// runBenchmark reports it beside the weights' upload; bench/upload_bench too.
nlohmann::json measureUploadBandwidth(gpu::GpuDevice& device);

// Runs the measurements; the report is JSON (--bench --json prints it as is).
// A measurement that does not fit the model (a context beyond its
// max_position_embeddings) is reported as skipped, with the reason.
nlohmann::json runBenchmark(const BundleView& bundle, const BenchmarkOptions& options);

// The report for a terminal: one line per figure, each beside its limit.
std::string formatBenchmark(const nlohmann::json& report);

}  // namespace unicorn
