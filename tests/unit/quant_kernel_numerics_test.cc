// matvec_quant, matvec_quant_dot, matmul_quant and embedding_quant on a real Vulkan device (Mesa llvmpipe in CI,
// allowed explicitly) against a double-precision product with the dequantised
// weights. The weights are real Q8Block32 / Q4Block32 segments: random floats
// quantised by the compiler's own quantizeRows and laid out as
// schemas/bundle.fbs says (quants, zero padding to 256 bytes, bf16 scales); the
// reference weights are dequantizeRows' W' = q * scale. Block magnitudes vary
// over four decades so a scale taken from the wrong block, row or half-word
// shows up far outside the tolerance.
//
// Tolerance everywhere: |got - want| <= 4e-6 * sum_k |x_k W'_k| (+1e-30). The
// kernels multiply by W' exactly (q * bf16 scale fits float32), so the only
// error is float32 rounding of the K-term sum; on llvmpipe the worst case seen
// over every test here is 3.1e-7 of that sum, so the bound leaves 13x for other
// reduction orders. A wrong quant, scale or nibble is an error of a whole term;
// the one-hot test below checks the decoding on its own.
//
// matvec_quant_dot has x quantised as well (by quantize_activation), to int8 per block of 32
// (qx = round-to-even(x * 127 / max|x|), x' = qx * max|x| / 127), so its
// reference is the product with x' computed the same way, not with x: that
// checks the scheme itself (a wrong x scale or a lost nibble order is far
// outside the bound). Where x * 127 / max|x| lies within 1e-4 of a rounding tie
// the device's division (Vulkan allows 2.5 ulp) may round the other way: such a
// term may be off by one quantum, max|x| / 127 * |W'_k|, which the bound adds.
// A test beside it checks that x' stays within the scheme's own error bound of
// the float product, sum_k |W'_k| * max|x| / 254.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "codegen_spirv/kernel_library.h"
#include "codegen_spirv/kernel_push_constants.h"
#include "codegen_spirv/kernel_specs.h"
#include "codegen_spirv/quant_weight_slice.h"
#include "codegen_spirv/spirv_kernel_compiler.h"
#include "compiler/quantize.h"
#include "passes/WeightRowSlices.h"
#include "runtime/gpu/command_stream.h"
#include "runtime/gpu/compute_pipeline.h"
#include "runtime/gpu/descriptor_pool.h"
#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/gpu_device.h"
#include "tests/support/gelu_reference.h"
#include "tests/support/kernel_pipeline.h"
#include "tests/support/matrix_units.h"
#include "schemas/tensor_layout.h"

namespace unicorn::spirv {
namespace {

fb::QuantScheme schemeOf(BlockQuant quant) {
  return quant == BlockQuant::kQ8 ? fb::QuantScheme::Q8Block32 : fb::QuantScheme::Q4Block32;
}
const char* nameOf(BlockQuant quant) { return quant == BlockQuant::kQ8 ? "q8" : "q4"; }

// ---------------------------------------------------------------- quantised weights

// One weight tensor as the bundle stores it and as the reference sees it.
struct QuantisedWeight {
  BlockQuant quant;
  uint32_t rows = 0, k = 0;
  BlockQuantLayout layout;
  std::vector<std::byte> segment;  // quants | zero padding | scales | word padding
  std::vector<float> dequantised;  // W', [rows, k]
};

// Splits a segment's parts into the spans quantize.h works on.
void fillFromParts(QuantisedWeight& weight, const std::vector<std::byte>& quants,
                   const std::vector<uint16_t>& scales) {
  // total_bytes ends on a whole word (bundle.fbs), which the kernels rely on:
  // the buffer is exactly the segment, no spare bytes.
  weight.segment.assign(weight.layout.total_bytes, std::byte{0});
  std::memcpy(weight.segment.data(), quants.data(), quants.size());
  std::memcpy(weight.segment.data() + weight.layout.scales_offset, scales.data(), scales.size() * 2);
  weight.dequantised.resize(size_t(weight.rows) * weight.k);
  dequantizeRows(schemeOf(weight.quant), quants, scales, weight.k, weight.dequantised);
}

// Random float32 weights quantised by quantizeRows. Each block gets its own
// magnitude (1e-3 .. 10), and block 0 of row 1 is all zero (scale 0).
QuantisedWeight quantisedRandom(BlockQuant quant, uint32_t rows, uint32_t k, uint32_t seed) {
  QuantisedWeight weight{quant, rows, k, *blockQuantLayout(schemeOf(quant), rows, k), {}, {}};
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f), decades(-3.0f, 1.0f);
  std::vector<float> values(size_t(rows) * k);
  for (size_t block = 0; block < values.size() / 32; ++block) {
    float magnitude = std::pow(10.0f, decades(random));
    for (size_t i = 0; i < 32; ++i) values[block * 32 + i] = magnitude * uniform(random);
  }
  if (rows > 1) std::fill_n(values.begin() + k, 32, 0.0f);
  std::vector<std::byte> quants(weight.layout.quants_bytes);
  std::vector<uint16_t> scales(size_t(rows) * weight.layout.blocks_per_row);
  std::optional<uint64_t> bad = quantizeRows(schemeOf(quant), SafetensorsDType::kF32, std::as_bytes(std::span(values)),
                                             k, quants, scales, 1);
  EXPECT_FALSE(bad.has_value());
  fillFromParts(weight, quants, scales);
  return weight;
}

std::vector<float> randomFloats(size_t count, float scale, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-scale, scale);
  std::vector<float> values(count);
  for (float& v : values) v = uniform(random);
  return values;
}

// y[t, n] = sum_k x[t, k] W'[n, k] in double, and sum |x W'| for the tolerance.
// x rows are x_stride apart.
struct Reference {
  std::vector<double> y, magnitude;
  std::vector<double> slack;  // allowed beyond the relative bound (x' rounding ties); empty: none
};
Reference referenceProduct(const std::vector<float>& x, uint32_t x_stride, const QuantisedWeight& w, uint32_t tokens) {
  Reference ref;
  ref.y.assign(size_t(tokens) * w.rows, 0.0);
  ref.magnitude.assign(ref.y.size(), 0.0);
  for (uint32_t t = 0; t < tokens; ++t) {
    for (uint32_t n = 0; n < w.rows; ++n) {
      double sum = 0, abs_sum = 0;
      for (uint32_t i = 0; i < w.k; ++i) {
        double term = double(x[size_t(t) * x_stride + i]) * w.dequantised[size_t(n) * w.k + i];
        sum += term;
        abs_sum += std::abs(term);
      }
      ref.y[size_t(t) * w.rows + n] = sum;
      ref.magnitude[size_t(t) * w.rows + n] = abs_sum;
    }
  }
  return ref;
}

// x quantised as matvec_quant does it (see the top), token by token: x' and,
// per element, the one-quantum slack where its rounding is a near tie.
struct QuantisedInput {
  std::vector<float> values;
  std::vector<double> tie_quantum;
};
QuantisedInput quantiseInput(const std::vector<float>& x, uint32_t x_stride, uint32_t k, uint32_t tokens) {
  QuantisedInput out{std::vector<float>(x.size(), 0.0f), std::vector<double>(x.size(), 0.0)};
  for (uint32_t t = 0; t < tokens; ++t) {
    for (uint32_t block = 0; block < k / 32; ++block) {
      const size_t first = size_t(t) * x_stride + block * 32;
      float largest = 0.0f;
      for (size_t i = first; i < first + 32; ++i) largest = std::max(largest, std::abs(x[i]));
      const float inverse = largest > 0.0f ? 127.0f / largest : 0.0f, scale = largest / 127.0f;
      for (size_t i = first; i < first + 32; ++i) {
        const float scaled = x[i] * inverse;
        out.values[i] = std::nearbyint(scaled) * scale;  // the default rounding: to nearest, ties to even
        if (std::abs(std::abs(scaled - std::trunc(scaled)) - 0.5f) < 1e-4f) out.tie_quantum[i] = scale;
      }
    }
  }
  return out;
}

// The reference of matvec_quant: the product with x', plus the tie slack.
Reference quantisedInputReference(const std::vector<float>& x, uint32_t x_stride, const QuantisedWeight& w,
                                  uint32_t tokens) {
  QuantisedInput input = quantiseInput(x, x_stride, w.k, tokens);
  Reference ref = referenceProduct(input.values, x_stride, w, tokens);
  ref.slack.assign(ref.y.size(), 0.0);
  for (uint32_t t = 0; t < tokens; ++t) {
    for (uint32_t n = 0; n < w.rows; ++n) {
      double slack = 0;
      for (uint32_t i = 0; i < w.k; ++i) {
        slack += input.tie_quantum[size_t(t) * x_stride + i] * std::abs(w.dequantised[size_t(n) * w.k + i]);
      }
      ref.slack[size_t(t) * w.rows + n] = slack;
    }
  }
  return ref;
}

constexpr double kRelativeTolerance = 4e-6;

// The two decode kernels: matvec_quant (float x) and matvec_quant_dot (x
// quantised to int8, packed dot products); each test of the matvec runs both,
// each against its own reference.
struct MatvecKind {
  const char* name;
  bool quantises_x;
  KernelRequest request(BlockQuant quant, uint32_t k, uint32_t n, uint32_t rows, uint32_t workgroup,
                        float softcap = 0.0f, uint32_t row_groups = 1) const {
    return quantises_x ? quantDotMatvecKernel(quant, k, n, rows, workgroup, softcap, row_groups)
                       : quantMatvecKernel(quant, k, n, rows, workgroup, softcap, false, row_groups);
  }
  Reference reference(const std::vector<float>& x, uint32_t x_stride, const QuantisedWeight& w,
                      uint32_t tokens) const {
    return quantises_x ? quantisedInputReference(x, x_stride, w, tokens) : referenceProduct(x, x_stride, w, tokens);
  }
};
constexpr MatvecKind kMatvecKinds[] = {{"matvec_quant", false}, {"matvec_quant_dot", true}};

// Compares y (rows y_stride apart, `tokens` of them) with the reference and
// checks the columns past the weight's rows kept their sentinel.
void expectProductClose(const std::vector<float>& y, uint32_t y_stride, const Reference& ref, uint32_t tokens,
                        uint32_t rows, float sentinel, const std::string& what) {
  int reported = 0;
  for (uint32_t t = 0; t < tokens; ++t) {
    for (uint32_t n = 0; n < y_stride; ++n) {
      float got = y[size_t(t) * y_stride + n];
      if (n >= rows) {
        if (got != sentinel && reported++ < 5) ADD_FAILURE() << what << ": token " << t << " column " << n << " written";
        continue;
      }
      double want = ref.y[size_t(t) * rows + n];
      double tolerance = kRelativeTolerance * ref.magnitude[size_t(t) * rows + n] + 1e-30 +
                         (ref.slack.empty() ? 0.0 : ref.slack[size_t(t) * rows + n]);
      if (!(std::abs(got - want) <= tolerance) && reported++ < 5) {
        ADD_FAILURE() << what << ": token " << t << " row " << n << " got " << got << ", want " << want
                      << " (tolerance " << tolerance << ")";
      }
    }
  }
}

// ---------------------------------------------------------------- GPU harness

class QuantKernelNumericsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // llvmpipe is allowed explicitly: tests run where no GPU exists (DESIGN.md).
    device_ = gpu::GpuDevice::open({"", /*allow_software_gpu=*/true}).release();
  }
  static void TearDownTestSuite() {
    delete device_;
    device_ = nullptr;
  }

  template <typename T>
  gpu::GpuBuffer upload(const std::vector<T>& values, const std::string& label) {
    size_t bytes = std::max<size_t>(values.size() * sizeof(T), 4);
    gpu::GpuBuffer buffer = gpu::GpuBuffer::allocate(*device_, bytes, gpu::MemoryPlacement::kHostVisible, label);
    if (!values.empty()) buffer.write(0, std::as_bytes(std::span(values)));
    return buffer;
  }
  std::vector<float> download(const gpu::GpuBuffer& buffer, size_t count) {
    std::vector<float> values(count);
    buffer.read(0, std::as_writable_bytes(std::span(values)));
    return values;
  }

  // Compiles `request` and runs one dispatch per entry of `dispatches`, each
  // with its own bindings (x, quants, y, scales; the first storage_buffer_count
  // of them; or, for a kernel with array bindings, every descriptor in
  // `descriptors`: the embedding's ids, quants slices, hidden, scales slices) and push constants,
  // in order, a barrier between each two. A matvec_quant_dot dispatch runs as
  // the schedule runs it: quantize_activation (same bits and K) first turns its
  // x into quantised rows of a buffer of its own, which the product then binds.
  struct Dispatch {
    KernelRequest request;
    std::array<gpu::BufferBinding, 8> bindings;  // as many of them as the kernel binds (split coop's: 8)
    std::vector<uint32_t> push;
    std::array<uint32_t, 3> groups;
    bool gelu_input = false;  // matvec_quant_dot: x is a gate|up row, for its quantize_activation
    std::vector<gpu::BufferBinding> descriptors = {};  // instead of `bindings`: see run()
  };
  template <typename Push>
  static std::vector<uint32_t> pushWords(const Push& push) {
    std::vector<uint32_t> words(sizeof(Push) / 4);
    std::memcpy(words.data(), &push, sizeof(Push));
    return words;
  }
  void run(const std::vector<Dispatch>& requested) {
    std::vector<Dispatch> dispatches;
    std::vector<std::unique_ptr<gpu::GpuBuffer>> quantised_x;
    std::vector<std::unique_ptr<gpu::GpuBuffer>> maxima;
    for (const Dispatch& d : requested) {
      if (d.request.kernel == "matmul_quant_coop") {
        // Its tokens' maxima and its rows' bounds first, as the schedule has
        // token_maxima and row_bounds find them, into its last two bindings.
        QuantMatmulPush push;
        std::memcpy(&push, d.push.data(), sizeof(push));
        const uint32_t k = uint32_t(std::stoul(d.request.defines.at("K")));
        const uint32_t n = uint32_t(std::stoul(d.request.defines.at("N")));
        const uint32_t bits = uint32_t(std::stoul(d.request.defines.at("QUANT_BITS")));
        auto scratch = [&](uint32_t floats, const char* label) {
          maxima.push_back(std::make_unique<gpu::GpuBuffer>(gpu::GpuBuffer::allocate(
              *device_, uint64_t(std::max(floats, 1u)) * 4, gpu::MemoryPlacement::kDeviceLocal, label)));
          return gpu::BufferBinding{maxima.back().get(), 0, VK_WHOLE_SIZE};
        };
        const gpu::BufferBinding token_maxima = scratch(push.num_tokens, "maxima"), bounds = scratch(n, "row bounds");
        dispatches.push_back({tokenMaximaKernel(k), {d.bindings[0], token_maxima},
                              pushWords(TokenMaximaPush{push.x_base, push.x_token_stride, push.num_tokens}),
                              {push.num_tokens, 1, 1}});
        dispatches.push_back({rowBoundsKernel(k, bits), {d.bindings[3], bounds},
                              pushWords(RowBoundsPush{push.scale_base, n}), {(n + 7) / 8, 1, 1}});
        Dispatch product = d;
        const uint32_t bound = KernelLibrary::builtin().get(d.request.kernel).bindingCount(d.request.defines);
        product.bindings[bound - 2] = token_maxima;
        product.bindings[bound - 1] = bounds;
        dispatches.push_back(std::move(product));
        continue;
      }
      if (d.request.kernel != "matvec_quant_dot") {
        dispatches.push_back(d);
        continue;
      }
      const uint32_t k = uint32_t(std::stoul(d.request.defines.at("K")));
      const BlockQuant quant = d.request.defines.at("QUANT_BITS") == "8" ? BlockQuant::kQ8 : BlockQuant::kQ4;
      QuantMatmulPush push;
      std::memcpy(&push, d.push.data(), sizeof(push));
      const uint32_t units = quantizedActivationUnits(k);
      quantised_x.push_back(std::make_unique<gpu::GpuBuffer>(gpu::GpuBuffer::allocate(
          *device_, uint64_t(units) * 16 * std::max(push.num_tokens, 1u), gpu::MemoryPlacement::kDeviceLocal, "qx")));
      const gpu::BufferBinding qx{quantised_x.back().get(), 0, VK_WHOLE_SIZE};
      dispatches.push_back({quantizeActivationKernel(quant, k, 64, d.gelu_input),
                            {d.bindings[0], qx},
                            pushWords(QuantizeActivationPush{push.x_base, push.x_token_stride, 0, units, push.num_tokens}),
                            {(k / 32 + 63) / 64, push.num_tokens, 1}});
      Dispatch product = d;
      product.bindings[0] = qx;
      push.x_base = 0;
      push.x_token_stride = units;
      product.push = pushWords(push);
      dispatches.push_back(std::move(product));
    }
    std::vector<gpu::ComputePipeline> pipelines;
    uint32_t descriptors = 0;
    for (const Dispatch& d : dispatches) descriptors += std::max<uint32_t>(8, uint32_t(d.descriptors.size()));
    gpu::DescriptorPool pool = gpu::DescriptorPool::create(*device_, uint32_t(dispatches.size()), descriptors);
    std::vector<VkDescriptorSet> sets;
    for (const Dispatch& d : dispatches) {
      const KernelInfo& info = KernelLibrary::builtin().get(d.request.kernel);
      ASSERT_EQ(d.push.size() * 4, info.push_constant_bytes);
      ASSERT_LE(info.bindingCount(d.request.defines), 8u);
      pipelines.push_back(test_support::kernelPipeline(*device_, d.request, compiled(d.request)));
      sets.push_back(pool.allocate(pipelines.back(), d.descriptors.empty()
                                                         ? std::span(d.bindings).first(info.bindingCount(d.request.defines))
                                                         : std::span(d.descriptors)));
    }
    gpu::CommandStream stream(*device_);
    stream.begin();
    for (size_t i = 0; i < dispatches.size(); ++i) {
      if (i > 0) stream.memoryBarrier(gpu::Hazard::kComputeToCompute);
      stream.dispatch(pipelines[i], sets[i], std::as_bytes(std::span(dispatches[i].push)), dispatches[i].groups);
    }
    stream.memoryBarrier(gpu::Hazard::kComputeToHost);
    stream.end();
    stream.submitAndWait();
  }

  // Compiling is the slow part and the tests reuse specialisations.
  static const std::vector<uint32_t>& compiled(const KernelRequest& request) {
    static std::map<std::string, std::vector<uint32_t>> cache;
    std::string key = describeSpecialisation(request.kernel, request.defines);
    auto found = cache.find(key);
    if (found == cache.end()) {
      found = cache.emplace(key, test_support::compileKernel(request)).first;
    }
    return found->second;
  }

  // The bindings and push constants of an unsplit weight: its whole segment
  // bound as both quants and scales, the scales found at S.
  static Dispatch wholeWeight(KernelRequest request, const gpu::GpuBuffer& x, const gpu::GpuBuffer& segment,
                              const gpu::GpuBuffer& y, const QuantisedWeight& w, uint32_t x_stride, uint32_t y_stride,
                              uint32_t tokens, std::array<uint32_t, 3> groups) {
    QuantMatmulPush push{0, x_stride, 0, 0, y_stride, tokens, uint32_t(w.layout.scales_offset / 2)};
    return {std::move(request), {{{&x, 0, VK_WHOLE_SIZE}, {&segment, 0, VK_WHOLE_SIZE}, {&y, 0, VK_WHOLE_SIZE},
                                  {&segment, 0, VK_WHOLE_SIZE}}},
            pushWords(push), groups};
  }

  // matmul_quant (`request`, of w's rows) over `tokens` rows of x on split-K's
  // grid of `splits` z-planes, y rows of y_stride around sentinels: checked
  // against `ref`, and (split) for the counts it must leave at zero.
  void expectSplitMatmul(const KernelRequest& request, uint32_t splits, const gpu::GpuBuffer& x_buffer,
                         const gpu::GpuBuffer& w_buffer, const QuantisedWeight& w, uint32_t x_stride, uint32_t y_stride,
                         uint32_t tokens, const Reference& ref, const std::string& what) {
    const uint32_t n = w.rows, tiles = static_cast<uint32_t>(splitKCounts(tokens, n));
    const float sentinel = 999.0f;
    gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * y_stride, sentinel), "y");
    // Split-K's partials and counts, zeroed as the runtime leaves activation buffers.
    gpu::GpuBuffer partials = upload(std::vector<float>(splitKPartialFloats(tokens, n, splits), 0.0f), "partials");
    gpu::GpuBuffer counts = upload(std::vector<uint32_t>(tiles, 0u), "counts");
    Dispatch d = wholeWeight(request, x_buffer, w_buffer, y_buffer, w, x_stride, y_stride, tokens,
                             {(n + 63) / 64, (tokens + 63) / 64, splits});
    d.bindings[4] = {&partials, 0, VK_WHOLE_SIZE};
    d.bindings[5] = {&counts, 0, VK_WHOLE_SIZE};
    run({d});
    expectProductClose(download(y_buffer, size_t(tokens) * y_stride), y_stride, ref, tokens, n, sentinel, what);
    std::vector<uint32_t> left(tiles);
    counts.read(0, std::as_writable_bytes(std::span(left)));
    EXPECT_EQ(left, std::vector<uint32_t>(tiles, 0u)) << what << " left its counts set";
  }

  static gpu::GpuDevice* device_;
};
gpu::GpuDevice* QuantKernelNumericsTest::device_ = nullptr;

// ---------------------------------------------------------------- matvec

TEST_F(QuantKernelNumericsTest, MatvecMatchesDequantisedReference) {
  // Ragged N (13 rows: partial row blocks), K from one block to 32 blocks, one
  // and three tokens, workgroups below, at and above llvmpipe's subgroup of 8,
  // and rows split over row groups (matvec_rows.glsl) both ways: groups of 8
  // and 2 lanes (within one subgroup: shuffles) and of 32 (over subgroups).
  // x rows are wider than K and y rows wider than N, as in the activation arena
  // (x rows 16-byte aligned, as the kernel reads them).
  const uint32_t n = 13;
  for (const MatvecKind& kind : kMatvecKinds) {
    for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
      for (uint32_t k : {32u, 96u, 256u, 1024u, 8320u}) {  // 8320: 260 blocks, over 4 workgroups of quantize_activation
        QuantisedWeight w = quantisedRandom(quant, n, k, 100 + k);
        for (uint32_t tokens : {1u, 3u}) {
          const uint32_t x_stride = k + 4, y_stride = n + 2;  // matvec reads x in vec4s
          const float sentinel = -4321.0f;
          std::vector<float> x = randomFloats(size_t(tokens) * x_stride, 2.0f, 200 + k + tokens);
          Reference ref = kind.reference(x, x_stride, w, tokens);
          for (auto [rows, workgroup, groups] : {std::array{4u, 4u, 1u}, std::array{1u, 64u, 1u}, std::array{16u, 64u, 1u},
                                                 std::array{4u, 256u, 1u}, std::array{8u, 64u, 8u},
                                                 std::array{16u, 128u, 4u}, std::array{4u, 4u, 2u}}) {
            gpu::GpuBuffer x_buffer = upload(x, "x");
            gpu::GpuBuffer w_buffer = upload(w.segment, "w");
            gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * y_stride, sentinel), "y");
            run({wholeWeight(kind.request(quant, k, n, rows, workgroup, 0.0f, groups), x_buffer, w_buffer, y_buffer, w,
                             x_stride, y_stride, tokens, {(n + rows - 1) / rows, tokens, 1})});
            expectProductClose(download(y_buffer, size_t(tokens) * y_stride), y_stride, ref, tokens, n, sentinel,
                               std::string(kind.name) + " " + nameOf(quant) + " K=" + std::to_string(k) +
                                   " T=" + std::to_string(tokens) + " rows/wg=" + std::to_string(rows) +
                                   " wg=" + std::to_string(workgroup) + " groups=" + std::to_string(groups));
          }
        }
      }
    }
  }
}

TEST_F(QuantKernelNumericsTest, MatvecAppliesGeluToAGateUpInput) {
  // GELU_INPUT (matvec_quant's; quantize_activation's before matvec_quant_dot):
  // x = gelu(gate) * up from rows [gate | up | 4 pad], as the decode down
  // projection reads the fused gate/up product. Each against its reference of
  // that x (computed in float32 as the kernels do).
  const uint32_t n = 13;
  for (const MatvecKind& kind : kMatvecKinds) {
    for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
      const uint32_t k = 256, stride = 2 * k + 4, tokens = 2;
      QuantisedWeight w = quantisedRandom(quant, n, k, 150);
      std::vector<float> rows = randomFloats(size_t(tokens) * stride, 3.0f, 151);
      std::vector<float> x = test_support::geluOfGateUp(rows, k, stride, tokens);
      Reference ref = kind.reference(x, k, w, tokens);
      for (double& m : ref.magnitude) m *= 4;  // the kernels' exp may differ from std::exp by a few ulps
      gpu::GpuBuffer x_buffer = upload(rows, "gate|up");
      gpu::GpuBuffer w_buffer = upload(w.segment, "w");
      gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * n, 0.0f), "y");
      KernelRequest request = kind.quantises_x ? kind.request(quant, k, n, 4, 64)
                                               : quantMatvecKernel(quant, k, n, 4, 64, 0.0f, /*gelu_input=*/true);
      Dispatch d = wholeWeight(request, x_buffer, w_buffer, y_buffer, w, stride, n, tokens, {(n + 3) / 4, tokens, 1});
      d.gelu_input = kind.quantises_x;
      run({d});
      expectProductClose(download(y_buffer, size_t(tokens) * n), n, ref, tokens, n, 0.0f,
                         std::string(kind.name) + " GELU_INPUT " + nameOf(quant));
    }
  }
}

TEST_F(QuantKernelNumericsTest, MatvecInputQuantisationStaysWithinItsBound) {
  // matvec_quant_dot against the float product itself: x' differs from x by at
  // most half a quantum per element, so |y - sum x W'| <= sum_k |W'_k| max|x| / 254
  // (+ float rounding). And the bound is not vacuous: the error is nonzero.
  const uint32_t k = 1024, n = 13;
  for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
    QuantisedWeight w = quantisedRandom(quant, n, k, 500);
    std::vector<float> x = randomFloats(k, 2.0f, 501);
    for (size_t i = 0; i < x.size(); i += 97) x[i] *= 30.0f;  // outliers, as real activations have
    Reference ref = referenceProduct(x, k, w, 1);
    gpu::GpuBuffer x_buffer = upload(x, "x");
    gpu::GpuBuffer w_buffer = upload(w.segment, "w");
    gpu::GpuBuffer y_buffer = upload(std::vector<float>(n, 0.0f), "y");
    run({wholeWeight(quantDotMatvecKernel(quant, k, n), x_buffer, w_buffer, y_buffer, w, k, n, 1, {1, 1, 1})});
    std::vector<float> y = download(y_buffer, n);
    double largest_error = 0;
    for (uint32_t r = 0; r < n; ++r) {
      double bound = kRelativeTolerance * ref.magnitude[r];
      for (uint32_t block = 0; block < k / 32; ++block) {
        float largest = 0.0f, weights = 0.0f;
        for (uint32_t i = block * 32; i < block * 32 + 32; ++i) {
          largest = std::max(largest, std::abs(x[i]));
          weights += std::abs(w.dequantised[size_t(r) * k + i]);
        }
        bound += double(weights) * largest / 254.0 * (1 + 1e-6);
      }
      const double error = std::abs(y[r] - ref.y[r]);
      EXPECT_LE(error, bound) << nameOf(quant) << " row " << r;
      largest_error = std::max(largest_error, error / ref.magnitude[r]);
    }
    EXPECT_GT(largest_error, 1e-5) << nameOf(quant) << ": x was not quantised, the reference above is the wrong one";
  }
}

TEST_F(QuantKernelNumericsTest, DecodesEveryCodeOfBothSchemes) {
  // Hand-made segments holding every byte value (q8: -128 .. 127, including
  // -128, which quantizeRows never writes) and every nibble (q4: codes 0 .. 15,
  // i.e. -8 .. 7, in both nibble positions), with distinct power-of-two scales.
  // Each output is then a single dequantised weight: exact from matmul_quant and
  // matvec_quant; from matvec_quant_dot, which multiplies by x's block scale
  // 1/127 and its code 127, to float32 rounding (a wrong code is off by at least
  // 1/127 of it).
  for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
    const uint32_t k = 32, rows = 8;
    QuantisedWeight w{quant, rows, k, *blockQuantLayout(schemeOf(quant), rows, k), {}, {}};
    std::vector<std::byte> quants(w.layout.quants_bytes);
    for (size_t i = 0; i < quants.size(); ++i) {
      // q4: (i * 7) mod 256 walks every low and high nibble pair across the rows.
      quants[i] = std::byte(uint8_t(quant == BlockQuant::kQ8 ? i : i * 7));
    }
    std::vector<uint16_t> scales(rows);
    for (uint32_t r = 0; r < rows; ++r) scales[r] = uint16_t(0x3f80 + 0x80 * r - 0x200);  // 2^(r-4)
    fillFromParts(w, quants, scales);
    // Token t's x is the one-hot vector e_t, so y[t, r] = W'[r, t]: the whole
    // matrix comes back transposed, from both kernels.
    std::vector<float> x(size_t(k) * k, 0.0f);
    for (uint32_t t = 0; t < k; ++t) x[size_t(t) * k + t] = 1.0f;
    gpu::GpuBuffer x_buffer = upload(x, "x");
    gpu::GpuBuffer w_buffer = upload(w.segment, "w");
    for (int which : {0, 1, 2}) {  // matvec_quant, matvec_quant_dot, matmul_quant
      const bool matvec = which < 2, dot = which == 1;
      gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(k) * rows, 0.0f), "y");
      KernelRequest request = !matvec ? quantMatmulKernel(quant, k, rows) : kMatvecKinds[which].request(quant, k, rows, 4, 8);
      std::array<uint32_t, 3> groups = matvec ? std::array<uint32_t, 3>{rows / 4, k, 1} : std::array<uint32_t, 3>{1, 1, 1};
      run({wholeWeight(request, x_buffer, w_buffer, y_buffer, w, k, rows, k, groups)});
      std::vector<float> y = download(y_buffer, size_t(k) * rows);
      for (uint32_t t = 0; t < k; ++t) {
        for (uint32_t r = 0; r < rows; ++r) {
          const float want = w.dequantised[size_t(r) * k + t];
          if (dot) {
            ASSERT_NEAR(y[size_t(t) * rows + r], want, 1e-6 * std::abs(want))
                << request.kernel << " " << nameOf(quant) << " row " << r << " column " << t;
          } else {
            ASSERT_EQ(y[size_t(t) * rows + r], want)
                << request.kernel << " " << nameOf(quant) << " row " << r << " column " << t;
          }
        }
      }
    }
  }
}

TEST_F(QuantKernelNumericsTest, MatvecRowSplitFindsEachSlicesQuantsAndScales) {
  // A weight too large for one binding: three dispatches over rows [0, 7),
  // [7, 16), [16, 21), each binding the windows quantWeightSlice gives (offsets
  // rounded down to the alignment, bases for the rest) and writing y at its own
  // base. K = 96 has 3 blocks per row, so slices start their scales mid-word.
  // Both the largest alignment Vulkan allows and this device's own are tried.
  const uint32_t k = 96, n = 21;
  const std::vector<std::pair<uint32_t, uint32_t>> slices = {{0, 7}, {7, 16}, {16, 21}};
  const uint64_t device_alignment = device_->capabilities().min_storage_buffer_offset_alignment;
  for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
    QuantisedWeight w = quantisedRandom(quant, n, k, 300);
    std::vector<float> x = randomFloats(k, 2.0f, 301);
    for (const MatvecKind& kind : kMatvecKinds)
    for (uint64_t alignment : {uint64_t{256}, device_alignment}) {
      Reference ref = kind.reference(x, k, w, 1);
      gpu::GpuBuffer x_buffer = upload(x, "x");
      gpu::GpuBuffer w_buffer = upload(w.segment, "w");
      gpu::GpuBuffer y_buffer = upload(std::vector<float>(n, 0.0f), "y");
      std::vector<Dispatch> dispatches;
      for (auto [begin, end] : slices) {
        QuantWeightSlice slice = quantWeightSlice(quant, n, k, begin, end, alignment);
        EXPECT_EQ(slice.quants_offset % alignment, 0u);
        EXPECT_EQ(slice.scales_offset % alignment, 0u);
        // The windows hold only what the slice needs, plus at most the alignment.
        EXPECT_LE(slice.quants_range, (end - begin) * w.layout.quant_row_bytes + alignment);
        EXPECT_LE(slice.scales_range, (end - begin) * w.layout.blocks_per_row * 2 + alignment + 2);
        dispatches.push_back({kind.request(quant, k, end - begin, 4, 16),
                              {{{&x_buffer, 0, VK_WHOLE_SIZE},
                                {&w_buffer, slice.quants_offset, slice.quants_range},
                                {&y_buffer, 0, VK_WHOLE_SIZE},
                                {&w_buffer, slice.scales_offset, slice.scales_range}}},
                              pushWords(QuantMatmulPush{0, k, slice.quant_base, begin, n, 1, slice.scale_base}),
                              {(end - begin + 3) / 4, 1, 1}});
      }
      run(dispatches);
      expectProductClose(download(y_buffer, n), n, ref, 1, n, 0.0f,
                         std::string(kind.name) + " split " + nameOf(quant) + " alignment " + std::to_string(alignment));
    }
  }
}

TEST_F(QuantKernelNumericsTest, MatvecAppliesFinalLogitSoftcap) {
  // The tied LM head over a quantised embedding. Tolerance: 1e-5 absolute on
  // logits capped at 3 (tanh's slope is at most 1, so the product's bound carries over).
  const uint32_t k = 64, n = 9;
  const float cap = 3.0f;
  for (const MatvecKind& kind : kMatvecKinds) {
    for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
      QuantisedWeight w = quantisedRandom(quant, n, k, 400);
      std::vector<float> x = randomFloats(k, 3.0f, 401);
      Reference ref = kind.reference(x, k, w, 1);
      gpu::GpuBuffer x_buffer = upload(x, "x");
      gpu::GpuBuffer w_buffer = upload(w.segment, "w");
      gpu::GpuBuffer y_buffer = upload(std::vector<float>(n, 0.0f), "y");
      run({wholeWeight(kind.request(quant, k, n, 2, 16, cap), x_buffer, w_buffer, y_buffer, w, k, n, 1,
                       {5, 1, 1})});
      std::vector<float> y = download(y_buffer, n);
      bool some_capped = false;
      for (uint32_t r = 0; r < n; ++r) {
        double want = cap * std::tanh(ref.y[r] / cap);
        double slack = ref.slack.empty() ? 0.0 : ref.slack[r];
        EXPECT_NEAR(y[r], want, 1e-5 + kRelativeTolerance * ref.magnitude[r] + slack)
            << kind.name << " " << nameOf(quant) << " row " << r;
        some_capped |= std::abs(ref.y[r]) > cap;
      }
      EXPECT_TRUE(some_capped) << "the inputs should drive some logits past the cap";
    }
  }
}

// ---------------------------------------------------------------- embedding

TEST_F(QuantKernelNumericsTest, EmbeddingLooksUpDequantisedRowsFromItsRowSlices) {
  // A 21-row table with K = 96 (3 blocks: rows' scales start mid-word), bound
  // as a split table is (passes/WeightRowSlices.h, here forced to 3 slices or
  // as few as keep them aligned: the quants as one array binding, the scales
  // part as one binding) and whole (one slice). Tokens hit every slice, its
  // first and last row, one id repeats and one is past the table (its row
  // stays). hidden = W'[id] * EMBED_SCALE with the single float32 rounding of
  // that multiply, so the comparison is exact.
  const uint32_t rows = 21, k = 96, out_stride = k + 4;
  const std::vector<uint32_t> ids = {20, 0, 8, 15, 16, 8, 7, 21};
  const float embed_scale = std::sqrt(float(k));
  for (uint32_t min_slices : {3u, 1u}) {
    for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
      QuantisedWeight w = quantisedRandom(quant, rows, k, 800);
      const uint64_t bytes = w.segment.size(), scales_offset = w.layout.scales_offset;
      const std::vector<WeightRowSlice> slices = weightRowSlices(rows, k, quant, bytes, scales_offset, min_slices);
      const bool split = slices.size() > 1;
      ASSERT_EQ(split, min_slices > 1) << nameOf(quant);
      gpu::GpuBuffer ids_buffer = upload(ids, "ids");
      gpu::GpuBuffer w_buffer = upload(w.segment, "w");
      const float sentinel = -77.0f;
      gpu::GpuBuffer out_buffer = upload(std::vector<float>(ids.size() * out_stride, sentinel), "hidden");
      const uint32_t scale_base = split ? 0 : slices[0].scale_base;
      Dispatch lookup{quantEmbeddingKernel(quant, k, std::sqrt(double(k)), 16, uint32_t(slices.size())),
                      {},
                      pushWords(QuantEmbeddingPush{0, slices[0].data_base, slices[0].row_count, rows, 0, out_stride,
                                                   uint32_t(ids.size()), scale_base}),
                      {uint32_t(ids.size()), 1, 1}};
      lookup.descriptors.push_back({&ids_buffer, 0, VK_WHOLE_SIZE});
      for (const WeightRowSlice& s : slices) {
        lookup.descriptors.push_back({&w_buffer, s.data_offset, s.data_range ? s.data_range : VK_WHOLE_SIZE});
      }
      lookup.descriptors.push_back({&out_buffer, 0, VK_WHOLE_SIZE});
      lookup.descriptors.push_back({&w_buffer, split ? scales_offset : 0, split ? bytes - scales_offset : VK_WHOLE_SIZE});
      run({lookup});
      std::vector<float> hidden = download(out_buffer, ids.size() * out_stride);
      for (size_t t = 0; t < ids.size(); ++t) {
        for (uint32_t i = 0; i < out_stride; ++i) {
          const float want = i < k && ids[t] < rows ? w.dequantised[size_t(ids[t]) * k + i] * embed_scale : sentinel;
          ASSERT_EQ(hidden[t * out_stride + i], want) << nameOf(quant) << ", " << slices.size() << " slice(s): token "
                                                       << t << " (id " << ids[t] << ") element " << i;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- matmul

TEST_F(QuantKernelNumericsTest, MatmulTilesMatchDequantisedReferenceWithRaggedEdges) {
  // T and N not multiples of the 64 x 64 tile (and N beyond one: two tiles of
  // rows); K of 1, 3 and 5 blocks (one block a step); x rows strided past K.
  // Split-K over 5 blocks too: 2 splits of 3 and 2 steps, 4 of 2, 2, 1 and
  // none; the counts back at zero after each.
  const uint32_t n = 77;
  for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
    for (uint32_t k : {32u, 96u, 160u}) {
      QuantisedWeight w = quantisedRandom(quant, n, k, 500 + k);
      for (uint32_t tokens : {1u, 37u, 70u}) {
        const uint32_t x_stride = k + 4, y_stride = n + 1;
        std::vector<float> x = randomFloats(size_t(tokens) * x_stride, 2.0f, 600 + k + tokens);
        Reference ref = referenceProduct(x, x_stride, w, tokens);
        gpu::GpuBuffer x_buffer = upload(x, "x");
        gpu::GpuBuffer w_buffer = upload(w.segment, "w");
        for (uint32_t splits : k == 160 ? std::vector<uint32_t>{1, 2, 4} : std::vector<uint32_t>{1}) {
          const std::string what = std::string("matmul ") + nameOf(quant) + " K=" + std::to_string(k) +
                                   " T=" + std::to_string(tokens) + " splits=" + std::to_string(splits);
          expectSplitMatmul(quantMatmulKernel(quant, k, n, 0.0f, splits), splits, x_buffer, w_buffer, w, x_stride,
                            y_stride, tokens, ref, what);
        }
      }
    }
  }
}

TEST_F(QuantKernelNumericsTest, RowBoundsAreEachRowsLargestScaleTimesTheLargestQuant) {
  // 13 rows of K = 96 (3 blocks; row 1's first block all zero), their scales
  // read where an unsplit matrix binds them (the whole segment, from S); 8
  // rows a workgroup, the second ragged (its last 3 slots kept). Every
  // dequantised weight is scale * quant, so the bound is the largest |scale|
  // times 128 (q8) or 8 (q4): exact, compared bit for bit, and at least
  // every |w| of its row.
  const uint32_t rows = 13, k = 96;
  for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
    QuantisedWeight w = quantisedRandom(quant, rows, k, 950 + quantBits(quant));
    gpu::GpuBuffer w_buffer = upload(w.segment, "w");
    const float kept = -7.0f;
    gpu::GpuBuffer out = upload(std::vector<float>(16, kept), "bounds");
    Dispatch d{rowBoundsKernel(k, quantBits(quant), 256), {{{&w_buffer, 0, VK_WHOLE_SIZE}, {&out, 0, VK_WHOLE_SIZE}}},
               pushWords(RowBoundsPush{uint32_t(w.layout.scales_offset / 2), rows}), {2, 1, 1}};
    run({d});
    const std::vector<float> got = download(out, 16);
    for (uint32_t r = 0; r < 16; ++r) {
      float want = kept;
      if (r < rows) {
        float largest_scale = 0.0f;
        for (uint32_t b = 0; b < k / 32; ++b) {
          uint16_t bits;
          std::memcpy(&bits, w.segment.data() + w.layout.scales_offset + 2 * (size_t(r) * (k / 32) + b), 2);
          const uint32_t word = uint32_t(bits) << 16;
          float scale;
          std::memcpy(&scale, &word, 4);
          largest_scale = std::max(largest_scale, std::fabs(scale));
        }
        want = largest_scale * (quant == BlockQuant::kQ8 ? 128.0f : 8.0f);
        for (uint32_t i = 0; i < k; ++i) {
          EXPECT_LE(std::fabs(w.dequantised[size_t(r) * k + i]), got[r]) << nameOf(quant) << " row " << r;
        }
      }
      EXPECT_EQ(got[r], want) << nameOf(quant) << " row " << r;
    }
  }
}

TEST_F(QuantKernelNumericsTest, CoopMatmulMatchesDequantisedReferenceOrTheDeviceIsRefusedByName) {
  // matmul_quant_coop runs only where the device has cooperative-matrix units
  // for 16x16x16 fp16 products into fp32 and subgroups of 32; elsewhere the
  // runtime must say why (the executor then runs matmul_quant). Both are
  // checked: which one depends on the device the test runs on. 2 token tiles
  // x 3 row tiles of its 128 x 128, ragged both ways (it renumbers its
  // workgroups and leaves most of the grid idle); K of 3 blocks; x rows
  // strided past K, with tokens beyond fp16's range and far below it (each
  // scaled by its own power of two); blocks over four decades (each row's
  // scale from its own block scales); unsplit and split-K. Tolerance: a q4 weight stages into fp16
  // exactly, so the bound above; a q8 one is rounded to fp16's 11 bits (a
  // relative error of at most 2^-12 each), so 2^-12 of sum |x W'| on top.
  const uint32_t tokens = 140, k = 96, n = 300, x_stride = k + 4, y_stride = n + 1;
  const float sentinel = 999.0f;
  for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
    const KernelRequest request = coopQuantMatmulKernel(quant, k, n);
    if (!test_support::runsOnMatrixUnits(*device_, request, compiled(request))) return;
    QuantisedWeight w = quantisedRandom(quant, n, k, 900 + quantBits(quant));
    std::vector<float> x = randomFloats(size_t(tokens) * x_stride, 2.0f, 910);
    for (uint32_t i = 0; i < k; ++i) {
      x[3 * x_stride + i] *= 1e6f, x[5 * x_stride + i] *= 1e-6f, x[130 * x_stride + i] *= 1e5f;
    }
    Reference ref = referenceProduct(x, x_stride, w, tokens);
    if (quant == BlockQuant::kQ8) {
      ref.slack.resize(ref.magnitude.size());
      for (size_t i = 0; i < ref.magnitude.size(); ++i) ref.slack[i] = std::ldexp(ref.magnitude[i], -12);
    }
    gpu::GpuBuffer x_buffer = upload(x, "x");
    gpu::GpuBuffer w_buffer = upload(w.segment, "w");
    gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * y_stride, sentinel), "y");
    run({wholeWeight(request, x_buffer, w_buffer, y_buffer, w, x_stride, y_stride, tokens,
                     {(n + 63) / 64, (tokens + 63) / 64, 1})});
    expectProductClose(download(y_buffer, size_t(tokens) * y_stride), y_stride, ref, tokens, n, sentinel,
                       std::string("coop matmul ") + nameOf(quant));
    // Split-K (main_split): K's 3 steps as 2 + 1, and as 1 + 1 + 1 with a fourth split empty.
    for (uint32_t splits : {2u, 4u}) {
      expectSplitMatmul(coopQuantMatmulKernel(quant, k, n, 0.0f, splits), splits, x_buffer, w_buffer, w, x_stride,
                        y_stride, tokens, ref,
                        std::string("coop matmul ") + nameOf(quant) + " splits=" + std::to_string(splits));
    }
  }
}

TEST_F(QuantKernelNumericsTest, MatmulRowSplitWithSoftcap) {
  // Prefill through a split LM head: two slices at the device's alignment, each
  // capping its logits; 19 tokens.
  const uint32_t k = 160, n = 30, tokens = 19, split = 11;
  const float cap = 2.0f;
  const uint64_t alignment = device_->capabilities().min_storage_buffer_offset_alignment;
  for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
    QuantisedWeight w = quantisedRandom(quant, n, k, 800);
    std::vector<float> x = randomFloats(size_t(tokens) * k, 2.0f, 801);
    Reference ref = referenceProduct(x, k, w, tokens);
    gpu::GpuBuffer x_buffer = upload(x, "x");
    gpu::GpuBuffer w_buffer = upload(w.segment, "w");
    gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * n, 0.0f), "y");
    std::vector<Dispatch> dispatches;
    for (auto [begin, end] : {std::pair{0u, split}, std::pair{split, n}}) {
      QuantWeightSlice slice = quantWeightSlice(quant, n, k, begin, end, alignment);
      dispatches.push_back({quantMatmulKernel(quant, k, end - begin, cap),
                            {{{&x_buffer, 0, VK_WHOLE_SIZE},
                              {&w_buffer, slice.quants_offset, slice.quants_range},
                              {&y_buffer, 0, VK_WHOLE_SIZE},
                              {&w_buffer, slice.scales_offset, slice.scales_range}}},
                            pushWords(QuantMatmulPush{0, k, slice.quant_base, begin, n, tokens, slice.scale_base}),
                            {(end - begin + 63) / 64, (tokens + 63) / 64, 1}});
    }
    run(dispatches);
    std::vector<float> y = download(y_buffer, size_t(tokens) * n);
    for (size_t i = 0; i < y.size(); ++i) {
      double want = cap * std::tanh(ref.y[i] / cap);
      EXPECT_NEAR(y[i], want, 1e-5 + kRelativeTolerance * ref.magnitude[i]) << nameOf(quant) << " element " << i;
    }
  }
}

TEST_F(QuantKernelNumericsTest, ResultsAreBitwiseReproducible) {
  // The reduction order is fixed (no atomics, partials folded in subgroup
  // order), so a rerun gives the same bits: greedy decoding must not flicker.
  const uint32_t k = 512, n = 37, tokens = 2;
  QuantisedWeight w = quantisedRandom(BlockQuant::kQ4, n, k, 900);
  std::vector<float> x = randomFloats(size_t(tokens) * k, 2.0f, 901);
  gpu::GpuBuffer x_buffer = upload(x, "x");
  gpu::GpuBuffer w_buffer = upload(w.segment, "w");
  std::vector<std::vector<float>> results;
  for (int repeat = 0; repeat < 2; ++repeat) {
    for (int which : {0, 1, 2}) {  // matvec_quant, matvec_quant_dot, matmul_quant
      const bool matvec = which < 2;
      gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * n, 0.0f), "y");
      KernelRequest request = matvec ? kMatvecKinds[which].request(BlockQuant::kQ4, k, n, 4, 64)
                                     : quantMatmulKernel(BlockQuant::kQ4, k, n);
      std::array<uint32_t, 3> groups = matvec ? std::array<uint32_t, 3>{(n + 3) / 4, tokens, 1}
                                              : std::array<uint32_t, 3>{(n + 63) / 64, 1, 1};
      run({wholeWeight(request, x_buffer, w_buffer, y_buffer, w, k, n, tokens, groups)});
      results.push_back(download(y_buffer, size_t(tokens) * n));
    }
  }
  EXPECT_EQ(results[0], results[3]) << "matvec_quant";
  EXPECT_EQ(results[1], results[4]) << "matvec_quant_dot";
  EXPECT_EQ(results[2], results[5]) << "matmul_quant";
}

}  // namespace
}  // namespace unicorn::spirv
