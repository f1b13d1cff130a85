// The schedule verifier (runtime/schedule_check.h) on a small valid schedule and
// on one mutation per rule: each must be refused naming what is wrong, because
// the executor trusts a verified schedule's indices, bindings and push constants.
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/schedule_check.h"
#include "schemas/bundle_generated.h"

namespace unicorn {
namespace {

// What a test may change before the header is built.
struct ScheduleParts {
  std::vector<std::uint32_t> spirv = {0x07230203, 0x00010300, 0, 1, 0};
  std::uint32_t dispatch_kernel = 0;
  std::uint32_t weight_tensor = 0;
  std::uint64_t weight_bytes = 256;  // the tensor's size
  fb::Binding weight_binding = fb::Binding(0, 0, 0);
  std::vector<std::uint32_t> push = {0};
  std::uint32_t patch_word = 0;
  std::uint32_t prefill_chunk = 4;
  std::uint32_t logits_buffer = 4;
  std::uint64_t logits_offset = 256;       // the logits rows start past another region of the arena
  std::uint32_t sampling_params_word = 8;  // 2 * prefill_chunk
  std::uint32_t readout_rows = 0;          // 0: prefill_chunk (a header without the field)
  std::uint64_t arena_bytes = 0;           // 0: 256, then prefill_chunk rows of the vocabulary (16)
  // Kernel 0 (the one dispatched) may fall back to kernel 1.
  std::int32_t fallback = 1;
  std::uint32_t subgroup_size = 32;
  std::uint32_t fallback_bindings = 2;
  std::int32_t fallback_fallback = -1;
  // Descriptors at each binding of kernel 0 and of its fallback (empty: the
  // field absent, one each), and descriptors the dispatch lists past its two.
  std::vector<std::uint32_t> array_sizes = {}, fallback_array_sizes = {};
  std::uint32_t extra_descriptors = 0;
  // PreviousStepInput buffers (their sizes), from buffer 5 on, and the buffer
  // each program's dispatch binds second (3: the KV cache).
  std::vector<std::uint64_t> previous_inputs = {};
  std::uint32_t prefill_second_buffer = 3, decode_second_buffer = 3;
  // A setup program of one dispatch (kernel 0, the weight then this buffer:
  // 4 is the arena), unless absent; what it must not have.
  bool setup = false;
  std::uint32_t setup_second_buffer = 4;
  fb::DispatchCondition setup_condition = fb::DispatchCondition::Always;
  bool setup_patched = false, setup_counted_by_chunk = false;
};

// A header with one tensor (256 bytes) and a schedule built from `parts`: its
// one dispatch runs kernel 0, which falls back to kernel 1.
std::vector<std::uint8_t> buildHeader(const ScheduleParts& parts) {
  flatbuffers::FlatBufferBuilder fbb;
  const std::vector<std::uint8_t> sliding = {1, 0};
  auto model = fb::CreateTextModelConfig(fbb, fbb.CreateString("Gemma3ForCausalLM"), 16, 8, 16, /*layers=*/2, 2, 1, 4,
                                         4.0f, 1e-6f, 4, 64, 1e6, 1.0, 1e4, fbb.CreateVector(sliding));
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors = {fb::CreateTensor(
      fbb, fbb.CreateString("embed_tokens.weight"), fb::DType::BF16, fb::QuantScheme::None,
      fbb.CreateVector(std::vector<std::uint64_t>{16, 8}), 65536, 256, 0)};
  auto arraySizes = [&fbb](const std::vector<std::uint32_t>& sizes) {
    return sizes.empty() ? flatbuffers::Offset<flatbuffers::Vector<std::uint32_t>>() : fbb.CreateVector(sizes);
  };
  std::vector<flatbuffers::Offset<fb::KernelModule>> kernels = {
      fb::CreateKernelModule(fbb, fbb.CreateString("k"), fbb.CreateString("main"), fbb.CreateVector(parts.spirv), 2,
                             4, parts.subgroup_size, parts.fallback, arraySizes(parts.array_sizes)),
      fb::CreateKernelModule(fbb, fbb.CreateString("k_fallback"), fbb.CreateString("main"),
                             fbb.CreateVector(parts.spirv), parts.fallback_bindings, 4, 0, parts.fallback_fallback,
                             arraySizes(parts.fallback_array_sizes))};
  const std::uint32_t chunk = parts.prefill_chunk;
  std::vector<flatbuffers::Offset<fb::ScheduleBuffer>> buffers = {
      fb::CreateScheduleBuffer(fbb, fbb.CreateString("w"), fb::BufferKind::Weight, parts.weight_tensor,
                               parts.weight_bytes),
      fb::CreateScheduleBuffer(fbb, fbb.CreateString("in"), fb::BufferKind::StepInput, 0, (2ull * chunk + 5) * 4),
      fb::CreateScheduleBuffer(fbb, fbb.CreateString("out"), fb::BufferKind::Readout, 0, chunk * 3ull * 4),
      fb::CreateScheduleBuffer(fbb, fbb.CreateString("kv"), fb::BufferKind::KeyCache, 0, 0, 1,
                               fb::KvCapacity::Context, 0, 16),
      fb::CreateScheduleBuffer(fbb, fbb.CreateString("arena"), fb::BufferKind::Activation, 0,
                               parts.arena_bytes ? parts.arena_bytes : 256 + chunk * 16ull * 4)};
  for (std::uint64_t bytes : parts.previous_inputs) {
    buffers.push_back(fb::CreateScheduleBuffer(fbb, fbb.CreateString("in before"), fb::BufferKind::PreviousStepInput,
                                               0, bytes));
  }
  auto list = [&](std::uint32_t second_buffer) {
    std::vector<fb::Binding> bindings = {parts.weight_binding, fb::Binding(second_buffer, 0, 0)};
    bindings.resize(bindings.size() + parts.extra_descriptors, fb::Binding(3, 0, 0));
    const std::vector<fb::PushPatch> patches = {fb::PushPatch(parts.patch_word, fb::ChunkValue::Tokens, 1)};
    const std::vector<fb::WorkgroupCount> groups = {fb::WorkgroupCount(1, fb::ChunkValue::Tokens, 1),
                                                    fb::WorkgroupCount(1, fb::ChunkValue::Tokens, 0),
                                                    fb::WorkgroupCount(1, fb::ChunkValue::Tokens, 0)};
    std::vector<flatbuffers::Offset<fb::Dispatch>> dispatches = {fb::CreateDispatch(
        fbb, parts.dispatch_kernel, fbb.CreateVectorOfStructs(bindings), fbb.CreateVector(parts.push),
        fbb.CreateVectorOfStructs(patches), fbb.CreateVectorOfStructs(groups), true)};
    return fbb.CreateVector(dispatches);
  };
  auto setupList = [&] {
    const std::vector<fb::Binding> bindings = {parts.weight_binding, fb::Binding(parts.setup_second_buffer, 0, 0)};
    std::vector<fb::PushPatch> patches;
    if (parts.setup_patched) patches.push_back(fb::PushPatch(0, fb::ChunkValue::Tokens, 1));
    const std::vector<fb::WorkgroupCount> groups = {
        fb::WorkgroupCount(1, fb::ChunkValue::Tokens, parts.setup_counted_by_chunk ? 1 : 0),
        fb::WorkgroupCount(1, fb::ChunkValue::Tokens, 0), fb::WorkgroupCount(1, fb::ChunkValue::Tokens, 0)};
    std::vector<flatbuffers::Offset<fb::Dispatch>> dispatches = {fb::CreateDispatch(
        fbb, 0, fbb.CreateVectorOfStructs(bindings), fbb.CreateVector(parts.push), fbb.CreateVectorOfStructs(patches),
        fbb.CreateVectorOfStructs(groups), false, parts.setup_condition)};
    return fbb.CreateVector(dispatches);
  };
  auto kernel_vector = fbb.CreateVector(kernels);
  auto buffer_vector = fbb.CreateVector(buffers);
  auto prefill = list(parts.prefill_second_buffer);
  auto decode = list(parts.decode_second_buffer);
  auto setup = parts.setup ? setupList() : flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Dispatch>>>();
  auto schedule = fb::CreateSchedule(fbb, kernel_vector, buffer_vector, chunk, 1, 3, 2, 1, prefill, decode,
                                     parts.logits_buffer, parts.sampling_params_word, parts.logits_offset,
                                     parts.readout_rows, setup);
  auto header = fb::CreateHeader(fbb, 0, model, 0, 0, 0, fbb.CreateVector(tensors), schedule);
  fb::FinishHeaderBuffer(fbb, header);
  return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// The verifier's message for `parts`; "" when it accepts them.
std::string verdict(const ScheduleParts& parts) {
  std::vector<std::uint8_t> bytes = buildHeader(parts);
  try {
    checkSchedule(*fb::GetHeader(bytes.data()), "test.ubundle");
  } catch (const Error& error) {
    return error.what();
  }
  return "";
}

TEST(ScheduleCheckTest, AcceptsAConsistentSchedule) { EXPECT_EQ(verdict({}), ""); }

TEST(ScheduleCheckTest, ArrayBindingsCountEachDescriptor) {
  // Binding 1 an array of 2 (a table's row slices): the dispatch lists 3
  // descriptors, and the fallback must have the same arrays.
  ScheduleParts parts;
  parts.array_sizes = parts.fallback_array_sizes = {1, 2};
  parts.extra_descriptors = 1;
  EXPECT_EQ(verdict(parts), "");
  parts.extra_descriptors = 0;
  EXPECT_NE(verdict(parts).find("2 bindings, kernel takes 3"), std::string::npos);
  parts.extra_descriptors = 1;
  parts.fallback_array_sizes = {};
  EXPECT_NE(verdict(parts).find("binds or pushes differently"), std::string::npos);
}

TEST(ScheduleCheckTest, AFallbackMayLeaveOutTrailingBindings) {
  // A cooperative-matrix product binds the tokens' maxima after what its tiled
  // fallback binds: the fallback's bindings must be the kernel's first ones,
  // arrays and all.
  ScheduleParts parts;
  parts.fallback_bindings = 1;
  EXPECT_EQ(verdict(parts), "");
  parts.array_sizes = {2, 1};
  parts.fallback_array_sizes = {2};
  parts.extra_descriptors = 1;
  EXPECT_EQ(verdict(parts), "");
  parts.fallback_array_sizes = {1};
  EXPECT_NE(verdict(parts).find("binds or pushes differently"), std::string::npos);
}

TEST(ScheduleCheckTest, FewerReadoutRowsNeedLessLogitsAndReadoutRoom) {
  // An arena with room for two rows of logits (of a chunk of 4) passes with two
  // readout rows, and not without the field (a whole chunk's rows).
  ScheduleParts parts;
  parts.arena_bytes = 256 + 2 * 16 * 4;
  parts.readout_rows = 2;
  EXPECT_EQ(verdict(parts), "");
  parts.readout_rows = 0;
  EXPECT_NE(verdict(parts).find("logits_buffer 4"), std::string::npos);
}

TEST(ScheduleCheckTest, OnlyDecodeBindsTheStepBeforesInputTheStepInputsSize) {
  // The runtime binds the other of its two step inputs there: one such buffer,
  // the step input's size, and a prefill chunk has no step before it.
  ScheduleParts parts;
  const std::uint64_t step_input_bytes = (2ull * parts.prefill_chunk + 5) * 4;
  parts.previous_inputs = {step_input_bytes};
  parts.decode_second_buffer = 5;
  EXPECT_EQ(verdict(parts), "");
  parts.prefill_second_buffer = 5;
  EXPECT_NE(verdict(parts).find("a prefill dispatch binds the step before's input"), std::string::npos);
  parts.prefill_second_buffer = 3;
  parts.previous_inputs = {step_input_bytes + 4};
  EXPECT_NE(verdict(parts).find("not the step input's size"), std::string::npos);
  parts.previous_inputs = {step_input_bytes, step_input_bytes};
  EXPECT_NE(verdict(parts).find("more than one PreviousStepInput"), std::string::npos);
}

TEST(ScheduleCheckTest, TheSetupProgramReadsWeightsIntoActivationsWithNothingAChunkSets) {
  // It runs once, before any chunk, always: from weights into activation
  // buffers, without conditions, push patches or chunk-counted workgroups.
  ScheduleParts parts;
  parts.setup = true;
  EXPECT_EQ(verdict(parts), "");
  parts.setup_second_buffer = 1;  // the step input
  EXPECT_NE(verdict(parts).find("setup dispatch 0: binds buffer 1, neither a weight nor an activation buffer"),
            std::string::npos);
  parts.setup_second_buffer = 3;  // a KV cache
  EXPECT_NE(verdict(parts).find("binds buffer 3"), std::string::npos);
  parts.setup_second_buffer = 4;
  parts.setup_condition = fb::DispatchCondition::DumpLogits;
  EXPECT_NE(verdict(parts).find("setup dispatch 0: has a condition or push patches"), std::string::npos);
  parts.setup_condition = fb::DispatchCondition::Always;
  parts.setup_patched = true;
  EXPECT_NE(verdict(parts).find("has a condition or push patches"), std::string::npos);
  parts.setup_patched = false;
  parts.setup_counted_by_chunk = true;
  EXPECT_NE(verdict(parts).find("counts its workgroups by a chunk"), std::string::npos);
  parts.setup_counted_by_chunk = false;
  parts.setup_second_buffer = 9;  // the list's own rules too
  EXPECT_NE(verdict(parts).find("setup dispatch 0: binding names buffer 9"), std::string::npos);
}

TEST(ScheduleCheckTest, RefusesEachBrokenRule) {
  struct Case {
    const char* what;
    std::function<void(ScheduleParts&)> mutate;
    const char* fragment;
  };
  const std::vector<Case> cases = {
      {"SPIR-V magic", [](ScheduleParts& p) { p.spirv[0] = 0x03022307; }, "magic 0x07230203"},
      {"truncated module", [](ScheduleParts& p) { p.spirv.resize(2); }, "not a SPIR-V module"},
      {"kernel index", [](ScheduleParts& p) { p.dispatch_kernel = 2; }, "kernel index 2 out of range"},
      {"fallback index", [](ScheduleParts& p) { p.fallback = 2; }, "fallback 2 is not another kernel"},
      {"fallback to itself", [](ScheduleParts& p) { p.fallback = 0; }, "fallback 0 is not another kernel"},
      {"negative fallback", [](ScheduleParts& p) { p.fallback = -2; }, "fallback -2 is not another kernel"},
      {"fallback chain", [](ScheduleParts& p) { p.fallback_fallback = 0; }, "has a fallback of its own"},
      {"fallback binds more", [](ScheduleParts& p) { p.fallback_bindings = 3; }, "binds or pushes differently"},
      {"subgroup size", [](ScheduleParts& p) { p.subgroup_size = 48; }, "subgroup size 48"},
      {"array sizes for fewer bindings", [](ScheduleParts& p) { p.array_sizes = {1}; }, "1 array sizes for 2 bindings"},
      {"empty array binding", [](ScheduleParts& p) { p.array_sizes = {1, 0}; }, "array binding outside 1..64"},
      {"array binding too large", [](ScheduleParts& p) { p.array_sizes = {65, 1}; }, "array binding outside 1..64"},
      {"tensor index", [](ScheduleParts& p) { p.weight_tensor = 5; }, "tensor index 5"},
      {"weight size", [](ScheduleParts& p) { p.weight_bytes = 512; }, "differs from its tensor"},
      {"binding past the end", [](ScheduleParts& p) { p.weight_binding = fb::Binding(0, 0, 512); }, "does not lie inside"},
      {"unaligned binding", [](ScheduleParts& p) { p.weight_binding = fb::Binding(0, 4, 16); }, "does not lie inside"},
      {"binding buffer index", [](ScheduleParts& p) { p.weight_binding = fb::Binding(9, 0, 0); }, "names buffer 9"},
      {"push constant words", [](ScheduleParts& p) { p.push = {0, 0}; }, "push constants"},
      {"patch word", [](ScheduleParts& p) { p.patch_word = 1; }, "push patch"},
      {"prefill chunk", [](ScheduleParts& p) { p.prefill_chunk = 0; }, "prefill_chunk 0"},
      {"sampling inside the positions", [](ScheduleParts& p) { p.sampling_params_word = 7; }, "sampling_params_word 7"},
      {"sampling past the step input", [](ScheduleParts& p) { p.sampling_params_word = 9; }, "step_input_buffer"},
      {"logits buffer kind", [](ScheduleParts& p) { p.logits_buffer = 1; }, "logits_buffer 1"},
      {"logits buffer index", [](ScheduleParts& p) { p.logits_buffer = 7; }, "logits_buffer 7"},
      {"logits rows past the arena", [](ScheduleParts& p) { p.logits_offset = 512; }, "logits_buffer 4"},
      {"unaligned logits", [](ScheduleParts& p) { p.logits_offset = 128; }, "logits_offset 128"},
      {"logits offset overflow", [](ScheduleParts& p) { p.logits_offset = ~std::uint64_t(255); }, "logits_offset"},
      {"readout rows past the chunk", [](ScheduleParts& p) { p.readout_rows = 5; }, "readout_rows 5"},
  };
  for (const Case& c : cases) {
    ScheduleParts parts;
    c.mutate(parts);
    std::string message = verdict(parts);
    EXPECT_NE(message.find(c.fragment), std::string::npos) << c.what << ": got '" << message << "'";
    EXPECT_NE(message.find("test.ubundle: schedule: "), std::string::npos) << c.what;
  }
}

}  // namespace
}  // namespace unicorn
