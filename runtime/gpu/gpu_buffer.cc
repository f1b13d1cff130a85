#include "runtime/gpu/gpu_buffer.h"

#include "runtime/gpu/staged_uploader.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>

#include "runtime/error.h"
#include "runtime/parallel_copy.h"
#include "runtime/gpu/command_stream.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/gpu/vulkan_error.h"
#include "runtime/gpu/vulkan_struct.h"

namespace unicorn::gpu {
namespace {

// Staged transfers go through at most this much staging memory at a time, so a
// multi-GiB upload does not need a multi-GiB staging buffer.
constexpr uint64_t kStagingChunkBytes = 64ull << 20;

constexpr VkBufferUsageFlags kBufferUsage =
    VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
constexpr VkMemoryPropertyFlags kMappable = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;

uint64_t roundUp(uint64_t value, uint64_t alignment) { return (value + alignment - 1) / alignment * alignment; }

std::string mebibytes(uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

VkBuffer createBuffer(const GpuDevice& device, uint64_t size, const void* pnext, const std::string& label) {
  auto info = vkStruct<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  info.pNext = pnext;
  info.size = size;
  info.usage = kBufferUsage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer = VK_NULL_HANDLE;
  checkVk(vkCreateBuffer(device.handle(), &info, nullptr, &buffer),
          "creating buffer '" + label + "' (" + std::to_string(size) + " bytes)");
  return buffer;
}

void checkAllocationLimit(const GpuDevice& device, uint64_t size, const std::string& label) {
  const uint64_t limit = device.capabilities().max_memory_allocation_size;
  if (limit != 0 && size > limit) {
    throw Error(ExitCode::kDeviceMissing, "buffer '" + label + "' needs " + std::to_string(size) +
                                              " bytes in one allocation; device '" + device.capabilities().name +
                                              "' allows at most " + std::to_string(limit) +
                                              " (maxMemoryAllocationSize)");
  }
}

// Where an import of [host, host + size) stands: why it cannot happen, or the
// allocation size and the memory types the driver accepts for the pointer.
struct HostImportPlan {
  std::string blocker;
  uint64_t allocation_size = 0;
  uint32_t memory_type_bits = 0;
};

HostImportPlan planHostImport(const GpuDevice& device, const void* host, uint64_t size) {
  HostImportPlan plan;
  const DeviceCapabilities& caps = device.capabilities();
  if (!caps.external_memory_host || !device.getMemoryHostPointerProperties()) {
    plan.blocker = "device '" + caps.name + "' does not support VK_EXT_external_memory_host";
    return plan;
  }
  if (size == 0) {
    plan.blocker = "the range is empty";
    return plan;
  }
  const uint64_t alignment = caps.min_imported_host_pointer_alignment;
  const auto address = reinterpret_cast<uintptr_t>(host);
  if (alignment == 0 || address % alignment != 0) {
    plan.blocker = "the host pointer is not aligned to the device's minImportedHostPointerAlignment (" +
                   std::to_string(alignment) + " bytes)";
    return plan;
  }
  plan.allocation_size = roundUp(size, alignment);
  // Rounding the size up is safe only while the end stays inside the last page
  // of the range: a mapping always covers whole pages, nothing beyond.
  const uint64_t page = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (plan.allocation_size != size && address + plan.allocation_size > roundUp(address + size, page)) {
    plan.blocker = "the size " + std::to_string(size) + " is not a multiple of minImportedHostPointerAlignment (" +
                   std::to_string(alignment) + " bytes), and rounding it up would reach past the host page";
    return plan;
  }
  if (caps.max_memory_allocation_size != 0 && plan.allocation_size > caps.max_memory_allocation_size) {
    plan.blocker = "the range (" + std::to_string(plan.allocation_size) +
                   " bytes) exceeds maxMemoryAllocationSize (" + std::to_string(caps.max_memory_allocation_size) +
                   " bytes)";
    return plan;
  }
  auto properties = vkStruct<VkMemoryHostPointerPropertiesEXT>(VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT);
  VkResult result = device.getMemoryHostPointerProperties()(
      device.handle(), VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT, const_cast<void*>(host), &properties);
  if (result != VK_SUCCESS) {
    plan.blocker = "the driver refused the host pointer (vkGetMemoryHostPointerPropertiesEXT: " +
                   vkResultName(result) + ")";
    return plan;
  }
  if (properties.memoryTypeBits == 0) {
    plan.blocker = "the driver offers no memory type for the host pointer";
    return plan;
  }
  plan.memory_type_bits = properties.memoryTypeBits;
  return plan;
}

}  // namespace

GpuBuffer GpuBuffer::allocate(GpuDevice& device, uint64_t size, MemoryPlacement placement, std::string label) {
  if (size == 0) throw Error(ExitCode::kInvalidInput, "buffer '" + label + "' has size 0");
  checkAllocationLimit(device, size, label);
  const DeviceCapabilities& caps = device.capabilities();

  GpuBuffer result;
  result.device_ = &device;
  result.size_ = size;
  result.label_ = std::move(label);
  result.buffer_ = createBuffer(device, size, nullptr, result.label_);
  VkMemoryRequirements requirements;
  vkGetBufferMemoryRequirements(device.handle(), result.buffer_, &requirements);

  std::optional<uint32_t> memory_type;
  if (placement == MemoryPlacement::kDeviceLocal) {
    // Mapped device-local memory saves the staging copy, but only when all of
    // device memory is mappable (integrated GPU, resizable BAR): a discrete GPU's
    // 256 MiB BAR window is too small to hold weights.
    const bool all_device_memory_mappable =
        caps.host_visible_device_local_memory &&
        caps.host_visible_device_local_heap_bytes == caps.largest_device_local_heap_bytes;
    memory_type = device.findMemoryType(requirements.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT,
                                        all_device_memory_mappable ? kMappable : 0);
  } else {
    memory_type = device.findMemoryType(requirements.memoryTypeBits, kMappable, VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  }
  if (!memory_type) {
    throw Error(ExitCode::kDeviceMissing,
                "device '" + caps.name + "' has no " +
                    (placement == MemoryPlacement::kDeviceLocal ? "device-local" : "host-visible coherent") +
                    " memory type for buffer '" + result.label_ + "'");
  }
  result.memory_flags_ = device.memoryTypeFlags(*memory_type);

  auto allocate_info = vkStruct<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  allocate_info.allocationSize = requirements.size;
  allocate_info.memoryTypeIndex = *memory_type;
  checkVk(vkAllocateMemory(device.handle(), &allocate_info, nullptr, &result.memory_),
          "allocating " + mebibytes(requirements.size) + " (" + std::to_string(requirements.size) +
              " bytes) of GPU memory for buffer '" + result.label_ + "'");
  result.allocation_size_ = requirements.size;
  device.noteMemory(result.allocation_size_, /*imported=*/false, /*freed=*/false);
  checkVk(vkBindBufferMemory(device.handle(), result.buffer_, result.memory_, 0),
          "binding memory to buffer '" + result.label_ + "'");
  if ((result.memory_flags_ & kMappable) == kMappable) {
    checkVk(vkMapMemory(device.handle(), result.memory_, 0, VK_WHOLE_SIZE, 0, &result.mapped_),
            "mapping buffer '" + result.label_ + "'");
  }
  return result;
}

std::string GpuBuffer::whyImportUnavailable(const GpuDevice& device, const void* host, uint64_t size) {
  return planHostImport(device, host, size).blocker;
}

GpuBuffer GpuBuffer::importHostMemory(GpuDevice& device, const void* host, uint64_t size, std::string label) {
  HostImportPlan plan = planHostImport(device, host, size);
  if (!plan.blocker.empty()) {
    throw Error(ExitCode::kDeviceMissing, "cannot import buffer '" + label + "' from host memory: " + plan.blocker);
  }
  GpuBuffer result;
  result.device_ = &device;
  result.size_ = size;
  result.label_ = std::move(label);
  result.imported_ = true;
  auto external = vkStruct<VkExternalMemoryBufferCreateInfo>(VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO);
  external.handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
  result.buffer_ = createBuffer(device, size, &external, result.label_);
  VkMemoryRequirements requirements;
  vkGetBufferMemoryRequirements(device.handle(), result.buffer_, &requirements);
  const uint32_t usable_types = requirements.memoryTypeBits & plan.memory_type_bits;
  std::optional<uint32_t> memory_type =
      device.findMemoryType(usable_types, 0, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT);
  if (!memory_type || requirements.size > plan.allocation_size) {
    throw Error(ExitCode::kDeviceMissing,
                "cannot import buffer '" + result.label_ + "' from host memory: " +
                    (memory_type ? "the buffer needs " + std::to_string(requirements.size) +
                                       " bytes, more than the imported range"
                                 : std::string("no memory type suits both a storage buffer and the host pointer")));
  }
  result.memory_flags_ = device.memoryTypeFlags(*memory_type);

  auto import_info = vkStruct<VkImportMemoryHostPointerInfoEXT>(VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT);
  import_info.handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT;
  // Vulkan takes a non-const pointer; the GPU only reads it unless a kernel is bound to write it.
  import_info.pHostPointer = const_cast<void*>(host);
  auto allocate_info = vkStruct<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  allocate_info.pNext = &import_info;
  allocate_info.allocationSize = plan.allocation_size;
  allocate_info.memoryTypeIndex = *memory_type;
  checkVk(vkAllocateMemory(device.handle(), &allocate_info, nullptr, &result.memory_),
          "importing " + std::to_string(plan.allocation_size) + " bytes of host memory for buffer '" +
              result.label_ + "'");
  result.allocation_size_ = plan.allocation_size;
  device.noteMemory(result.allocation_size_, /*imported=*/true, /*freed=*/false);
  checkVk(vkBindBufferMemory(device.handle(), result.buffer_, result.memory_, 0),
          "binding imported memory to buffer '" + result.label_ + "'");
  return result;
}

GpuBuffer::GpuBuffer(GpuBuffer&& other) noexcept
    : device_(std::exchange(other.device_, nullptr)),
      buffer_(std::exchange(other.buffer_, VK_NULL_HANDLE)),
      memory_(std::exchange(other.memory_, VK_NULL_HANDLE)),
      size_(std::exchange(other.size_, 0)),
      allocation_size_(std::exchange(other.allocation_size_, 0)),
      memory_flags_(std::exchange(other.memory_flags_, 0)),
      mapped_(std::exchange(other.mapped_, nullptr)),
      imported_(std::exchange(other.imported_, false)),
      label_(std::move(other.label_)) {}

GpuBuffer& GpuBuffer::operator=(GpuBuffer&& other) noexcept {
  if (this != &other) {
    release();
    device_ = std::exchange(other.device_, nullptr);
    buffer_ = std::exchange(other.buffer_, VK_NULL_HANDLE);
    memory_ = std::exchange(other.memory_, VK_NULL_HANDLE);
    size_ = std::exchange(other.size_, 0);
    allocation_size_ = std::exchange(other.allocation_size_, 0);
    memory_flags_ = std::exchange(other.memory_flags_, 0);
    mapped_ = std::exchange(other.mapped_, nullptr);
    imported_ = std::exchange(other.imported_, false);
    label_ = std::move(other.label_);
  }
  return *this;
}

GpuBuffer::~GpuBuffer() { release(); }

void GpuBuffer::release() noexcept {
  if (!device_) return;
  // Unmapping is implicit in vkFreeMemory.
  if (buffer_) vkDestroyBuffer(device_->handle(), buffer_, nullptr);
  if (memory_) {
    vkFreeMemory(device_->handle(), memory_, nullptr);
    device_->noteMemory(allocation_size_, imported_, /*freed=*/true);
  }
  buffer_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  mapped_ = nullptr;
  device_ = nullptr;
}

void GpuBuffer::checkRange(uint64_t offset, uint64_t length, const char* doing) const {
  if (offset > size_ || length > size_ - offset) {
    throw std::out_of_range(std::string(doing) + " bytes [" + std::to_string(offset) + ", +" +
                            std::to_string(length) + ") of buffer '" + label_ + "' of " + std::to_string(size_) +
                            " bytes");
  }
}

void GpuBuffer::write(uint64_t offset, std::span<const std::byte> bytes) {
  if (imported_) throw std::logic_error("buffer '" + label_ + "' is imported host memory; write the host memory");
  checkRange(offset, bytes.size(), "writing");
  if (mapped_) {
    parallelCopy(static_cast<std::byte*>(mapped_) + offset, bytes.data(), bytes.size());
  } else {
    writeStaged(offset, bytes);
  }
}

void GpuBuffer::read(uint64_t offset, std::span<std::byte> out) const {
  checkRange(offset, out.size(), "reading");
  if (mapped_) {
    std::memcpy(out.data(), static_cast<const std::byte*>(mapped_) + offset, out.size());
  } else {
    readStaged(offset, out);
  }
}

void GpuBuffer::writeStaged(uint64_t offset, std::span<const std::byte> bytes) {
  if (imported_) throw std::logic_error("buffer '" + label_ + "' is imported host memory; write the host memory");
  checkRange(offset, bytes.size(), "writing");
  if (bytes.empty()) return;
  StagedUploader uploader(*device_,
                          StagingShape{.chunk_bytes = std::min<uint64_t>(bytes.size(), kStagingChunkBytes), .chunks = 2});
  uploader.upload(*this, offset, bytes);
  uploader.finish();
}

void GpuBuffer::readStaged(uint64_t offset, std::span<std::byte> out) const {
  checkRange(offset, out.size(), "reading");
  if (out.empty()) return;
  GpuBuffer staging = allocate(*device_, std::min<uint64_t>(out.size(), kStagingChunkBytes),
                               MemoryPlacement::kHostVisible, "read-back for '" + label_ + "'");
  CommandStream copy(*device_);
  for (uint64_t done = 0; done < out.size();) {
    const uint64_t chunk = std::min<uint64_t>(out.size() - done, staging.size());
    copy.begin();
    // Writes by earlier submissions (dispatches) become visible to the copy.
    copy.memoryBarrier(Hazard::kComputeToTransfer);
    copy.copyBuffer(*this, offset + done, staging, 0, chunk);
    copy.memoryBarrier(Hazard::kComputeToHost);
    copy.end();
    copy.submitAndWait();
    std::memcpy(out.data() + done, staging.mapped_, chunk);
    done += chunk;
  }
}

}  // namespace unicorn::gpu
