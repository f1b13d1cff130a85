#include "compiler/schedule_builder.h"

#include <cstddef>
#include <cstring>
#include <map>
#include <numeric>

#include "codegen_spirv/kernel_library.h"
#include "codegen_spirv/kernel_push_constants.h"
#include "codegen_spirv/kernel_specs.h"
#include "codegen_spirv/spirv_kernel_compiler.h"
#include "codegen_spirv/quant_weight_slice.h"
#include "runtime/error.h"
#include "schemas/tensor_layout.h"

namespace unicorn {
namespace {

using fb::ChunkValue;
using fb::DispatchCondition;
namespace sp = spirv;

constexpr std::uint32_t kFloatBytes = 4;
constexpr std::uint32_t kMaxWorkgroupsPerAxis = 65535;  // maxComputeWorkGroupCount's guaranteed minimum

// The 32-bit word of a push-constant member, for patches.
#define PUSH_WORD(Struct, member) static_cast<std::uint32_t>(offsetof(Struct, member) / 4)

fb::WorkgroupCount fixedCount(std::uint32_t count) { return fb::WorkgroupCount(count, ChunkValue::Tokens, 0); }
fb::WorkgroupCount scaledCount(ChunkValue value, std::uint32_t divisor = 1, std::uint32_t fixed = 1) {
  return fb::WorkgroupCount(fixed, value, divisor);
}
fb::PushPatch patch(std::uint32_t word, ChunkValue value, std::uint32_t multiplier = 1) {
  return fb::PushPatch(word, value, multiplier);
}

// A power-of-two workgroup no wider than needed for rows of `width` elements.
std::uint32_t workgroupFor(std::uint64_t width) { return width <= 512 ? 64 : 256; }

// Walks the Gemma 3 forward pass and records kernels, buffers and dispatches.
class ScheduleWriter {
 public:
  ScheduleWriter(const Checkpoint& checkpoint, const ScheduleOptions& options,
                 const std::vector<std::uint64_t>& tensor_sizes)
      : config_(checkpoint.config()), checkpoint_(checkpoint), options_(options), tensor_sizes_(tensor_sizes) {
    for (std::size_t i = 0; i < checkpoint.tensors().size(); ++i) {
      tensor_index_[checkpoint.tensors()[i].canonical_name] = static_cast<std::uint32_t>(i);
    }
  }

  CompiledSchedule build() {
    const std::uint32_t chunk = kPrefillChunkTokens;
    const ModelConfig& c = config_;
    hidden_ = c.hidden_size;
    q_width_ = c.num_attention_heads * c.head_dim;
    kv_width_ = c.num_key_value_heads * c.head_dim;
    qkv_width_ = q_width_ + 2 * kv_width_;
    ffn_ = c.intermediate_size;
    vocab_ = c.vocab_size;
    readout_words_ = 1 + 2 * kReadoutTopK;

    // ids [C], positions [C], the sampling settings (schedule.fbs, SamplingParams).
    schedule_.sampling_params_word = 2 * chunk;
    schedule_.step_input_buffer =
        buffer("input:ids+positions+sampling", fb::BufferKind::StepInput, (2ull * chunk + kSamplingParamsWords) * 4);
    schedule_.readout_buffer =
        buffer("readout:lse+top-k", fb::BufferKind::Readout, std::uint64_t(chunk) * readout_words_ * 4);
    act_.hidden = activation("act:hidden (residual stream)", hidden_);
    act_.normed = activation("act:normed", hidden_);
    act_.qkv = activation("act:qkv", qkv_width_);
    act_.q_rotated = activation("act:q_rotated", q_width_);
    act_.attended = activation("act:attended", q_width_);
    act_.projected = activation("act:projected", hidden_);
    act_.gate_up = activation("act:gate_up", 2ull * ffn_);
    act_.activated = activation("act:gelu_mul", ffn_);
    act_.logits = activation("act:logits", vocab_);
    schedule_.logits_buffer = act_.logits;
    for (std::uint32_t layer = 0; layer < c.num_hidden_layers; ++layer) {
      const bool sliding = c.layer_is_sliding[layer];
      ScheduleBufferPlan key{"kv:" + std::to_string(layer) + ":key", fb::BufferKind::KeyCache};
      key.layer = layer;
      key.slot_bytes = std::uint64_t(kv_width_) * kFloatBytes;
      // A sliding ring must hold the window plus the rest of a chunk (attention.comp).
      key.capacity = sliding ? fb::KvCapacity::Fixed : fb::KvCapacity::Context;
      key.fixed_slots = sliding ? c.sliding_window + chunk - 1 : 0;
      ScheduleBufferPlan value = key;
      value.name = "kv:" + std::to_string(layer) + ":value";
      value.kind = fb::BufferKind::ValueCache;
      key_cache_.push_back(add(key));
      value_cache_.push_back(add(value));
    }
    forward(schedule_.prefill, /*prefill=*/true);
    forward(schedule_.decode, /*prefill=*/false);
    return std::move(schedule_);
  }

 private:
  struct Activations {
    std::uint32_t hidden, normed, qkv, q_rotated, attended, projected, gate_up, activated, logits;
  };

  std::uint32_t add(ScheduleBufferPlan plan) {
    schedule_.buffers.push_back(std::move(plan));
    return static_cast<std::uint32_t>(schedule_.buffers.size() - 1);
  }
  std::uint32_t buffer(std::string name, fb::BufferKind kind, std::uint64_t bytes) {
    ScheduleBufferPlan plan{std::move(name), kind};
    plan.bytes = bytes;
    return add(std::move(plan));
  }
  // Room for a full prefill chunk of `row_width` floats per token.
  std::uint32_t activation(std::string name, std::uint64_t row_width) {
    return buffer(std::move(name), fb::BufferKind::Activation, row_width * kPrefillChunkTokens * kFloatBytes);
  }
  std::uint32_t tensorIndex(const std::string& name) const {
    auto index = tensor_index_.find(name);
    if (index == tensor_index_.end()) {
      throw Error(ExitCode::kInvalidInput, "schedule: the checkpoint has no tensor '" + name + "'");
    }
    return index->second;
  }
  // The one Weight buffer of tensor `name`, added on first use.
  std::uint32_t weightBuffer(const std::string& name) {
    if (auto found = weight_buffer_.find(name); found != weight_buffer_.end()) return found->second;
    ScheduleBufferPlan plan{"weight:" + name, fb::BufferKind::Weight};
    plan.tensor_index = tensorIndex(name);
    plan.bytes = tensor_sizes_[plan.tensor_index];
    return weight_buffer_[name] = add(std::move(plan));
  }
  // The buffer of a small tensor (a norm weight), bound whole.
  std::uint32_t weight(const std::string& name) {
    const std::uint32_t buffer = weightBuffer(name);
    if (schedule_.buffers[buffer].bytes > kMaxBindingBytes) {
      throw Error(ExitCode::kInvalidInput, "schedule: tensor '" + name + "' exceeds one 128 MiB binding");
    }
    return buffer;
  }

  // A weight matrix [N, K] as the product and lookup kernels bind it: bf16, or
  // block-quantised (quants and scales bound apart), cut into row slices that
  // each fit one binding. Slices start on 256-byte offsets (every device's
  // minStorageBufferOffsetAlignment divides 256), the kernels' push-constant
  // bases covering the rest.
  struct WeightRows {
    std::uint32_t row_begin = 0, row_count = 0;
    fb::Binding data;            // bf16 rows, or the quants window
    fb::Binding scales;          // quantised only: the scales window
    std::uint32_t data_base = 0;   // words into `data` of the slice's first row
    std::uint32_t scale_base = 0;  // bf16 elements into `scales` of its first scale
  };
  struct Matrix {
    std::string name;
    std::optional<sp::BlockQuant> quant;
    std::uint32_t n = 0, k = 0;
    std::vector<WeightRows> slices;
  };
  Matrix matrix(const std::string& name) {
    const std::uint32_t index = tensorIndex(name);
    const CheckpointTensor& tensor = checkpoint_.tensors()[index];
    if (tensor.shape.size() != 2) throw Error(ExitCode::kInvalidInput, "schedule: '" + name + "' is not a matrix");
    Matrix m{name, std::nullopt, static_cast<std::uint32_t>(tensor.shape[0]),
             static_cast<std::uint32_t>(tensor.shape[1]), {}};
    const fb::QuantScheme scheme = chooseWeightScheme(options_.weights, name, tensor.shape).quant;
    if (scheme != fb::QuantScheme::None) {
      m.quant = scheme == fb::QuantScheme::Q8Block32 ? sp::BlockQuant::kQ8 : sp::BlockQuant::kQ4;
    }
    const std::uint32_t buffer = weightBuffer(name);
    // Rows per slice: a multiple of `granule`, so that a bf16 slice starts on a
    // 256-byte boundary by itself; quantised windows are aligned down by
    // quantWeightSlice, which may add up to 255 bytes in front.
    const std::uint64_t row_bytes = m.quant ? (*m.quant == sp::BlockQuant::kQ8 ? m.k : m.k / 2) : 2ull * m.k;
    const std::uint64_t granule = 256 / std::gcd<std::uint64_t>(256, row_bytes);
    std::uint64_t rows_per_slice = m.n;
    if (tensor_sizes_[index] > kMaxBindingBytes) {
      rows_per_slice = (kMaxBindingBytes - 256) / row_bytes / granule * granule;
      if (rows_per_slice == 0) {
        throw Error(ExitCode::kInvalidInput, "schedule: " + std::to_string(granule) + " rows of '" + name +
                                                 "' exceed one 128 MiB binding");
      }
    }
    if (options_.min_row_slices > 1) {
      const std::uint64_t wanted = (m.n + options_.min_row_slices - 1) / options_.min_row_slices;
      rows_per_slice = std::min(rows_per_slice, (wanted + granule - 1) / granule * granule);
    }
    if (rows_per_slice >= m.n) {
      WeightRows whole{0, m.n, fb::Binding(buffer, 0, 0), fb::Binding(buffer, 0, 0), 0, 0};
      if (m.quant) whole.scale_base = static_cast<std::uint32_t>(blockQuantLayout(scheme, m.n, m.k)->scales_offset / 2);
      m.slices.push_back(whole);
      return m;
    }
    for (std::uint64_t begin = 0; begin < m.n; begin += rows_per_slice) {
      const std::uint64_t end = std::min<std::uint64_t>(m.n, begin + rows_per_slice);
      WeightRows rows;
      rows.row_begin = static_cast<std::uint32_t>(begin);
      rows.row_count = static_cast<std::uint32_t>(end - begin);
      if (m.quant) {
        const sp::QuantWeightSlice slice = sp::quantWeightSlice(*m.quant, m.n, m.k, begin, end, 256);
        rows.data = fb::Binding(buffer, slice.quants_offset, slice.quants_range);
        rows.scales = fb::Binding(buffer, slice.scales_offset, slice.scales_range);
        rows.data_base = slice.quant_base;
        rows.scale_base = slice.scale_base;
      } else {
        rows.data = fb::Binding(buffer, begin * row_bytes, (end - begin) * row_bytes);
      }
      m.slices.push_back(rows);
    }
    return m;
  }

  std::uint32_t kernel(const sp::KernelRequest& request) {
    std::string name = sp::describeSpecialisation(request.kernel, request.defines);
    if (auto found = kernel_index_.find(name); found != kernel_index_.end()) return found->second;
    const sp::KernelInfo& info = sp::KernelLibrary::builtin().get(request.kernel);
    ScheduleKernel module{name, compiler_.compile(request.kernel, request.defines), info.storage_buffer_count,
                          info.push_constant_bytes};
    schedule_.kernels.push_back(std::move(module));
    return kernel_index_[name] = static_cast<std::uint32_t>(schedule_.kernels.size() - 1);
  }

  template <typename Push>
  DispatchPlan& emit(std::vector<DispatchPlan>& list, const sp::KernelRequest& request,
                     std::vector<fb::Binding> bindings, const Push& push, std::vector<fb::PushPatch> patches,
                     std::array<fb::WorkgroupCount, 3> groups, bool barrier_before,
                     DispatchCondition condition = DispatchCondition::Always) {
    DispatchPlan plan;
    plan.kernel = kernel(request);
    plan.bindings = std::move(bindings);
    plan.push_constants.resize(sizeof(Push) / 4);
    std::memcpy(plan.push_constants.data(), &push, sizeof(Push));
    plan.patches = std::move(patches);
    plan.groups = groups;
    plan.barrier_before = barrier_before;
    plan.condition = condition;
    list.push_back(std::move(plan));
    return list.back();
  }

  static fb::Binding whole(std::uint32_t buffer) { return fb::Binding(buffer, 0, 0); }

  // y[t, y_base + n] (row stride y_stride) = x[t] . W[n] for the `rows` value's
  // tokens: matmul in prefill, matvec in decode; one dispatch per row slice of W.
  void linear(std::vector<DispatchPlan>& list, bool prefill, std::uint32_t x, std::uint32_t x_base,
              std::uint32_t x_stride, const Matrix& w, std::uint32_t y, std::uint32_t y_base, std::uint32_t y_stride,
              ChunkValue rows, bool barrier, DispatchCondition condition = DispatchCondition::Always,
              float softcap = 0.0f) {
    static_assert(PUSH_WORD(sp::MatmulPush, num_tokens) == PUSH_WORD(sp::QuantMatmulPush, num_tokens));
    const std::vector<fb::PushPatch> patches = {patch(PUSH_WORD(sp::MatmulPush, num_tokens), rows)};
    constexpr std::uint32_t tile_m = 64, tile_n = 64, tile_k = 16;
    for (const WeightRows& slice : w.slices) {
      const std::uint32_t n = slice.row_count;
      std::vector<fb::Binding> bindings = {whole(x), slice.data, whole(y)};
      sp::KernelRequest request;
      std::array<fb::WorkgroupCount, 3> groups;
      if (prefill) {
        request = w.quant ? sp::quantMatmulKernel(*w.quant, w.k, n, tile_m, tile_n, tile_k, softcap)
                          : sp::matmulKernel(w.k, n, tile_m, tile_n, tile_k, softcap);
        groups = {fixedCount((n + tile_n - 1) / tile_n), scaledCount(rows, tile_m), fixedCount(1)};
      } else {
        // Wide outputs (the LM head) take more rows per group: fewer, fuller
        // workgroups, and Vulkan guarantees only 65535 per axis.
        std::uint32_t rows_per_group = 4;
        while ((n + rows_per_group - 1) / rows_per_group > kMaxWorkgroupsPerAxis / 8) rows_per_group *= 2;
        // Invocations stride over a row's words: bf16 pairs or quant words.
        const std::uint32_t row_words = w.quant ? w.k / (32 / sp::quantBits(*w.quant)) : w.k / 2;
        request = w.quant ? sp::quantMatvecKernel(*w.quant, w.k, n, rows_per_group, workgroupFor(row_words), softcap)
                          : sp::matvecKernel(w.k, n, rows_per_group, workgroupFor(w.k), softcap);
        groups = {fixedCount((n + rows_per_group - 1) / rows_per_group), scaledCount(rows), fixedCount(1)};
      }
      if (w.quant) {
        bindings.push_back(slice.scales);
        emit(list, request, std::move(bindings),
             sp::QuantMatmulPush{x_base, x_stride, slice.data_base, y_base + slice.row_begin, y_stride, 0,
                                 slice.scale_base},
             patches, groups, barrier, condition);
      } else {
        emit(list, request, std::move(bindings),
             sp::MatmulPush{x_base, x_stride, slice.data_base, y_base + slice.row_begin, y_stride, 0}, patches, groups,
             barrier, condition);
      }
      barrier = false;  // the slices write disjoint columns of y
    }
  }
  void linear(std::vector<DispatchPlan>& list, bool prefill, std::uint32_t x, std::uint32_t x_stride,
              const std::string& weight_name, std::uint32_t y, std::uint32_t y_base, std::uint32_t y_stride,
              bool barrier) {
    linear(list, prefill, x, 0, x_stride, matrix(weight_name), y, y_base, y_stride, ChunkValue::Tokens, barrier);
  }

  void rmsNorm(std::vector<DispatchPlan>& list, std::uint32_t x, const std::string& weight_name, std::uint32_t y,
               bool add_to_output) {
    emit(list, sp::rmsNormKernel(hidden_, config_.rms_norm_eps, add_to_output, workgroupFor(hidden_)),
         {whole(x), whole(weight(weight_name)), whole(y)}, sp::RmsNormPush{0, hidden_, 0, 0, hidden_, 0},
         {patch(PUSH_WORD(sp::RmsNormPush, num_tokens), ChunkValue::Tokens)},
         {scaledCount(ChunkValue::Tokens), fixedCount(1), fixedCount(1)}, true);
  }

  void forward(std::vector<DispatchPlan>& list, bool prefill) {
    const ModelConfig& c = config_;
    const Activations& a = act_;
    const std::uint32_t input = schedule_.step_input_buffer;
    const std::uint32_t positions_base = kPrefillChunkTokens;  // ids [0, C), positions [C, 2C)
    const Matrix table = matrix("embed_tokens.weight");

    // Embedding: each row slice of the table writes the tokens whose id it holds.
    static_assert(PUSH_WORD(sp::EmbeddingPush, num_tokens) == PUSH_WORD(sp::QuantEmbeddingPush, num_tokens));
    for (const WeightRows& slice : table.slices) {
      const std::vector<fb::PushPatch> patches = {patch(PUSH_WORD(sp::EmbeddingPush, num_tokens), ChunkValue::Tokens)};
      const std::array<fb::WorkgroupCount, 3> groups = {scaledCount(ChunkValue::Tokens), fixedCount(1), fixedCount(1)};
      if (table.quant) {
        emit(list, sp::quantEmbeddingKernel(*table.quant, hidden_, workgroupFor(hidden_)),
             {whole(input), slice.data, whole(a.hidden), slice.scales},
             sp::QuantEmbeddingPush{0, slice.data_base, slice.row_begin, slice.row_count, 0, hidden_, 0,
                                    slice.scale_base},
             patches, groups, false);
      } else {
        emit(list, sp::embeddingKernel(hidden_, workgroupFor(hidden_)), {whole(input), slice.data, whole(a.hidden)},
             sp::EmbeddingPush{0, slice.data_base, slice.row_begin, slice.row_count, 0, hidden_, 0}, patches, groups,
             false);
      }
    }

    for (std::uint32_t layer = 0; layer < c.num_hidden_layers; ++layer) {
      const std::string p = "layers." + std::to_string(layer) + ".";
      const bool sliding = c.layer_is_sliding[layer];
      rmsNorm(list, a.hidden, p + "input_layernorm.weight", a.normed, false);
      // q, k and v side by side in one qkv row per token.
      linear(list, prefill, a.normed, hidden_, p + "self_attn.q_proj.weight", a.qkv, 0, qkv_width_, true);
      linear(list, prefill, a.normed, hidden_, p + "self_attn.k_proj.weight", a.qkv, q_width_, qkv_width_, false);
      linear(list, prefill, a.normed, hidden_, p + "self_attn.v_proj.weight", a.qkv, q_width_ + kv_width_,
             qkv_width_, false);

      sp::RopeParameters rope = sliding ? sp::RopeParameters{c.rope_local_base, 1.0}
                                        : sp::RopeParameters{c.rope_global_base, c.rope_global_linear_factor};
      const std::uint32_t fixed_ring = sliding ? c.sliding_window + kPrefillChunkTokens - 1 : 0;
      std::vector<fb::PushPatch> ring_patches = {patch(PUSH_WORD(sp::HeadNormRopePush, num_tokens), ChunkValue::Tokens)};
      if (!sliding) ring_patches.push_back(patch(PUSH_WORD(sp::HeadNormRopePush, ring_capacity), ChunkValue::Context));
      const std::array<fb::WorkgroupCount, 3> kv_groups = {fixedCount(c.num_key_value_heads),
                                                           scaledCount(ChunkValue::Tokens), fixedCount(1)};
      // Queries: normed and rotated into a dense [T, heads, D] buffer.
      emit(list, sp::headNormRopeKernel(c.head_dim, c.num_attention_heads, c.rms_norm_eps, rope),
           {whole(a.qkv), whole(weight(p + "self_attn.q_norm.weight")), whole(input), whole(a.q_rotated)},
           sp::HeadNormRopePush{0, qkv_width_, 0, positions_base, 0, q_width_, 0, 0},
           {patch(PUSH_WORD(sp::HeadNormRopePush, num_tokens), ChunkValue::Tokens)},
           {fixedCount(c.num_attention_heads), scaledCount(ChunkValue::Tokens), fixedCount(1)}, true);
      // Keys: normed and rotated into their ring slot; values copied beside them.
      emit(list, sp::headNormRopeKernel(c.head_dim, c.num_key_value_heads, c.rms_norm_eps, rope),
           {whole(a.qkv), whole(weight(p + "self_attn.k_norm.weight")), whole(input), whole(key_cache_[layer])},
           sp::HeadNormRopePush{q_width_, qkv_width_, 0, positions_base, 0, kv_width_, fixed_ring, 0}, ring_patches,
           kv_groups, false);
      // The norm weight binding is unused by a plain copy; k_norm fills the slot.
      emit(list, sp::headNormRopeKernel(c.head_dim, c.num_key_value_heads, std::nullopt, std::nullopt),
           {whole(a.qkv), whole(weight(p + "self_attn.k_norm.weight")), whole(input), whole(value_cache_[layer])},
           sp::HeadNormRopePush{q_width_ + kv_width_, qkv_width_, 0, positions_base, 0, kv_width_, fixed_ring, 0},
           ring_patches, kv_groups, false);

      sp::AttentionShape shape{c.head_dim, c.num_attention_heads, c.num_key_value_heads, c.query_pre_attn_scalar,
                               sliding ? c.sliding_window : 0, c.attn_logit_softcapping};
      std::vector<fb::PushPatch> attention_patches = {patch(PUSH_WORD(sp::AttentionPush, num_tokens), ChunkValue::Tokens)};
      if (!sliding) {
        attention_patches.push_back(patch(PUSH_WORD(sp::AttentionPush, cache_capacity), ChunkValue::Context));
      }
      emit(list, sp::attentionKernel(shape, 64),
           {whole(a.q_rotated), whole(key_cache_[layer]), whole(value_cache_[layer]), whole(input), whole(a.attended)},
           sp::AttentionPush{0, q_width_, 0, 0, fixed_ring, positions_base, 0, q_width_, 0}, attention_patches,
           {fixedCount(c.num_attention_heads), scaledCount(ChunkValue::Tokens), fixedCount(1)}, true);
      linear(list, prefill, a.attended, q_width_, p + "self_attn.o_proj.weight", a.projected, 0, hidden_, true);
      rmsNorm(list, a.projected, p + "post_attention_layernorm.weight", a.hidden, true);

      rmsNorm(list, a.hidden, p + "pre_feedforward_layernorm.weight", a.normed, false);
      linear(list, prefill, a.normed, hidden_, p + "mlp.gate_proj.weight", a.gate_up, 0, 2 * ffn_, true);
      linear(list, prefill, a.normed, hidden_, p + "mlp.up_proj.weight", a.gate_up, ffn_, 2 * ffn_, false);
      emit(list, sp::geluMulKernel(ffn_, 64), {whole(a.gate_up), whole(a.gate_up), whole(a.activated)},
           sp::GeluMulPush{0, 2 * ffn_, ffn_, 2 * ffn_, 0, ffn_, 0},
           {patch(PUSH_WORD(sp::GeluMulPush, num_tokens), ChunkValue::Tokens)},
           {fixedCount((ffn_ + 63) / 64), scaledCount(ChunkValue::Tokens), fixedCount(1)}, true);
      linear(list, prefill, a.activated, ffn_, p + "mlp.down_proj.weight", a.projected, 0, hidden_, true);
      rmsNorm(list, a.projected, p + "post_feedforward_layernorm.weight", a.hidden, true);
    }

    // Logits only for the readout rows: the last token, or every token of the
    // chunk under --dump-logits.
    const DispatchCondition logits = DispatchCondition::LogitsNeeded;
    emit(list, sp::rmsNormKernel(hidden_, c.rms_norm_eps, false, workgroupFor(hidden_)),
         {whole(a.hidden), whole(weight("norm.weight")), whole(a.normed)}, sp::RmsNormPush{0, hidden_, 0, 0, hidden_, 0},
         {patch(PUSH_WORD(sp::RmsNormPush, num_tokens), ChunkValue::ReadoutRows),
          patch(PUSH_WORD(sp::RmsNormPush, x_base), ChunkValue::FirstReadoutRow, hidden_)},
         {scaledCount(ChunkValue::ReadoutRows), fixedCount(1), fixedCount(1)}, true, logits);
    // The LM head: Gemma 3 ties it to the embedding table, bound again slice by
    // slice (an untied checkpoint has its own lm_head.weight). Generation reads
    // out one row, for which the matvec kernel is right (a matmul tile would
    // compute TILE_M rows for it over the whole vocabulary); --dump-logits reads
    // out every row of a prefill chunk, for which the matmul is.
    const Matrix head = checkpoint_.hasTensor("lm_head.weight") ? matrix("lm_head.weight") : table;
    auto lmHead = [&](bool as_matmul, DispatchCondition condition) {
      linear(list, as_matmul, a.normed, 0, hidden_, head, a.logits, 0, vocab_, ChunkValue::ReadoutRows, true, condition,
             c.final_logit_softcapping);
    };
    if (prefill) {
      lmHead(false, DispatchCondition::OneLogitsRow);
      lmHead(true, DispatchCondition::DumpLogits);
    } else {
      lmHead(false, logits);
    }
    emit(list, sp::logitsReadoutKernel(vocab_, kReadoutTopK, 256), {whole(a.logits), whole(schedule_.readout_buffer)},
         sp::LogitsReadoutPush{0, vocab_, 0, readout_words_, 0},
         {patch(PUSH_WORD(sp::LogitsReadoutPush, num_rows), ChunkValue::ReadoutRows)},
         {scaledCount(ChunkValue::ReadoutRows), fixedCount(1), fixedCount(1)}, true, DispatchCondition::DumpLogits);
    // The next token from the last row: its argmax (greedy) or a draw (sampling),
    // written as token id 0 of the step input, which the next decode step embeds
    // without a trip through the CPU. The executor records one of the two.
    emit(list, sp::argmaxKernel(vocab_, 256), {whole(a.logits), whole(input)}, sp::ArgmaxPush{0, vocab_, 0, 1},
         {patch(PUSH_WORD(sp::ArgmaxPush, logits_base), ChunkValue::LastReadoutRow, vocab_)},
         {fixedCount(1), fixedCount(1), fixedCount(1)}, true, DispatchCondition::GreedyToken);
    emit(list, sp::sampleKernel(vocab_, 256), {whole(a.logits), whole(input)},
         sp::SamplePush{0, schedule_.sampling_params_word, positions_base, 0},
         {patch(PUSH_WORD(sp::SamplePush, logits_base), ChunkValue::LastReadoutRow, vocab_),
          patch(PUSH_WORD(sp::SamplePush, position_word), ChunkValue::LastToken)},
         {fixedCount(1), fixedCount(1), fixedCount(1)}, true, DispatchCondition::SampledToken);
  }

  const ModelConfig& config_;
  const Checkpoint& checkpoint_;
  ScheduleOptions options_;
  const std::vector<std::uint64_t>& tensor_sizes_;
  sp::SpirvKernelCompiler compiler_;
  std::map<std::string, std::uint32_t> tensor_index_, weight_buffer_, kernel_index_;
  CompiledSchedule schedule_;
  Activations act_{};
  std::vector<std::uint32_t> key_cache_, value_cache_;
  std::uint32_t hidden_ = 0, q_width_ = 0, kv_width_ = 0, qkv_width_ = 0, ffn_ = 0, vocab_ = 0, readout_words_ = 0;
};

}  // namespace

CompiledSchedule buildSchedule(const Checkpoint& checkpoint, const ScheduleOptions& options,
                               const std::vector<std::uint64_t>& tensor_sizes) {
  return ScheduleWriter(checkpoint, options, tensor_sizes).build();
}

flatbuffers::Offset<fb::Schedule> serializeSchedule(flatbuffers::FlatBufferBuilder& fbb,
                                                    const CompiledSchedule& schedule) {
  std::vector<flatbuffers::Offset<fb::KernelModule>> kernels;
  for (const ScheduleKernel& k : schedule.kernels) {
    kernels.push_back(fb::CreateKernelModule(fbb, fbb.CreateString(k.name), fbb.CreateString("main"),
                                             fbb.CreateVector(k.spirv), k.binding_count, k.push_constant_bytes));
  }
  std::vector<flatbuffers::Offset<fb::ScheduleBuffer>> buffers;
  for (const ScheduleBufferPlan& b : schedule.buffers) {
    buffers.push_back(fb::CreateScheduleBuffer(fbb, fbb.CreateString(b.name), b.kind, b.tensor_index, b.bytes, b.layer,
                                               b.capacity, b.fixed_slots, b.slot_bytes));
  }
  auto dispatches = [&](const std::vector<DispatchPlan>& list) {
    std::vector<flatbuffers::Offset<fb::Dispatch>> out;
    for (const DispatchPlan& d : list) {
      out.push_back(fb::CreateDispatch(fbb, d.kernel, fbb.CreateVectorOfStructs(d.bindings),
                                       fbb.CreateVector(d.push_constants), fbb.CreateVectorOfStructs(d.patches),
                                       fbb.CreateVectorOfStructs(d.groups.data(), d.groups.size()), d.barrier_before,
                                       d.condition));
    }
    return fbb.CreateVector(out);
  };
  auto kernel_vector = fbb.CreateVector(kernels);
  auto buffer_vector = fbb.CreateVector(buffers);
  auto prefill = dispatches(schedule.prefill);
  auto decode = dispatches(schedule.decode);
  return fb::CreateSchedule(fbb, kernel_vector, buffer_vector, schedule.prefill_chunk, schedule.readout_top_k,
                            1 + 2 * schedule.readout_top_k, schedule.readout_buffer, schedule.step_input_buffer,
                            prefill, decode, schedule.logits_buffer, schedule.sampling_params_word);
}

}  // namespace unicorn
