// The schedule pass (Passes.td): @forward, placed and planned, becomes the
// programs @prefill and @decode of unicorn.dispatch ops, with the kernels they
// run as unicorn.kernel symbols, and @setup, which the runtime runs once when
// it opens the bundle (the cooperative-matrix products' row bounds).
//
// Each op of the graph lowers to the dispatches of its kernels in
// codegen_spirv/kernels/ (their interfaces are documented at the top of each
// .comp file; kernel_push_constants.h mirrors the push constants). The two
// programs differ in the matrix products (tiled matmuls for a prefill chunk,
// matvecs for the one token of a decode step) and in what the LM head serves.
#include <cstring>
#include <map>
#include <optional>
#include <tuple>

#include "passes/AttentionSplits.h"
#include "passes/DispatchHazards.h"
#include "passes/MatvecLaunch.h"
#include "passes/Passes.h"
#include "passes/WeightRowSlices.h"

#include "codegen_spirv/kernel_push_constants.h"
#include "codegen_spirv/kernel_specs.h"
#include "ir/UnicornDialect.h"
#include "ir/UnicornOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "schemas/tensor_layout.h"

namespace unicorn {

#define GEN_PASS_DEF_SCHEDULE
#include "passes/Passes.h.inc"

namespace {

using namespace mlir;
namespace sp = spirv;

constexpr uint32_t kReadoutTopK = 32;          // the top-k the --dump-logits readout keeps per position
constexpr uint32_t kSamplingParamsWords = 8;   // schedule.fbs, SamplingParams (5 used)
constexpr uint32_t kMaxWorkgroupsPerAxis = 65535;  // maxComputeWorkGroupCount's guaranteed minimum

// The 32-bit word of a push-constant member, for patches.
#define PUSH_WORD(Struct, member) static_cast<uint32_t>(offsetof(Struct, member) / 4)

// A power-of-two workgroup no wider than needed for rows of `width` elements.
uint32_t workgroupFor(uint64_t width) { return width <= 512 ? 64 : 256; }

// The matvec kernels' workgroup, as bench/matvec_bench measured it on an H200
// over Gemma 3's shapes: 64 invocations striding over a row's 16-byte units,
// 256 for the widest inputs (the 27B down projection, K = 21504), where more
// of each row is in flight at once.
uint32_t matvecWorkgroup(uint32_t k) { return k >= 16384 ? 256 : 64; }
// q4 decode products run matvec_quant_dot (packed int8 dot products on int8
// x), their x quantised by the dispatch that computes it (a norm,
// attention_decode) or else once for all the products of that input by
// quantize_activation into @quantised_input; so do q8's from 8 MiB of quants
// among the products sharing one x (dot-min-mib); the rest run matvec_quant.
// Measured in the model on an H200 (bench/run_benchmarks.py): the 27B widths'
// q4 decode went from 862 to 1050 tok/s on it, and their o projection (11 MiB)
// 1344 -> 1369 tok/s. Gemma 3 1B's products are small, and while every one of
// them paid a quantize_activation they lost on it (423 -> 395 tok/s); with the
// norms and attention quantising x, q4's won everywhere, even the GELU down
// projection that still pays one (621 tok/s by size, 736 on it where x comes
// quantised, 777 on it for every product: gate|up 15.2 -> 8.4 us, the down
// projection 14.8 -> 8.1 + 5.4), while q8's did not (723 by size, 730 where x
// comes quantised, 718 everywhere: its down projection 11.6 us on matvec_quant
// against 8.6 + 5.0; bench/results/dot-sweep-h200-2026-12-03.json). For q8 the
// float kernel stayed faster on the 27B widths (862 against 817 tok/s) until
// row groups (below). The GELU down projection's quantize_activation stays a
// dispatch: the gate|up product quantising the row itself, each block by its
// last workgroup to arrive, cost that product more than the dispatch saved,
// twice (7721b0c: the 27B widths' q8 +55 us a step for 25 us saved,
// bench/results/gelu-quantised-h200-2026-12-02.json; a12251c on the row-group
// kernels: Gemma 3 1B q4 8.3 -> 12.9 us against 5.1, the 27B widths' q4 36.7
// -> 51.2 against 5.9, bench/results/gelu-quantise-h200-2026-12-04.json).
constexpr uint32_t kQuantizeWorkgroup = 64;
constexpr uint32_t kArgmaxWorkgroup = 256;
// token_maxima: one workgroup a token's row (a few thousand floats).
constexpr uint32_t kTokenMaximaWorkgroup = 256;
// row_bounds: 8 rows a workgroup (its fixed share), 32 invocations each.
constexpr uint32_t kRowBoundsWorkgroup = 256, kRowBoundsRows = 8;

// Split-K for prefill products (split_k.glsl), with the pass option
// prefill-split-tiles T > 0: a product of fewer output tiles of 128 x 128
// than T, at the chunk's tokens, shares each tile's K among enough workgroups
// to make up T (256 for an H200, whose 132 SMs run two of these workgroups
// each: Gemma 3 1B's down projection has 36 tiles at 512 tokens, the 27B
// widths' 168), each at least kMinSplitColumns of K, at most kMaxSplits of them
// (more only multiply the partials' traffic). The cooperative-matrix kernels
// split the same way (their main_split entry point), so a split product keeps
// its matrix units. Off by default: the threshold is the device's (256 suits an
// H200's 132 SMs, bench/results/prefill-split-k-h200-2026-12-03.json; an APU's
// dozen compute units are filled by far fewer tiles, at a threshold not
// measured yet).
constexpr uint32_t kMinSplitColumns = 256;
constexpr uint32_t kMaxSplits = 8;
uint32_t prefillSplits(uint32_t wanted_tiles, uint32_t tokens, uint32_t n, uint32_t k) {
  const uint64_t tiles = sp::matmulTiles(tokens, n, sp::kCoopMatmulTile);
  if (wanted_tiles == 0 || tiles >= wanted_tiles) return 1;
  const uint64_t splits = std::min<uint64_t>({(wanted_tiles + tiles - 1) / tiles, kMaxSplits, k / kMinSplitColumns});
  return static_cast<uint32_t>(std::max<uint64_t>(splits, 1));
}

// Binding offsets inside a scratch buffer: every device's
// minStorageBufferOffsetAlignment divides 256.
constexpr uint64_t kScratchBindingAlignment = 256;
uint64_t alignedScratch(uint64_t bytes) {
  return (bytes + kScratchBindingAlignment - 1) / kScratchBindingAlignment * kScratchBindingAlignment;
}

// How the decode products launch: rows per workgroup and the workgroup (0: by
// K, matvecWorkgroup). The defaults are the best measured in the model on an
// H200 (rows per workgroup share each load of x; more cost registers: q8 at 8
// rows ran 681 tok/s against 862 at 4, and 1x64 726, 2x64 849, 4x256 789; the
// q4 packed kernel on the 27B widths ran 1065 tok/s at 16x64, 1101 at 8x64 and
// 8x128, 1036 at 16x128, 987 at 16x32, 846 at 32x64). Row groups
// (matvec_rows.glsl) then took the q4 packed kernel from 1107 tok/s at 8x128 to
// 1309 at 8x128x4 (16x128x4 1302, 16x64x2 1288, 8x128x8 1258, 32x128x4 1113,
// 16x256x8 1057), a q4 row of 168 units no longer leaving most lanes idle; q8
// and bf16 lost with them (q8 858 at 4x0, 841 at 16x128x4, 774 at 8x64x2; bf16
// 620 at 4x0, 598 at 8x128x4; bench/results/launch-sweep-h200-2026-12-01f.json).
// With row groups, q8's large products run faster on the packed kernel too,
// at half q4's rows a workgroup (a q8 row is twice as many units): the 27B
// widths 911 tok/s on matvec_quant, 972 on the packed kernel at 8x128x4,
// 996-1000 at 4x128x2 and 4x256x2, 989 at 4x128x4, 975 at 4x64x2, 957 at
// 2x128x2, 955 at 8x128x2; Gemma 3 1B 577 -> 672
// (bench/results/launch-sweep-h200-2026-12-02b.json). With decode attention
// in one dispatch, q4's packed products ran faster at one row a group of 32
// lanes, every one of them: the 27B widths 1418 tok/s at 8x128x4, 1512 at
// 4x128x4 (the down projection 106 -> 87 us a step, the o projection 36 ->
// 32), 1449 at 4x64x2, 1414 at 16x128x4, 1288 at 8x256x8
// (bench/results/launch-sweep-h200-2026-12-02c.json).
// The pass options override them, so that launch shapes can be compared in the
// model (unicorn-compile --matvec-launch).
struct DecodeLaunches {
  MatvecLaunch bf16{4, 0}, quant{4, 0}, dot{4, 128, 4}, dot_q8{4, 128, 2};
  // bf16 and matvec_quant products of at most kNarrowRows rows: 4 rows a
  // workgroup leave too few workgroups in flight (Gemma 3 1B's down, q|k|v and
  // o products: 288-384 of them; 2 rows of 128 took its bf16 decode from 513 to
  // 580 tok/s on an H200, q4's from 517 to 537).
  MatvecLaunch narrow{2, 128};
  static constexpr uint32_t kNarrowRows = 2048;
  uint64_t dot_min_quant_bytes = 0;  // the pass option dot-min-mib (default 8 MiB)
  bool q8_on_dot = true;             // the pass option dot-q8: large q8 products on it too
  bool q4_dot_by_size = false;       // the pass option dot-q4-by-size: q4 from dot-min-mib too
  bool coop_matmul = true;           // the pass option coop-matmul (prefill's products)
  uint32_t prefill_split_tiles = 0;  // the pass option prefill-split-tiles (0: never)
  bool flash_prefill = true;         // the pass option flash-prefill (prefill attention)
  bool decode_attention = true;      // the pass option decode-attention (attention_decode)
  uint32_t norm_workgroup = 0;       // the pass option norm-workgroup (0: workgroupFor the width)
  // A norm's workgroup. It takes a token's whole row, so a decode step's norm
  // is one workgroup whose lanes share the row. Wider ones were no faster on an
  // H200: the 27B widths' q4 decode 1518 tok/s at 256, 1533 at 512, 1524 at
  // 1024; Gemma 3 1B's q4 736 at 256, 710 at 1024 (its norms 5.4 -> 6.4 us;
  // bench/results/dot-sweep-h200-2026-12-03.json).
  uint32_t normWorkgroup(uint32_t width) const { return norm_workgroup ? norm_workgroup : workgroupFor(width); }
  // Products of this many quant bytes stream long enough to be bound by
  // bandwidth, not by their launch (the threshold dot-min-mib sets).
  bool isLarge(uint64_t quant_bytes) const { return quant_bytes >= dot_min_quant_bytes; }
  // Whether a product of `quant_bytes` takes the packed kernel: q4's whatever
  // their size, q8's (with dot-q8) from dot-min-mib.
  bool usesDot(sp::BlockQuant quant, uint64_t quant_bytes) const {
    if (quant == sp::BlockQuant::kQ4) return !q4_dot_by_size || isLarge(quant_bytes);
    return q8_on_dot && isLarge(quant_bytes);
  }
};

// One row of x quantised for a dot product of width k.
uint64_t quantisedRowBytes(uint32_t k) { return uint64_t(sp::quantizedActivationUnits(k)) * 16; }

// A [tokens, features] activation as kernels address it: bound range, float
// index of token 0's first feature inside it, floats between tokens.
struct Tensor {
  BindingAttr binding;
  uint32_t base = 0, stride = 0;
};

enum class Access { kRead, kWrite, kReadWrite };
struct Bound {
  BindingAttr binding;
  Access access;
};

// Whether every run that records a dispatch of condition `when` also records one
// of `other` (schedule.fbs: the logits conditions all hold only when logits are needed).
bool conditionImplies(int when, int other) {
  const auto a = static_cast<DispatchCondition>(when), b = static_cast<DispatchCondition>(other);
  if (b == DispatchCondition::Always || a == b) return true;
  return b == DispatchCondition::LogitsNeeded && a != DispatchCondition::Always;
}

// Everything one dispatch needs besides its kernel.
struct DispatchShape {
  std::vector<Bound> bindings;
  std::vector<uint32_t> push;
  std::vector<PushPatchAttr> patches;
  std::array<WorkgroupCountAttr, 3> groups;
  DispatchCondition when = DispatchCondition::Always;
  // Only kernels with a fallback read its output (schedule.fbs,
  // Dispatch.for_matrix_units): where their fallbacks run, the runtime leaves
  // it out and keeps its barrier, so the hazards are as if it ran.
  bool for_matrix_units = false;
};

template <typename Push>
std::vector<uint32_t> words(const Push& push) {
  static_assert(sizeof(Push) % 4 == 0);
  std::vector<uint32_t> out(sizeof(Push) / 4);
  std::memcpy(out.data(), &push, sizeof(Push));
  return out;
}

// A weight matrix as the product and lookup kernels bind it.
struct Matrix {
  StringRef weight;  // its symbol (the name lives in the context)
  std::optional<sp::BlockQuant> quant;
  uint32_t n = 0, k = 0;
  std::vector<WeightRowSlice> slices;
  // Quantised: where its scales start in the stored segment, and its end.
  uint64_t scales_offset = 0, stored_bytes = 0;
  // The bytes of its quants (0 for bf16): what DecodeLaunches::usesDot weighs.
  uint64_t quantBytes() const { return quant ? uint64_t(n) * k * sp::quantBits(*quant) / 8 : 0; }
};

// What both programs share: the kernel symbols, the buffers, the module.
class ScheduleContext {
 public:
  ScheduleContext(ModuleOp module, uint32_t chunk, uint32_t min_row_slices, DecodeLaunches launches)
      : module_(module), builder_(module.getContext()), chunk_(chunk), min_row_slices_(min_row_slices),
        launches_(launches) {}

  MLIRContext* context() { return module_.getContext(); }
  uint32_t chunk() const { return chunk_; }
  const DecodeLaunches& launches() const { return launches_; }

  // The unicorn.kernel of `kernel` with `params`, made on first use; `fallback`
  // is the kernel to run where the device cannot run this one.
  FlatSymbolRefAttr kernel(StringRef kernel, ArrayRef<NamedAttribute> params, FlatSymbolRefAttr fallback = {}) {
    DictionaryAttr dictionary = DictionaryAttr::get(context(), params);
    auto key = std::make_pair(StringAttr::get(context(), kernel), dictionary);
    if (auto found = kernels_.find(key); found != kernels_.end()) return found->second;
    OpBuilder::InsertionGuard guard(builder_);
    builder_.setInsertionPoint(first_program_);
    std::string name = kernel.str() + "_" + std::to_string(kernel_counts_[kernel.str()]++);
    KernelOp::create(builder_, module_.getLoc(), builder_.getStringAttr(name), builder_.getStringAttr(kernel),
                     dictionary, fallback);
    return kernels_[key] = FlatSymbolRefAttr::get(context(), name);
  }

  BindingAttr whole(StringRef symbol) { return BindingAttr::get(context(), FlatSymbolRefAttr::get(context(), symbol), 0, 0); }
  BindingAttr range(StringRef symbol, uint64_t offset, uint64_t bytes) {
    return BindingAttr::get(context(), FlatSymbolRefAttr::get(context(), symbol), offset, bytes);
  }
  // A row slice of a matrix as the product kernels bind it: its bf16 rows or
  // quants, and its scales.
  BindingAttr sliceData(const Matrix& m, const WeightRowSlice& slice) {
    return slice.data_range == 0 ? whole(m.weight) : range(m.weight, slice.data_offset, slice.data_range);
  }
  BindingAttr sliceScales(const Matrix& m, const WeightRowSlice& slice) {
    return slice.scales_range == 0 ? whole(m.weight) : range(m.weight, slice.scales_offset, slice.scales_range);
  }

  // The setup program (schedule.fbs, Schedule.setup): dispatches the runtime
  // runs once when it opens the bundle, computing what depends on the weights
  // alone. They write disjoint regions of their own and read weights, which
  // nothing writes: none needs a barrier.
  void setSetupProgram(ProgramOp setup) { setup_builder_.setInsertionPointToEnd(&setup.getBody().front()); }
  static constexpr llvm::StringLiteral kRowBoundsSymbol = "row_bounds";
  // Where the bound on each row's |w| of `slice` of `w` lies for the
  // cooperative-matrix products (a float a row, in @row_bounds): found by a
  // row_bounds dispatch in the setup program, made the first time a product
  // asks, once however many products read the slice.
  BindingAttr rowBounds(Location loc, const Matrix& w, const WeightRowSlice& slice) {
    const auto key = std::make_pair(w.weight.str(), slice.row_begin);
    if (auto found = row_bounds_.find(key); found != row_bounds_.end()) return found->second;
    const uint64_t bytes = alignedScratch(uint64_t(slice.row_count) * 4);
    const BindingAttr bounds = range(kRowBoundsSymbol, row_bounds_bytes_, bytes);
    row_bounds_bytes_ += bytes;
    needScratch(kRowBoundsSymbol, row_bounds_bytes_);
    const BindingAttr source = w.quant ? sliceScales(w, slice) : sliceData(w, slice);
    const FlatSymbolRefAttr kernel =
        this->kernel("row_bounds", {builder_.getNamedAttr("k", builder_.getI64IntegerAttr(w.k)),
                                    builder_.getNamedAttr("bits", builder_.getI64IntegerAttr(
                                                                      w.quant ? sp::quantBits(*w.quant) : 0)),
                                    builder_.getNamedAttr("workgroup_size", builder_.getI64IntegerAttr(kRowBoundsWorkgroup))});
    const std::vector<uint32_t> push =
        words(sp::RowBoundsPush{w.quant ? slice.scale_base : slice.data_base, slice.row_count});
    auto count = [&](uint32_t n) { return WorkgroupCountAttr::get(context(), n, ChunkValue::Tokens, 0); };
    DispatchOp::create(setup_builder_, loc, kernel, setup_builder_.getArrayAttr({source, bounds}),
                       setup_builder_.getDenseI64ArrayAttr(llvm::SmallVector<int64_t>(push.begin(), push.end())),
                       setup_builder_.getArrayAttr({count((slice.row_count + kRowBoundsRows - 1) / kRowBoundsRows),
                                                    count(1), count(1)}),
                       setup_builder_.getArrayAttr({}), UnitAttr(),
                       DispatchConditionAttr::get(context(), DispatchCondition::Always), UnitAttr());
    return row_bounds_[key] = bounds;
  }

  FailureOr<Matrix> matrix(Operation* user, FlatSymbolRefAttr name) {
    std::optional<WeightView> weight = weightView(module_.lookupSymbol(name.getAttr()));
    if (!weight || weight->type.getRank() != 2) {
      return user->emitOpError() << "schedule: " << name << " is not a matrix weight";
    }
    Matrix m{weight->name, std::nullopt, static_cast<uint32_t>(weight->type.getDimSize(0)),
             static_cast<uint32_t>(weight->type.getDimSize(1)), {}};
    std::vector<uint64_t> shape = {m.n, m.k};
    uint64_t stored_bytes = 0, scales_offset = 0;
    if (weight->quant == QuantScheme::None) {
      // Unquantised weights are stored as bf16 (compiler/weight_scheme.cc).
      stored_bytes = storedTensorSize(fb::DType::BF16, fb::QuantScheme::None, shape).bytes;
    } else {
      const fb::QuantScheme scheme =
          weight->quant == QuantScheme::Q8 ? fb::QuantScheme::Q8Block32 : fb::QuantScheme::Q4Block32;
      std::optional<BlockQuantLayout> layout = blockQuantLayout(scheme, m.n, m.k);
      if (!layout) return user->emitOpError() << "schedule: " << name << " cannot be stored block-quantised";
      m.quant = weight->quant == QuantScheme::Q8 ? sp::BlockQuant::kQ8 : sp::BlockQuant::kQ4;
      stored_bytes = layout->total_bytes;
      scales_offset = layout->scales_offset;
    }
    m.slices = weightRowSlices(m.n, m.k, m.quant, stored_bytes, scales_offset, min_row_slices_);
    m.scales_offset = scales_offset;
    m.stored_bytes = stored_bytes;
    if (m.slices.empty()) {
      return user->emitOpError() << "schedule: a few rows of " << name << " already exceed one 128 MiB binding";
    }
    return m;
  }

  KvCacheOp cacheOf(int64_t layer, KvPart part) {
    for (KvCacheOp cache : module_.getOps<KvCacheOp>()) {
      if (static_cast<int64_t>(cache.getLayer()) == layer && cache.getPart() == part) return cache;
    }
    return nullptr;
  }

  void setFirstProgram(Operation* program) { first_program_ = program; }
  // A scratch buffer of activations only the schedule's own dispatches use
  // (made once both programs are lowered): `bytes` is the furthest byte one
  // binding of it reaches.
  void needScratch(StringRef symbol, uint64_t bytes) {
    uint64_t& size = scratch_bytes_[symbol.str()];
    size = std::max(size, bytes);
  }
  const std::map<std::string, uint64_t>& scratchBuffers() const { return scratch_bytes_; }

 private:
  ModuleOp module_;
  OpBuilder builder_;
  OpBuilder setup_builder_{module_.getContext()};
  std::map<std::pair<std::string, uint32_t>, BindingAttr> row_bounds_;  // by (matrix, first row of the slice)
  uint64_t row_bounds_bytes_ = 0;
  uint32_t chunk_, min_row_slices_;
  DecodeLaunches launches_;
  Operation* first_program_ = nullptr;
  std::map<std::string, uint64_t> scratch_bytes_;
  // Attributes are uniqued: equal specialisations are the same pair.
  llvm::DenseMap<std::pair<StringAttr, DictionaryAttr>, FlatSymbolRefAttr> kernels_;
  std::map<std::string, unsigned> kernel_counts_;
};

// Lowers @forward into one program.
class ProgramBuilder {
 public:
  ProgramBuilder(ScheduleContext& shared, ProgramOp program, bool prefill)
      : s_(shared), prefill_(prefill), b_(shared.context()), hazards_(conditionImplies) {
    b_.setInsertionPointToEnd(&program.getBody().front());
    input_ = shared.whole(kStepInputSymbol);
  }

  static constexpr llvm::StringLiteral kStepInputSymbol = "step_input";
  // The step input of the decode step before (schedule.fbs, PreviousStepInput).
  static constexpr llvm::StringLiteral kPreviousStepInputSymbol = "previous_step_input";
  static constexpr llvm::StringLiteral kReadoutSymbol = "readout";
  // x quantised by quantize_activation for the packed-integer products.
  static constexpr llvm::StringLiteral kQuantisedInputSymbol = "quantised_input";
  // A split argmax's candidates, for argmax_combine.
  static constexpr llvm::StringLiteral kArgmaxCandidatesSymbol = "argmax_candidates";
  // Split-K attention's count of shares done per head (attention_split.comp):
  // zero when created, and back to zero after every dispatch.
  static constexpr llvm::StringLiteral kAttentionCountsSymbol = "attention_counts";
  // Split-K prefill products' partial tiles and their counts (split_k.glsl),
  // the counts zero when created and back to zero after every dispatch.
  static constexpr llvm::StringLiteral kMatmulPartialsSymbol = "matmul_partials";
  static constexpr llvm::StringLiteral kMatmulCountsSymbol = "matmul_counts";
  // Each token's largest |x| (token_maxima.comp), the cooperative-matrix
  // products' x scales: a float per row of the chunk.
  static constexpr llvm::StringLiteral kTokenMaximaSymbol = "token_maxima";

  LogicalResult lower(func::FuncOp forward) {
    Block& body = forward.getBody().front();
    // The final norm serves the LM head alone: it runs for the readout rows only.
    for (LmHeadOp head : body.getOps<LmHeadOp>()) {
      if (auto norm = head.getInput().getDefiningOp<RmsNormOp>(); norm && norm->hasOneUse()) readout_norms_.insert(norm);
    }
    for (Operation& op : body) {
      if (auto device = op.getAttrOfType<DeviceAttr>(kDeviceAttrName); !device && !llvm::isa<func::ReturnOp>(op)) {
        return op.emitOpError() << "has no unicorn.device: run unicorn-place first";
      } else if (device && device.getValue() != Device::Igpu) {
        return op.emitOpError() << "is placed on the " << stringifyDevice(device.getValue())
                                << ", which has no kernels here";
      }
      if (lowered_with_previous_.contains(&op)) continue;
      LogicalResult lowered =
          llvm::TypeSwitch<Operation*, LogicalResult>(&op)
              .Case<EmbedOp>([&](EmbedOp o) { return lowerEmbed(o); })
              .Case<RmsNormOp>([&](RmsNormOp o) { return lowerRmsNorm(o); })
              .Case<RmsNormAddOp>([&](RmsNormAddOp o) { return lowerRmsNormAdd(o); })
              .Case<LinearOp>([&](LinearOp o) { return lowerLinear(o, o.getInput(), {o.getWeightAttr()}); })
              .Case<FusedLinearOp>([&](FusedLinearOp o) { return lowerFusedLinear(o); })
              .Case<ColumnsOp>([&](ColumnsOp) { return success(); })  // a view: nothing runs
              .Case<QkNormRopeOp>([&](QkNormRopeOp o) { return lowerQkNormRope(o); })
              .Case<AttentionOp>([&](AttentionOp o) { return lowerAttention(o); })
              .Case<GeluMulOp>([&](GeluMulOp o) { return lowerGeluMul(o); })
              .Case<AddOp>([&](AddOp o) { return lowerAdd(o); })
              .Case<LmHeadOp>([&](LmHeadOp o) { return lowerLmHead(o); })
              .Case<func::ReturnOp>([&](func::ReturnOp o) { return lowerNextToken(o); })
              .Default([&](Operation* o) {
                return o->emitOpError() << "has no lowering in the schedule (it chooses the next token itself)";
              });
      if (failed(lowered)) return failure();
    }
    return success();
  }

  std::optional<Tensor> logits() const { return logits_; }

 private:
  // --- operands -----------------------------------------------------------
  FailureOr<Tensor> tensor(Operation* user, Value value) {
    Operation* def = value.getDefiningOp();
    auto slot = def ? def->getAttrOfType<ArenaSlotAttr>(kStorageAttrName) : ArenaSlotAttr();
    if (!slot) {
      return user->emitOpError() << "reads a value without an arena slot: run unicorn-plan-memory first";
    }
    return Tensor{s_.range(kArenaSymbol, slot.getOffset(), slot.getBytes()), slot.getBase(), slot.getStride()};
  }
  BindingAttr weightBinding(FlatSymbolRefAttr weight) { return s_.whole(weight.getValue()); }

  // --- dispatches -----------------------------------------------------------
  WorkgroupCountAttr fixed(uint32_t count) { return WorkgroupCountAttr::get(s_.context(), count, ChunkValue::Tokens, 0); }
  WorkgroupCountAttr scaled(ChunkValue value, uint32_t divisor = 1, uint32_t count = 1) {
    return WorkgroupCountAttr::get(s_.context(), count, value, divisor);
  }
  PushPatchAttr patch(uint32_t word, ChunkValue value, uint32_t multiplier = 1) {
    return PushPatchAttr::get(s_.context(), word, value, multiplier);
  }
  NamedAttribute param(StringRef name, int64_t value) { return b_.getNamedAttr(name, b_.getI64IntegerAttr(value)); }
  NamedAttribute param(StringRef name, double value) { return b_.getNamedAttr(name, b_.getF64FloatAttr(value)); }
  NamedAttribute flag(StringRef name, bool value) { return b_.getNamedAttr(name, b_.getBoolAttr(value)); }

  static DispatchHazards::Range rangeOf(BindingAttr binding) {
    const uint64_t end = binding.getRange() == 0 ? UINT64_MAX : binding.getOffset() + binding.getRange();
    return {binding.getBuffer().getValue().str(), binding.getOffset(), end};
  }

  void emit(Location loc, StringRef kernel, ArrayRef<NamedAttribute> params, const DispatchShape& d) {
    emit(loc, s_.kernel(kernel, params), d);
  }
  void emit(Location loc, FlatSymbolRefAttr kernel, const DispatchShape& d) {
    std::vector<DispatchHazards::Range> reads, writes;
    llvm::SmallVector<Attribute> bindings;
    for (const Bound& bound : d.bindings) {
      bindings.push_back(bound.binding);
      if (bound.access != Access::kWrite) reads.push_back(rangeOf(bound.binding));
      if (bound.access != Access::kRead) writes.push_back(rangeOf(bound.binding));
    }
    const int when = static_cast<int>(d.when);
    const bool barrier = hazards_.needsBarrier(reads, writes, when);
    hazards_.record(reads, writes, when, barrier);
    llvm::SmallVector<int64_t> push(d.push.begin(), d.push.end());
    llvm::SmallVector<Attribute> patches(d.patches.begin(), d.patches.end());
    llvm::SmallVector<Attribute> groups(d.groups.begin(), d.groups.end());
    DispatchOp::create(b_, loc, kernel, b_.getArrayAttr(bindings), b_.getDenseI64ArrayAttr(push),
                       b_.getArrayAttr(groups), b_.getArrayAttr(patches), barrier ? b_.getUnitAttr() : UnitAttr(),
                       DispatchConditionAttr::get(s_.context(), d.when),
                       d.for_matrix_units ? b_.getUnitAttr() : UnitAttr());
  }

  // --- ops ----------------------------------------------------------------
  LogicalResult lowerEmbed(EmbedOp op) {
    FailureOr<Matrix> table = s_.matrix(op, op.getTableAttr());
    FailureOr<Tensor> out = tensor(op, op.getResult());
    if (failed(table) || failed(out)) return failure();
    const uint32_t hidden = table->k;
    static_assert(PUSH_WORD(sp::EmbeddingPush, num_tokens) == PUSH_WORD(sp::QuantEmbeddingPush, num_tokens));
    // One dispatch binds every row slice of the table as an array
    // (WeightRowSlices.h: equal slices, each window starting at its first row).
    const WeightRowSlice& first = table->slices.front();
    for (const WeightRowSlice& slice : table->slices) {
      if (slice.data_base != first.data_base) {
        return op.emitOpError() << "table row slices start at different bases; one array binding cannot hold them";
      }
    }
    const auto slices = static_cast<uint32_t>(table->slices.size());
    if (slices > sp::kMaxEmbeddingSlices) {
      return op.emitOpError() << "table takes " << slices << " row slices; an embedding binds at most "
                              << sp::kMaxEmbeddingSlices;
    }
    DispatchShape d;
    d.patches = {patch(PUSH_WORD(sp::EmbeddingPush, num_tokens), ChunkValue::Tokens)};
    d.groups = {scaled(ChunkValue::Tokens), fixed(1), fixed(1)};
    // A decode step's token id is where the step before's argmax or sample
    // wrote it: the runtime copies nothing between the two.
    d.bindings = {{prefill_ ? input_ : s_.whole(kPreviousStepInputSymbol), Access::kRead}};
    for (const WeightRowSlice& slice : table->slices) d.bindings.push_back({s_.sliceData(*table, slice), Access::kRead});
    d.bindings.push_back({out->binding, Access::kWrite});
    llvm::SmallVector<NamedAttribute> params = {param("hidden", int64_t(hidden)),
                                                param("scale", op.getScale().convertToDouble()),
                                                param("workgroup_size", int64_t(workgroupFor(hidden)))};
    if (slices > 1) params.push_back(param("slices", int64_t(slices)));
    const uint32_t rows = static_cast<uint32_t>(table->n);
    if (table->quant) {
      // The scales, a 16th of the quants or less, are one binding: the whole
      // tensor's where it is unsplit, else the scales part (256-byte aligned).
      BindingAttr scales = s_.sliceScales(*table, first);
      uint32_t scale_base = first.scale_base;
      if (slices > 1) {
        const uint64_t scale_bytes = table->stored_bytes - table->scales_offset;
        if (scale_bytes > kMaxBindingBytes) {
          return op.emitOpError() << "table's scales (" << scale_bytes << " bytes) exceed one 128 MiB binding";
        }
        scales = s_.range(table->weight, table->scales_offset, scale_bytes);
        scale_base = 0;
      }
      d.bindings.push_back({scales, Access::kRead});
      d.push = words(sp::QuantEmbeddingPush{0, first.data_base, first.row_count, rows, out->base, out->stride, 0,
                                            scale_base});
      params.push_back(param("bits", int64_t(sp::quantBits(*table->quant))));
      emit(op.getLoc(), "embedding_quant", params, d);
    } else {
      d.push = words(sp::EmbeddingPush{0, first.data_base, first.row_count, rows, out->base, out->stride, 0});
      emit(op.getLoc(), "embedding", params, d);
    }
    return success();
  }

  // y = x * rsqrt(mean(x^2) + eps) * (1 + w), or y += that (add_to_output).
  LogicalResult rmsNorm(Operation* op, Value input, FlatSymbolRefAttr weight, double eps, Value output,
                        bool add_to_output) {
    FailureOr<Tensor> x = tensor(op, input), y = tensor(op, output);
    if (failed(x) || failed(y)) return failure();
    const uint32_t width = static_cast<uint32_t>(llvm::cast<RankedTensorType>(input.getType()).getDimSize(1));
    if (x->base % 4 != 0 || x->stride % 4 != 0 || y->base % 4 != 0 || y->stride % 4 != 0 || width % 4 != 0) {
      // The kernel reads and writes rows in vec4s; plan-memory's own values are aligned.
      return op->emitOpError() << "normalises rows of " << width << " at float " << x->base << " every " << x->stride
                               << " into " << y->base << " every " << y->stride
                               << ": the rms_norm kernel needs multiples of 4";
    }
    DispatchShape d;
    d.bindings = {{x->binding, Access::kRead},
                  {weightBinding(weight), Access::kRead},
                  {y->binding, add_to_output ? Access::kReadWrite : Access::kWrite}};
    d.push = words(sp::RmsNormPush{x->base, x->stride, 0, y->base, y->stride, 0});
    const bool readout_only = !add_to_output && readout_norms_.contains(op);
    if (readout_only) {
      // Reads rows T-R.. and writes rows 0..R-1, which the LM head reads.
      d.patches = {patch(PUSH_WORD(sp::RmsNormPush, num_tokens), ChunkValue::ReadoutRows),
                   patch(PUSH_WORD(sp::RmsNormPush, x_base), ChunkValue::FirstReadoutRow, x->stride)};
      d.groups = {scaled(ChunkValue::ReadoutRows), fixed(1), fixed(1)};
      d.when = DispatchCondition::LogitsNeeded;
    } else {
      d.patches = {patch(PUSH_WORD(sp::RmsNormPush, num_tokens), ChunkValue::Tokens)};
      d.groups = {scaled(ChunkValue::Tokens), fixed(1), fixed(1)};
    }
    const uint32_t workgroup = s_.launches().normWorkgroup(width);
    llvm::SmallVector<NamedAttribute> params = {param("width", int64_t(width)), param("eps", eps),
                                                flag("add_to_output", add_to_output),
                                                param("workgroup_size", int64_t(workgroup))};
    if (!add_to_output && failed(quantiseForNextProduct(op, output, width,
                                                        sp::rmsNormQuantisedOutputFits(width, workgroup), d, params))) {
      return failure();
    }
    emit(op->getLoc(), "rms_norm", params, d);
    return success();
  }
  LogicalResult lowerRmsNorm(RmsNormOp op) {
    return rmsNorm(op, op.getInput(), op.getWeightAttr(), op.getEps().convertToDouble(), op.getResult(), false);
  }
  LogicalResult lowerRmsNormAdd(RmsNormAddOp op) {
    // The norm of the sum right after it (Gemma 3's pre-feedforward norm, the
    // next layer's input norm) joins it in one dispatch where the rows allow;
    // the final norm too in decode, where its one readout row is the step's
    // one row (a prefill chunk normalises only its readout rows).
    auto next = llvm::dyn_cast_or_null<RmsNormOp>(op->getNextNode());
    if (next && next.getInput() == op.getResult() && (!prefill_ || !readout_norms_.contains(next))) {
      FailureOr<bool> fused = rmsNormAddNorm(op, next);
      if (failed(fused)) return failure();
      if (*fused) {
        lowered_with_previous_.insert(next);
        return success();
      }
    }
    return rmsNorm(op, op.getInput(), op.getWeightAttr(), op.getEps().convertToDouble(), op.getResult(), true);
  }
  // rms_norm_add and the rms_norm of its sum as one rms_norm_add_norm dispatch;
  // false where their rows do not allow it. The norm's output may take the rows
  // of the add's input (plan-memory reuses them: that input dies there), since
  // each invocation writes only what it read, after the row's reductions;
  // anything else must not overlap.
  FailureOr<bool> rmsNormAddNorm(RmsNormAddOp op, RmsNormOp next) {
    FailureOr<Tensor> x = tensor(op, op.getInput()), residual = tensor(op, op.getResult()),
                      normed = tensor(next, next.getResult());
    if (failed(x) || failed(residual) || failed(normed)) return failure();
    const uint32_t width = static_cast<uint32_t>(llvm::cast<RankedTensorType>(op.getType()).getDimSize(1));
    auto overlaps = [](const Tensor& a, const Tensor& b) {
      return rangeOf(a.binding).overlaps(rangeOf(b.binding));
    };
    const bool same_rows = x->binding == normed->binding && x->base == normed->base && x->stride == normed->stride;
    bool aligned = width % 4 == 0;
    for (const Tensor* t : {&*x, &*residual, &*normed}) aligned = aligned && t->base % 4 == 0 && t->stride % 4 == 0;
    if (!aligned || overlaps(*residual, *x) || overlaps(*residual, *normed) || (!same_rows && overlaps(*x, *normed))) {
      return false;
    }
    DispatchShape d;
    d.bindings = {{x->binding, Access::kRead},
                  {weightBinding(op.getWeightAttr()), Access::kRead},
                  {residual->binding, Access::kReadWrite},
                  {weightBinding(next.getWeightAttr()), Access::kRead},
                  {normed->binding, Access::kWrite}};
    d.push = words(sp::RmsNormAddNormPush{x->base, x->stride, 0, residual->base, residual->stride, 0, normed->base,
                                          normed->stride, 0});
    d.patches = {patch(PUSH_WORD(sp::RmsNormAddNormPush, num_tokens), ChunkValue::Tokens)};
    d.groups = {scaled(ChunkValue::Tokens), fixed(1), fixed(1)};
    const uint32_t workgroup = s_.launches().normWorkgroup(width);
    llvm::SmallVector<NamedAttribute> params = {param("width", int64_t(width)), param("eps", op.getEps().convertToDouble()),
                                                param("next_eps", next.getEps().convertToDouble()),
                                                param("workgroup_size", int64_t(workgroup))};
    if (failed(quantiseForNextProduct(next, next.getResult(), width, sp::rmsNormQuantisedOutputFits(width, workgroup),
                                      d, params))) {
      return failure();
    }
    emit(op->getLoc(), "rms_norm_add_norm", params, d);
    return true;
  }

  // A row quantised by the dispatch that computes it (the norm kernels' and
  // attention_decode's QUANT_BITS: one more binding, @quantised_input's first
  // row) for the packed-integer product right after it, which then runs no
  // quantize_activation first; `fits`: whether that kernel can at this width.
  LogicalResult quantiseForNextProduct(Operation* producer, Value result, uint32_t width, bool fits,
                                       DispatchShape& d, llvm::SmallVector<NamedAttribute>& params) {
    FailureOr<std::optional<uint32_t>> bits = packedProductBitsRightAfter(producer);
    if (failed(bits)) return failure();
    if (!*bits || !fits) return success();
    const BindingAttr quantised = s_.range(kQuantisedInputSymbol, 0, quantisedRowBytes(width));
    s_.needScratch(kQuantisedInputSymbol, quantisedRowBytes(width));
    d.bindings.push_back({quantised, Access::kWrite});
    params.push_back(param("quantised_bits", int64_t(**bits)));
    quantised_by_producer_[result] = **bits;
    return success();
  }

  // The bits of the packed-integer products that alone read `producer`'s
  // result, where they are one op right after it (so nothing else reuses
  // @quantised_input's first row between): decode only; nullopt otherwise.
  FailureOr<std::optional<uint32_t>> packedProductBitsRightAfter(Operation* producer) {
    Operation* user = producer->getNextNode();
    if (prefill_ || !producer->hasOneUse() || *producer->user_begin() != user) return std::optional<uint32_t>();
    llvm::SmallVector<FlatSymbolRefAttr> weights;
    if (auto linear = llvm::dyn_cast<LinearOp>(user)) {
      weights.push_back(linear.getWeightAttr());
    } else if (auto head = llvm::dyn_cast<LmHeadOp>(user)) {
      weights.push_back(head.getWeightAttr());
    } else if (auto fused = llvm::dyn_cast<FusedLinearOp>(user)) {
      for (Attribute w : fused.getWeights()) weights.push_back(llvm::cast<FlatSymbolRefAttr>(w));
    } else {
      return std::optional<uint32_t>();
    }
    FailureOr<ProductWeights> product = productWeights(user, weights);
    if (failed(product)) return failure();
    std::optional<uint32_t> bits;
    for (const Matrix& w : product->matrices) {
      if (!w.quant || !s_.launches().usesDot(*w.quant, product->quant_bytes)) return std::optional<uint32_t>();
      if (bits && *bits != sp::quantBits(*w.quant)) return std::optional<uint32_t>();
      bits = sp::quantBits(*w.quant);
    }
    return bits;
  }

  // The matrices of one product op, and their quant bytes together (whether
  // they are large enough for the packed-integer kernel: usesDot).
  struct ProductWeights {
    llvm::SmallVector<Matrix> matrices;
    uint64_t quant_bytes = 0;
  };
  FailureOr<ProductWeights> productWeights(Operation* op, ArrayRef<FlatSymbolRefAttr> weights) {
    ProductWeights product;
    for (FlatSymbolRefAttr name : weights) {
      FailureOr<Matrix> w = s_.matrix(op, name);
      if (failed(w)) return failure();
      product.quant_bytes += w->quantBytes();
      product.matrices.push_back(std::move(*w));
    }
    return product;
  }

  // y[t, y_base + n] = x[t] . W[n] for each weight, side by side; matmul in
  // prefill, matvec in decode; one dispatch per row slice of each weight, all
  // writing disjoint columns of y.
  struct ProductRows {
    ChunkValue rows = ChunkValue::Tokens;    // how many rows of x
    DispatchCondition when = DispatchCondition::Always;
    bool as_matmul = false;
    float softcap = 0.0f;
    std::optional<uint32_t> x_first_row_patch;  // x_base += FirstReadoutRow * stride
  };
  LogicalResult products(Operation* op, Value input, ArrayRef<FlatSymbolRefAttr> weights, Value output,
                         const ProductRows& how) {
    // x is gelu(gate) * up, read from the gate|up row (lowerGeluMul ran no dispatch).
    auto gelu_input = gelu_inputs_.find(input);
    const bool from_gelu = gelu_input != gelu_inputs_.end();
    FailureOr<Tensor> x = from_gelu ? FailureOr<Tensor>(gelu_input->second) : tensor(op, input), y = tensor(op, output);
    if (failed(x) || failed(y)) return failure();
    if (x->base % 4 != 0 || x->stride % 4 != 0) {
      // The product kernels read x in vec4s; plan-memory's own values are aligned.
      return op->emitOpError() << "reads rows at float " << x->base << " every " << x->stride
                               << ": the product kernels need multiples of 4";
    }
    static_assert(PUSH_WORD(sp::MatmulPush, num_tokens) == PUSH_WORD(sp::QuantMatmulPush, num_tokens));
    static_assert(PUSH_WORD(sp::MatmulPush, x_base) == PUSH_WORD(sp::QuantMatmulPush, x_base));
    FailureOr<ProductWeights> product = productWeights(op, weights);
    if (failed(product)) return failure();
    const llvm::SmallVector<Matrix>& matrices = product->matrices;
    const uint64_t quant_bytes = product->quant_bytes;
    // The bits of x's quantised row that its own dispatch wrote (0: none).
    const auto by_producer = quantised_by_producer_.find(input);
    const uint32_t producer_bits = by_producer != quantised_by_producer_.end() ? by_producer->second : 0;
    auto dotProduct = [&](const Matrix& w) {
      return !how.as_matmul && w.quant && s_.launches().usesDot(*w.quant, quant_bytes);
    };
    // x quantised for the packed-integer products, once per byte order (the
    // weights' bits) among them: where each order's row lands in @quantised_input.
    std::map<uint32_t, BindingAttr> quantised_x;
    for (const Matrix& w : matrices) {
      if (!dotProduct(w)) continue;
      const uint32_t bits = sp::quantBits(*w.quant);
      if (quantised_x.count(bits)) continue;
      if (prefill_ && how.when != DispatchCondition::OneLogitsRow) {
        return op->emitOpError() << "schedule: a packed-integer product over more than one row of x";
      }
      const uint64_t row_bytes = quantisedRowBytes(w.k), offset = quantised_x.size() * row_bytes;
      quantised_x[bits] = s_.range(kQuantisedInputSymbol, offset, row_bytes);
      s_.needScratch(kQuantisedInputSymbol, offset + row_bytes);
      // The dispatch that computed x wrote this row already (a norm's, or
      // attention_decode's), at offset 0.
      if (producer_bits == bits && offset == 0) continue;
      const uint32_t blocks = w.k / 32;
      DispatchShape q;
      q.when = how.when;
      q.bindings = {{x->binding, Access::kRead}, {quantised_x[bits], Access::kWrite}};
      q.push = words(sp::QuantizeActivationPush{x->base, x->stride, 0, sp::quantizedActivationUnits(w.k), 0});
      q.patches = {patch(PUSH_WORD(sp::QuantizeActivationPush, num_tokens), how.rows)};
      if (how.x_first_row_patch) {
        q.patches.push_back(
            patch(PUSH_WORD(sp::QuantizeActivationPush, x_base), ChunkValue::FirstReadoutRow, *how.x_first_row_patch));
      }
      q.groups = {fixed((blocks + kQuantizeWorkgroup - 1) / kQuantizeWorkgroup), scaled(how.rows), fixed(1)};
      llvm::SmallVector<NamedAttribute> quantize_params = {
          param("bits", int64_t(bits)), param("k", int64_t(w.k)), param("workgroup_size", int64_t(kQuantizeWorkgroup))};
      if (from_gelu) quantize_params.push_back(flag("gelu_input", true));
      emit(op->getLoc(), "quantize_activation", quantize_params, q);
    }
    // The products on cooperative-matrix units scale each token's row of x by
    // its largest |x|: token_maxima finds it once for all of them, which each
    // of their workgroups did for its tile's tokens before (the same value).
    // (Every matrix has x's width as its K: the ops' verifiers hold it.)
    const uint32_t k = matrices.front().k;
    const bool coop = how.as_matmul && s_.launches().coop_matmul && k % sp::kCoopMatmulStepK == 0;
    // Their W rows are scaled likewise, by a bound on each row's |w| over
    // all of K, which the setup program finds once for every product of the
    // matrix (each workgroup used to read its tile's rows of W again for it:
    // a seventh of a bf16 product's time on an H200).
    std::vector<BindingAttr> row_bounds;  // each row slice's, in the order of the products
    if (coop) {
      for (const Matrix& w : matrices) {
        for (const WeightRowSlice& slice : w.slices) row_bounds.push_back(s_.rowBounds(op->getLoc(), w, slice));
      }
    }
    std::optional<BindingAttr> token_maxima;
    if (coop) {
      const uint64_t maxima_bytes = alignedScratch(uint64_t(s_.chunk()) * 4);
      token_maxima = s_.range(kTokenMaximaSymbol, 0, maxima_bytes);
      s_.needScratch(kTokenMaximaSymbol, maxima_bytes);
      DispatchShape m;
      m.when = how.when;
      m.for_matrix_units = true;  // the tiled fallbacks bind no maxima
      m.bindings = {{x->binding, Access::kRead}, {*token_maxima, Access::kWrite}};
      m.push = words(sp::TokenMaximaPush{x->base, x->stride, 0});
      m.patches = {patch(PUSH_WORD(sp::TokenMaximaPush, num_tokens), how.rows)};
      if (how.x_first_row_patch) {
        m.patches.push_back(
            patch(PUSH_WORD(sp::TokenMaximaPush, x_base), ChunkValue::FirstReadoutRow, *how.x_first_row_patch));
      }
      m.groups = {scaled(how.rows), fixed(1), fixed(1)};
      emit(op->getLoc(), "token_maxima",
           {param("k", int64_t(k)), param("workgroup_size", int64_t(kTokenMaximaWorkgroup))}, m);
    }
    hazards_.beginGroup();
    uint32_t column = 0;
    // Split-K's partials and counts: a region of each per split dispatch of the
    // group (they may run together).
    uint64_t partials_at = 0, counts_at = 0;
    const BindingAttr* slice_bounds = row_bounds.data();
    for (const Matrix* w = matrices.begin(); w != matrices.end(); ++w) {
      for (const WeightRowSlice& slice : w->slices) {
        const uint32_t n = slice.row_count;
        // A packed-integer product reads its row of quantised x instead of x.
        const bool dot = dotProduct(*w);
        DispatchShape d;
        d.when = how.when;
        d.patches = {patch(PUSH_WORD(sp::MatmulPush, num_tokens), how.rows)};
        if (how.x_first_row_patch && !dot) {
          d.patches.push_back(patch(PUSH_WORD(sp::MatmulPush, x_base), ChunkValue::FirstReadoutRow, *how.x_first_row_patch));
        }
        const BindingAttr x_binding = dot ? quantised_x.at(sp::quantBits(*w->quant)) : x->binding;
        const uint32_t x_base = dot ? 0 : x->base;
        const uint32_t x_stride = dot ? sp::quantizedActivationUnits(w->k) : x->stride;
        d.bindings = {{x_binding, Access::kRead}, {s_.sliceData(*w, slice), Access::kRead}, {y->binding, Access::kWrite}};
        llvm::SmallVector<NamedAttribute> params = {param("k", int64_t(w->k)), param("n", int64_t(n)),
                                                    param("softcap", double(how.softcap))};
        StringRef kernel;
        uint32_t splits = 1;
        if (how.as_matmul) {
          splits = prefillSplits(s_.launches().prefill_split_tiles, s_.chunk(), n, w->k);
          if (splits > 1) params.push_back(param("splits", int64_t(splits)));
          d.groups = {fixed((n + sp::kMatmulTile - 1) / sp::kMatmulTile), scaled(how.rows, sp::kMatmulTile),
                      fixed(splits)};
          kernel = w->quant ? "matmul_quant" : "matmul_bf16";
        } else {
          // The launch shape of this kind of product (DecodeLaunches). Wide outputs
          // (the LM head) take more rows: Vulkan guarantees only 65535 workgroups per axis.
          const DecodeLaunches& launches = s_.launches();
          const MatvecLaunch launch = dot && *w->quant == sp::BlockQuant::kQ8 ? launches.dot_q8
                                      : dot                                  ? launches.dot
                                      : w->n <= DecodeLaunches::kNarrowRows ? launches.narrow
                                      : w->quant                           ? launches.quant
                                                                           : launches.bf16;
          uint32_t rows_per_group = launch.rows;
          const uint32_t max_groups = dot ? kMaxWorkgroupsPerAxis : kMaxWorkgroupsPerAxis / 8;
          while ((n + rows_per_group - 1) / rows_per_group > max_groups) rows_per_group *= 2;
          // One invocation stores each row's sum: at least as many as rows.
          const uint32_t workgroup =
              std::max(launch.workgroup ? launch.workgroup : matvecWorkgroup(w->k), rows_per_group);
          params.append({param("rows_per_workgroup", int64_t(rows_per_group)),
                         param("workgroup_size", int64_t(workgroup))});
          if (launch.row_groups != 1) params.push_back(param("row_groups", int64_t(launch.row_groups)));
          if (from_gelu && !dot) params.push_back(flag("gelu_input", true));
          d.groups = {fixed((n + rows_per_group - 1) / rows_per_group), scaled(how.rows), fixed(1)};
          kernel = !w->quant ? "matvec_bf16" : dot ? "matvec_quant_dot" : "matvec_quant";
        }
        const uint32_t y_base = y->base + column + slice.row_begin;
        if (w->quant) {
          params.push_back(param("bits", int64_t(sp::quantBits(*w->quant))));
          d.bindings.push_back({s_.sliceScales(*w, slice), Access::kRead});
          d.push = words(sp::QuantMatmulPush{x_base, x_stride, slice.data_base, y_base, y->stride, 0, slice.scale_base});
        } else {
          d.push = words(sp::MatmulPush{x_base, x_stride, slice.data_base, y_base, y->stride, 0});
        }
        if (splits > 1) {
          // Split-K's partials and counts, after the kernel's other bindings.
          const uint64_t partial_bytes = alignedScratch(sp::splitKPartialFloats(s_.chunk(), n, splits) * 4);
          const uint64_t count_bytes = alignedScratch(sp::splitKCounts(s_.chunk(), n) * 4);
          d.bindings.push_back({s_.range(kMatmulPartialsSymbol, partials_at, partial_bytes), Access::kReadWrite});
          d.bindings.push_back({s_.range(kMatmulCountsSymbol, counts_at, count_bytes), Access::kReadWrite});
          partials_at += partial_bytes, counts_at += count_bytes;
          s_.needScratch(kMatmulPartialsSymbol, partials_at);
          s_.needScratch(kMatmulCountsSymbol, counts_at);
        }
        if (coop) {
          // On cooperative-matrix units where the device has them (same grid,
          // bindings and parameters, split-K's included, as the tiled
          // kernel, and last the tokens' maxima and the slice's row bounds,
          // which the tiled kernel ignores), the tiled kernel elsewhere.
          FlatSymbolRefAttr fallback = s_.kernel(kernel, params);
          d.bindings.push_back({*token_maxima, Access::kRead});
          d.bindings.push_back({*slice_bounds++, Access::kRead});
          emit(op->getLoc(), s_.kernel(w->quant ? "matmul_quant_coop" : "matmul_bf16_coop", params, fallback), d);
          continue;
        }
        emit(op->getLoc(), kernel, params, d);
      }
      column += w->n;
    }
    hazards_.endGroup();
    return success();
  }
  LogicalResult lowerLinear(Operation* op, Value input, ArrayRef<FlatSymbolRefAttr> weights) {
    ProductRows how;
    how.as_matmul = prefill_;
    return products(op, input, weights, op->getResult(0), how);
  }
  LogicalResult lowerFusedLinear(FusedLinearOp op) {
    llvm::SmallVector<FlatSymbolRefAttr> weights;
    for (Attribute w : op.getWeights()) weights.push_back(llvm::cast<FlatSymbolRefAttr>(w));
    return lowerLinear(op, op.getInput(), weights);
  }

  // Where a head_norm_rope dispatch writes: a dense arena value, or the ring
  // slots of a KV cache.
  struct HeadDestination {
    BindingAttr binding;
    uint32_t base = 0, row_stride = 0, fixed_ring = 0;
    bool context_ring = false;  // ring_capacity += Context (a global layer's cache)
  };
  FailureOr<HeadDestination> cacheDestination(Operation* op, int64_t layer, KvPart part) {
    KvCacheOp cache = s_.cacheOf(layer, part);
    if (!cache) {
      return op->emitOpError() << "writes the " << stringifyKvPart(part) << " cache of layer " << layer
                               << ", which has none: run unicorn-plan-memory first";
    }
    HeadDestination dst;
    dst.binding = s_.whole(cache.getSymName());
    dst.row_stride = static_cast<uint32_t>(cache.getSlotBytes() / 4);
    if (cache.getRing()) {
      dst.fixed_ring = static_cast<uint32_t>(*cache.getRing());
    } else {
      dst.context_ring = true;
    }
    return dst;
  }

  void headNormRope(Location loc, const Tensor& src, BindingAttr norm_weight, const HeadDestination& dst,
                    uint32_t head_dim, uint32_t heads, llvm::ArrayRef<NamedAttribute> extra_params) {
    DispatchShape d;
    d.bindings = {{src.binding, Access::kRead}, {norm_weight, Access::kRead}, {input_, Access::kRead},
                  {dst.binding, Access::kWrite}};
    d.push = words(sp::HeadNormRopePush{src.base, src.stride, 0, s_.chunk(), dst.base, dst.row_stride, dst.fixed_ring, 0});
    d.patches = {patch(PUSH_WORD(sp::HeadNormRopePush, num_tokens), ChunkValue::Tokens)};
    if (dst.context_ring) d.patches.push_back(patch(PUSH_WORD(sp::HeadNormRopePush, ring_capacity), ChunkValue::Context));
    d.groups = {fixed(heads), scaled(ChunkValue::Tokens), fixed(1)};
    llvm::SmallVector<NamedAttribute> params = {param("head_dim", int64_t(head_dim)), param("num_heads", int64_t(heads)),
                                                param("workgroup_size", int64_t(64))};
    params.append(extra_params.begin(), extra_params.end());
    emit(loc, "head_norm_rope", params, d);
  }

  // What attention_decode reads of a layer's q|k|v row: the row (q heads at
  // its base), where its k and v heads start, the q and k norms and RoPE.
  struct StepRow {
    Tensor row;
    uint32_t key_base = 0, value_base = 0;
    FlatSymbolRefAttr query_norm, key_norm;
    double eps = 0, rope_base = 0, rope_linear_factor = 0;
  };

  // A layer's q and k norm + RoPE and the copy of its values into the cache, as
  // the graph builder orders them: q (into the arena), k (into its cache), then
  // the attention that reads both, its values not yet in the cache.
  struct QkvHeads {
    QkNormRopeOp query, key;
    AttentionOp attention;
  };
  static std::optional<QkvHeads> qkvHeadsFrom(QkNormRopeOp query) {
    auto key = llvm::dyn_cast_or_null<QkNormRopeOp>(query->getNextNode());
    auto attention = key ? llvm::dyn_cast_or_null<AttentionOp>(key->getNextNode()) : AttentionOp();
    if (!attention || attention.getQuery() != query.getResult() || attention.getKey() != key.getResult()) {
      return std::nullopt;
    }
    auto inCache = [](Operation* def) { return def && def->getAttrOfType<CacheSlotAttr>(kStorageAttrName); };
    if (inCache(query) || !inCache(key) || inCache(attention.getValue().getDefiningOp())) return std::nullopt;
    if (query.getHeadDim() != key.getHeadDim() || attention.getHeadDim() != query.getHeadDim() ||
        query.getEps() != key.getEps() || query.getRopeBase() != key.getRopeBase() ||
        query.getRopeLinearFactor() != key.getRopeLinearFactor()) {
      return std::nullopt;
    }
    return QkvHeads{query, key, attention};
  }
  // The three as one qkv_norm_rope dispatch; false where their rows do not
  // allow it (views of one product's rows, caches ringed alike).
  FailureOr<bool> qkvNormRope(QkvHeads heads) {  // by value: op handles, whose accessors are not const
    FailureOr<Tensor> q_src = tensor(heads.query, heads.query.getInput()), k_src = tensor(heads.key, heads.key.getInput()),
                      v_src = tensor(heads.attention, heads.attention.getValue()),
                      q_dst = tensor(heads.query, heads.query.getResult());
    if (failed(q_src) || failed(k_src) || failed(v_src) || failed(q_dst)) return failure();
    auto key_slot = heads.key->getAttrOfType<CacheSlotAttr>(kStorageAttrName);
    FailureOr<HeadDestination> keys = cacheDestination(heads.key, key_slot.getLayer(), key_slot.getPart());
    FailureOr<HeadDestination> values =
        cacheDestination(heads.attention, static_cast<int64_t>(heads.attention.getLayer()), KvPart::Value);
    if (failed(keys) || failed(values)) return failure();
    const uint32_t head_dim = static_cast<uint32_t>(heads.query.getHeadDim());
    auto headsOf = [&](Value v) {
      return static_cast<uint32_t>(llvm::cast<RankedTensorType>(v.getType()).getDimSize(1)) / head_dim;
    };
    const uint32_t q_heads = headsOf(heads.query.getResult()), kv_heads = headsOf(heads.key.getResult());
    if (q_src->binding != k_src->binding || q_src->binding != v_src->binding || q_src->stride != k_src->stride ||
        q_src->stride != v_src->stride || headsOf(heads.attention.getValue()) != kv_heads ||
        keys->fixed_ring != values->fixed_ring || keys->context_ring != values->context_ring) {
      return false;
    }
    DispatchShape d;
    d.bindings = {{q_src->binding, Access::kRead},
                  {weightBinding(heads.query.getNormWeightAttr()), Access::kRead},
                  {weightBinding(heads.key.getNormWeightAttr()), Access::kRead},
                  {input_, Access::kRead},
                  {q_dst->binding, Access::kWrite},
                  {keys->binding, Access::kWrite},
                  {values->binding, Access::kWrite}};
    d.push = words(sp::QkvNormRopePush{q_src->base, k_src->base, v_src->base, q_src->stride, 0, 0, s_.chunk(),
                                       q_dst->base, q_dst->stride, keys->row_stride, values->row_stride,
                                       keys->fixed_ring, 0});
    d.patches = {patch(PUSH_WORD(sp::QkvNormRopePush, num_tokens), ChunkValue::Tokens)};
    if (keys->context_ring) d.patches.push_back(patch(PUSH_WORD(sp::QkvNormRopePush, ring_capacity), ChunkValue::Context));
    d.groups = {fixed(q_heads + 2 * kv_heads), scaled(ChunkValue::Tokens), fixed(1)};
    emit(heads.query.getLoc(), "qkv_norm_rope",
         {param("head_dim", int64_t(head_dim)), param("num_heads", int64_t(q_heads)),
          param("num_kv_heads", int64_t(kv_heads)), param("eps", heads.query.getEps().convertToDouble()),
          param("rope_base", heads.query.getRopeBase().convertToDouble()),
          param("rope_linear_factor", heads.query.getRopeLinearFactor().convertToDouble()),
          param("workgroup_size", int64_t(64))},
         d);
    return true;
  }

  // Decode: the three left to their attention, which runs attention_decode
  // from the q|k|v row (the heads' norms and RoPE, the step's key and value
  // into the cache, the attention itself: one dispatch); false where that
  // does not apply (no split, rows or caches laid out otherwise).
  FailureOr<bool> leaveToDecodeAttention(QkvHeads heads) {  // by value: op handles, whose accessors are not const
    auto scratch = heads.attention->getAttrOfType<ArenaSlotAttr>(kScratchAttrName);
    if (prefill_ || !s_.launches().decode_attention || !scratch ||
        decodeAttentionSplits(heads.attention.getWindow()) < 2 || !heads.query->hasOneUse() ||
        !heads.key->hasOneUse()) {
      return false;
    }
    FailureOr<Tensor> q_src = tensor(heads.query, heads.query.getInput());
    FailureOr<Tensor> k_src = tensor(heads.key, heads.key.getInput());
    FailureOr<Tensor> v_src = tensor(heads.attention, heads.attention.getValue());
    if (failed(q_src) || failed(k_src) || failed(v_src)) return failure();
    const int64_t layer = static_cast<int64_t>(heads.attention.getLayer());
    KvCacheOp keys = s_.cacheOf(layer, KvPart::Key), values = s_.cacheOf(layer, KvPart::Value);
    if (!keys || !values) return heads.attention.emitOpError() << "has no KV cache: run unicorn-plan-memory first";
    // attention_keys.glsl's slots are exactly a token's kv heads, both caches ringed alike.
    const uint64_t slot_bytes = uint64_t(heads.attention.getNumKvHeads()) * heads.attention.getHeadDim() * 4;
    if (q_src->binding != k_src->binding || q_src->binding != v_src->binding || keys.getSlotBytes() != slot_bytes ||
        values.getSlotBytes() != slot_bytes || keys.getRing() != values.getRing()) {
      return false;
    }
    step_rows_[heads.attention] = StepRow{*q_src, k_src->base, v_src->base, heads.query.getNormWeightAttr(),
                                          heads.key.getNormWeightAttr(), heads.query.getEps().convertToDouble(),
                                          heads.query.getRopeBase().convertToDouble(),
                                          heads.query.getRopeLinearFactor().convertToDouble()};
    return true;
  }

  LogicalResult lowerQkNormRope(QkNormRopeOp op) {
    if (std::optional<QkvHeads> heads = qkvHeadsFrom(op)) {
      // The three go to attention_decode (decode), else to one qkv_norm_rope dispatch.
      FailureOr<bool> left = leaveToDecodeAttention(*heads);
      if (failed(left)) return failure();
      FailureOr<bool> fused = *left ? FailureOr<bool>(true) : qkvNormRope(*heads);
      if (failed(fused)) return failure();
      if (*fused) {
        lowered_with_previous_.insert(heads->key);
        values_in_cache_.insert(heads->attention);
        return success();
      }
    }
    FailureOr<Tensor> src = tensor(op, op.getInput());
    if (failed(src)) return failure();
    const uint32_t head_dim = static_cast<uint32_t>(op.getHeadDim());
    const uint32_t heads = static_cast<uint32_t>(llvm::cast<RankedTensorType>(op.getType()).getDimSize(1)) / head_dim;
    HeadDestination dst;
    if (auto cache = op->getAttrOfType<CacheSlotAttr>(kStorageAttrName)) {
      FailureOr<HeadDestination> in_cache = cacheDestination(op, cache.getLayer(), cache.getPart());
      if (failed(in_cache)) return failure();
      dst = *in_cache;
    } else {
      FailureOr<Tensor> out = tensor(op, op.getResult());
      if (failed(out)) return failure();
      dst = {out->binding, out->base, out->stride, 0, false};
    }
    headNormRope(op.getLoc(), *src, weightBinding(op.getNormWeightAttr()), dst, head_dim, heads,
                 {param("eps", op.getEps().convertToDouble()), param("rope_base", op.getRopeBase().convertToDouble()),
                  param("rope_linear_factor", op.getRopeLinearFactor().convertToDouble())});
    return success();
  }

  LogicalResult lowerAttention(AttentionOp op) {
    const int64_t layer = static_cast<int64_t>(op.getLayer());
    const uint32_t head_dim = static_cast<uint32_t>(op.getHeadDim());
    const uint32_t kv_heads = static_cast<uint32_t>(op.getNumKvHeads());
    // Keys and values that plan-memory did not put straight into the cache are copied there.
    for (auto [value, part] : {std::pair(op.getKey(), KvPart::Key), std::pair(op.getValue(), KvPart::Value)}) {
      Operation* def = value.getDefiningOp();
      if (def && def->getAttrOfType<CacheSlotAttr>(kStorageAttrName)) continue;
      if (part == KvPart::Value && values_in_cache_.contains(op)) continue;  // written with the keys
      FailureOr<Tensor> src = tensor(op, value);
      FailureOr<HeadDestination> dst = cacheDestination(op, layer, part);
      if (failed(src) || failed(dst)) return failure();
      // The copy reads no norm weight; its binding repeats the source.
      headNormRope(op.getLoc(), *src, src->binding, *dst, head_dim, kv_heads, {});
    }
    KvCacheOp keys = s_.cacheOf(layer, KvPart::Key), values = s_.cacheOf(layer, KvPart::Value);
    if (!keys || !values) return op.emitOpError() << "has no KV cache: run unicorn-plan-memory first";
    FailureOr<Tensor> q = tensor(op, op.getQuery()), out = tensor(op, op.getResult());
    if (failed(q) || failed(out)) return failure();
    const uint32_t ring = keys.getRing() ? static_cast<uint32_t>(*keys.getRing()) : 0;
    const uint32_t heads = static_cast<uint32_t>(op.getNumHeads());
    // Decode splits the keys into shares (one workgroup each) when plan-memory
    // gave the op room for the partials; a prefill chunk has workgroups enough.
    auto scratch = op->getAttrOfType<ArenaSlotAttr>(kScratchAttrName);
    const uint32_t splits = !prefill_ && scratch ? decodeAttentionSplits(op.getWindow()) : 1;
    const BindingAttr partials = scratch ? s_.range(kArenaSymbol, scratch.getOffset(), scratch.getBytes()) : BindingAttr();
    // The parameters of the decode kernels (the split ones with their splits).
    llvm::SmallVector<NamedAttribute> params = {
        param("head_dim", int64_t(head_dim)),      param("num_heads", int64_t(heads)),
        param("num_kv_heads", int64_t(kv_heads)),  param("query_scale", op.getScale().convertToDouble()),
        param("window", int64_t(op.getWindow())),  param("softcap", op.getSoftcap().convertToDouble()),
        param("workgroup_size", int64_t(64))};
    if (splits > 1) params.push_back(param("splits", int64_t(splits)));
    // Split: the partials, and a count per head that the last share to finish
    // reads and resets (decode: one token).
    const std::array<Bound, 2> shares = {
        Bound{partials, Access::kReadWrite},
        Bound{s_.range(kAttentionCountsSymbol, 0, uint64_t(heads) * 4), Access::kReadWrite}};
    if (splits > 1) s_.needScratch(kAttentionCountsSymbol, uint64_t(heads) * 4);
    if (auto step_row = step_rows_.find(op); step_row != step_rows_.end()) {
      return decodeAttention(op, step_row->second, *out, keys, values, ring, shares, splits, params);
    }
    DispatchShape d;
    d.bindings = {{q->binding, Access::kRead},
                  {s_.whole(keys.getSymName()), Access::kRead},
                  {s_.whole(values.getSymName()), Access::kRead},
                  {input_, Access::kRead},
                  {out->binding, Access::kWrite}};
    if (splits > 1) d.bindings.insert(d.bindings.end(), shares.begin(), shares.end());
    d.push = words(sp::AttentionPush{q->base, q->stride, 0, 0, ring, s_.chunk(), out->base, out->stride, 0});
    d.patches = {patch(PUSH_WORD(sp::AttentionPush, num_tokens), ChunkValue::Tokens)};
    if (!keys.getRing()) d.patches.push_back(patch(PUSH_WORD(sp::AttentionPush, cache_capacity), ChunkValue::Context));
    if (prefill_ && s_.launches().flash_prefill && sp::attentionPrefillFits(head_dim)) {
      // A chunk's queries in tiles that share each block of keys and values.
      d.groups = {fixed(heads), scaled(ChunkValue::Tokens, sp::kAttentionPrefillTokens), fixed(1)};
      emit(op.getLoc(), "attention_prefill",
           {param("head_dim", int64_t(head_dim)), param("num_heads", int64_t(heads)),
            param("num_kv_heads", int64_t(kv_heads)), param("query_scale", op.getScale().convertToDouble()),
            param("window", int64_t(op.getWindow())), param("softcap", op.getSoftcap().convertToDouble())},
           d);
      return success();
    }
    d.groups = {fixed(heads), scaled(ChunkValue::Tokens), fixed(splits)};
    emit(op.getLoc(), splits > 1 ? "attention_split" : "attention", params, d);
    return success();
  }

  // attention_decode: the step's attention from its q|k|v row
  // (leaveToDecodeAttention), with lowerAttention's caches, shares and the
  // split kernel's parameters.
  LogicalResult decodeAttention(AttentionOp op, const StepRow& step, const Tensor& out, KvCacheOp keys,
                                KvCacheOp values, uint32_t ring, const std::array<Bound, 2>& shares, uint32_t splits,
                                llvm::SmallVector<NamedAttribute> params) {
    DispatchShape d;
    d.bindings = {{step.row.binding, Access::kRead},
                  {s_.whole(keys.getSymName()), Access::kReadWrite},
                  {s_.whole(values.getSymName()), Access::kReadWrite},
                  {input_, Access::kRead},
                  {out.binding, Access::kWrite},
                  shares[0],
                  shares[1],
                  {weightBinding(step.query_norm), Access::kRead},
                  {weightBinding(step.key_norm), Access::kRead}};
    // One token, the step's: its position is the step input's first.
    d.push = words(sp::DecodeAttentionPush{step.row.base, step.row.stride, 0, 0, ring, s_.chunk(), out.base, out.stride,
                                           1, step.key_base, step.value_base});
    if (!keys.getRing()) {
      d.patches.push_back(patch(PUSH_WORD(sp::DecodeAttentionPush, cache_capacity), ChunkValue::Context));
    }
    const uint32_t heads = static_cast<uint32_t>(op.getNumHeads()), head_dim = static_cast<uint32_t>(op.getHeadDim());
    d.groups = {fixed(heads), fixed(1), fixed(splits)};
    params.append({param("eps", step.eps), param("rope_base", step.rope_base),
                   param("rope_linear_factor", step.rope_linear_factor)});
    if (failed(quantiseForNextProduct(op, op.getResult(), heads * head_dim,
                                      sp::attentionQuantisedOutputFits(head_dim), d, params))) {
      return failure();
    }
    emit(op.getLoc(), "attention_decode", params, d);
    return success();
  }

  LogicalResult lowerGeluMul(GeluMulOp op) {
    FailureOr<Tensor> gate = tensor(op, op.getGate()), up = tensor(op, op.getUp()), out = tensor(op, op.getResult());
    if (failed(gate) || failed(up) || failed(out)) return failure();
    const uint32_t width = static_cast<uint32_t>(llvm::cast<RankedTensorType>(op.getType()).getDimSize(1));
    // Decode: the down projection reads gelu(gate) * up straight from the fused
    // gate|up row (its kernels' GELU_INPUT) instead of a dispatch here, where it
    // runs next (nothing may reuse the row before), up follows gate in one row
    // and the projection's output lies elsewhere. Not where a large product
    // (DecodeLaunches::isLarge) runs matvec_quant (q8 with dot-q8=false): that kernel takes x 16
    // elements a unit for 4 rows, and the GELU recomputed per workgroup slowed
    // the 27B widths' q8 down projection by about a third on an H200
    // (bench/results/launch-sweep-h200-2026-12-01f.json: 57 us against
    // gate/up's 41 for as many bytes); bf16's matvec and the packed kernel's
    // quantize_activation repay it, and a small product (Gemma 3 1B's) is
    // launch-bound, where the dispatch saved counts more.
    auto down = op->hasOneUse() ? llvm::dyn_cast<LinearOp>(*op->user_begin()) : LinearOp();
    if (down && down != op->getNextNode()) down = LinearOp();
    if (down) {
      FailureOr<Matrix> w = s_.matrix(down, down.getWeightAttr());
      if (failed(w)) return failure();
      if (w->quant && !s_.launches().usesDot(*w->quant, w->quantBytes()) && s_.launches().isLarge(w->quantBytes())) {
        down = LinearOp();
      }
    }
    if (!prefill_ && down && gate->binding == up->binding && gate->stride == up->stride &&
        up->base == gate->base + width) {
      FailureOr<Tensor> y = tensor(down, down.getResult());
      if (failed(y)) return failure();
      if (!rangeOf(y->binding).overlaps(rangeOf(gate->binding))) {
        gelu_inputs_[op.getResult()] = *gate;
        return success();
      }
    }
    DispatchShape d;
    d.bindings = {{gate->binding, Access::kRead}, {up->binding, Access::kRead}, {out->binding, Access::kWrite}};
    d.push = words(sp::GeluMulPush{gate->base, gate->stride, up->base, up->stride, out->base, out->stride, 0});
    d.patches = {patch(PUSH_WORD(sp::GeluMulPush, num_tokens), ChunkValue::Tokens)};
    d.groups = {fixed((width + 63) / 64), scaled(ChunkValue::Tokens), fixed(1)};
    emit(op.getLoc(), "gelu_mul", {param("width", int64_t(width)), param("workgroup_size", int64_t(64))}, d);
    return success();
  }

  // A residual add the fuse pass left alone: the add kernel runs over dense rows.
  LogicalResult lowerAdd(AddOp op) {
    FailureOr<Tensor> a = tensor(op, op.getLhs()), b = tensor(op, op.getRhs()), out = tensor(op, op.getResult());
    if (failed(a) || failed(b) || failed(out)) return failure();
    const uint32_t width = static_cast<uint32_t>(llvm::cast<RankedTensorType>(op.getType()).getDimSize(1));
    for (const Tensor* t : {&*a, &*b, &*out}) {
      if (t->stride != width) return op.emitOpError() << "adds a strided view; the add kernel reads dense rows";
    }
    DispatchShape d;
    d.bindings = {{a->binding, Access::kRead}, {b->binding, Access::kRead}, {out->binding, Access::kWrite}};
    d.push = words(sp::AddPush{a->base, b->base, out->base, 0});
    d.patches = {patch(PUSH_WORD(sp::AddPush, count), ChunkValue::Tokens, width)};
    d.groups = {scaled(ChunkValue::Tokens, 1, (width + 255) / 256), fixed(1), fixed(1)};
    emit(op.getLoc(), "add", {param("workgroup_size", int64_t(256))}, d);
    return success();
  }

  // The LM head, for the readout rows. Generation reads out one row, for which
  // the matvec kernel is right (a matmul tile would compute TILE_M rows for it
  // over the whole vocabulary); --dump-logits reads out every row of a prefill
  // chunk, for which the matmul is.
  LogicalResult lowerLmHead(LmHeadOp op) {
    ProductRows how;
    how.rows = ChunkValue::ReadoutRows;
    how.softcap = static_cast<float>(op.getSoftcap().convertToDouble());
    auto norm = op.getInput().getDefiningOp<RmsNormOp>();
    if (!norm || !readout_norms_.contains(norm)) {
      FailureOr<Tensor> x = tensor(op, op.getInput());
      if (failed(x)) return failure();
      how.x_first_row_patch = x->stride;  // the readout rows are the chunk's last
    }
    if (!prefill_) {
      how.when = DispatchCondition::LogitsNeeded;
      return products(op, op.getInput(), {op.getWeightAttr()}, op.getResult(), how);
    }
    how.when = DispatchCondition::OneLogitsRow;
    if (failed(products(op, op.getInput(), {op.getWeightAttr()}, op.getResult(), how))) return failure();
    how.when = DispatchCondition::DumpLogits;
    how.as_matmul = true;
    return products(op, op.getInput(), {op.getWeightAttr()}, op.getResult(), how);
  }

  // After the logits: the --dump-logits readout, then the next token from the
  // last row, its argmax (greedy) or a draw (sampling), written as token id 0 of
  // the step input, which the next decode step embeds without a trip through
  // the CPU. The runtime records one of the two.
  LogicalResult lowerNextToken(func::ReturnOp op) {
    if (op.getNumOperands() != 1 || !op.getOperand(0).getDefiningOp<LmHeadOp>()) {
      return op.emitOpError() << "must return the LM head's logits";
    }
    FailureOr<Tensor> logits = tensor(op, op.getOperand(0));
    if (failed(logits)) return failure();
    const uint32_t vocab = static_cast<uint32_t>(llvm::cast<RankedTensorType>(op.getOperand(0).getType()).getDimSize(1));
    if (logits->base != 0 || logits->stride != vocab) return op.emitOpError() << "needs dense logits rows";
    logits_ = *logits;
    const uint32_t readout_words = 1 + 2 * kReadoutTopK;

    DispatchShape readout;
    readout.when = DispatchCondition::DumpLogits;
    readout.bindings = {{logits->binding, Access::kRead}, {s_.whole(kReadoutSymbol), Access::kWrite}};
    readout.push = words(sp::LogitsReadoutPush{0, vocab, 0, readout_words, 0});
    readout.patches = {patch(PUSH_WORD(sp::LogitsReadoutPush, num_rows), ChunkValue::ReadoutRows)};
    readout.groups = {scaled(ChunkValue::ReadoutRows), fixed(1), fixed(1)};
    emit(op.getLoc(), "logits_readout",
         {param("count", int64_t(vocab)), param("top_k", int64_t(kReadoutTopK)), param("workgroup_size", int64_t(256))},
         readout);

    // The greedy token: a vocabulary is split over several workgroups (one
    // batch of loads per invocation), their candidates folded by argmax_combine.
    const uint32_t argmax_splits = sp::argmaxSplits(vocab, kArgmaxWorkgroup);
    const BindingAttr candidates = s_.range(kArgmaxCandidatesSymbol, 0, uint64_t(argmax_splits) * 8);
    DispatchShape argmax;
    argmax.when = DispatchCondition::GreedyToken;
    argmax.bindings = {{logits->binding, Access::kRead}, {argmax_splits > 1 ? candidates : input_, Access::kWrite}};
    argmax.push = words(sp::ArgmaxPush{0, vocab, 0, 1});
    argmax.patches = {patch(PUSH_WORD(sp::ArgmaxPush, logits_base), ChunkValue::LastReadoutRow, vocab)};
    argmax.groups = {fixed(1), fixed(argmax_splits), fixed(1)};
    emit(op.getLoc(), "argmax",
         {param("count", int64_t(vocab)), param("splits", int64_t(argmax_splits)),
          param("workgroup_size", int64_t(kArgmaxWorkgroup))},
         argmax);
    if (argmax_splits > 1) {
      s_.needScratch(kArgmaxCandidatesSymbol, uint64_t(argmax_splits) * 8);
      DispatchShape combine;
      combine.when = DispatchCondition::GreedyToken;
      combine.bindings = {{candidates, Access::kRead}, {input_, Access::kWrite}};
      combine.push = words(sp::ArgmaxCombinePush{0, 0, 1});
      combine.groups = {fixed(1), fixed(1), fixed(1)};
      emit(op.getLoc(), "argmax_combine",
           {param("splits", int64_t(argmax_splits)), param("workgroup_size", int64_t(64))}, combine);
    }

    DispatchShape sample;
    sample.when = DispatchCondition::SampledToken;
    sample.bindings = {{logits->binding, Access::kRead}, {input_, Access::kReadWrite}};
    sample.push = words(sp::SamplePush{0, 2 * s_.chunk(), s_.chunk(), 0});
    sample.patches = {patch(PUSH_WORD(sp::SamplePush, logits_base), ChunkValue::LastReadoutRow, vocab),
                      patch(PUSH_WORD(sp::SamplePush, position_word), ChunkValue::LastToken)};
    sample.groups = {fixed(1), fixed(1), fixed(1)};
    emit(op.getLoc(), "sample", {param("count", int64_t(vocab)), param("workgroup_size", int64_t(256))}, sample);
    return success();
  }

  ScheduleContext& s_;
  bool prefill_;
  OpBuilder b_;
  BindingAttr input_;
  DispatchHazards hazards_;
  llvm::DenseSet<Operation*> readout_norms_;
  llvm::DenseSet<Operation*> lowered_with_previous_;  // ops another op's dispatch already covers
  llvm::DenseSet<Operation*> values_in_cache_;        // attentions whose values qkv_norm_rope or attention_decode write
  llvm::DenseMap<Value, Tensor> gelu_inputs_;          // gelu_mul results left to their product: its gate
  llvm::DenseMap<Value, uint32_t> quantised_by_producer_;  // results their own dispatch also quantised: the bits
  llvm::DenseMap<Operation*, StepRow> step_rows_;          // attentions attention_decode runs from the q|k|v row
  std::optional<Tensor> logits_;
};

struct SchedulePass : impl::ScheduleBase<SchedulePass> {
  using ScheduleBase::ScheduleBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto forward = module.lookupSymbol<func::FuncOp>(kForwardSymbol);
    auto chunk = module->getAttrOfType<IntegerAttr>(kPrefillChunkAttrName);
    auto readout_rows = module->getAttrOfType<IntegerAttr>(kReadoutRowsAttrName);
    if (!forward || forward.isExternal() || !forward.getBody().hasOneBlock() || !chunk || !readout_rows ||
        !module.lookupSymbol<BufferOp>(kArenaSymbol)) {
      module.emitError() << "unicorn-schedule: needs @" << kForwardSymbol
                         << " planned by unicorn-plan-memory (its @arena, unicorn.prefill_chunk and "
                            "unicorn.readout_rows)";
      return signalPassFailure();
    }
    if (minRowSlices == 0) {
      module.emitError() << "unicorn-schedule: min-row-slices must be at least 1";
      return signalPassFailure();
    }
    const uint32_t c = static_cast<uint32_t>(chunk.getInt());
    MLIRContext* context = &getContext();
    OpBuilder builder(context);
    builder.setInsertionPointToEnd(module.getBody());
    Location loc = forward.getLoc();
    // ids [C], positions [C], then the sampling settings (schedule.fbs, SamplingParams).
    const int64_t step_input_bytes = (2 * int64_t(c) + kSamplingParamsWords) * 4;
    BufferOp::create(builder, loc, builder.getStringAttr(ProgramBuilder::kStepInputSymbol),
                     BufferKindAttr::get(context, BufferKind::StepInput), builder.getI64IntegerAttr(step_input_bytes));
    BufferOp::create(builder, loc, builder.getStringAttr(ProgramBuilder::kPreviousStepInputSymbol),
                     BufferKindAttr::get(context, BufferKind::PreviousStepInput),
                     builder.getI64IntegerAttr(step_input_bytes));
    BufferOp::create(builder, loc, builder.getStringAttr(ProgramBuilder::kReadoutSymbol),
                     BufferKindAttr::get(context, BufferKind::Readout),
                     builder.getI64IntegerAttr(readout_rows.getInt() * (1 + 2 * kReadoutTopK) * 4));
    auto makeProgram = [&](StringRef name) {
      auto program = ProgramOp::create(builder, loc, builder.getStringAttr(name));
      program.getBody().emplaceBlock();
      return program;
    };
    ProgramOp setup = makeProgram(kSetupProgramSymbol), prefill = makeProgram(kPrefillProgramSymbol),
              decode = makeProgram(kDecodeProgramSymbol);

    DecodeLaunches launches;
    for (auto [option, name, launch] : {std::tuple{&bf16Matvec, "bf16-matvec", &launches.bf16},
                                        std::tuple{&quantMatvec, "quant-matvec", &launches.quant},
                                        std::tuple{&dotMatvec, "dot-matvec", &launches.dot},
                                        std::tuple{&dotQ8Matvec, "dot-q8-matvec", &launches.dot_q8},
                                        std::tuple{&narrowMatvec, "narrow-matvec", &launches.narrow}}) {
      if (option->empty()) continue;
      std::optional<MatvecLaunch> parsed = parseMatvecLaunch(std::string_view(*option));
      if (!parsed) {
        module.emitError() << "unicorn-schedule: " << name
                           << " must be ROWSxWORKGROUP[xGROUPS] (e.g. 4x64, 16x128x4), got '" << *option << "'";
        return signalPassFailure();
      }
      *launch = *parsed;
    }
    launches.dot_min_quant_bytes = uint64_t(dotMinMib) << 20;
    launches.q8_on_dot = dotQ8;
    launches.q4_dot_by_size = dotQ4BySize;
    launches.norm_workgroup = normWorkgroup;
    launches.coop_matmul = coopMatmul;
    launches.prefill_split_tiles = prefillSplitTiles;
    launches.flash_prefill = flashPrefill;
    launches.decode_attention = decodeAttention;
    ScheduleContext shared(module, c, minRowSlices, launches);
    shared.setFirstProgram(setup);
    shared.setSetupProgram(setup);
    ProgramBuilder prefill_builder(shared, prefill, /*prefill=*/true);
    ProgramBuilder decode_builder(shared, decode, /*prefill=*/false);
    if (failed(prefill_builder.lower(forward)) || failed(decode_builder.lower(forward))) return signalPassFailure();
    // The scratch the dispatches asked for: the packed-integer products'
    // quantised x (one row per use: see products()), the argmax candidates,
    // split-K attention's counts (zeroed when the runtime creates them).
    builder.setInsertionPoint(setup);
    for (const auto& [symbol, bytes] : shared.scratchBuffers()) {
      BufferOp::create(builder, loc, builder.getStringAttr(symbol), BufferKindAttr::get(context, BufferKind::Activations),
                       builder.getI64IntegerAttr(int64_t(bytes)));
    }

    const Tensor logits = *prefill_builder.logits();
    module->setAttr(kLogitsAttrName, logits.binding);
    module->setAttr(kReadoutTopKAttrName, builder.getI64IntegerAttr(kReadoutTopK));
    module->setAttr(kSamplingParamsWordAttrName, builder.getI64IntegerAttr(2 * int64_t(c)));
    forward.erase();  // lowered: the programs are the module's entry points now
  }
};

}  // namespace
}  // namespace unicorn
