// upload_bench: how fast a bundle's weights reach device memory that the CPU
// cannot map (a discrete GPU's), and what bounds it. On one device, for one
// bundle whose file is in the page cache (the bench reads it through first):
//   bus     a host-visible staging buffer copied into device-local memory,
//           GPU-timed (as --bench measures it): the most an upload can reach;
//   fill    the bundle copied into staging memory by N host threads from a
//           fresh mapping (the page faults of a first touch included, as at
//           load);
//   upload  StagedUploader moving every weight tensor of the bundle into its
//           own device-local buffer, as the executor does, for several staging
//           shapes: wall time from mapping the file to finish().
// One JSON line per figure; asserts nothing. The executor's staging shape
// (StagingShape's defaults) comes from what this measured (bench/results).
//
//   build/bench/upload_bench BUNDLE [--device SPEC] [--allow-software-gpu] [--quick]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/benchmark.h"
#include "runtime/bundle_view.h"
#include "runtime/error.h"
#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/gpu/staged_uploader.h"
#include "runtime/mapped_file.h"
#include "runtime/parallel_copy.h"

namespace {

using namespace unicorn;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

long minorFaults() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// Reads the file through once, so that every later mapping finds it in the page cache.
void warmPageCache(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> block(std::size_t(16) << 20);
  while (in.read(block.data(), block.size()) || in.gcount() > 0) {
  }
}

// The whole file copied piece by piece into one staging buffer by `threads`
// host threads from a fresh mapping (its first-touch page faults included).
json measureFill(gpu::GpuDevice& device, const std::string& path, uint64_t piece, unsigned threads) {
  gpu::GpuBuffer staging = gpu::GpuBuffer::allocate(device, piece, gpu::MemoryPlacement::kHostVisible, "fill target");
  ParallelCopier copier(threads);
  std::byte* target = staging.mapped().data();
  std::memset(target, 0, piece);  // its own first-touch faults stay out of the figure
  const long faults_before = minorFaults();
  const Clock::time_point start = Clock::now();
  const MappedFile file = MappedFile::open(path);
  for (uint64_t done = 0; done < file.size(); done += piece) {
    copier.copy(target, file.data() + done, std::min<uint64_t>(piece, file.size() - done));
  }
  const double seconds = secondsSince(start);
  return {{"figure", "fill"},
          {"piece_bytes", piece},
          {"threads", threads},
          {"bytes", file.size()},
          {"seconds", seconds},
          {"GBps", file.size() / seconds / 1e9},
          {"minor_faults", minorFaults() - faults_before}};
}

struct Destinations {
  std::vector<gpu::GpuBuffer> buffers;
  uint64_t bytes = 0;
};

// One device-local buffer per weight tensor, as the executor allocates them.
Destinations allocateDestinations(gpu::GpuDevice& device, const BundleView& bundle) {
  Destinations out;
  for (const fb::Tensor* tensor : *bundle.header().tensors()) {
    const uint64_t size = bundle.tensorBytes(*tensor).size();
    if (size == 0) continue;
    out.buffers.push_back(
        gpu::GpuBuffer::allocate(device, size, gpu::MemoryPlacement::kDeviceLocal, tensor->name()->str()));
    out.bytes += size;
  }
  return out;
}

json measureUpload(gpu::GpuDevice& device, const std::string& path, Destinations& destinations,
                   gpu::StagingShape shape) {
  const long faults_before = minorFaults();
  const Clock::time_point start = Clock::now();
  const BundleView bundle = BundleView::open(path);
  {
    gpu::StagedUploader uploader(device, shape);
    std::size_t next = 0;
    for (const fb::Tensor* tensor : *bundle.header().tensors()) {
      const std::span<const std::byte> bytes = bundle.tensorBytes(*tensor);
      if (!bytes.empty()) uploader.upload(destinations.buffers[next++], 0, bytes);
    }
    uploader.finish();
  }
  const double seconds = secondsSince(start);
  return {{"figure", "upload"},
          {"chunk_bytes", shape.chunk_bytes},
          {"chunks", shape.chunks},
          {"threads", shape.copy_threads},
          {"tensors", destinations.buffers.size()},
          {"bytes", destinations.bytes},
          {"seconds", seconds},
          {"GBps", destinations.bytes / seconds / 1e9},
          {"minor_faults", minorFaults() - faults_before}};
}

void print(const json& line) {
  std::printf("%s\n", line.dump().c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  gpu::DeviceRequest request;
  bool quick = false;
  std::string path;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--allow-software-gpu")) request.allow_software_gpu = true;
    else if (!std::strcmp(argv[i], "--quick")) quick = true;
    else if (!std::strcmp(argv[i], "--device") && i + 1 < argc) request.spec = argv[++i];
    else if (argv[i][0] != '-' && path.empty()) path = argv[i];
    else path.clear(), i = argc;
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: upload_bench BUNDLE [--device SPEC] [--allow-software-gpu] [--quick]\n");
    return 1;
  }
  try {
    // The bundle first: a bad path or bundle is refused before anything is measured.
    BundleView::open(path);
    std::unique_ptr<gpu::GpuDevice> device = gpu::GpuDevice::open(request);
    warmPageCache(path);
    const uint64_t MiB = uint64_t(1) << 20;
    json bus = measureUploadBandwidth(*device);
    bus["figure"] = "bus";
    print(bus);
    const std::vector<unsigned> thread_counts = quick ? std::vector<unsigned>{1, 4} : std::vector<unsigned>{1, 4, 8, 16};
    for (unsigned threads : thread_counts) print(measureFill(*device, path, 64 * MiB, threads));
    Destinations destinations = allocateDestinations(*device, BundleView::open(path));
    std::vector<gpu::StagingShape> shapes = {{64 * MiB, 2, 0}, {32 * MiB, 2, 0}, {32 * MiB, 4, 0},
                                             {64 * MiB, 3, 0}, {128 * MiB, 2, 0}, {64 * MiB, 2, 8}};
    if (quick) shapes = {{4 * MiB, 1, 1}, {4 * MiB, 3, 0}};
    for (const gpu::StagingShape& shape : shapes) print(measureUpload(*device, path, destinations, shape));
    return 0;
  } catch (const Error& error) {
    std::fprintf(stderr, "upload_bench: error: %s\n", error.what());
    return static_cast<int>(error.code());
  }
}
