// The execution schedule of a Gemma 3 bundle (schemas/schedule.fbs): the
// specialised SPIR-V kernels, the buffers, and the ordered dispatches of a
// prefill chunk and of a decode step.
//
// This is ordinary C++ standing in for the MLIR plan-memory and schedule passes
// (DESIGN.md "Passes"), which will replace it once they exist: it walks the
// Gemma 3 forward pass exactly as transformers' modeling_gemma3.py does, gives
// every activation its own buffer (the plan-memory pass will pack them into one
// arena by liveness) and fixes every shape, binding and push constant, leaving
// only the chunk's token count and the context size to the runtime.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "compiler/checkpoint.h"
#include "compiler/weight_scheme.h"
#include "schemas/bundle_generated.h"

namespace unicorn {

// Tokens per prefill chunk: long prompts run as several chunks (APU drivers time
// out on huge batches), each a matmul over up to this many tokens.
inline constexpr std::uint32_t kPrefillChunkTokens = 64;
// Words of the sampling settings in the step input (schedule.fbs, SamplingParams; 5 used).
inline constexpr std::uint32_t kSamplingParamsWords = 8;
// The top-k the --dump-logits readout kernel keeps per position.
inline constexpr std::uint32_t kReadoutTopK = 32;
// Vulkan guarantees maxStorageBufferRange >= 2^27: no binding is wider, so a
// larger matrix (the embedding, the 27B MLP in bf16) is bound in row slices.
inline constexpr std::uint64_t kMaxBindingBytes = std::uint64_t(1) << 27;

struct ScheduleKernel {
  std::string name;
  std::vector<std::uint32_t> spirv;
  std::uint32_t binding_count = 0;
  std::uint32_t push_constant_bytes = 0;
};

struct ScheduleBufferPlan {
  std::string name;
  fb::BufferKind kind = fb::BufferKind::Activation;
  std::uint32_t tensor_index = 0;
  std::uint64_t bytes = 0;
  std::uint32_t layer = 0;
  fb::KvCapacity capacity = fb::KvCapacity::Fixed;
  std::uint32_t fixed_slots = 0;
  std::uint64_t slot_bytes = 0;
};

struct DispatchPlan {
  std::uint32_t kernel = 0;
  std::vector<fb::Binding> bindings;
  std::vector<std::uint32_t> push_constants;
  std::vector<fb::PushPatch> patches;
  std::array<fb::WorkgroupCount, 3> groups;
  bool barrier_before = true;
  fb::DispatchCondition condition = fb::DispatchCondition::Always;
};

struct CompiledSchedule {
  std::vector<ScheduleKernel> kernels;
  std::vector<ScheduleBufferPlan> buffers;
  std::uint32_t prefill_chunk = kPrefillChunkTokens;
  std::uint32_t readout_top_k = kReadoutTopK;
  std::uint32_t readout_buffer = 0;
  std::uint32_t step_input_buffer = 0;
  std::uint32_t logits_buffer = 0;
  std::uint32_t sampling_params_word = 0;
  std::vector<DispatchPlan> prefill;
  std::vector<DispatchPlan> decode;
};

struct ScheduleOptions {
  WeightFormat weights = WeightFormat::kBF16;
  // At least this many row slices per weight matrix (1: only as many as the
  // 128 MiB binding limit needs). A developer setting: it makes small test
  // models exercise the splitting that large models need.
  std::uint32_t min_row_slices = 1;
};

// The schedule for `checkpoint` stored as options.weights (bf16, q8 or q4:
// each matrix takes the kernels of its stored scheme, chooseWeightScheme's
// choice). `tensor_sizes` are the stored byte sizes in the order of
// checkpoint.tensors() (the bundle's tensor table). Throws
// Error(kInvalidInput) when a shape is one the kernels cannot take.
CompiledSchedule buildSchedule(const Checkpoint& checkpoint, const ScheduleOptions& options,
                               const std::vector<std::uint64_t>& tensor_sizes);

// Writes `schedule` into `fbb` (for the bundle header).
flatbuffers::Offset<fb::Schedule> serializeSchedule(flatbuffers::FlatBufferBuilder& fbb,
                                                    const CompiledSchedule& schedule);

}  // namespace unicorn
