// Writes seed inputs for fuzz_bundle into the directory given as argv[1]: small
// but fully valid headers in fuzz_bundle's "wrapped header" mode (one with a bf16
// embedding and a schedule, one with a Q8Block32 embedding and none), so the fuzzer starts from bundles that
// pass every check and mutates from there.
#include <xxhash.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "schemas/bundle_format.h"
#include "schemas/bundle_generated.h"

namespace {

// A minimal schedule that passes the verifier: one kernel (a SPIR-V header only:
// the verifier checks the magic, the device would judge the rest), the embedding
// as a weight buffer, the step-input and readout buffers of a 4-token chunk, and
// one dispatch per list with a token-count patch, so the fuzzer mutates schedules too.
flatbuffers::Offset<unicorn::fb::Schedule> seedSchedule(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t embedding_size) {
  using namespace unicorn;
  const std::vector<std::uint32_t> spirv = {0x07230203, 0x00010300, 0, 1, 0};
  std::vector<flatbuffers::Offset<fb::KernelModule>> kernels = {
      fb::CreateKernelModule(fbb, fbb.CreateString("seed"), fbb.CreateString("main"), fbb.CreateVector(spirv), 2, 4)};
  std::vector<flatbuffers::Offset<fb::ScheduleBuffer>> buffers = {
      fb::CreateScheduleBuffer(fbb, fbb.CreateString("weight"), fb::BufferKind::Weight, 0, embedding_size),
      fb::CreateScheduleBuffer(fbb, fbb.CreateString("input"), fb::BufferKind::StepInput, 0, 2 * 4 * 4),
      fb::CreateScheduleBuffer(fbb, fbb.CreateString("readout"), fb::BufferKind::Readout, 0, 4 * 3 * 4),
      fb::CreateScheduleBuffer(fbb, fbb.CreateString("kv"), fb::BufferKind::KeyCache, 0, 0, 2, fb::KvCapacity::Context,
                               0, 16)};
  auto dispatch = [&] {
    const std::vector<fb::Binding> bindings = {fb::Binding(0, 0, 0), fb::Binding(3, 0, 0)};
    const std::vector<fb::PushPatch> patches = {fb::PushPatch(0, fb::ChunkValue::Tokens, 1)};
    const std::vector<fb::WorkgroupCount> groups = {fb::WorkgroupCount(1, fb::ChunkValue::Tokens, 1),
                                                    fb::WorkgroupCount(1, fb::ChunkValue::Tokens, 0),
                                                    fb::WorkgroupCount(1, fb::ChunkValue::Tokens, 0)};
    std::vector<flatbuffers::Offset<fb::Dispatch>> list = {fb::CreateDispatch(
        fbb, 0, fbb.CreateVectorOfStructs(bindings), fbb.CreateVector(std::vector<std::uint32_t>{0}),
        fbb.CreateVectorOfStructs(patches), fbb.CreateVectorOfStructs(groups), true)};
    return fbb.CreateVector(list);
  };
  auto kernel_vector = fbb.CreateVector(kernels);
  auto buffer_vector = fbb.CreateVector(buffers);
  auto prefill = dispatch();
  auto decode = dispatch();
  return fb::CreateSchedule(fbb, kernel_vector, buffer_vector, /*prefill_chunk=*/4, /*top_k=*/1, /*row_words=*/3,
                            /*readout_buffer=*/2, /*step_input_buffer=*/1, prefill, decode);
}

// One seed: a valid header whose embedding is stored as (dtype, quant, shape, size),
// with a schedule when `with_schedule`.
bool writeSeed(const std::string& path, unicorn::fb::DType embedding_dtype, unicorn::fb::QuantScheme embedding_quant,
               const std::vector<std::uint64_t>& embedding_shape, std::uint64_t embedding_size, bool with_schedule) {
  using namespace unicorn;
  flatbuffers::FlatBufferBuilder fbb;
  fbb.ForceDefaults(true);
  const std::vector<std::uint8_t> sliding = {1, 1, 0};  // flatbuffers stores [bool] as bytes
  auto model = fb::CreateTextModelConfig(fbb, fbb.CreateString("Gemma3ForCausalLM"), /*vocab=*/16, /*hidden=*/8,
                                         /*intermediate=*/16, /*layers=*/3, /*heads=*/2, /*kv_heads=*/1,
                                         /*head_dim=*/4, 4.0f, 1e-6f, 4, 64, 1e6, 1.0, 1e4,
                                         fbb.CreateVector(sliding), 0.0f, 0.0f,
                                         fbb.CreateString("gelu_pytorch_tanh"), 2, fbb.CreateVector(std::vector<int32_t>{1}), 0);
  auto tokenizer = fb::TokenizerBuilder(fbb).Finish();
  // Both tensors are zero bytes in the fuzz wrapper's weights area: [64 KiB, 192 KiB).
  const std::vector<std::byte> zeros(1024);
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors = {
      fb::CreateTensor(fbb, fbb.CreateString("embed_tokens.weight"), embedding_dtype, embedding_quant,
                       fbb.CreateVector(embedding_shape), kSegmentAlignment, embedding_size,
                       XXH64(zeros.data(), embedding_size, 0)),
      fb::CreateTensor(fbb, fbb.CreateString("norm.weight"), fb::DType::F32, fb::QuantScheme::None,
                       fbb.CreateVector(std::vector<std::uint64_t>{8}), 2 * kSegmentAlignment, 32,
                       XXH64(zeros.data(), 32, 0)),
  };
  auto header = fb::CreateHeader(fbb, fbb.CreateString("seed"), model, tokenizer, fbb.CreateString("{{ bos_token }}"),
                                 fbb.CreateVector(std::vector<flatbuffers::Offset<flatbuffers::String>>{
                                     fbb.CreateString("igpu")}),
                                 fbb.CreateVector(tensors), with_schedule ? seedSchedule(fbb, embedding_size) : 0);
  fb::FinishHeaderBuffer(fbb, header);
  std::ofstream out(path, std::ios::binary);
  const char mode = 1;  // odd first byte: wrapped-header mode
  out.write(&mode, 1);
  out.write(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_bundle_seed OUT_DIR\n");
    return 1;
  }
  using unicorn::fb::DType;
  using unicorn::fb::QuantScheme;
  const std::string dir = argv[1];
  // A bf16 embedding, and a Q8Block32 one ([16, 32]: 512 quant bytes, scales at 512, 16 bf16 scales).
  const bool ok = writeSeed(dir + "/wrapped_header.bin", DType::BF16, QuantScheme::None, {16, 8}, 256, true) &&
                  writeSeed(dir + "/wrapped_header_q8.bin", DType::I8, QuantScheme::Q8Block32, {16, 32}, 512 + 32, false);
  return ok ? 0 : 1;
}
