// unicorn-exec: maps a .ubundle, verifies it, and runs it. See DESIGN.md
// "Command-line contract". Generation runs bf16, q8 and q4 bundles; the next
// token is chosen on the GPU, greedily by default or sampled with
// --temperature/--top-k/--top-p/--seed.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <memory>
#include <random>
#include <optional>
#include <span>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/atomic_output_file.h"
#include "runtime/benchmark.h"
#include "runtime/bundle_inspect.h"
#include "runtime/bundle_view.h"
#include "runtime/chat_template.h"
#include "runtime/error.h"
#include "runtime/executor.h"
#include "runtime/generation.h"
#include "runtime/token_stream_decoder.h"
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


// "2,818,5279" -> ids; Error(kUsage) naming the bad element.
std::vector<int32_t> parseIds(const std::string& text) {
  std::vector<int32_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(start, end - start);
    int32_t id = 0;
    auto [rest, problem] = std::from_chars(item.data(), item.data() + item.size(), id);
    if (item.empty() || problem != std::errc() || rest != item.data() + item.size() || id < 0) {
      throw Error(ExitCode::kUsage, "--ids: '" + item + "' is not a token id (expected e.g. 2,818,5279)");
    }
    ids.push_back(id);
    start = end + 1;
  }
  return ids;
}

struct GenerationRequest {
  unicorn::gpu::DeviceRequest device;
  uint32_t context = 0;  // 0: the default (min(max_position_embeddings, kDefaultContext))
  uint32_t max_tokens = 64;
  uint32_t dump_logits = 0;  // K > 0: print the prompt's logits readout instead of generating
  std::string logits_out;    // with dump_logits: also every position's full logits, float32 rows
  bool ignore_eos = false;
  bool json = false;
  unicorn::SamplingSettings sampling;  // temperature 0: greedy
};

constexpr uint32_t kDefaultContext = 2048;

// One line on stderr saying where the weights live: imported in place or copied (and why).
void reportResidency(const unicorn::ScheduleExecutor& executor, const unicorn::gpu::GpuDevice& device) {
  uint64_t imported = 0, copied = 0;
  std::string copy_reason;
  for (const auto& report : executor.residency()) {
    if (report.path == unicorn::gpu::ResidencyPath::kImportedHostPointer) {
      imported += report.bytes;
    } else {
      copied += report.bytes;
      if (copy_reason.empty()) copy_reason = std::string(unicorn::gpu::residencyPathName(report.path)) + ": " + report.reason;
    }
  }
  std::fprintf(stderr, "unicorn-exec: %s; weights resident: %.1f MiB imported in place, %.1f MiB copied%s%s\n",
               device.capabilities().name.c_str(), imported / 1048576.0, copied / 1048576.0,
               copy_reason.empty() ? "" : " (", copy_reason.empty() ? "" : (copy_reason + ")").c_str());
}

// Exit 3 when the bundle needs a device this runtime does not drive.
void requireDrivableDevices(const unicorn::BundleView& bundle) {
  for (const flatbuffers::String* device : *bundle.header().required_devices()) {
    if (device->str() != "igpu") {
      throw Error(ExitCode::kDeviceMissing, bundle.path().string() + " requires device '" + device->str() +
                                                "', which this runtime cannot drive (it runs igpu bundles)");
    }
  }
}

// --bench: the measurements of benchmark.h, as text or JSON.
int runBench(const unicorn::BundleView& bundle, const unicorn::BenchmarkOptions& options, bool json) {
  requireDrivableDevices(bundle);
  nlohmann::json report = unicorn::runBenchmark(bundle, options);
  if (json) printJson(report); else std::fputs(unicorn::formatBenchmark(report).c_str(), stdout);
  return 0;
}

// --prompt / --ids / --chat: greedy generation (or the --dump-logits readout) on the device.
int runModel(const unicorn::BundleView& bundle, const unicorn::Tokenizer& tokenizer, const std::vector<int32_t>& prompt,
             const GenerationRequest& request) {
  requireDrivableDevices(bundle);
  const unicorn::fb::TextModelConfig& model = *bundle.header().model();
  const uint32_t context = request.context ? request.context
                                           : std::min<uint32_t>(model.max_position_embeddings(), kDefaultContext);
  // Everything about the input is checked before the device opens: bad input is
  // exit 2 (or 1) on any machine, not a device problem.
  unicorn::ScheduleExecutor::requireRunnable(bundle, context);
  unicorn::requireContextFits(context, prompt.size(), request.dump_logits ? 0 : request.max_tokens);
  for (int32_t id : prompt) {
    if (id < 0 || uint32_t(id) >= model.vocab_size()) {
      throw Error(ExitCode::kInvalidInput, "token id " + std::to_string(id) + " is outside the vocabulary 0.." +
                                               std::to_string(model.vocab_size() - 1));
    }
  }
  const uint32_t readout_top_k = bundle.header().schedule()->readout_top_k();
  if (request.dump_logits > readout_top_k) {
    throw Error(ExitCode::kUsage, "--dump-logits " + std::to_string(request.dump_logits) +
                                      ": this bundle reads out at most " + std::to_string(readout_top_k) +
                                      " logits per position");
  }
  std::unique_ptr<unicorn::gpu::GpuDevice> device = unicorn::gpu::GpuDevice::open(request.device);
  unicorn::ScheduleExecutor executor(bundle, *device, context);
  reportResidency(executor, *device);
  if (request.dump_logits) {
    // The file appears whole or not at all: a failed run leaves no truncated rows.
    std::optional<unicorn::AtomicOutputFile> logits_file;
    if (!request.logits_out.empty()) {
      logits_file.emplace(request.logits_out);
      executor.captureFullLogits(true);
    }
    unicorn::readPromptLogits(executor, prompt, [&](const unicorn::LogitsReadout& row) {
      nlohmann::json top = nlohmann::json::array();
      for (uint32_t k = 0; k < request.dump_logits; ++k) top.push_back({row.top[k].first, row.top[k].second});
      printJson({{"pos", row.position}, {"lse", row.log_sum_exp}, {"top", top}});
      if (logits_file) logits_file->append(std::as_bytes(std::span(row.logits)));
    });
    if (logits_file) logits_file->commit();
    return 0;
  }
  executor.setSampling(request.sampling);
  unicorn::GenerationOptions options;
  options.max_tokens = request.max_tokens;
  options.stop_at_eos = !request.ignore_eos;
  if (model.eos_token_ids()) options.eos_ids.assign(model.eos_token_ids()->begin(), model.eos_token_ids()->end());
  unicorn::TokenStreamDecoder stream(tokenizer, /*skip_special=*/false);
  std::vector<int32_t> generated = unicorn::generate(executor, prompt, options, [&](int32_t id) {
    if (request.json) return;
    std::fputs(stream.push(id).c_str(), stdout);
    std::fflush(stdout);
  });
  if (request.json) {
    nlohmann::json out = {{"ids", generated}, {"text", tokenizer.decode(generated, /*skip_special=*/false)}};
    if (request.sampling.temperature > 0.0f) out["seed"] = request.sampling.seed;  // to reproduce the draw
    printJson(out);
  } else {
    std::fputs((stream.finish() + "\n").c_str(), stdout);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const auto process_start = std::chrono::steady_clock::now();  // --bench's load time counts from here
  CLI::App app{"Runs a .ubundle made by unicorn-compile.", "unicorn-exec"};
  std::string bundle_path, tokenize_text, chat_text, system_text, prompt_text, ids_text;
  bool inspect = false, verify = false, json = false, list_devices = false, check_device = false, show_prompt = false;
  GenerationRequest generation;
  unicorn::gpu::DeviceRequest& device_request = generation.device;
  // Required unless a device-only mode (--list-devices, --check-device) is given; checked below.
  app.add_option("BUNDLE", bundle_path, "bundle file (.ubundle)");
  auto* inspect_flag = app.add_flag("--inspect", inspect, "print what the bundle holds and needs");
  bool bench = false;
  unicorn::BenchmarkOptions bench_options;
  auto* bench_flag = app.add_flag(
      "--bench", bench,
      "measure on the device: load time to the first token, its memory bandwidth (copy, read), prefill\n"
      "tokens/s over a prompt of --bench-prefill tokens, decode tokens/s over --bench-decode steps\n"
      "at each of --bench-contexts beside the bandwidth roofline, the GPU time of one decode step and\n"
      "of one prefill chunk kernel by kernel, the step's launch floor, peak host and GPU memory");
  app.add_option("--bench-prefill", bench_options.prefill_tokens, "--bench: prompt tokens for prefill (default 512)")
      ->needs(bench_flag)->check(CLI::Range(1u, 1u << 20));
  app.add_option("--bench-prefill-context", bench_options.prefill_context,
                 "--bench: tokens already in the KV cache before the timed prefill (default 0)")
      ->needs(bench_flag)->check(CLI::Range(0u, 1u << 24));
  app.add_option("--bench-decode", bench_options.decode_tokens, "--bench: decode steps per context (default 128)")
      ->needs(bench_flag)->check(CLI::Range(1u, 1u << 20));
  app.add_option("--bench-contexts", bench_options.decode_contexts,
                 "--bench: the contexts decode is measured at, comma-separated (default 0,4096)")
      ->needs(bench_flag)->delimiter(',')->check(CLI::Range(0u, 1u << 24));
  app.add_flag("--verify", verify, "also check every weight segment's checksum (reads all weights)");
  auto* tokenize_opt = app.add_option("--tokenize", tokenize_text, "print the token ids of TEXT (no BOS added)");
  auto* chat_opt = app.add_option("--chat", chat_text,
                                  "render TEXT as a user turn with the bundle's chat template and generate the reply");
  auto* system_opt = app.add_option("--system", system_text, "system message for --chat")->needs(chat_opt);
  app.add_flag("--show-prompt", show_prompt,
               "with --chat: print the rendered prompt instead of generating\n"
               "(with --json: the prompt and its token ids)")->needs(chat_opt);
  auto* prompt_opt = app.add_option("--prompt", prompt_text, "generate from TEXT (BOS + its tokens)");
  auto* ids_opt = app.add_option("--ids", ids_text, "generate from token ids 2,818,... (given as is, no BOS added)");
  app.add_option("--max-tokens", generation.max_tokens, "tokens to generate at most (default 64)");
  auto* ctx_opt = app.add_option("--ctx", generation.context,
                 "context size: positions the full-attention KV caches hold (default min(model max, 2048));\n"
                 "prompt + --max-tokens must fit");
  app.add_option("--dump-logits", generation.dump_logits,
                 "print, per prompt position, one JSON line {\"pos\",\"lse\",\"top\":[[id,logit]...K]} instead of generating");
  auto* logits_out_opt = app.add_option(
      "--logits-out", generation.logits_out,
      "with --dump-logits: also write every prompt position's full logits to FILE, as rows of\n"
      "vocab_size little-endian float32 in position order (for quality measurements)");
  app.add_flag("--ignore-eos", generation.ignore_eos, "do not stop at the model's end-of-sequence ids");
  unicorn::SamplingSettings& sampling = generation.sampling;
  app.add_option("--temperature", sampling.temperature,
                 "0 (the default): greedy decoding; > 0: sample from softmax(logits / T), on the GPU");
  auto* top_k_opt = app.add_option("--top-k", sampling.top_k, "with --temperature: sample among the K most likely ids only");
  auto* top_p_opt = app.add_option("--top-p", sampling.top_p,
                                   "with --temperature: sample among the most likely ids whose probability\n"
                                   "(after --top-k) reaches P, in (0, 1]");
  auto* seed_opt = app.add_option("--seed", sampling.seed,
                                  "with --temperature: the random seed (default: a fresh one, printed by --json);\n"
                                  "the same seed, prompt, bundle and device give the same tokens");
  app.add_flag("--json", json, "machine-readable output");
  auto* list_devices_flag =
      app.add_flag("--list-devices", list_devices, "list the Vulkan devices: index, name, type, API version, subgroup size,\n"
                                     "whether each is usable and why not (no BUNDLE needed)");
  auto* check_device_flag =
      app.add_flag("--check-device", check_device, "select and open the Vulkan device that --device and --allow-software-gpu\n"
                                     "choose and print its capabilities; exit 3 if none fits (no BUNDLE needed)");
  app.add_option("--device", device_request.spec,
                 "Vulkan device: an index from --list-devices or part of its name (default: the first\n"
                 "integrated GPU, else discrete)");
  app.add_flag("--allow-software-gpu", device_request.allow_software_gpu,
               "allow a CPU implementation of Vulkan (Mesa llvmpipe) as the device");

  inspect_flag->excludes(tokenize_opt, chat_opt, prompt_opt, ids_opt);
  // --bench sizes the context to its own measurements.
  bench_flag->excludes(inspect_flag, tokenize_opt, chat_opt, prompt_opt, ids_opt, ctx_opt);
  tokenize_opt->excludes(chat_opt, prompt_opt, ids_opt);
  chat_opt->excludes(prompt_opt, ids_opt);
  prompt_opt->excludes(ids_opt);
  // The device modes run without a bundle; a bundle mode next to them would be ignored.
  for (CLI::Option* device_mode : {list_devices_flag, check_device_flag}) {
    device_mode->excludes(inspect_flag, bench_flag, tokenize_opt, chat_opt, prompt_opt, ids_opt);
  }
  list_devices_flag->excludes(check_device_flag);
  app.set_version_flag("--version", "unicorn-exec 0.1 (bundle format " + std::to_string(unicorn::kBundleFormatVersion) + ")");

  return unicorn::runTool(app, argc, argv, [&] {
    if (list_devices) return listDevices(device_request.allow_software_gpu, json);
    if (check_device) return checkDevice(device_request, json);
    if (bundle_path.empty()) throw Error(ExitCode::kUsage, "BUNDLE is required (see --help)");
    unicorn::ScheduleExecutor::requireValidSampling(sampling);
    if (sampling.temperature == 0.0f && (top_k_opt->count() || top_p_opt->count() || seed_opt->count())) {
      throw Error(ExitCode::kUsage, "--top-k, --top-p and --seed shape sampling: give --temperature > 0 too "
                                    "(without it decoding is greedy)");
    }
    if (sampling.temperature > 0.0f && !seed_opt->count()) sampling.seed = (uint64_t(std::random_device{}()) << 32) | std::random_device{}();
    const bool tokenize = tokenize_opt->count() > 0, chat = chat_opt->count() > 0;
    const bool generate = prompt_opt->count() > 0 || ids_opt->count() > 0 || (chat && !show_prompt);
    const bool any_mode = inspect || verify || tokenize || chat || generate || bench;
    if (!any_mode) {
      throw Error(ExitCode::kUsage,
                  "nothing to do: give --prompt TEXT, --ids 2,818,..., --chat TEXT, --inspect, --verify, --tokenize TEXT "
                  "or --bench");
    }
    if (generation.dump_logits && !generate) throw Error(ExitCode::kUsage, "--dump-logits needs --prompt, --ids or --chat");
    if (logits_out_opt->count() && !generation.dump_logits) throw Error(ExitCode::kUsage, "--logits-out needs --dump-logits K");
    generation.json = json;
    std::vector<int32_t> user_ids;
    if (ids_opt->count()) user_ids = parseIds(ids_text);  // usage errors before any file is read
    unicorn::BundleView bundle =
        unicorn::BundleView::open(bundle_path, verify ? unicorn::VerifyLevel::kFull : unicorn::VerifyLevel::kStructure);

    if (bench) {
      bench_options.device = device_request;
      bench_options.process_start = process_start;
      bench_options.bundle_opened = std::chrono::steady_clock::now();
      return runBench(bundle, bench_options, json);
    }
    if (inspect) {
      nlohmann::json report = unicorn::inspectBundle(bundle);
      if (json) printJson(report); else std::fputs(unicorn::formatInspection(report).c_str(), stdout);
      return 0;
    }
    if (verify && !tokenize && !chat && !generate) {
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
    if (ids_opt->count()) return runModel(bundle, tokenizer, user_ids, generation);
    if (prompt_opt->count()) {
      std::vector<int32_t> ids;
      if (tokenizer.bosId() >= 0) ids.push_back(tokenizer.bosId());
      std::vector<int32_t> text_ids = tokenizer.encode(prompt_text);
      ids.insert(ids.end(), text_ids.begin(), text_ids.end());
      return runModel(bundle, tokenizer, ids, generation);
    }
    // --chat: the template renders <bos> itself.
    std::string prompt = renderChat(bundle, tokenizer, system_opt->count() ? &system_text : nullptr, chat_text);
    if (!show_prompt) return runModel(bundle, tokenizer, tokenizer.encode(prompt), generation);
    if (json) {
      printJson({{"prompt", prompt}, {"ids", tokenizer.encode(prompt)}});
    } else {
      std::fputs(prompt.c_str(), stdout);
    }
    return 0;
  });
}
