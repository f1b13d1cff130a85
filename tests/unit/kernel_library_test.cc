// The SPIR-V kernel library: every kernel compiles and validates for several
// specialisations, the words are deterministic, the declared interface
// (bindings, push constants) is what the SPIR-V really has, and every kind of
// bad input fails with an Error that names the kernel.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "codegen_spirv/kernel_library.h"
#include "codegen_spirv/kernel_push_constants.h"
#include "codegen_spirv/kernel_params.h"
#include "codegen_spirv/kernel_specs.h"
#include "codegen_spirv/quant_weight_slice.h"
#include "codegen_spirv/spirv_entry_point.h"
#include "codegen_spirv/spirv_kernel_compiler.h"
#include "codegen_spirv/spirv_spec_constants.h"
#include "runtime/error.h"
#include "runtime/gpu/spirv_capabilities.h"
#include "runtime/gpu/spirv_instructions.h"

namespace unicorn::spirv {
namespace {

// The specialisations every kernel is checked with: small and Gemma-sized
// shapes, each optional feature on and off, and workgroup sizes from below the
// smallest subgroup (8 on llvmpipe) to 256.
std::vector<KernelRequest> representativeRequests() {
  return {
      embeddingKernel(8, std::sqrt(8.0), 4),
      embeddingKernel(1152, std::sqrt(1152.0)),
      embeddingKernel(5376, std::sqrt(5376.0), 128),
      rmsNormKernel(8, 1e-6f, false, 4),
      rmsNormKernel(1152, 1e-6f, true),
      rmsNormAddNormKernel(8, 1e-6f, 1e-5f, 4),
      rmsNormAddNormKernel(5376, 1e-6f, 1e-6f),
      rmsNormAddNormKernel(5376, 1e-6f, 1e-6f, 256, BlockQuant::kQ4),
      rmsNormAddNormKernel(64, 1e-6f, 1e-6f, 8, BlockQuant::kQ8),
      rmsNormKernel(5376, 1e-6f, false, 256, BlockQuant::kQ4),
      headNormRopeKernel(8, 2, 1e-6f, RopeParameters{10000.0, 1.0}, 4),
      headNormRopeKernel(256, 4, 1e-6f, RopeParameters{1e6, 8.0}),
      headNormRopeKernel(128, 8, 1e-6f, std::nullopt, 32),
      headNormRopeKernel(256, 1, std::nullopt, std::nullopt),
      qkvNormRopeKernel(8, 2, 1, 1e-6f, RopeParameters{10000.0, 1.0}, 4),
      qkvNormRopeKernel(256, 4, 1, 1e-6f, RopeParameters{1e6, 8.0}),
      qkvNormRopeKernel(128, 32, 16, 1e-6f, RopeParameters{1e6, 8.0}, 128),
      matvecKernel(8, 3, 1, 4),
      matvecKernel(1152, 6912),
      matvecKernel(5376, 262208, 8, 128, 30.0f),
      matvecKernel(6912, 1152, 4, 64, 0.0f, /*gelu_input=*/true),
      matvecKernel(1152, 6912, 16, 128, 0.0f, false, /*row_groups=*/4),
      matmulKernel(8, 3),
      matmulKernel(1152, 6912),
      matmulKernel(5376, 21504, 30.0f),
      matmulKernel(6912, 1152, 0.0f, 4),  // split-K: two more bindings (split_k.glsl)
      coopMatmulKernel(32, 3),
      coopMatmulKernel(5376, 21504, 30.0f),
      coopMatmulKernel(6912, 1152, 0.0f, 4),  // split-K: its own entry point, two more bindings
      // Block-quantised weights: both schemes, the smallest K (one block per
      // row, a single q8 word per invocation at WG_SIZE 4) and Gemma sizes
      // (27B's LM head with soft-capping, 1B's fused gate+up).
      quantMatvecKernel(BlockQuant::kQ8, 32, 3, 1, 4),
      quantMatvecKernel(BlockQuant::kQ4, 32, 3, 2, 8),
      quantMatvecKernel(BlockQuant::kQ8, 1152, 13824),
      quantMatvecKernel(BlockQuant::kQ4, 5376, 262208, 8, 128, 30.0f),
      quantMatvecKernel(BlockQuant::kQ8, 6912, 1152, 4, 64, 0.0f, /*gelu_input=*/true),
      quantDotMatvecKernel(BlockQuant::kQ8, 32, 3, 1, 4),
      quantDotMatvecKernel(BlockQuant::kQ4, 1152, 13824),
      quantDotMatvecKernel(BlockQuant::kQ4, 21504, 5376, 8, 128, 30.0f),
      quantDotMatvecKernel(BlockQuant::kQ4, 5376, 21504, 16, 128, 0.0f, /*row_groups=*/4),
      quantMatvecKernel(BlockQuant::kQ8, 5376, 21504, 8, 64, 0.0f, false, /*row_groups=*/8),
      quantizeActivationKernel(BlockQuant::kQ8, 32, 4),
      quantizeActivationKernel(BlockQuant::kQ4, 21504),
      quantizeActivationKernel(BlockQuant::kQ4, 21504, 64, /*gelu_input=*/true),
      quantMatmulKernel(BlockQuant::kQ8, 32, 3),
      quantMatmulKernel(BlockQuant::kQ4, 64, 5),
      quantMatmulKernel(BlockQuant::kQ8, 1152, 6912),
      quantMatmulKernel(BlockQuant::kQ4, 5376, 262208, 30.0f),
      quantMatmulKernel(BlockQuant::kQ8, 21504, 5376, 0.0f, 2),
      coopQuantMatmulKernel(BlockQuant::kQ8, 32, 3),
      coopQuantMatmulKernel(BlockQuant::kQ4, 5376, 21504, 30.0f),
      coopQuantMatmulKernel(BlockQuant::kQ8, 21504, 5376, 0.0f, 2),
      sampleKernel(5, 4),
      sampleKernel(262208),
      quantEmbeddingKernel(BlockQuant::kQ8, 32, std::sqrt(32.0), 4),
      quantEmbeddingKernel(BlockQuant::kQ4, 1152, std::sqrt(1152.0)),
      quantEmbeddingKernel(BlockQuant::kQ4, 5376, std::sqrt(5376.0), 128),
      attentionKernel({8, 4, 2, 1 / std::sqrt(8.0), 0, 0.0f}, 4),
      attentionKernel({256, 4, 1, 1 / 16.0, 512, 0.0f}),
      attentionKernel({128, 32, 16, 1 / std::sqrt(168.0), 1024, 50.0f}, 128),
      splitAttentionKernel({128, 32, 16, 1 / std::sqrt(168.0), 0, 0.0f, 32}),
      splitAttentionKernel({8, 4, 2, 1 / std::sqrt(8.0), 0, 0.0f, 3}, 4),
      splitAttentionKernel({256, 4, 1, 1 / 16.0, 512, 0.0f, 16}),
      decodeAttentionKernel({128, 32, 16, 1 / std::sqrt(168.0), 0, 0.0f, 32}, 1e-6f, RopeParameters{1e6, 8.0}, 64,
                            BlockQuant::kQ8),
      decodeAttentionKernel({8, 4, 2, 1 / std::sqrt(8.0), 0, 0.0f, 3}, 1e-6f, RopeParameters{10000.0, 1.0}, 4),
      decodeAttentionKernel({256, 4, 1, 1 / 16.0, 512, 0.0f, 16}, 1e-6f, RopeParameters{10000.0, 1.0}, 64,
                            BlockQuant::kQ4),
      attentionPrefillKernel({8, 4, 2, 1 / std::sqrt(8.0), 0, 0.0f}),
      attentionPrefillKernel({256, 4, 1, 1 / 16.0, 512, 0.0f}),
      attentionPrefillKernel({128, 32, 16, 1 / std::sqrt(168.0), 1024, 50.0f}),
      geluMulKernel(6, 4),
      geluMulKernel(6912),
      tokenMaximaKernel(4, 4),
      tokenMaximaKernel(5376),
      rowBoundsKernel(48, 0, 8),
      rowBoundsKernel(5376, 4),
      rowBoundsKernel(21504, 8),
      addKernel(4),
      addKernel(256),
      argmaxKernel(5, 4),
      argmaxKernel(262208),
      argmaxKernel(262208, 256, 17),
      argmaxKernel(10001, 64, 3),
      argmaxCombineKernel(17),
      argmaxCombineKernel(3, 4),
      logitsReadoutKernel(5, 5, 4),
      logitsReadoutKernel(262144, 10),
  };
}

// ---- a minimal SPIR-V reader: just enough to see the resource interface ----

struct ModuleInterface {
  std::set<uint32_t> bindings;       // of descriptor set 0
  uint32_t push_constant_bytes = 0;  // last member offset + 4 (all members are uint)
  uint32_t push_constant_members = 0;
};

ModuleInterface readInterface(const std::vector<uint32_t>& words) {
  constexpr uint32_t kOpTypeStruct = 30, kOpTypePointer = 32, kOpVariable = 59, kOpDecorate = 71,
                     kOpMemberDecorate = 72;
  constexpr uint32_t kDecorationBinding = 33, kDecorationDescriptorSet = 34, kDecorationOffset = 35;
  constexpr uint32_t kStorageClassPushConstant = 9;
  std::map<uint32_t, uint32_t> binding_of, set_of, pointee_of, member_count_of;
  std::map<uint32_t, uint32_t> last_offset_of;
  uint32_t push_constant_pointer_type = 0;
  std::set<uint32_t> variables;
  for (size_t at = 5; at < words.size();) {
    uint32_t count = words[at] >> 16, opcode = words[at] & 0xffff;
    if (count == 0 || at + count > words.size()) ADD_FAILURE() << "malformed instruction at word " << at;
    if (count == 0 || at + count > words.size()) break;
    const uint32_t* operand = &words[at + 1];
    if (opcode == kOpDecorate && operand[1] == kDecorationBinding) binding_of[operand[0]] = operand[2];
    if (opcode == kOpDecorate && operand[1] == kDecorationDescriptorSet) set_of[operand[0]] = operand[2];
    if (opcode == kOpMemberDecorate && operand[2] == kDecorationOffset) {
      last_offset_of[operand[0]] = std::max(last_offset_of[operand[0]], operand[3]);
    }
    if (opcode == kOpTypeStruct) member_count_of[operand[0]] = count - 2;
    if (opcode == kOpTypePointer) pointee_of[operand[0]] = operand[2];
    if (opcode == kOpVariable) {
      variables.insert(operand[1]);
      if (operand[2] == kStorageClassPushConstant) push_constant_pointer_type = operand[0];
    }
    at += count;
  }
  ModuleInterface interface;
  for (uint32_t variable : variables) {
    if (binding_of.count(variable) && set_of[variable] == 0) interface.bindings.insert(binding_of[variable]);
  }
  if (push_constant_pointer_type != 0) {
    uint32_t block = pointee_of[push_constant_pointer_type];
    interface.push_constant_members = member_count_of[block];
    interface.push_constant_bytes = last_offset_of[block] + 4;
  }
  return interface;
}

// Each representative request compiled once (compiling is the slow part),
// shared by the tests below.
struct CompiledRequest {
  KernelRequest request;
  std::vector<uint32_t> words;
};
const std::vector<CompiledRequest>& compiledRepresentatives() {
  static const std::vector<CompiledRequest> compiled = [] {
    std::vector<CompiledRequest> result;
    SpirvKernelCompiler compiler;
    for (KernelRequest& request : representativeRequests()) {
      std::vector<uint32_t> words = compiler.compile(request.kernel, request.defines);
      result.push_back({std::move(request), std::move(words)});
    }
    return result;
  }();
  return compiled;
}

TEST(KernelLibraryTest, EveryKernelCompilesAndValidatesForSeveralSpecialisations) {
  std::map<std::string, int> specialisations;
  for (const CompiledRequest& compiled : compiledRepresentatives()) {
    SCOPED_TRACE(describeSpecialisation(compiled.request.kernel, compiled.request.defines));
    ASSERT_GT(compiled.words.size(), 5u);
    EXPECT_EQ(compiled.words[0], 0x07230203u);  // SPIR-V magic
    EXPECT_EQ(compiled.words[1], 0x00010300u);  // version 1.3
    const KernelInfo& info = KernelLibrary::builtin().get(compiled.request.kernel);
    if (info.prebuilt_module.empty()) {
      // compile() validated already; validating again here keeps the test honest
      // should compile() ever stop doing so.
      EXPECT_NO_THROW(SpirvKernelCompiler::validate(compiled.request.kernel, compiled.words));
    } else {
      // A dialect kernel is its prebuilt module, specialised: re-applying the
      // same defines changes nothing, and the words differ from the defaults'.
      EXPECT_EQ(withSpecConstantDefaults("again", compiled.words, compiled.request.defines), compiled.words);
      EXPECT_NE(std::vector<uint32_t>(info.prebuilt_module.begin(), info.prebuilt_module.end()), compiled.words);
    }
    ++specialisations[compiled.request.kernel];
  }
  for (const KernelInfo& info : KernelLibrary::builtin().kernels()) {
    EXPECT_GE(specialisations[info.name], 2) << info.name << " is not checked with several specialisations";
  }
}

TEST(KernelLibraryTest, DeclaredInterfaceMatchesTheSpirv) {
  for (const CompiledRequest& compiled : compiledRepresentatives()) {
    const KernelRequest& request = compiled.request;
    // A specialisation without the norm leaves its weight binding unused, and
    // the optimiser strips it; the others use every binding.
    if (request.defines.count("APPLY_NORM") && request.defines.at("APPLY_NORM") == "0") continue;
    SCOPED_TRACE(describeSpecialisation(request.kernel, request.defines));
    const KernelInfo& info = KernelLibrary::builtin().get(request.kernel);
    ModuleInterface interface = readInterface(compiled.words);
    std::set<uint32_t> expected;
    for (uint32_t b = 0; b < info.bindingCount(request.defines); ++b) expected.insert(b);
    EXPECT_EQ(interface.bindings, expected);
    EXPECT_EQ(interface.push_constant_bytes, info.push_constant_bytes);
    EXPECT_EQ(interface.push_constant_members * 4, info.push_constant_bytes);
  }
}

TEST(KernelLibraryTest, OutputIsDeterministic) {
  // A fresh compiler instance reproduces every module word for word.
  SpirvKernelCompiler compiler;
  for (const CompiledRequest& compiled : compiledRepresentatives()) {
    SCOPED_TRACE(describeSpecialisation(compiled.request.kernel, compiled.request.defines));
    EXPECT_EQ(compiler.compile(compiled.request.kernel, compiled.request.defines), compiled.words);
  }
}

TEST(KernelLibraryTest, DefinesReallySpecialise) {
  SpirvKernelCompiler compiler;
  KernelRequest small = matvecKernel(64, 10);
  KernelRequest large = matvecKernel(64, 11);
  EXPECT_NE(compiler.compile(small.kernel, small.defines), compiler.compile(large.kernel, large.defines));
  // The scheme selects a different decoder, not just a constant.
  for (bool matvec : {true, false}) {
    KernelRequest q8 = matvec ? quantMatvecKernel(BlockQuant::kQ8, 64, 10) : quantMatmulKernel(BlockQuant::kQ8, 64, 10);
    KernelRequest q4 = matvec ? quantMatvecKernel(BlockQuant::kQ4, 64, 10) : quantMatmulKernel(BlockQuant::kQ4, 64, 10);
    EXPECT_EQ(q8.defines.at("QUANT_BITS"), "8");
    EXPECT_EQ(q4.defines.at("QUANT_BITS"), "4");
    EXPECT_NE(compiler.compile(q8.kernel, q8.defines), compiler.compile(q4.kernel, q4.defines)) << q8.kernel;
  }
}

// Runs `f`, expects an Error whose message contains every one of `parts`.
template <typename F>
void expectErrorNaming(F f, std::vector<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInvalidInput);
    std::string message = e.what();
    for (const std::string& part : parts) EXPECT_NE(message.find(part), std::string::npos) << part << " not in: " << message;
  }
}

// A device with every optional feature the runtime checks.
gpu::DeviceCapabilities everyOptionalFeature() {
  gpu::DeviceCapabilities caps;
  caps.shader_float16 = caps.shader_int8 = caps.storage_buffer_8bit_access = true;
  caps.shader_integer_dot_product = true;
  caps.cooperative_matrix = true;
  return caps;
}

TEST(KernelLibraryTest, EveryDeclaredCapabilityIsOneTheRuntimeChecks) {
  // The runtime refuses a kernel whose SPIR-V capabilities it cannot vouch for
  // (runtime/gpu/spirv_capabilities.h): every builtin kernel must pass on a
  // device with every optional feature, and exactly the packed-dot decode
  // kernel (matvec_quant_dot) needs shaderIntegerDotProduct, exactly the
  // prefill kernels on matrix units (matmul_*_coop) cooperativeMatrix.
  const gpu::DeviceCapabilities full = everyOptionalFeature();
  gpu::DeviceCapabilities without_dot = full, without_matrices = full;
  without_dot.shader_integer_dot_product = false;
  without_matrices.cooperative_matrix = false;
  for (const CompiledRequest& compiled : compiledRepresentatives()) {
    const std::string name = describeSpecialisation(compiled.request.kernel, compiled.request.defines);
    SCOPED_TRACE(name);
    bool needs_dot = false, needs_matrices = false;
    for (uint32_t capability : gpu::declaredCapabilities(compiled.words, name)) {
      std::optional<std::string> missing = gpu::missingFeatureFor(capability, full);
      EXPECT_FALSE(missing.has_value()) << *missing;
      if (std::optional<std::string> without = gpu::missingFeatureFor(capability, without_dot)) {
        EXPECT_NE(without->find("shaderIntegerDotProduct"), std::string::npos) << *without;
        needs_dot = true;
      }
      if (std::optional<std::string> without = gpu::missingFeatureFor(capability, without_matrices)) {
        EXPECT_NE(without->find("VK_KHR_cooperative_matrix"), std::string::npos) << *without;
        needs_matrices = true;
      }
    }
    EXPECT_EQ(needs_dot, compiled.request.kernel == "matvec_quant_dot");
    EXPECT_EQ(needs_matrices, compiled.request.kernel.ends_with("_coop"));
  }
}

TEST(KernelLibraryTest, DialectKernelDefinesAreItsSpecialisationConstants) {
  for (const KernelInfo& info : KernelLibrary::builtin().kernels()) {
    if (info.prebuilt_module.empty()) continue;
    SCOPED_TRACE(info.name);
    std::vector<std::string> declared;
    for (const KernelDefine& define : info.defines) declared.push_back(define.name);
    std::vector<std::string> constants = specConstantNames(info.name, info.prebuilt_module);
    std::sort(declared.begin(), declared.end());
    std::sort(constants.begin(), constants.end());
    EXPECT_EQ(declared, constants);
  }
  // Values reach the words; bad ones are refused naming the constant.
  const KernelRequest request = coopMatmulKernel(64, 10);
  std::vector<uint32_t> words = SpirvKernelCompiler().compile(request.kernel, request.defines);
  KernelDefines other = request.defines;
  other["N"] = "11";
  EXPECT_NE(withSpecConstantDefaults("n", words, other), words);
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"M", "1"}, {"N", "banana"}, {"N", "4294967296"}, {"SOFTCAP", "inf"}, {"SOFTCAP", "1.0x"}};
  for (const std::pair<std::string, std::string>& define : refused) {
    expectErrorNaming([&] { withSpecConstantDefaults("coop", words, {define}); }, {"coop", define.first});
  }
  expectErrorNaming([&] { specConstantNames("empty", {}); }, {"empty", "not a SPIR-V module"});
}

// The entry points of a module, by name.
std::vector<std::string> entryPoints(const std::vector<uint32_t>& words) {
  std::vector<std::string> names;
  gpu::forEachInstruction(words, "entry points", [&](uint32_t opcode, std::span<const uint32_t> operands, size_t) {
    if (opcode == 15 && operands.size() > 2) names.push_back(gpu::literalString(operands, 2).text);  // OpEntryPoint
  });
  return names;
}

TEST(KernelLibraryTest, DialectKernelsKeepTheirSpecialisationsEntryPointAlone) {
  // The cooperative-matrix modules hold main and split-K's main_split; a
  // specialisation keeps its own, as "main", and not the other's functions.
  const KernelRequest unsplit = coopMatmulKernel(256, 64), split = coopMatmulKernel(256, 64, 0.0f, 2);
  const KernelInfo& info = KernelLibrary::builtin().get(unsplit.kernel);
  const std::vector<uint32_t> prebuilt(info.prebuilt_module.begin(), info.prebuilt_module.end());
  EXPECT_EQ(entryPoints(prebuilt), (std::vector<std::string>{"main", "main_split"}));
  EXPECT_EQ(info.entryPoint(unsplit.defines), "main");
  EXPECT_EQ(info.entryPoint(split.defines), "main_split");
  const std::vector<uint32_t> unsplit_words = SpirvKernelCompiler().compile(unsplit.kernel, unsplit.defines);
  const std::vector<uint32_t> split_words = SpirvKernelCompiler().compile(split.kernel, split.defines);
  EXPECT_EQ(entryPoints(unsplit_words), std::vector<std::string>{"main"});
  EXPECT_EQ(entryPoints(split_words), std::vector<std::string>{"main"});
  // Each dropped what only the other reaches: the fold (split-K's) and the unsplit write-out.
  EXPECT_LT(unsplit_words.size(), prebuilt.size());
  EXPECT_LT(split_words.size(), prebuilt.size());
  EXPECT_EQ(specConstantNames("split", split_words), specConstantNames("prebuilt", prebuilt));
  // The selection is idempotent, and refuses an entry point the module lacks, naming those it has.
  EXPECT_EQ(withOnlyEntryPoint("again", split_words, "main"), split_words);
  expectErrorNaming([&] { withOnlyEntryPoint("coop", prebuilt, "main_fused"); },
                    {"coop", "main_fused", "main, main_split"});
  expectErrorNaming([&] { withOnlyEntryPoint("empty", {}, "main"); }, {"empty", "not a SPIR-V module"});
  std::vector<uint32_t> cut(prebuilt.begin(), prebuilt.begin() + 6);
  cut[5] = (100u << 16) | 17u;
  expectErrorNaming([&] { withOnlyEntryPoint("cut", cut, "main"); }, {"cut", "malformed"});
}

TEST(KernelLibraryTest, CooperativeMatrixTypesAreReadAndMatchedToTheDevice) {
  const KernelRequest request = coopMatmulKernel(64, 10);
  const std::vector<uint32_t> words = SpirvKernelCompiler().compile(request.kernel, request.defines);
  const std::vector<gpu::CooperativeMatrixType> types = gpu::declaredCooperativeMatrices(words, "coop");
  ASSERT_EQ(types.size(), 3u);
  std::set<gpu::MatrixUse> uses;
  for (const gpu::CooperativeMatrixType& type : types) {
    EXPECT_EQ(type.rows, 16u);
    EXPECT_EQ(type.columns, 16u);
    EXPECT_EQ(type.scope, gpu::kMatrixScopeSubgroup);
    EXPECT_EQ(type.component, type.use == gpu::MatrixUse::kAccumulator ? gpu::MatrixComponent::kFloat32
                                                                       : gpu::MatrixComponent::kFloat16);
    uses.insert(type.use);
  }
  EXPECT_EQ(uses.size(), 3u);
  using C = gpu::MatrixComponent;
  const gpu::CooperativeMatrixShape fp16_into_fp32{16, 16, 16, C::kFloat16, C::kFloat16, C::kFloat32, C::kFloat32,
                                                   false, gpu::kMatrixScopeSubgroup};
  gpu::CooperativeMatrixShape fp16_into_fp16 = fp16_into_fp32;
  fp16_into_fp16.c = fp16_into_fp16.result = C::kFloat16;
  gpu::CooperativeMatrixShape wider = fp16_into_fp32;
  wider.n = 32;
  for (const gpu::CooperativeMatrixType& type : types) {
    EXPECT_FALSE(gpu::unsupportedMatrix(type, {fp16_into_fp16, fp16_into_fp32}));
    EXPECT_TRUE(gpu::unsupportedMatrix(type, {}));
  }
  int refused_by_fp16 = 0, refused_by_wider = 0;
  for (const gpu::CooperativeMatrixType& type : types) {
    if (std::optional<std::string> why = gpu::unsupportedMatrix(type, {fp16_into_fp16})) {
      EXPECT_NE(why->find("16x16 fp32 accumulator"), std::string::npos) << *why;
      ++refused_by_fp16;
    }
    refused_by_wider += gpu::unsupportedMatrix(type, {wider}).has_value();
  }
  EXPECT_EQ(refused_by_fp16, 1);
  EXPECT_EQ(refused_by_wider, 2);  // A (16x16 of M x K) still fits; B and the accumulator do not
}

TEST(KernelLibraryTest, SharedMemoryIsReadFromTheModule) {
  // Every GLSL kernel stays within the 16 KiB Vulkan guarantees; those on
  // matrix units state their own need (3 tiles of 128 x 40 halves, 2048 floats
  // of staging, 128 + 128 floats of scales), which the runtime checks per device.
  for (const CompiledRequest& compiled : compiledRepresentatives()) {
    const std::string name = describeSpecialisation(compiled.request.kernel, compiled.request.defines);
    const uint64_t bytes = gpu::declaredWorkgroupMemoryBytes(compiled.words, name);
    if (compiled.request.kernel.ends_with("_coop")) {
      EXPECT_EQ(bytes, 3u * 128 * 40 * 2 + 2048 * 4 + (128 + 128) * 4) << name;
    } else {
      EXPECT_LE(bytes, 16384u) << name;
    }
  }
  // A kernel with a shared array of known size: matvec_quant's partial sums,
  // rows x workgroup floats.
  const KernelRequest matvec = quantMatvecKernel(BlockQuant::kQ8, 64, 10, 4, 32);
  const std::vector<uint32_t> words = SpirvKernelCompiler().compile(matvec.kernel, matvec.defines);
  EXPECT_GE(gpu::declaredWorkgroupMemoryBytes(words, "matvec"), 4u * 32 * 4);

  // Hostile sizes saturate instead of wrapping: float[2^30][2^8][2^24] is 2^64
  // bytes, which wraps to 0 in 64 bits.
  auto op = [](uint32_t opcode, std::vector<uint32_t> operands) {
    operands.insert(operands.begin(), (uint32_t(operands.size() + 1) << 16) | opcode);
    return operands;
  };
  std::vector<uint32_t> huge = {0x07230203, 0x00010300, 0, 11, 0};
  for (const std::vector<uint32_t>& instruction :
       {op(22, {1, 32}), op(21, {2, 32, 0}), op(43, {2, 3, 1u << 30}), op(43, {2, 4, 1u << 8}),
        op(43, {2, 5, 1u << 24}), op(28, {6, 1, 3}), op(28, {7, 6, 4}), op(28, {8, 7, 5}), op(32, {9, 4, 8}),
        op(59, {9, 10, 4})}) {
    huge.insert(huge.end(), instruction.begin(), instruction.end());
  }
  EXPECT_EQ(gpu::declaredWorkgroupMemoryBytes(huge, "huge"), uint64_t(1) << 40);
}

TEST(KernelLibraryTest, CapabilityReaderRefusesMalformedWords) {
  const KernelRequest request = quantDotMatvecKernel(BlockQuant::kQ8, 64, 10);
  std::vector<uint32_t> words = SpirvKernelCompiler().compile(request.kernel, request.defines);
  EXPECT_FALSE(gpu::declaredCapabilities(words, "whole").empty());
  // An instruction claiming more words than are left, and one of length 0.
  std::vector<uint32_t> truncated(words.begin(), words.begin() + 6);
  truncated[5] = (100u << 16) | 17u;
  expectErrorNaming([&] { gpu::declaredCapabilities(truncated, "kernel 'cut'"); }, {"kernel 'cut'", "malformed"});
  std::vector<uint32_t> zero_length = words;
  zero_length[5] = 17u;
  expectErrorNaming([&] { gpu::declaredCapabilities(zero_length, "kernel 'zero'"); }, {"kernel 'zero'", "length 0"});
  // A capability the runtime has no feature for is named, not waved through.
  std::optional<std::string> unknown = gpu::missingFeatureFor(4427, everyOptionalFeature());  // SubgroupBallotKHR
  ASSERT_TRUE(unknown.has_value());
  EXPECT_NE(unknown->find("4427"), std::string::npos) << *unknown;
}

TEST(KernelLibraryTest, QuantKernelsRefuseAnUnknownScheme) {
  // QUANT_BITS is checked in the source (#error), so a hand-made request with a
  // scheme the decoder does not know fails to compile instead of reading garbage.
  KernelRequest request = quantMatvecKernel(BlockQuant::kQ8, 64, 10);
  request.defines["QUANT_BITS"] = "2";
  expectErrorNaming([&] { SpirvKernelCompiler().compile(request.kernel, request.defines); },
                    {"matvec_quant", "QUANT_BITS=2", "QUANT_BITS must be 8"});
}

TEST(KernelLibraryTest, UnknownKernelIsNamed) {
  expectErrorNaming([] { SpirvKernelCompiler().compile("softmax_fp16", {}); }, {"softmax_fp16", "matvec_bf16"});
}

TEST(KernelLibraryTest, MissingOrUnknownDefinesAreNamed) {
  KernelRequest request = matvecKernel(64, 10);
  KernelDefines missing = request.defines;
  missing.erase("N");
  expectErrorNaming([&] { SpirvKernelCompiler().compile("matvec_bf16", missing); }, {"matvec_bf16", "N"});
  KernelDefines extra = request.defines;
  extra["ROWS_PER_WORKGROUP"] = "4";  // a typo of ROWS_PER_WG
  expectErrorNaming([&] { SpirvKernelCompiler().compile("matvec_bf16", extra); },
                    {"matvec_bf16", "ROWS_PER_WORKGROUP"});
  KernelDefines bad_name = request.defines;
  bad_name["K=2\n#define X"] = "1";
  expectErrorNaming([&] { SpirvKernelCompiler().compile("matvec_bf16", bad_name); }, {"matvec_bf16"});
}

TEST(KernelLibraryTest, BrokenDefineValueFailsNamingKernelAndCompilerMessage) {
  KernelRequest request = rmsNormKernel(64, 1e-6f, false);
  request.defines["EPS"] = "banana";
  expectErrorNaming([&] { SpirvKernelCompiler().compile(request.kernel, request.defines); },
                    {"rms_norm", "EPS=banana", "GLSL compilation failed", "banana"});
  // RoPE requested without its frequency table.
  KernelRequest rope = headNormRopeKernel(8, 1, 1e-6f, RopeParameters{});
  rope.defines.erase("ROPE_INV_FREQ");
  expectErrorNaming([&] { SpirvKernelCompiler().compile(rope.kernel, rope.defines); },
                    {"head_norm_rope", "GLSL compilation failed"});
}

TEST(KernelLibraryTest, BrokenKernelSourceFailsNamingTheKernel) {
  KernelInfo broken;
  broken.name = "broken_kernel";
  broken.source = "#version 450\nlayout(local_size_x = 1) in;\nvoid main() { undeclared_variable = 1; }\n";
  KernelInfo missing_include;
  missing_include.name = "needs_include";
  missing_include.source =
      "#version 450\n#extension GL_GOOGLE_include_directive : require\n"
      "#include \"nowhere.glsl\"\nlayout(local_size_x = 1) in;\nvoid main() {}\n";
  KernelLibrary library({broken, missing_include}, {});
  SpirvKernelCompiler compiler(library);
  expectErrorNaming([&] { compiler.compile("broken_kernel", {}); }, {"broken_kernel", "undeclared_variable"});
  expectErrorNaming([&] { compiler.compile("needs_include", {}); }, {"needs_include", "nowhere.glsl"});
}

TEST(KernelLibraryTest, ValidatorRejectionIsNamed) {
  KernelRequest request = addKernel(64);
  std::vector<uint32_t> words = SpirvKernelCompiler().compile(request.kernel, request.defines);
  EXPECT_NO_THROW(SpirvKernelCompiler::validate("add", words));
  // Drop the OpEntryPoint's execution model from Vulkan's allowed set: turn the
  // GLCompute entry point into a Kernel (OpenCL) one, which Vulkan forbids.
  bool changed = false;
  for (size_t at = 5; at < words.size(); at += words[at] >> 16) {
    if ((words[at] & 0xffff) == 15 /* OpEntryPoint */) {
      words[at + 1] = 6;  // ExecutionModel Kernel
      changed = true;
      break;
    }
  }
  ASSERT_TRUE(changed);
  expectErrorNaming([&] { SpirvKernelCompiler::validate("add (WG_SIZE=64)", words); },
                    {"add (WG_SIZE=64)", "SPIR-V validation failed"});
  expectErrorNaming([&] { SpirvKernelCompiler::validate("empty", {}); }, {"empty", "SPIR-V validation failed"});
}

TEST(KernelSpecsTest, ShapeConstraintsAreChecked) {
  expectErrorNaming([] { matvecKernel(63, 10); }, {"matvec_bf16", "63"});
  expectErrorNaming([] { matmulKernel(60, 10); }, {"matmul_bf16", "multiple of 8", "60"});
  expectErrorNaming([] { attentionKernel({64, 6, 4, 64.0f, 0, 0.0f}); }, {"attention", "kv heads"});
  // Split-K is its own kernel: attention takes one share, attention_split 2 to 64.
  expectErrorNaming([] { attentionKernel({64, 4, 4, 0.125, 0, 0.0f, 4}); }, {"attention", "attention_split"});
  expectErrorNaming([] { splitAttentionKernel({64, 4, 4, 0.125, 0, 0.0f, 1}); }, {"attention_split", "at least 2"});
  expectErrorNaming([] { splitAttentionKernel({64, 4, 4, 0.125, 0, 0.0f, 65}); }, {"attention_split", "65"});
  // attention_decode: split, and a quantised output needs whole blocks of a head.
  expectErrorNaming([] { decodeAttentionKernel({64, 4, 4, 0.125, 0, 0.0f, 1}, 1e-6f, {}); },
                    {"attention_decode", "at least 2"});
  expectErrorNaming([] { decodeAttentionKernel({48, 4, 4, 0.125, 0, 0.0f, 4}, 1e-6f, {}, 64, BlockQuant::kQ8); },
                    {"attention_decode", "multiple of 32", "48"});
  expectErrorNaming([] { rmsNormKernel(64, 1e-6f, false, 96); }, {"rms_norm", "96"});
  expectErrorNaming([] { rmsNormKernel(66, 1e-6f, false); }, {"rms_norm", "multiple of 4", "66"});
  // A quantised output needs whole blocks, and its shared memory within 16 KiB.
  expectErrorNaming([] { rmsNormAddNormKernel(100, 1e-6f, 1e-6f, 64, BlockQuant::kQ4); },
                    {"rms_norm_add_norm", "multiple of 32", "100"});
  expectErrorNaming([] { rmsNormAddNormKernel(8192, 1e-6f, 1e-6f, 256, BlockQuant::kQ4); },
                    {"rms_norm_add_norm", "8192", "16 KiB"});
  expectErrorNaming([] { rmsNormKernel(64, 1e-6f, true, 64, BlockQuant::kQ8); }, {"rms_norm", "add_to_output"});
  expectErrorNaming([] { logitsReadoutKernel(5, 6); }, {"logits_readout", "top-k 6"});
  // Quantised weights come in whole blocks of 32 along K.
  expectErrorNaming([] { quantMatvecKernel(BlockQuant::kQ4, 48, 10); }, {"matvec_quant", "multiple of 32", "48"});
  expectErrorNaming([] { quantMatvecKernel(BlockQuant::kQ8, 0, 10); }, {"matvec_quant", "multiple of 32"});
  expectErrorNaming([] { quantMatvecKernel(BlockQuant::kQ8, 64, 0); }, {"matvec_quant", "N is 0"});
  expectErrorNaming([] { quantMatvecKernel(BlockQuant::kQ8, 64, 10, 8, 4); }, {"matvec_quant", "rows per workgroup"});
  expectErrorNaming([] { quantDotMatvecKernel(BlockQuant::kQ4, 48, 10); }, {"matvec_quant_dot", "multiple of 32"});
  // Row groups: a power of two dividing the rows and the workgroup.
  expectErrorNaming([] { quantDotMatvecKernel(BlockQuant::kQ4, 64, 10, 12, 64, 0.0f, 3); }, {"matvec_quant_dot", "row groups 3"});
  expectErrorNaming([] { quantMatvecKernel(BlockQuant::kQ8, 64, 10, 2, 64, 0.0f, false, 4); }, {"matvec_quant", "row groups 4"});
  expectErrorNaming([] { matvecKernel(64, 10, 6, 64, 0.0f, false, 4); }, {"matvec_bf16", "row groups 4"});
  expectErrorNaming([] { quantizeActivationKernel(BlockQuant::kQ4, 48); }, {"quantize_activation", "multiple of 32"});
  expectErrorNaming([] { quantMatmulKernel(BlockQuant::kQ8, 80, 10); }, {"matmul_quant", "multiple of 32", "80"});
  expectErrorNaming([] { tokenMaximaKernel(6); }, {"token_maxima", "multiple of 4", "6"});
  expectErrorNaming([] { rowBoundsKernel(44, 0); }, {"row_bounds", "multiple of 8", "44"});
  expectErrorNaming([] { rowBoundsKernel(48, 4); }, {"row_bounds", "multiple of 32", "48"});
  expectErrorNaming([] { rowBoundsKernel(64, 6); }, {"row_bounds", "bits 6"});
  expectErrorNaming([] { rowBoundsKernel(64, 0, 4); }, {"row_bounds", "under its 8 rows"});
}

TEST(KernelLibraryTest, QuantKernelsDeclareSeparateQuantAndScaleBindings) {
  // x, quants, y as matvec_bf16's x, W, y, then the scales (binding 3); the push
  // block is MatmulPush plus scale_base. DeclaredInterfaceMatchesTheSpirv checks
  // the SPIR-V against these numbers.
  for (const char* name : {"matvec_quant", "matmul_quant"}) {
    const KernelInfo& info = KernelLibrary::builtin().get(name);
    EXPECT_EQ(info.storage_buffer_count, 4u) << name;
    EXPECT_EQ(info.push_constant_bytes, sizeof(QuantMatmulPush)) << name;
    EXPECT_EQ(sizeof(QuantMatmulPush), sizeof(MatmulPush) + 4) << name;
  }
}

TEST(KernelSpecsTest, QuantWeightSliceFindsBothWindows) {
  // Q4, K = 96 (48-byte rows, 3 scales per row), 21 rows: quants [0, 1008),
  // scales from S = 1024 to 1150.
  const QuantWeightSlice middle = quantWeightSlice(BlockQuant::kQ4, 21, 96, 7, 16, 256);
  EXPECT_EQ(middle.quants_offset, 256u);  // row 7 at byte 336, rounded down
  EXPECT_EQ(middle.quant_base, 20u);      // (336 - 256) / 4
  EXPECT_EQ(middle.quants_range, 512u);   // up to row 16 at byte 768
  EXPECT_EQ(middle.scales_offset, 1024u);
  EXPECT_EQ(middle.scale_base, 21u);      // 7 rows * 3 scales: an odd index, mid-word
  EXPECT_EQ(middle.scales_range, 96u);    // 16 rows * 3 scales * 2 bytes
  const QuantWeightSlice last = quantWeightSlice(BlockQuant::kQ4, 21, 96, 16, 21, 16);
  EXPECT_EQ(last.quants_offset, 768u);
  EXPECT_EQ(last.quant_base, 0u);
  EXPECT_EQ(last.quants_range, 240u);
  EXPECT_EQ(last.scales_offset, 1120u);
  EXPECT_EQ(last.scale_base, 0u);
  EXPECT_EQ(last.scales_range, 32u);  // 15 scales = 30 bytes, rounded up to whole words
  // Q8 rows are K bytes; the whole tensor is one slice at offset 0.
  const QuantWeightSlice whole = quantWeightSlice(BlockQuant::kQ8, 3, 64, 0, 3, 64);
  EXPECT_EQ(whole.quants_offset, 0u);
  EXPECT_EQ(whole.quants_range, 192u);
  EXPECT_EQ(whole.scales_offset, 256u);
  EXPECT_EQ(whole.scales_range, 12u);
}

TEST(KernelSpecsTest, FloatLiteralsRoundTrip) {
  for (float value : {1.0f, 0.1f, 1e-6f, 33.9411255f, 3.4e38f, -2.5e-30f, 0.0625f}) {
    std::string literal = glslFloat(value);
    EXPECT_EQ(std::strtof(literal.c_str(), nullptr), value) << literal;
    EXPECT_NE(literal.find_first_of(".e"), std::string::npos) << literal;  // a float literal, not an int
  }
  EXPECT_EQ(glslFloat(2.0f), "2.0");
}

TEST(KernelSpecsTest, ConstantsFollowTheFloat32Reference) {
  // Scales come from the graph in double and are rounded once to float32.
  EXPECT_EQ(embeddingKernel(1152, std::sqrt(1152.0)).defines.at("EMBED_SCALE"), glslFloat(std::sqrt(1152.0f)));
  EXPECT_EQ(attentionKernel({128, 32, 16, 1.0 / std::sqrt(168.0), 0, 0.0f}).defines.at("QUERY_SCALE"),
            glslFloat(static_cast<float>(1.0 / std::sqrt(168.0))));
  // RoPE: 1 / base^(2i/D), linear scaling divides the frequencies.
  std::vector<float> plain = ropeInverseFrequencies(4, 10000.0, 1.0);
  ASSERT_EQ(plain.size(), 2u);
  EXPECT_EQ(plain[0], 1.0f);
  EXPECT_FLOAT_EQ(plain[1], 0.01f);
  std::vector<float> scaled = ropeInverseFrequencies(256, 1e6, 8.0);
  ASSERT_EQ(scaled.size(), 128u);
  EXPECT_EQ(scaled[0], 0.125f);
  EXPECT_NEAR(scaled[127], std::pow(1e6, -254.0 / 256.0) / 8.0, 1e-6 * scaled[127]);
}


// specialise(): the schedule's named parameters reach the same typed front doors.
TEST(KernelParamsTest, SpecialiseEqualsTheTypedFrontDoors) {
  EXPECT_EQ(specialise("rms_norm", {{"width", int64_t(1152)}, {"eps", 1e-6}, {"add_to_output", true},
                                    {"workgroup_size", int64_t(256)}})
                .defines,
            rmsNormKernel(1152, 1e-6f, true, 256).defines);
  EXPECT_EQ(specialise("matvec_quant", {{"bits", int64_t(4)}, {"k", int64_t(1152)}, {"n", int64_t(6912)},
                                        {"rows_per_workgroup", int64_t(4)}, {"workgroup_size", int64_t(64)},
                                        {"softcap", 0.0}})
                .defines,
            quantMatvecKernel(BlockQuant::kQ4, 1152, 6912, 4, 64).defines);
  KernelRequest dot = specialise("matvec_quant_dot", {{"bits", int64_t(4)}, {"k", int64_t(1152)}, {"n", int64_t(6912)},
                                                      {"rows_per_workgroup", int64_t(16)},
                                                      {"workgroup_size", int64_t(64)}, {"softcap", 0.0}});
  EXPECT_EQ(dot.kernel, "matvec_quant_dot");
  EXPECT_EQ(dot.defines, quantDotMatvecKernel(BlockQuant::kQ4, 1152, 6912, 16, 64).defines);
  // Row groups are a parameter only where they are not 1, and a define then.
  KernelRequest grouped = specialise("matvec_quant_dot", {{"bits", int64_t(4)}, {"k", int64_t(1152)}, {"n", int64_t(6912)},
                                                          {"rows_per_workgroup", int64_t(16)},
                                                          {"workgroup_size", int64_t(128)}, {"softcap", 0.0},
                                                          {"row_groups", int64_t(4)}});
  EXPECT_EQ(grouped.defines, quantDotMatvecKernel(BlockQuant::kQ4, 1152, 6912, 16, 128, 0.0f, 4).defines);
  EXPECT_EQ(grouped.defines.at("ROW_GROUPS"), "4");
  EXPECT_FALSE(dot.defines.contains("ROW_GROUPS"));
  EXPECT_EQ(specialise("quantize_activation", {{"bits", int64_t(4)}, {"k", int64_t(1152)}, {"workgroup_size", int64_t(64)}})
                .defines,
            quantizeActivationKernel(BlockQuant::kQ4, 1152, 64).defines);
  // Norm and RoPE are there exactly when their parameters are: a value copy has neither.
  KernelRequest copy = specialise("head_norm_rope", {{"head_dim", int64_t(256)}, {"num_heads", int64_t(1)},
                                                     {"workgroup_size", int64_t(64)}});
  EXPECT_EQ(copy.defines, headNormRopeKernel(256, 1, std::nullopt, std::nullopt, 64).defines);
  KernelRequest rope = specialise("head_norm_rope",
                                  {{"head_dim", int64_t(256)}, {"num_heads", int64_t(4)}, {"eps", 1e-6},
                                   {"rope_base", 1e6}, {"rope_linear_factor", 8.0}, {"workgroup_size", int64_t(64)}});
  EXPECT_EQ(rope.defines, headNormRopeKernel(256, 4, 1e-6f, RopeParameters{1e6, 8.0}, 64).defines);
}

TEST(KernelParamsTest, ParametersThatDoNotFitAreNamed) {
  auto message = [](std::string_view kernel, const KernelParams& params) {
    try {
      specialise(kernel, params);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  const KernelParams argmax = {{"count", int64_t(16)}, {"workgroup_size", int64_t(64)}};
  EXPECT_EQ(message("argmax", argmax), "");
  EXPECT_NE(message("nonesuch", argmax).find("kernel 'nonesuch': is not a kernel of the library"), std::string::npos);
  EXPECT_NE(message("argmax", {{"count", int64_t(16)}}).find("needs parameter 'workgroup_size'"), std::string::npos);
  KernelParams extra = argmax;
  extra["window"] = int64_t(4);
  EXPECT_NE(message("argmax", extra).find("takes no parameter 'window'"), std::string::npos);
  EXPECT_NE(message("argmax", {{"count", 16.0}, {"workgroup_size", int64_t(64)}}).find("'count' must be an integer"),
            std::string::npos);
  EXPECT_NE(message("argmax", {{"count", int64_t(-1)}, {"workgroup_size", int64_t(64)}}).find("32-bit unsigned"),
            std::string::npos);
  EXPECT_NE(message("embedding_quant", {{"bits", int64_t(2)}, {"hidden", int64_t(32)}, {"scale", 1.0},
                                        {"workgroup_size", int64_t(64)}})
                .find("'bits' must be 8 or 4"),
            std::string::npos);
  // The typed front door's own checks still hold behind it.
  EXPECT_NE(message("argmax", {{"count", int64_t(16)}, {"workgroup_size", int64_t(48)}}).find("power of two"),
            std::string::npos);
}

}  // namespace
}  // namespace unicorn::spirv
