// unicorn-compile: a Hugging Face Gemma 3 checkpoint directory in, one verified
// .ubundle out. See DESIGN.md "Command-line contract".
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "compiler/bundle_writer.h"
#include "compiler/chat_template_source.h"
#include "compiler/checkpoint.h"
#include "compiler/gemma_graph.h"
#include "compiler/weight_scheme.h"
#include "passes/MatvecLaunch.h"
#include "runtime/bundle_view.h"
#include "runtime/error.h"
#include "runtime/tool_main.h"
#include "schemas/tensor_layout.h"

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Progress on stderr: a line per 10% of the weight bytes, so long compiles show
// life without flooding logs.
class WeightProgress {
 public:
  explicit WeightProgress(bool quiet) : quiet_(quiet) {}
  void operator()(std::size_t done, std::size_t total, std::uint64_t bytes_done, std::uint64_t bytes_total) {
    if (quiet_) return;
    int tenth = bytes_total ? static_cast<int>(bytes_done * 10 / bytes_total) : 10;
    if (tenth <= last_tenth_ && done != total) return;
    last_tenth_ = tenth;
    std::fprintf(stderr, "unicorn-compile: weights %zu/%zu tensors, %.1f/%.1f MiB\n", done, total,
                 bytes_done / kMiB, bytes_total / kMiB);
  }

 private:
  bool quiet_;
  int last_tenth_ = -1;
};

// Fails fast, before minutes of reading a large checkpoint, when the bundle could
// not be written anyway.
void checkOutputWritable(const std::filesystem::path& out) {
  using unicorn::failInvalidInput;
  const std::filesystem::path directory = std::filesystem::absolute(out).parent_path();
  if (!std::filesystem::is_directory(directory)) failInvalidInput(out.string() + ": directory " + directory.string() + " does not exist");
  if (std::filesystem::is_directory(out)) failInvalidInput(out.string() + ": is a directory, expected a bundle file name");
  if (::access(directory.c_str(), W_OK) != 0) failInvalidInput(out.string() + ": directory " + directory.string() + " is not writable");
}

// --dump-ir: the module after each compiler step, numbered in pipeline order.
void dumpIr(const std::filesystem::path& directory, const std::string& step, const std::string& text) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  std::ofstream out(directory / (step + ".mlir"), std::ios::binary);
  out << text;
  if (error || !out) unicorn::failInvalidInput((directory / (step + ".mlir")).string() + ": cannot write");
}

std::string layerPattern(const std::vector<bool>& sliding) {
  std::string pattern;
  for (bool s : sliding) pattern += s ? 'S' : 'G';
  return pattern;
}

// --matvec-launch's KIND=LAUNCH as (kind, "LAUNCH"): nullopt unless KIND is
// one the schedule pass sets launches for and LAUNCH is what it reads
// (passes/MatvecLaunch.h: kMatvecLaunchKinds; ROWSxWG or ROWSxWGxGROUPS).
std::optional<std::pair<std::string, std::string>> parseMatvecLaunchFlag(const std::string& flag) {
  const std::size_t eq = flag.find('=');
  if (eq == std::string::npos) return std::nullopt;
  const std::string kind = flag.substr(0, eq), launch = flag.substr(eq + 1);
  if (!unicorn::isMatvecLaunchKind(kind) || !unicorn::parseMatvecLaunch(launch)) return std::nullopt;
  return std::pair{kind, launch};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Compiles a Hugging Face Gemma 3 checkpoint directory (config.json, *.safetensors, tokenizer.json,\n"
      "tokenizer_config.json) into one .ubundle file for unicorn-exec.",
      "unicorn-compile"};
  std::string model_dir, out_path, target = "igpu", weights = "bf16";
  std::string dump_ir_dir;
  bool quiet = false;
  uint32_t min_row_slices = 1;
  uint32_t max_readout_rows = 0;
  uint32_t prefill_chunk = 0;  // 0: GemmaGraph::defaultPrefillChunk
  std::vector<std::string> matvec_launch_flags;  // --matvec-launch KIND=ROWSxWORKGROUP
  std::optional<uint32_t> dot_min_mib;  // absent: the schedule pass's default
  bool no_coop_matmul = false;
  std::optional<uint32_t> prefill_split_tiles;  // absent: the schedule pass's default
  bool no_dot_q8 = false;
  bool dot_q4_by_size = false;
  uint32_t norm_workgroup = 0;  // 0: the schedule pass's choice by width
  bool no_flash_prefill = false;
  bool no_decode_attention = false;
  app.add_option("MODEL_DIR", model_dir, "checkpoint directory (Gemma3ForCausalLM or Gemma3ForConditionalGeneration)")
      ->required();
  app.add_option("-o,--output", out_path, "bundle to write (written to a temporary file, renamed when complete)")
      ->required();
  app.add_option("--target", target,
                 "devices the bundle runs on: igpu (the Radeon iGPU through Vulkan) or npu+igpu\n"
                 "(not available yet: needs an AIE tile compiler, see README)")
      ->check(CLI::IsMember({"igpu", "npu+igpu"}))
      ->capture_default_str();
  app.add_option("--weights", weights,
                 "weight storage: bf16; q8 = int8 or q4 = int4, symmetric, one bf16 scale per 32 weights\n"
                 "along the input dimension, for the projection matrices and the embedding (norms stay bf16)")
      ->check(CLI::IsMember({"bf16", "q8", "q4"}))
      ->capture_default_str();
  app.add_option("--dump-ir", dump_ir_dir,
                 "write the unicorn-dialect MLIR module after each compiler step into DIR\n"
                 "(00-graph.mlir, the Gemma 3 graph as built from the checkpoint; then one file per pass:\n"
                 "01-quantize, 02-fuse, 03-place, 04-plan-memory, 05-schedule)");
  app.add_option("--prefill-chunk", prefill_chunk,
                 "tokens a prefill submission holds: prompts run in chunks of at most N (default: 128, fewer\n"
                 "where a chunk's gate/up rows would exceed one 128 MiB binding; --dump-logits runs in chunks\n"
                 "of at most 128 MiB of logits, e.g. 127 tokens of a 262208-token vocabulary). More keeps a\n"
                 "large GPU's matrix units busy (the H200 figures in the README use 512); an APU's driver may\n"
                 "time out on very large submissions")
      ->check(CLI::Range(1u, 4096u));
  app.add_option("--prefill-split-tiles", prefill_split_tiles,
                 "prefill products of fewer 128 x 128 output tiles (at --prefill-chunk tokens) than N share\n"
                 "each tile's K among several workgroups (split-K) to make up N: for a GPU with more\n"
                 "compute units than a narrow product has tiles (default 0: never; the H200 figures in\n"
                 "the README use 256, 10-20% faster there)")
      ->check(CLI::Range(0u, 1u << 20));
  app.add_flag("-q,--quiet", quiet, "no progress on stderr");
  app.add_option("--min-row-slices", min_row_slices,
                 "developer: bind every weight matrix as at least N row slices, as matrices larger than\n"
                 "one 128 MiB binding are (lets small test models exercise that path)")
      ->check(CLI::Range(1u, 64u))
      ->group("Developer");
  app.add_option("--max-readout-rows", max_readout_rows,
                 "developer: at most N rows of logits a chunk, as a vocabulary too wide for a whole chunk's\n"
                 "logits in one 128 MiB binding has (--dump-logits then runs in chunks of N; lets small test\n"
                 "models exercise that path)")
      ->check(CLI::Range(1u, 4096u))
      ->group("Developer");
  app.add_option("--matvec-launch", matvec_launch_flags,
                 "developer: decode products of KIND (bf16, quant: small q8 and q4, dot: large q4, dot-q8:\n"
                 "large q8, narrow: bf16 and quant ones of at most 2048 rows) launch with ROWS rows per\n"
                 "workgroup of WG invocations (0: by K), split over GROUPS groups of them (default 1), e.g.\n"
                 "quant=4x128, dot=16x128x4; repeatable.\n"
                 "Defaults (measured on an H200): bf16=4x0 quant=4x0 dot=4x128x4 dot-q8=4x128x2 narrow=2x128")
      ->check([](const std::string& value) -> std::string {
        return parseMatvecLaunchFlag(value) ? ""
                                        : "expected KIND=ROWSxWG[xGROUPS] with KIND bf16, quant, dot, dot-q8 or narrow, ROWS >= 1 "
                                          "and GROUPS a power of two dividing ROWS (e.g. quant=4x128), got '" +
                                              value + "'";
      })
      ->group("Developer");
  app.add_option("--dot-min-mib", dot_min_mib,
                 "developer: q8 decode products sharing one input take the packed-integer kernel from\n"
                 "N MiB of quants (default 8; q4's all take it, unless --dot-q4-by-size)")
      ->check(CLI::Range(0u, 1u << 20))
      ->group("Developer");
  app.add_flag("--no-dot-q8", no_dot_q8,
               "developer: q8 decode products on matvec_quant (float input) even from --dot-min-mib, where\n"
               "they take the packed-integer kernel by default as q4's do (to compare the two)")
      ->group("Developer");
  app.add_flag("--dot-q4-by-size", dot_q4_by_size,
               "developer: q4 decode products on the packed-integer kernel only from --dot-min-mib, as q8's,\n"
               "the smaller ones on matvec_quant (float input); by default all of them take it (to compare)")
      ->group("Developer");
  app.add_option("--norm-workgroup", norm_workgroup,
                 "developer: the RMS norms' workgroup size, a power of two up to 1024 (default: by width)")
      ->check([](const std::string& value) {
        uint32_t n = 0;
        const bool power_of_two = CLI::detail::lexical_cast(value, n) && n >= 1 && n <= 1024 && (n & (n - 1)) == 0;
        return power_of_two ? std::string() : "must be a power of two from 1 to 1024, got '" + value + "'";
      })
      ->group("Developer");
  app.add_flag("--no-coop-matmul", no_coop_matmul,
               "developer: prefill's products on the tiled shader-core kernels even where the device\n"
               "has cooperative-matrix units (to compare the two)")
      ->group("Developer");
  app.add_flag("--no-flash-prefill", no_flash_prefill,
               "developer: prefill attention one workgroup per token instead of tiles of 8 queries sharing\n"
               "each block of keys (to compare the two)")
      ->group("Developer");
  app.add_flag("--no-decode-attention", no_decode_attention,
               "developer: decode attention as two dispatches, the q and k norms and RoPE (qkv_norm_rope),\n"
               "then the attention (attention_split), instead of one from the q|k|v row (to compare the two)")
      ->group("Developer");
  app.set_version_flag("--version", "unicorn-compile 0.1 (bundle format " +
                                        std::to_string(unicorn::kBundleFormatVersion) + ")");

  return unicorn::runTool(app, argc, argv, [&] {
    using namespace unicorn;
    if (target == "npu+igpu") {
      throw Error(ExitCode::kDeviceMissing,
                  "--target npu+igpu: NPU code generation needs an AIE tile compiler (Peano/llvm-aie), "
                  "which is not available; use --target igpu");
    }
    checkOutputWritable(out_path);
    const auto start = std::chrono::steady_clock::now();
    Checkpoint checkpoint = Checkpoint::open(model_dir);
    const ModelConfig& config = checkpoint.config();
    if (!quiet) {
      std::fprintf(stderr,
                   "unicorn-compile: %s: %s, %u layers [%s], hidden %u, %u heads / %u kv heads x %u, vocab %u, "
                   "%zu tensors\n",
                   model_dir.c_str(), config.architecture.c_str(), config.num_hidden_layers,
                   layerPattern(config.layer_is_sliding).c_str(), config.hidden_size, config.num_attention_heads,
                   config.num_key_value_heads, config.head_dim, config.vocab_size, checkpoint.tensors().size());
    }
    GemmaGraph graph(checkpoint);
    if (std::string diagnostics; !graph.verify(diagnostics)) {
      throw Error(ExitCode::kInvalidInput,
                  "internal error (please report): the Gemma 3 graph does not verify: " + diagnostics);
    }
    if (!dump_ir_dir.empty()) dumpIr(dump_ir_dir, "00-graph", graph.text());
    // The pass pipeline. Its dumps are written even when a pass refuses the
    // module, so --dump-ir shows how far it got.
    std::vector<GemmaGraph::IrDump> pass_dumps;
    std::string pass_diagnostics;
    GemmaGraph::PipelineOptions pipeline;
    pipeline.weights = *parseWeightFormat(weights);  // CLI11 admitted only the names it parses
    pipeline.target = target;
    pipeline.min_row_slices = min_row_slices;
    pipeline.max_readout_rows = max_readout_rows;
    for (const std::string& flag : matvec_launch_flags) pipeline.matvec_launches.insert(*parseMatvecLaunchFlag(flag));
    pipeline.dot_min_mib = dot_min_mib;
    pipeline.dot_q8 = !no_dot_q8;
    pipeline.dot_q4_by_size = dot_q4_by_size;
    pipeline.norm_workgroup = norm_workgroup;
    pipeline.coop_matmul = !no_coop_matmul;
    pipeline.prefill_split_tiles = prefill_split_tiles;
    pipeline.flash_prefill = !no_flash_prefill;
    pipeline.decode_attention = !no_decode_attention;
    pipeline.prefill_chunk = prefill_chunk != 0 ? prefill_chunk : GemmaGraph::defaultPrefillChunk(config);
    const bool passes_ok = graph.runPasses(pipeline, pass_diagnostics, dump_ir_dir.empty() ? nullptr : &pass_dumps);
    for (const GemmaGraph::IrDump& dump : pass_dumps) dumpIr(dump_ir_dir, dump.step, dump.text);
    if (!passes_ok) {
      // What a pass refuses is the checkpoint under these flags (e.g. a matrix whose K
      // does not split into quantisation blocks); the message names the tensor or op.
      while (pass_diagnostics.ends_with("; ")) pass_diagnostics.resize(pass_diagnostics.size() - 2);
      throw Error(ExitCode::kInvalidInput, "--weights " + weights + ": " + pass_diagnostics);
    }

    BundleContents contents;
    contents.checkpoint = &checkpoint;
    contents.chat_template = readChatTemplate(model_dir);
    contents.required_devices = {"igpu"};
    contents.tensors = planBundleTensors(checkpoint, pipeline.weights, graph.stackedWeights());
    // The schedule's weight buffers are the bundle's tensors, in its table's order and stored sizes.
    std::vector<std::string> tensor_names;
    std::vector<std::uint64_t> stored_sizes;
    for (const BundleTensor& tensor : contents.tensors) {
      tensor_names.push_back(tensor.name);
      stored_sizes.push_back(tensor.stored_bytes);
    }
    CompiledSchedule schedule;
    if (std::string problem; !graph.extractSchedule(tensor_names, stored_sizes, schedule, problem)) {
      throw Error(ExitCode::kInvalidInput, "internal error (please report): " + problem);
    }
    compileScheduleKernels(schedule);
    contents.schedule = &schedule;
    WeightProgress progress(quiet);
    writeBundle(contents, out_path, std::ref(progress));

    // Read back what we wrote, as the runtime will: a bundle we cannot verify is our bug, not the user's.
    BundleView written = BundleView::open(out_path, VerifyLevel::kFull);
    if (!quiet) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::fprintf(stderr, "unicorn-compile: wrote %s (%.1f MiB) in %.1f s\n", out_path.c_str(),
                   written.fileSize() / kMiB, seconds);
    }
    return 0;
  });
}
