// Making bundle bytes resident on the GPU (DESIGN.md "The runtime": everything
// resident before the first token). The bundle is mmapped with 64 KiB-aligned
// weight segments; on an integrated GPU each segment is imported in place with
// VK_EXT_external_memory_host (zero copies). When import is not possible the
// bytes are copied — and the report says so and why, so the executor can print
// which path each segment took. A copy is never silent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/staged_uploader.h"

namespace unicorn::gpu {

class GpuDevice;

enum class ResidencyPolicy {
  kImportOrCopy,   // import when the device can; otherwise copy, reporting why
  kRequireImport,  // import or Error(kDeviceMissing) saying why it cannot
  kCopy,           // always copy into device-local memory (e.g. a discrete GPU)
};

enum class ResidencyPath {
  kImportedHostPointer,  // zero-copy: the GPU reads the mapped file pages
  kMappedCopy,           // one memcpy into host-visible device-local memory (not on a discrete GPU: residency.cc)
  kStagedUpload,         // memcpy into staging memory + a GPU copy into device-local memory
};

// "imported host pointer", "mapped copy", "staged upload"
std::string_view residencyPathName(ResidencyPath path);

struct ResidencyReport {
  std::string label;
  uint64_t bytes = 0;
  ResidencyPath path = ResidencyPath::kStagedUpload;
  // Why this path: for a copy under kImportOrCopy, why import was not possible
  // (e.g. "VK_EXT_external_memory_host is not supported"); "" for an import.
  std::string reason;
};

struct ResidentBuffer {
  GpuBuffer buffer;
  ResidencyReport report;
};

// Why `bytes` cannot be imported on this device ("" when it can): extension,
// pointer alignment, size rounding, memory types for the pointer.
std::string whyHostImportUnavailable(const GpuDevice& device, std::span<const std::byte> bytes);

// Makes `bytes` (e.g. one mmapped weight segment) resident under `policy`. For
// an import the caller keeps the mapping alive longer than the returned buffer.
// An import that the capability check allowed but the driver then refused is
// an error, not a copy: the check is meant to be exact. A staged upload goes
// through `uploader` when given (the buffer is then ready after its finish()),
// else it completes before this returns.
ResidentBuffer makeResident(GpuDevice& device, std::span<const std::byte> bytes, ResidencyPolicy policy,
                            std::string label, StagedUploader* uploader = nullptr);

}  // namespace unicorn::gpu
