#include "compiler/gemma_graph.h"

#include "compiler/schedule_extraction.h"
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>

#include "ir/UnicornDialect.h"
#include "ir/UnicornOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "passes/Passes.h"
#include "llvm/Support/raw_ostream.h"

namespace unicorn {

struct GemmaGraph::Module {
  mlir::MLIRContext context;
  mlir::OwningOpRef<mlir::ModuleOp> module;
};

namespace {

// Builds the graph; every helper mirrors one step of transformers' Gemma3 forward.
class GraphBuilder {
 public:
  GraphBuilder(mlir::MLIRContext& context, const Checkpoint& checkpoint)
      : checkpoint_(checkpoint), config_(checkpoint.config()), builder_(&context),
        loc_(mlir::UnknownLoc::get(&context)) {}

  mlir::OwningOpRef<mlir::ModuleOp> build() {
    mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(loc_);
    builder_.setInsertionPointToEnd(module->getBody());
    for (const CheckpointTensor& tensor : checkpoint_.tensors()) addWeight(tensor);
    buildForward();
    return module;
  }

 private:
  mlir::Type elementType(SafetensorsDType dtype) {
    switch (dtype) {
      case SafetensorsDType::kF32: return builder_.getF32Type();
      case SafetensorsDType::kF16: return builder_.getF16Type();
      default: return builder_.getBF16Type();  // the checkpoint reader admits only F32/F16/BF16
    }
  }

  void addWeight(const CheckpointTensor& tensor) {
    llvm::SmallVector<int64_t> shape(tensor.shape.begin(), tensor.shape.end());
    auto type = mlir::RankedTensorType::get(shape, elementType(tensor.dtype));
    WeightOp::create(builder_, loc_, tensor.canonical_name, type, tensor.source_file,
                     static_cast<uint64_t>(tensor.file_offset), QuantScheme::None);
  }

  // A [tokens, width] fp32 activation; the token count is dynamic so one graph
  // serves prefill chunks and decode steps.
  mlir::RankedTensorType activation(int64_t width) {
    return mlir::RankedTensorType::get({mlir::ShapedType::kDynamic, width}, builder_.getF32Type());
  }

  mlir::FlatSymbolRefAttr weight(const std::string& name) {
    return mlir::FlatSymbolRefAttr::get(builder_.getContext(), name);
  }

  mlir::Value rmsNorm(mlir::Value x, const std::string& weight_name) {
    return RmsNormOp::create(builder_, loc_, x.getType(), x, weight(weight_name),
                             builder_.getF64FloatAttr(config_.rms_norm_eps));
  }

  mlir::Value linear(mlir::Value x, const std::string& weight_name, int64_t out_features) {
    return LinearOp::create(builder_, loc_, activation(out_features), x, weight(weight_name));
  }

  void buildForward() {
    const int64_t hidden = config_.hidden_size;
    const int64_t heads = config_.num_attention_heads, kv_heads = config_.num_key_value_heads;
    const int64_t head_dim = config_.head_dim;
    const int64_t vocab = config_.vocab_size;
    auto ids_type = mlir::RankedTensorType::get({mlir::ShapedType::kDynamic}, builder_.getI32Type());
    auto function_type = builder_.getFunctionType({ids_type, ids_type}, {activation(vocab)});
    auto forward = mlir::func::FuncOp::create(builder_, loc_, "forward", function_type);
    mlir::Block* entry = forward.addEntryBlock();
    mlir::OpBuilder::InsertionGuard guard(builder_);
    builder_.setInsertionPointToStart(entry);
    mlir::Value ids = entry->getArgument(0), positions = entry->getArgument(1);

    // The float32 reference scales by sqrt(hidden) unrounded (DESIGN.md).
    mlir::Value h = EmbedOp::create(builder_, loc_, activation(hidden), ids, weight("embed_tokens.weight"),
                                    builder_.getF64FloatAttr(std::sqrt(static_cast<double>(hidden))));
    const double query_scale = 1.0 / std::sqrt(static_cast<double>(config_.query_pre_attn_scalar));
    for (uint32_t layer = 0; layer < config_.num_hidden_layers; ++layer) {
      const std::string p = "layers." + std::to_string(layer) + ".";
      const bool sliding = config_.layer_is_sliding[layer];
      const double rope_base = sliding ? config_.rope_local_base : config_.rope_global_base;
      const double rope_factor = sliding ? 1.0 : config_.rope_global_linear_factor;

      mlir::Value x = rmsNorm(h, p + "input_layernorm.weight");
      mlir::Value q = linear(x, p + "self_attn.q_proj.weight", heads * head_dim);
      mlir::Value k = linear(x, p + "self_attn.k_proj.weight", kv_heads * head_dim);
      mlir::Value v = linear(x, p + "self_attn.v_proj.weight", kv_heads * head_dim);
      q = QkNormRopeOp::create(builder_, loc_, q.getType(), q, positions, weight(p + "self_attn.q_norm.weight"),
                               builder_.getI64IntegerAttr(head_dim), builder_.getF64FloatAttr(config_.rms_norm_eps),
                               builder_.getF64FloatAttr(rope_base), builder_.getF64FloatAttr(rope_factor));
      k = QkNormRopeOp::create(builder_, loc_, k.getType(), k, positions, weight(p + "self_attn.k_norm.weight"),
                               builder_.getI64IntegerAttr(head_dim), builder_.getF64FloatAttr(config_.rms_norm_eps),
                               builder_.getF64FloatAttr(rope_base), builder_.getF64FloatAttr(rope_factor));
      mlir::Value attended = AttentionOp::create(
          builder_, loc_, q.getType(), q, k, v, positions, builder_.getI64IntegerAttr(layer),
          builder_.getI64IntegerAttr(heads), builder_.getI64IntegerAttr(kv_heads), builder_.getI64IntegerAttr(head_dim),
          builder_.getF64FloatAttr(query_scale), builder_.getI64IntegerAttr(sliding ? config_.sliding_window : 0),
          builder_.getF64FloatAttr(config_.attn_logit_softcapping));
      mlir::Value o = linear(attended, p + "self_attn.o_proj.weight", hidden);
      h = AddOp::create(builder_, loc_, h, rmsNorm(o, p + "post_attention_layernorm.weight"));

      x = rmsNorm(h, p + "pre_feedforward_layernorm.weight");
      mlir::Value gate = linear(x, p + "mlp.gate_proj.weight", config_.intermediate_size);
      mlir::Value up = linear(x, p + "mlp.up_proj.weight", config_.intermediate_size);
      mlir::Value down = linear(GeluMulOp::create(builder_, loc_, gate, up), p + "mlp.down_proj.weight", hidden);
      h = AddOp::create(builder_, loc_, h, rmsNorm(down, p + "post_feedforward_layernorm.weight"));
    }
    h = rmsNorm(h, "norm.weight");
    const std::string head = checkpoint_.hasTensor("lm_head.weight") ? "lm_head.weight" : "embed_tokens.weight";
    mlir::Value logits = LmHeadOp::create(builder_, loc_, activation(vocab), h, weight(head),
                                          builder_.getF64FloatAttr(config_.final_logit_softcapping));
    mlir::func::ReturnOp::create(builder_, loc_, logits);
  }

  const Checkpoint& checkpoint_;
  const ModelConfig& config_;
  mlir::OpBuilder builder_;
  mlir::Location loc_;
};

// Snapshots the module after every top-level pass for --dump-ir, named like the
// pass's command-line argument without the dialect prefix (unicorn-quantize ->
// 01-quantize), so a new pass in the pipeline gets its dump with no extra code.
class DumpAfterEachPass : public mlir::PassInstrumentation {
 public:
  explicit DumpAfterEachPass(std::vector<GemmaGraph::IrDump>& dumps) : dumps_(dumps) {}

  void runAfterPass(mlir::Pass* pass, mlir::Operation* op) override {
    // Passes nested under a function (none yet) would see only that function;
    // the dump is of the whole module, after the top-level pass that contains them.
    if (!llvm::isa<mlir::ModuleOp>(op)) return;
    char number[16];
    std::snprintf(number, sizeof(number), "%02u-", ++passes_run_);
    llvm::StringRef name = pass->getArgument();
    name.consume_front("unicorn-");
    std::string text;
    llvm::raw_string_ostream stream(text);
    op->print(stream);
    dumps_.push_back({number + name.str(), std::move(text)});
  }

 private:
  std::vector<GemmaGraph::IrDump>& dumps_;
  unsigned passes_run_ = 0;
};

}  // namespace

GemmaGraph::GemmaGraph(const Checkpoint& checkpoint) : module_(std::make_unique<Module>()) {
  module_->context.loadDialect<UnicornDialect, mlir::func::FuncDialect>();
  module_->module = GraphBuilder(module_->context, checkpoint).build();
}

bool GemmaGraph::verify(std::string& diagnostics) const {
  mlir::ScopedDiagnosticHandler collect(&module_->context, [&](mlir::Diagnostic& diagnostic) {
    diagnostics += diagnostic.str() + "; ";
    return mlir::success();
  });
  return mlir::succeeded(mlir::verify(*module_->module));
}

bool GemmaGraph::runPasses(const PipelineOptions& options, std::string& diagnostics, std::vector<IrDump>* dumps) {
  mlir::PassManager pipeline(&module_->context);
  QuantizeOptions quantize;
  quantize.weights = options.weights;
  pipeline.addPass(createQuantize(quantize));
  pipeline.addPass(createFuse());
  PlaceOptions place;
  place.target = options.target;
  pipeline.addPass(createPlace(place));
  PlanMemoryOptions plan_memory;
  plan_memory.prefillChunk = options.prefill_chunk;
  plan_memory.maxReadoutRows = options.max_readout_rows;
  pipeline.addPass(createPlanMemory(plan_memory));
  ScheduleOptions schedule;
  schedule.minRowSlices = options.min_row_slices;
  for (const auto& [kind, launch] : options.matvec_launches) {
    if (kind == "bf16") {
      schedule.bf16Matvec = launch;
    } else if (kind == "quant") {
      schedule.quantMatvec = launch;
    } else if (kind == "dot") {
      schedule.dotMatvec = launch;
    } else if (kind == "dot-q8") {
      schedule.dotQ8Matvec = launch;
    } else if (kind == "narrow") {
      schedule.narrowMatvec = launch;
    } else {
      diagnostics += "unknown matvec launch kind '" + kind + "' (passes/MatvecLaunch.h: kMatvecLaunchKinds); ";
      return false;
    }
  }
  if (options.dot_min_mib) schedule.dotMinMib = *options.dot_min_mib;
  schedule.dotQ8 = options.dot_q8;
  schedule.dotQ4BySize = options.dot_q4_by_size;
  schedule.normWorkgroup = options.norm_workgroup;
  schedule.coopMatmul = options.coop_matmul;
  if (options.prefill_split_tiles) schedule.prefillSplitTiles = *options.prefill_split_tiles;
  schedule.flashPrefill = options.flash_prefill;
  schedule.decodeAttention = options.decode_attention;
  pipeline.addPass(createSchedule(schedule));
  if (dumps) pipeline.addInstrumentation(std::make_unique<DumpAfterEachPass>(*dumps));

  mlir::ScopedDiagnosticHandler collect(&module_->context, [&](mlir::Diagnostic& diagnostic) {
    diagnostics += diagnostic.str() + "; ";
    return mlir::success();
  });
  return mlir::succeeded(pipeline.run(*module_->module));
}

bool GemmaGraph::extractSchedule(const std::vector<std::string>& tensor_names,
                                 const std::vector<std::uint64_t>& tensor_sizes, CompiledSchedule& schedule,
                                 std::string& problem) const {
  return unicorn::extractSchedule(*module_->module, tensor_names, tensor_sizes, schedule, problem);
}

std::vector<StackedTensor> GemmaGraph::stackedWeights() const {
  std::vector<StackedTensor> stacks;
  for (StackedWeightOp stacked : module_->module->getOps<StackedWeightOp>()) {
    StackedTensor stack{stacked.getSymName().str(), {}};
    for (mlir::Attribute part : stacked.getParts()) {
      stack.parts.push_back(llvm::cast<mlir::FlatSymbolRefAttr>(part).getValue().str());
    }
    stacks.push_back(std::move(stack));
  }
  return stacks;
}

GemmaGraph::~GemmaGraph() = default;

std::string GemmaGraph::text() const {
  std::string text;
  llvm::raw_string_ostream stream(text);
  module_->module->print(stream);
  return text;
}

std::uint32_t GemmaGraph::defaultPrefillChunk(const ModelConfig& config) {
  constexpr std::uint64_t kTiles = 2 * 64, kBindingBytes = std::uint64_t(1) << 27;
  // The widest activation a chunk holds: the fused gate/up rows (the logits
  // rows are planned apart, as many as one binding holds).
  const std::uint64_t widest_row = 4 * std::max<std::uint64_t>(2ull * config.intermediate_size, 1);
  return static_cast<std::uint32_t>(std::clamp<std::uint64_t>(kBindingBytes / widest_row, 1, kTiles));
}

}  // namespace unicorn
