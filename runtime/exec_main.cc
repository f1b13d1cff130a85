// unicorn-exec: maps a .ubundle, verifies it, and runs it. See DESIGN.md
// "Command-line contract". This version inspects, verifies, tokenizes and renders
// chat prompts; text generation arrives with the Vulkan executor.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/bundle_inspect.h"
#include "runtime/bundle_view.h"
#include "runtime/chat_template.h"
#include "runtime/error.h"
#include "runtime/gpu/device_listing.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/gpu/vulkan_instance.h"
#include "runtime/tokenizer.h"
#include "runtime/tool_main.h"

namespace {

using unicorn::Error;
using unicorn::ExitCode;

std::string joinIds(const std::vector<int32_t>& ids) {
  std::string text;
  for (int32_t id : ids) text += (text.empty() ? "" : ",") + std::to_string(id);
  return text;
}

void printJson(const nlohmann::json& value) {
  // Invalid UTF-8 in decoded text is replaced, never a crash in the serializer.
  std::puts(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// The text of a special token for the chat template; "" when the tokenizer has none.
std::string specialPiece(const unicorn::Tokenizer& tokenizer, int32_t id) {
  return id >= 0 ? std::string(tokenizer.piece(id)) : std::string();
}

// The rendered prompt of a one-turn chat (optionally with a system message), as
// transformers' apply_chat_template(add_generation_prompt=True) renders it.
std::string renderChat(const unicorn::BundleView& bundle, const unicorn::Tokenizer& tokenizer,
                       const std::string* system, const std::string& user) {
  const flatbuffers::String* source = bundle.header().chat_template();
  if (!source || source->size() == 0) {
    throw Error(ExitCode::kInvalidInput, bundle.path().string() + ": the bundle has no chat template (use --prompt)");
  }
  nlohmann::json messages = nlohmann::json::array();
  if (system) messages.push_back({{"role", "system"}, {"content", *system}});
  messages.push_back({{"role", "user"}, {"content", user}});
  nlohmann::json context = {{"messages", messages},
                            {"add_generation_prompt", true},
                            {"bos_token", specialPiece(tokenizer, tokenizer.bosId())},
                            {"eos_token", specialPiece(tokenizer, tokenizer.eosId())}};
  return unicorn::ChatTemplate::parse(source->string_view()).render(context);
}

// --list-devices: every Vulkan device, usable or not (and why), under the
// --allow-software-gpu policy given.
int listDevices(bool allow_software_gpu, bool json) {
  unicorn::gpu::VulkanInstance instance = unicorn::gpu::VulkanInstance::create();
  std::vector<unicorn::gpu::DeviceReport> devices = unicorn::gpu::describeDevices(instance);
  if (devices.empty()) {
    throw Error(ExitCode::kDeviceMissing, "no Vulkan driver/device: the Vulkan loader found no physical device");
  }
  if (json) printJson(unicorn::gpu::deviceListToJson(devices, allow_software_gpu));
  else std::fputs(unicorn::gpu::formatDeviceList(devices, allow_software_gpu).c_str(), stdout);
  return 0;
}

// --check-device: selects and opens the device the run would use, exactly as
// generation will (exit 3 naming what is missing), and prints its capabilities.
int checkDevice(const unicorn::gpu::DeviceRequest& request, bool json) {
  std::unique_ptr<unicorn::gpu::GpuDevice> device = unicorn::gpu::GpuDevice::open(request);
  if (json) {
    printJson({{"index", device->physicalDeviceIndex()},
               {"capabilities", unicorn::gpu::capabilitiesToJson(device->capabilities())}});
  } else {
    std::printf("device %u opened: %s", device->physicalDeviceIndex(),
                unicorn::gpu::formatCapabilities(device->capabilities()).c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Runs a .ubundle made by unicorn-compile.", "unicorn-exec"};
  std::string bundle_path, tokenize_text, chat_text, system_text, prompt_text, ids_text;
  bool inspect = false, verify = false, json = false, list_devices = false, check_device = false;
  unicorn::gpu::DeviceRequest device_request;
  // Required unless a device-only mode (--list-devices, --check-device) is given; checked below.
  app.add_option("BUNDLE", bundle_path, "bundle file (.ubundle)");
  auto* inspect_flag = app.add_flag("--inspect", inspect, "print what the bundle holds and needs");
  app.add_flag("--verify", verify, "also check every weight segment's checksum (reads all weights)");
  auto* tokenize_opt = app.add_option("--tokenize", tokenize_text, "print the token ids of TEXT (no BOS added)");
  auto* chat_opt = app.add_option("--chat", chat_text,
                                  "render TEXT as a user turn with the bundle's chat template and print the prompt\n"
                                  "(with --json: the prompt and its token ids); generation is not implemented yet");
  auto* system_opt = app.add_option("--system", system_text, "system message for --chat")->needs(chat_opt);
  auto* prompt_opt = app.add_option("--prompt", prompt_text, "generate from TEXT (not implemented yet)");
  auto* ids_opt = app.add_option("--ids", ids_text, "generate from token ids 2,818,... (not implemented yet)");
  app.add_flag("--json", json, "machine-readable output");
  auto* list_devices_flag =
      app.add_flag("--list-devices", list_devices, "list the Vulkan devices: index, name, type, API version, subgroup size,\n"
                                     "whether each is usable and why not (no BUNDLE needed)");
  auto* check_device_flag =
      app.add_flag("--check-device", check_device, "select and open the Vulkan device that --device and --allow-software-gpu\n"
                                     "choose and print its capabilities; exit 3 if none fits (no BUNDLE needed)");
  app.add_option("--device", device_request.spec,
                 "Vulkan device: an index from --list-devices or part of its name (default: the first\n"
                 "integrated GPU, else discrete); used by --check-device until generation exists");
  app.add_flag("--allow-software-gpu", device_request.allow_software_gpu,
               "allow a CPU implementation of Vulkan (Mesa llvmpipe) as the device");

  inspect_flag->excludes(tokenize_opt, chat_opt, prompt_opt, ids_opt);
  tokenize_opt->excludes(chat_opt, prompt_opt, ids_opt);
  chat_opt->excludes(prompt_opt, ids_opt);
  prompt_opt->excludes(ids_opt);
  // The device modes run without a bundle; a bundle mode next to them would be ignored.
  for (CLI::Option* device_mode : {list_devices_flag, check_device_flag}) {
    device_mode->excludes(inspect_flag, tokenize_opt, chat_opt, prompt_opt, ids_opt);
  }
  list_devices_flag->excludes(check_device_flag);
  app.set_version_flag("--version", "unicorn-exec 0.1 (bundle format " + std::to_string(unicorn::kBundleFormatVersion) + ")");

  return unicorn::runTool(app, argc, argv, [&] {
    if (list_devices) return listDevices(device_request.allow_software_gpu, json);
    if (check_device) return checkDevice(device_request, json);
    if (bundle_path.empty()) throw Error(ExitCode::kUsage, "BUNDLE is required (see --help)");
    if (prompt_opt->count() || ids_opt->count()) {
      throw Error(ExitCode::kUsage,
                  "text generation (--prompt/--ids) is not implemented in this version: it arrives with the Vulkan "
                  "executor; --inspect, --verify, --tokenize and --chat work");
    }
    const bool tokenize = tokenize_opt->count() > 0, chat = chat_opt->count() > 0;
    const bool any_mode = inspect || verify || tokenize || chat;
    if (!any_mode) throw Error(ExitCode::kUsage, "nothing to do: give --inspect, --verify, --tokenize TEXT or --chat TEXT");
    unicorn::BundleView bundle =
        unicorn::BundleView::open(bundle_path, verify ? unicorn::VerifyLevel::kFull : unicorn::VerifyLevel::kStructure);

    if (inspect) {
      nlohmann::json report = unicorn::inspectBundle(bundle);
      if (json) printJson(report); else std::fputs(unicorn::formatInspection(report).c_str(), stdout);
      return 0;
    }
    if (verify && !tokenize && !chat) {
      std::printf("%s: OK (structure and all %u weight checksums)\n", bundle_path.c_str(),
                  bundle.header().tensors()->size());
      return 0;
    }
    unicorn::Tokenizer tokenizer(*bundle.header().tokenizer());
    if (tokenize) {
      std::vector<int32_t> ids = tokenizer.encode(tokenize_text);
      if (json) printJson({{"ids", ids}}); else std::puts(joinIds(ids).c_str());
      return 0;
    }
    std::string prompt = renderChat(bundle, tokenizer, system_opt->count() ? &system_text : nullptr, chat_text);
    if (json) {
      printJson({{"prompt", prompt}, {"ids", tokenizer.encode(prompt)}});
    } else {
      std::fputs(prompt.c_str(), stdout);
    }
    return 0;
  });
}
