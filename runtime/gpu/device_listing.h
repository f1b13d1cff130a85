// What `unicorn-exec --list-devices` and `--check-device` print: each Vulkan
// device with its capabilities and whether it is usable (and why not), as text
// for people and as JSON for scripts and tests.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "runtime/gpu/device_capabilities.h"
#include "runtime/gpu/device_selection.h"

namespace unicorn::gpu {

// Every field of DeviceCapabilities, sizes in bytes, type and version as text.
nlohmann::json capabilitiesToJson(const DeviceCapabilities& capabilities);

// {"devices":[{"index","name","type","api_version","subgroup_size","usable",
//   "why_unusable","capabilities":{...}}, ...]}
nlohmann::json deviceListToJson(const std::vector<DeviceReport>& devices, bool allow_software_gpu);

// One line per device: "0: llvmpipe (...) [cpu, Vulkan 1.3.230, subgroup 8]: usable".
std::string formatDeviceList(const std::vector<DeviceReport>& devices, bool allow_software_gpu);

// A few lines on an opened device: identity, subgroup sizes, limits, optional features.
std::string formatCapabilities(const DeviceCapabilities& capabilities);

}  // namespace unicorn::gpu
