// The Gemma 3 text decoder of a checkpoint as a `unicorn` dialect module
// (ir/UnicornOps.td): one unicorn.weight symbol per checkpoint tensor, pointing
// into its safetensors file (bytes are never copied into the IR), and a
// func.func @forward(ids, positions) -> logits that reads top to bottom like
// transformers' Gemma3ForCausalLM.forward.
//
// The pass pipeline (quantize, fuse, place, plan-memory, schedule) runs on
// this module and leaves the bundle's execution schedule in it; --dump-ir
// writes it after every step. MLIR lives behind this interface so the rest of
// the compiler (built with exceptions) never includes MLIR headers (built
// without).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "compiler/bundle_tensors.h"
#include "compiler/checkpoint.h"
#include "compiler/compiled_schedule.h"
#include "compiler/quant_policy.h"

namespace unicorn {

class GemmaGraph {
 public:
  // Builds the module from a validated checkpoint.
  explicit GemmaGraph(const Checkpoint& checkpoint);
  ~GemmaGraph();
  GemmaGraph(const GemmaGraph&) = delete;
  GemmaGraph& operator=(const GemmaGraph&) = delete;

  // Runs the MLIR verifier. The checkpoint was validated before, so a failure is
  // a bug of the builder; `diagnostics` receives MLIR's messages. (This code is
  // built without exceptions, like LLVM: the caller turns false into an Error.)
  bool verify(std::string& diagnostics) const;

  // The module in MLIR's textual form, as unicorn-opt parses it.
  std::string text() const;

  // The module after one pass, for --dump-ir: `step` names the file, numbered in
  // pipeline order after 00-graph ("01-quantize").
  struct IrDump {
    std::string step;
    std::string text;
  };

  // What the pipeline is asked for (unicorn-compile's flags).
  struct PipelineOptions {
    WeightFormat weights = WeightFormat::kBF16;  // quantize
    std::string target = "igpu";                 // place: igpu or npu+igpu
    std::uint32_t prefill_chunk = 64;            // plan-memory: tokens per prefill chunk
    std::uint32_t min_row_slices = 1;            // schedule: a developer setting (--min-row-slices)
    std::uint32_t max_readout_rows = 0;          // plan-memory: a developer setting (--max-readout-rows)
    // schedule, developer settings: "bf16"/"quant"/"dot"/"dot-q8"/"narrow" -> "ROWSxWORKGROUP"
    // (--matvec-launch), and --dot-min-mib; absent: the pass's defaults.
    std::map<std::string, std::string> matvec_launches;
    std::optional<std::uint32_t> dot_min_mib;
    bool dot_q8 = true;            // --no-dot-q8: large q8 decode products on matvec_quant instead of the packed kernel
    bool dot_q4_by_size = false;   // --dot-q4-by-size: q4 decode products on the packed kernel only from --dot-min-mib
    std::uint32_t norm_workgroup = 0;  // --norm-workgroup (0: the pass's choice by width)
    bool coop_matmul = true;       // --no-coop-matmul: the tiled kernels for prefill's products
    std::optional<std::uint32_t> prefill_split_tiles;  // --prefill-split-tiles; absent: the pass's default
    bool flash_prefill = true;     // --no-flash-prefill: prefill attention one workgroup per token
    bool decode_attention = true;  // --no-decode-attention: qkv_norm_rope, then attention_split
  };

  // unicorn-compile's default prefill chunk for `config`: two 64-token tiles of
  // the prefill products (on a large GPU one tile leaves matrix units idle),
  // fewer where a chunk's fused gate/up rows would exceed one 128 MiB binding.
  // (The logits are not a limit: plan-memory gives them as many rows as one
  // binding holds, and --dump-logits runs in chunks that small.)
  static std::uint32_t defaultPrefillChunk(const ModelConfig& config);

  // Runs the pass pipeline on the module: quantize (the policy of
  // quant_policy.h, which the bundle writer applies too), fuse, place,
  // plan-memory, schedule. MLIR verifies the module after every pass. Returns
  // false with MLIR's messages in `diagnostics` when a pass refuses the module
  // (e.g. a matrix to quantise whose K is not a multiple of 32: an input
  // problem, named in the message). With `dumps`, appends the module after
  // each pass that succeeded. They are handed back rather than written through
  // a callback so that the caller's file I/O, which may throw, never runs
  // inside MLIR's frames.
  bool runPasses(const PipelineOptions& options, std::string& diagnostics, std::vector<IrDump>* dumps = nullptr);

  // After runPasses: the schedule it produced, its kernels not compiled yet
  // (compileScheduleKernels). Weight buffers are indexed into `tensor_names`
  // (the bundle's tensor table order) and sized by `tensor_sizes`. False with
  // the reason in `problem` if the module holds no schedule.
  bool extractSchedule(const std::vector<std::string>& tensor_names, const std::vector<std::uint64_t>& tensor_sizes,
                       CompiledSchedule& schedule, std::string& problem) const;

  // After runPasses: the weight stacks the fuse pass made (unicorn.stacked_weight),
  // which the bundle stores instead of their parts.
  std::vector<StackedTensor> stackedWeights() const;

 private:
  struct Module;
  std::unique_ptr<Module> module_;
};

}  // namespace unicorn
