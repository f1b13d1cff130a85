#include "runtime/gpu/residency.h"

#include <utility>

#include "runtime/error.h"
#include "runtime/gpu/gpu_device.h"

namespace unicorn::gpu {
namespace {

ResidentBuffer copyToDevice(GpuDevice& device, std::span<const std::byte> bytes, std::string label,
                            std::string reason, StagedUploader* uploader) {
  GpuBuffer buffer = GpuBuffer::allocate(device, bytes.size(), MemoryPlacement::kDeviceLocal, label);
  ResidencyReport report{std::move(label), bytes.size(), ResidencyPath::kMappedCopy, std::move(reason)};
  // A discrete GPU's memory mapped through a resizable BAR takes the CPU's
  // stores across the bus, about a fifth of what the GPU's copy engine pulls
  // from staging memory (an H200: 5.7 GiB in 0.6 s, ~10 GB/s, against ~50): there
  // the mapping is left alone and the weights are staged.
  const bool write_through_mapping = buffer.isMapped() && device.capabilities().type != DeviceType::kDiscreteGpu;
  if (write_through_mapping) {
    buffer.write(0, bytes);
  } else {
    if (uploader) {
      uploader->upload(buffer, 0, bytes);
    } else {
      buffer.writeStaged(0, bytes);
    }
    report.path = ResidencyPath::kStagedUpload;
  }
  return ResidentBuffer{std::move(buffer), std::move(report)};
}

}  // namespace

std::string_view residencyPathName(ResidencyPath path) {
  switch (path) {
    case ResidencyPath::kImportedHostPointer: return "imported host pointer";
    case ResidencyPath::kMappedCopy: return "mapped copy";
    case ResidencyPath::kStagedUpload: return "staged upload";
  }
  return "unknown";
}

std::string whyHostImportUnavailable(const GpuDevice& device, std::span<const std::byte> bytes) {
  return GpuBuffer::whyImportUnavailable(device, bytes.data(), bytes.size());
}

ResidentBuffer makeResident(GpuDevice& device, std::span<const std::byte> bytes, ResidencyPolicy policy,
                            std::string label, StagedUploader* uploader) {
  if (policy == ResidencyPolicy::kCopy) {
    return copyToDevice(device, bytes, std::move(label), "a copy was requested (residency policy 'copy')", uploader);
  }
  std::string blocker = whyHostImportUnavailable(device, bytes);
  if (blocker.empty()) {
    GpuBuffer buffer = GpuBuffer::importHostMemory(device, bytes.data(), bytes.size(), label);
    return ResidentBuffer{std::move(buffer),
                          ResidencyReport{std::move(label), bytes.size(), ResidencyPath::kImportedHostPointer, ""}};
  }
  if (policy == ResidencyPolicy::kRequireImport) {
    throw Error(ExitCode::kDeviceMissing, "cannot import '" + label + "' in place: " + blocker);
  }
  return copyToDevice(device, bytes, std::move(label), "host import unavailable: " + blocker, uploader);
}

}  // namespace unicorn::gpu
