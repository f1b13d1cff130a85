// A storage buffer and the device memory behind it (one allocation per buffer;
// the executor splits tensors larger than maxMemoryAllocationSize or
// maxStorageBufferRange itself — see DESIGN.md "Device limits").
#pragma once

#include <vulkan/vulkan.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace unicorn::gpu {

class GpuDevice;

enum class MemoryPlacement {
  // Weights, activations, KV cache. Prefers DEVICE_LOCAL|HOST_VISIBLE|HOST_COHERENT
  // (integrated GPUs, resizable BAR: mapped, written without staging), else plain
  // DEVICE_LOCAL (written through a staging buffer).
  kDeviceLocal,
  // Staging and read-back: HOST_VISIBLE|HOST_COHERENT, preferring HOST_CACHED so
  // the CPU reads it fast.
  kHostVisible,
};

class GpuBuffer {
 public:
  // Allocates `size` bytes (> 0) usable as a storage buffer and as a transfer
  // source/destination. Throws Error(kDeviceMissing) when the size exceeds the
  // device's maxMemoryAllocationSize or no memory type fits; names `label`.
  static GpuBuffer allocate(GpuDevice& device, uint64_t size, MemoryPlacement placement, std::string label);

  // Wraps host memory [host, host + size) as a buffer without copying
  // (VK_EXT_external_memory_host, handle type HOST_ALLOCATION). The caller keeps
  // that memory mapped and unchanged for the buffer's whole life. Requirements
  // (checked, Error(kDeviceMissing) naming the one that fails): the extension,
  // `host` aligned to minImportedHostPointerAlignment, and a memory type the
  // driver accepts for the pointer. `size` is rounded up to that alignment for
  // the allocation only when the rounded end stays inside the last host page
  // (which a mapping always covers whole); the buffer itself is `size` bytes.
  // See residency.h for the policy that decides between import and copy.
  static GpuBuffer importHostMemory(GpuDevice& device, const void* host, uint64_t size, std::string label);
  // Why importHostMemory would refuse [host, host + size) on this device; "" when it would not.
  static std::string whyImportUnavailable(const GpuDevice& device, const void* host, uint64_t size);

  GpuBuffer(GpuBuffer&& other) noexcept;
  GpuBuffer& operator=(GpuBuffer&& other) noexcept;
  GpuBuffer(const GpuBuffer&) = delete;
  GpuBuffer& operator=(const GpuBuffer&) = delete;
  ~GpuBuffer();

  VkBuffer handle() const { return buffer_; }
  uint64_t size() const { return size_; }
  const std::string& label() const { return label_; }
  VkMemoryPropertyFlags memoryFlags() const { return memory_flags_; }
  bool isImported() const { return imported_; }

  // Host-mapped for the buffer's life when its memory is HOST_VISIBLE and
  // HOST_COHERENT (never for imported memory: write through the host pointer).
  bool isMapped() const { return mapped_ != nullptr; }
  std::span<std::byte> mapped() const { return {static_cast<std::byte*>(mapped_), mapped_ ? size_ : 0}; }

  // Copies host bytes into [offset, offset + bytes.size()): a memcpy into the
  // mapping when mapped, otherwise writeStaged. Must not race a submitted
  // command stream that uses the buffer. Imported buffers are read-only here
  // (their memory is the caller's, e.g. the mmapped bundle): std::logic_error.
  void write(uint64_t offset, std::span<const std::byte> bytes);
  // Reads [offset, offset + out.size()) into `out`, from the mapping or staged.
  // The GPU work that wrote it must have finished, with a kComputeToHost barrier
  // (command_stream.h) when read through the mapping.
  void read(uint64_t offset, std::span<std::byte> out) const;

  // Always through a host-visible staging buffer and a copy on the compute queue
  // (in chunks, so staging memory stays bounded); waits for the copy. The path
  // for device memory the CPU cannot map (discrete GPUs without resizable BAR).
  void writeStaged(uint64_t offset, std::span<const std::byte> bytes);
  void readStaged(uint64_t offset, std::span<std::byte> out) const;

 private:
  GpuBuffer() = default;
  void release() noexcept;
  void checkRange(uint64_t offset, uint64_t length, const char* doing) const;

  GpuDevice* device_ = nullptr;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  uint64_t size_ = 0;
  uint64_t allocation_size_ = 0;  // of memory_, as GpuDevice::noteMemory counts it
  VkMemoryPropertyFlags memory_flags_ = 0;
  void* mapped_ = nullptr;
  bool imported_ = false;
  std::string label_;
};

}  // namespace unicorn::gpu
