#include "runtime/gpu/device_selection.h"

#include <algorithm>
#include <cctype>
#include <optional>

#include "runtime/error.h"
#include "runtime/gpu/vulkan_instance.h"

namespace unicorn::gpu {
namespace {

constexpr const char* kSoftwareHint = "pass --allow-software-gpu to use it";

[[noreturn]] void failDevice(const std::string& message) { throw Error(ExitCode::kDeviceMissing, message); }

std::string lowercase(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

std::string joined(const std::vector<std::string>& items) {
  std::string text;
  for (const std::string& item : items) text += (text.empty() ? "" : ", ") + item;
  return text;
}

// "0 'llvmpipe (LLVM 15.0.6, 256 bits)' (cpu)"
std::string describe(const DeviceReport& device) {
  return std::to_string(device.index) + " '" + device.capabilities.name + "' (" +
         std::string(deviceTypeName(device.capabilities.type)) + ")";
}

std::string availableList(const std::vector<DeviceReport>& devices) {
  std::vector<std::string> names;
  for (const DeviceReport& device : devices) names.push_back(describe(device));
  return "available: " + joined(names);
}

std::optional<uint32_t> parseIndex(const std::string& spec) {
  if (spec.empty() || spec.size() > 9 || !std::all_of(spec.begin(), spec.end(), [](char c) {
        return c >= '0' && c <= '9';
      })) {
    return std::nullopt;
  }
  return static_cast<uint32_t>(std::stoul(spec));
}

// The device named by an explicit spec must be usable as it is: say exactly why not.
void requireUsable(const DeviceReport& device, const DeviceRequest& request) {
  if (device.usable(request.allow_software_gpu)) return;
  failDevice("--device " + request.spec + " selects Vulkan device " + describe(device) + ", which " +
             device.whyUnusable(request.allow_software_gpu));
}

uint32_t selectDefault(const std::vector<DeviceReport>& devices, const DeviceRequest& request) {
  // DESIGN targets the APU's integrated GPU; a discrete GPU next, a virtual one after.
  for (DeviceType wanted : {DeviceType::kIntegratedGpu, DeviceType::kDiscreteGpu, DeviceType::kVirtualGpu}) {
    for (const DeviceReport& device : devices) {
      if (device.capabilities.type == wanted && device.missing.empty()) return device.index;
    }
  }
  if (request.allow_software_gpu) {
    for (const DeviceReport& device : devices) {
      if (device.is_software() && device.missing.empty()) return device.index;
    }
  }
  // Nothing fits: name every device and why it was passed over.
  const bool all_software = std::all_of(devices.begin(), devices.end(), [](const DeviceReport& d) {
    return d.is_software();
  });
  if (all_software && !request.allow_software_gpu) {
    if (devices.size() == 1) {
      failDevice("no GPU found: the only Vulkan device is '" + devices[0].capabilities.name +
                 "' (a CPU implementation); " + kSoftwareHint);
    }
    std::vector<std::string> names;
    for (const DeviceReport& device : devices) names.push_back("'" + device.capabilities.name + "'");
    failDevice("no GPU found: the Vulkan devices are " + joined(names) + " (CPU implementations); pass "
               "--allow-software-gpu to use one");
  }
  std::vector<std::string> reasons;
  for (const DeviceReport& device : devices) {
    reasons.push_back(describe(device) + " " + device.whyUnusable(request.allow_software_gpu));
  }
  failDevice("no usable Vulkan device: " + joined(reasons));
}

}  // namespace

bool DeviceReport::usable(bool allow_software_gpu) const {
  return missing.empty() && (allow_software_gpu || !is_software());
}

std::string DeviceReport::whyUnusable(bool allow_software_gpu) const {
  if (!missing.empty()) return "lacks " + joined(missing);
  if (is_software() && !allow_software_gpu) {
    return std::string("is a CPU implementation, not a GPU; ") + kSoftwareHint;
  }
  return "";
}

std::vector<DeviceReport> describeDevices(const VulkanInstance& instance) {
  std::vector<DeviceReport> reports;
  const std::vector<VkPhysicalDevice>& devices = instance.physicalDevices();
  for (uint32_t i = 0; i < devices.size(); ++i) {
    DeviceReport report;
    report.index = i;
    report.capabilities = readDeviceCapabilities(instance.handle(), devices[i]);
    report.missing = missingRequirements(report.capabilities);
    reports.push_back(std::move(report));
  }
  return reports;
}

uint32_t selectDevice(const std::vector<DeviceReport>& devices, const DeviceRequest& request) {
  if (devices.empty()) {
    failDevice("no Vulkan driver/device: the Vulkan loader found no physical device");
  }
  if (request.spec.empty()) return selectDefault(devices, request);

  if (std::optional<uint32_t> index = parseIndex(request.spec)) {
    auto found = std::find_if(devices.begin(), devices.end(), [&](const DeviceReport& d) { return d.index == *index; });
    if (found == devices.end()) {
      failDevice("--device " + request.spec + ": there is no Vulkan device " + request.spec + "; " +
                 availableList(devices));
    }
    requireUsable(*found, request);
    return found->index;
  }

  const std::string needle = lowercase(request.spec);
  std::vector<const DeviceReport*> matches;
  for (const DeviceReport& device : devices) {
    if (lowercase(device.capabilities.name).find(needle) != std::string::npos) matches.push_back(&device);
  }
  if (matches.empty()) {
    failDevice("--device '" + request.spec + "' matches no Vulkan device name; " + availableList(devices));
  }
  if (matches.size() > 1) {
    std::vector<std::string> names;
    for (const DeviceReport* device : matches) names.push_back(describe(*device));
    failDevice("--device '" + request.spec + "' matches " + std::to_string(matches.size()) +
               " Vulkan devices: " + joined(names) + "; give the index instead");
  }
  requireUsable(*matches.front(), request);
  return matches.front()->index;
}

}  // namespace unicorn::gpu
