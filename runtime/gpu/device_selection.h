// Strict device selection (DESIGN.md "Hardware or a clear failure"). The user's
// --device spec and --allow-software-gpu decide; anything that does not match
// exactly is an exit-3 error naming what was found. Nothing falls back silently.
//
// The rules are a pure function over DeviceReports so they are tested without
// the hardware they talk about (two GPUs, a GPU missing a feature, ...).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/gpu/device_capabilities.h"

namespace unicorn::gpu {

class VulkanInstance;

struct DeviceRequest {
  // "": the first integrated GPU, else the first discrete GPU, else the first
  //     virtual GPU (then a CPU device only when allow_software_gpu).
  // "N" (decimal digits): the physical device with that index.
  // anything else: the one device whose name contains it, case-insensitively.
  std::string spec;
  // A CPU-type device (Mesa llvmpipe) is a real Vulkan device but not a GPU; it
  // is used only when asked for.
  bool allow_software_gpu = false;
};

struct DeviceReport {
  uint32_t index = 0;  // in VulkanInstance::physicalDevices()
  DeviceCapabilities capabilities;
  std::vector<std::string> missing;  // missingRequirements(capabilities)
  bool is_software() const { return capabilities.type == DeviceType::kCpu; }
  // Usable under this policy; when not, why (one phrase, for --list-devices).
  bool usable(bool allow_software_gpu) const;
  std::string whyUnusable(bool allow_software_gpu) const;  // "" when usable
};

// Reads every device the instance sees.
std::vector<DeviceReport> describeDevices(const VulkanInstance& instance);

// Applies the rules; returns the chosen device's index. Throws
// Error(kDeviceMissing) naming the devices found when nothing fits, including a
// name spec that matches several devices (the message says to give an index).
uint32_t selectDevice(const std::vector<DeviceReport>& devices, const DeviceRequest& request);

}  // namespace unicorn::gpu
