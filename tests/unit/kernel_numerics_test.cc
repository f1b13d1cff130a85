// Runs every kernel of the SPIR-V library on a real Vulkan device (Mesa
// llvmpipe in CI: a software device, allowed explicitly) and compares it with a
// straightforward double-precision reference of the same formula written here.
// Inputs are random from fixed seeds; each kernel's tolerance is stated beside
// its test. Shapes are small but chosen to hit the edges: rows that do not fill
// a workgroup, workgroups smaller than a subgroup, GQA groups, a sliding
// window over a wrapped KV ring, ties in argmax.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "codegen_spirv/kernel_library.h"
#include "codegen_spirv/kernel_push_constants.h"
#include "codegen_spirv/kernel_specs.h"
#include "codegen_spirv/spirv_kernel_compiler.h"
#include "runtime/gpu/command_stream.h"
#include "runtime/gpu/compute_pipeline.h"
#include "runtime/gpu/descriptor_pool.h"
#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/gpu_device.h"
#include "tests/support/gelu_reference.h"
#include "tests/support/kernel_pipeline.h"
#include "tests/support/matrix_units.h"

namespace unicorn::spirv {
namespace {

// ---------------------------------------------------------------- host data

uint16_t toBf16(float value) {  // round to nearest even, as the checkpoint converter does
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  bits += 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>(bits >> 16);
}
float fromBf16(uint16_t half) {
  uint32_t bits = static_cast<uint32_t>(half) << 16;
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

// A bf16 tensor as the GPU sees it (packed pairs) and as the reference sees it.
struct Bf16Tensor {
  std::vector<uint16_t> packed;
  std::vector<float> values;  // exactly the bf16 values, widened
};
Bf16Tensor randomBf16(size_t count, float scale, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-scale, scale);
  Bf16Tensor tensor;
  for (size_t i = 0; i < count; ++i) {
    tensor.packed.push_back(toBf16(uniform(random)));
    tensor.values.push_back(fromBf16(tensor.packed.back()));
  }
  return tensor;
}
std::vector<float> randomFloats(size_t count, float scale, uint32_t seed) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> uniform(-scale, scale);
  std::vector<float> values(count);
  for (float& v : values) v = uniform(random);
  return values;
}

template <typename T>
std::span<const std::byte> bytesOf(const std::vector<T>& values) {
  return std::as_bytes(std::span(values));
}

// ---------------------------------------------------------------- GPU harness

// Split-K's partials and counts (split_k.glsl) for a split matmul kernel's
// last two bindings, the counts zero as the runtime leaves activation buffers.
struct SplitScratch {
  gpu::GpuBuffer partials, counts;
  uint32_t tiles;
};

class KernelNumericsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // The first device by the runtime's own rules; llvmpipe is allowed because
    // tests run where no GPU exists (DESIGN.md: tests ask for it).
    device_ = gpu::GpuDevice::open({"", /*allow_software_gpu=*/true}).release();
  }
  static void TearDownTestSuite() {
    delete device_;
    device_ = nullptr;
  }

  // A host-visible storage buffer holding `values` (at least 4 bytes).
  template <typename T>
  gpu::GpuBuffer upload(const std::vector<T>& values, const std::string& label) {
    size_t bytes = std::max<size_t>(values.size() * sizeof(T), 4);
    gpu::GpuBuffer buffer = gpu::GpuBuffer::allocate(*device_, bytes, gpu::MemoryPlacement::kHostVisible, label);
    if (!values.empty()) buffer.write(0, bytesOf(values));
    return buffer;
  }
  template <typename T>
  std::vector<T> download(const gpu::GpuBuffer& buffer, size_t count) {
    std::vector<T> values(count);
    buffer.read(0, std::as_writable_bytes(std::span(values)));
    return values;
  }

  // Compiles `request`, binds `buffers` to its descriptors (bindings 0..N-1,
  // an array binding's elements in turn), dispatches once and waits.
  template <typename Push>
  void run(const KernelRequest& request, std::vector<const gpu::GpuBuffer*> buffers, const Push& push,
           std::array<uint32_t, 3> groups) {
    const KernelInfo& info = KernelLibrary::builtin().get(request.kernel);
    ASSERT_EQ(sizeof(Push), info.push_constant_bytes);
    ASSERT_EQ(buffers.size(), info.descriptorCount(request.defines));
    gpu::ComputePipeline pipeline = test_support::kernelPipeline(*device_, request);
    gpu::DescriptorPool pool = gpu::DescriptorPool::create(*device_, 1, info.descriptorCount(request.defines));
    std::vector<gpu::BufferBinding> bindings;
    for (const gpu::GpuBuffer* buffer : buffers) bindings.push_back({buffer, 0, VK_WHOLE_SIZE});
    VkDescriptorSet set = pool.allocate(pipeline, bindings);
    gpu::CommandStream stream(*device_);
    stream.begin();
    stream.dispatch(pipeline, set, push, groups);
    stream.memoryBarrier(gpu::Hazard::kComputeToHost);
    stream.end();
    stream.submitAndWait();
  }

  // Split-K's two buffers for a product of n rows over `tokens`, zeroed.
  SplitScratch splitScratch(uint32_t tokens, uint32_t n, uint32_t splits) {
    const uint32_t tiles = static_cast<uint32_t>(splitKCounts(tokens, n));
    return {upload(std::vector<float>(splitKPartialFloats(tokens, n, splits), 0.0f), "partials"),
            upload(std::vector<uint32_t>(tiles, 0u), "counts"), tiles};
  }

  static gpu::GpuDevice* device_;
};
gpu::GpuDevice* KernelNumericsTest::device_ = nullptr;

// |got - want| <= tolerance, reporting the first few misses with their index.
void expectClose(const std::vector<float>& got, const std::vector<double>& want, double tolerance,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  int reported = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!(std::abs(got[i] - want[i]) <= tolerance) && reported++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i] << " (tolerance "
                    << tolerance << ")";
    }
  }
}
double maxAbs(const std::vector<double>& values) {
  double m = 0;
  for (double v : values) m = std::max(m, std::abs(v));
  return m;
}

// ---------------------------------------------------------------- embedding

TEST_F(KernelNumericsTest, EmbeddingGathersScaledRowsFromItsRowSlices) {
  // Tolerance: one float32 rounding of bf16 * sqrt(hidden): 1e-6 relative.
  const uint32_t hidden = 40, vocab = 11, tokens = 8;
  Bf16Tensor table = randomBf16(size_t(vocab) * hidden, 1.0f, 1);
  // Three slices as a split table binds them: rows [0, 4), [4, 8), [8, 11).
  const uint32_t rows_per_slice = 4;
  std::vector<gpu::GpuBuffer> slices;
  for (uint32_t begin = 0; begin < vocab; begin += rows_per_slice) {
    const uint32_t end = std::min(vocab, begin + rows_per_slice);
    slices.push_back(upload(std::vector<uint16_t>(table.packed.begin() + begin * hidden,
                                                  table.packed.begin() + end * hidden),
                            "slice " + std::to_string(slices.size())));
  }
  // Every slice's first and last rows; 11 is past the table: its row stays.
  std::vector<uint32_t> ids = {3, 10, 0, 4, 7, 8, 11, 5};
  const uint32_t stride = hidden + 3;  // rows of a wider activation buffer
  const float sentinel = -777.0f;
  gpu::GpuBuffer id_buffer = upload(ids, "ids");
  const double scale = std::sqrt(double(hidden));
  auto expectRows = [&](const std::vector<float>& got, const std::string& what) {
    for (uint32_t t = 0; t < tokens; ++t) {
      for (uint32_t i = 0; i < hidden; ++i) {
        if (ids[t] >= vocab) {
          EXPECT_EQ(got[t * stride + i], sentinel) << what << ": token " << t << " (id past the table) written";
          continue;
        }
        double want = table.values[size_t(ids[t]) * hidden + i] * scale;
        EXPECT_NEAR(got[t * stride + i], want, 1e-6 * std::abs(want) + 1e-12) << what << ": token " << t << " element " << i;
      }
      for (uint32_t i = hidden; i < stride; ++i) EXPECT_EQ(got[t * stride + i], sentinel) << what << ": padding written";
    }
  };
  {
    gpu::GpuBuffer out = upload(std::vector<float>(tokens * stride, sentinel), "hidden");
    run(embeddingKernel(hidden, scale, 8, 3), {&id_buffer, &slices[0], &slices[1], &slices[2], &out},
        EmbeddingPush{0, 0, rows_per_slice, vocab, 0, stride, tokens}, {tokens, 1, 1});
    expectRows(download<float>(out, tokens * stride), "three slices");
  }
  {
    // One slice, the whole table behind 6 words of something else (table_base).
    std::vector<uint16_t> behind(12, 0xFFFF);
    behind.insert(behind.end(), table.packed.begin(), table.packed.end());
    gpu::GpuBuffer whole = upload(behind, "table");
    gpu::GpuBuffer out = upload(std::vector<float>(tokens * stride, sentinel), "hidden");
    run(embeddingKernel(hidden, scale, 8), {&id_buffer, &whole, &out}, EmbeddingPush{0, 6, vocab, vocab, 0, stride, tokens},
        {tokens, 1, 1});
    expectRows(download<float>(out, tokens * stride), "one slice");
  }
}

// ---------------------------------------------------------------- RMSNorm

std::vector<double> referenceRmsNorm(const std::vector<float>& x, const std::vector<float>& weight, uint32_t width,
                                     uint32_t tokens, double eps) {
  std::vector<double> y(size_t(tokens) * width);
  for (uint32_t t = 0; t < tokens; ++t) {
    double sum = 0;
    for (uint32_t i = 0; i < width; ++i) sum += double(x[t * width + i]) * x[t * width + i];
    double inverse_rms = 1.0 / std::sqrt(sum / width + eps);
    for (uint32_t i = 0; i < width; ++i) y[t * width + i] = x[t * width + i] * inverse_rms * (1.0 + weight[i]);
  }
  return y;
}

TEST_F(KernelNumericsTest, RmsNormMatchesReferenceForSeveralWorkgroupSizes) {
  // Tolerance: 2e-6 relative to the row's largest output (float32 sum of squares).
  // Widths from under one vec4 per invocation to 27B's 5376 (six per invocation
  // at 256, the last partly past the row's end). Not 5376 at 4 invocations (336
  // vec4 an invocation, no schedule's shape): with it the test took 9 s alone
  // under the sanitizers, and beside other llvmpipe tests on 2 cores its
  // submission outlasted the 60 s timeout.
  struct Case {
    uint32_t width;
    std::vector<uint32_t> workgroups;
  };
  const uint32_t tokens = 3;
  const float eps = 1e-6f;
  for (const Case& c : {Case{100, {4, 64, 256}}, Case{5376, {64, 256}}}) {
    const uint32_t width = c.width;
    std::vector<float> x = randomFloats(width * tokens, 30.0f, 2);  // Gemma activations are large
    Bf16Tensor weight = randomBf16(width, 0.5f, 3);
    std::vector<double> want = referenceRmsNorm(x, weight.values, width, tokens, eps);
    for (uint32_t workgroup : c.workgroups) {
      gpu::GpuBuffer x_buffer = upload(x, "x");
      gpu::GpuBuffer w_buffer = upload(weight.packed, "w");
      gpu::GpuBuffer y_buffer = upload(std::vector<float>(width * tokens, 0.0f), "y");
      run(rmsNormKernel(width, eps, false, workgroup), {&x_buffer, &w_buffer, &y_buffer},
          RmsNormPush{0, width, 0, 0, width, tokens}, {tokens, 1, 1});
      expectClose(download<float>(y_buffer, width * tokens), want, 2e-6 * maxAbs(want),
                  "rms_norm WIDTH=" + std::to_string(width) + " WG_SIZE=" + std::to_string(workgroup));
    }
  }
}

TEST_F(KernelNumericsTest, RmsNormAddsIntoTheResidualStream) {
  // y = residual + rmsnorm(h); tolerance as above plus the residual's rounding.
  const uint32_t width = 64, tokens = 2;
  std::vector<float> h = randomFloats(width * tokens, 5.0f, 4);
  std::vector<float> residual = randomFloats(width * tokens, 100.0f, 5);
  Bf16Tensor weight = randomBf16(width, 0.5f, 6);
  std::vector<double> normed = referenceRmsNorm(h, weight.values, width, tokens, 1e-6);
  std::vector<double> want(width * tokens);
  for (size_t i = 0; i < want.size(); ++i) want[i] = residual[i] + normed[i];
  gpu::GpuBuffer h_buffer = upload(h, "h");
  gpu::GpuBuffer w_buffer = upload(weight.packed, "w");
  gpu::GpuBuffer y_buffer = upload(residual, "residual");
  run(rmsNormKernel(width, 1e-6f, true, 32), {&h_buffer, &w_buffer, &y_buffer},
      RmsNormPush{0, width, 0, 0, width, tokens}, {tokens, 1, 1});
  expectClose(download<float>(y_buffer, width * tokens), want, 2e-5, "rms_norm + residual");
}

TEST_F(KernelNumericsTest, RmsNormAddNormIsThePostNormAddThenTheNextNorm) {
  // sum = residual + rmsnorm(x, w) over the residual, normed = rmsnorm(sum, w_next);
  // tolerances as the two tests above. The schedule gives normed the rows of x
  // (x dies there): run both apart and over the same rows.
  const uint32_t tokens = 3;
  for (uint32_t width : {100u, 5376u}) {
    std::vector<float> x = randomFloats(width * tokens, 30.0f, 40);
    std::vector<float> residual = randomFloats(width * tokens, 100.0f, 41);
    Bf16Tensor weight = randomBf16(width, 0.5f, 42), next_weight = randomBf16(width, 0.5f, 43);
    std::vector<double> normed_x = referenceRmsNorm(x, weight.values, width, tokens, 1e-6);
    std::vector<double> want_sum(width * tokens);
    std::vector<float> sum(width * tokens);
    for (size_t i = 0; i < want_sum.size(); ++i) {
      want_sum[i] = residual[i] + normed_x[i];
      sum[i] = static_cast<float>(want_sum[i]);
    }
    std::vector<double> want_normed = referenceRmsNorm(sum, next_weight.values, width, tokens, 1e-5);
    for (uint32_t workgroup : {64u, 256u}) {
      for (bool over_x : {false, true}) {
        const std::string what = "rms_norm_add_norm WIDTH=" + std::to_string(width) +
                                 " WG_SIZE=" + std::to_string(workgroup) + (over_x ? " over x" : "");
        gpu::GpuBuffer x_buffer = upload(x, "x");
        gpu::GpuBuffer w_buffer = upload(weight.packed, "w");
        gpu::GpuBuffer next_w_buffer = upload(next_weight.packed, "w_next");
        gpu::GpuBuffer residual_buffer = upload(residual, "residual");
        gpu::GpuBuffer normed_buffer = upload(std::vector<float>(width * tokens, 0.0f), "normed");
        gpu::GpuBuffer& normed_out = over_x ? x_buffer : normed_buffer;
        run(rmsNormAddNormKernel(width, 1e-6f, 1e-5f, workgroup),
            {&x_buffer, &w_buffer, &residual_buffer, &next_w_buffer, &normed_out},
            RmsNormAddNormPush{0, width, 0, 0, width, 0, 0, width, tokens}, {tokens, 1, 1});
        expectClose(download<float>(residual_buffer, width * tokens), want_sum, 2e-5 * maxAbs(want_sum), what + " sum");
        expectClose(download<float>(normed_out, width * tokens), want_normed, 2e-6 * maxAbs(want_normed),
                    what + " normed");
      }
    }
  }
}

TEST_F(KernelNumericsTest, NormsQuantiseTheirRowsAsQuantizeActivationDoes) {
  // QUANT_BITS: rms_norm_add_norm's binding 5 (rms_norm's 3) gets normed quantised for the packed-integer
  // products, bit for bit what quantize_activation makes of the normed rows
  // the same dispatch wrote (both schemes' byte orders; rows of 5376, the 27B
  // width, over 256 invocations: 6 vec4 each, blocks across 8 of them; and of
  // 96 over 64, most invocations past the row). One block of a row is zero.
  const uint32_t tokens = 2;
  for (uint32_t width : {96u, 5376u}) {
    std::vector<float> x = randomFloats(width * tokens, 30.0f, 44);
    std::fill_n(x.begin() + 32, 32, 0.0f);
    std::vector<float> residual = randomFloats(width * tokens, 100.0f, 45);
    std::fill_n(residual.begin() + 32, 32, 0.0f);
    Bf16Tensor weight = randomBf16(width, 0.5f, 46), next_weight = randomBf16(width, 0.5f, 47);
    const uint32_t units = quantizedActivationUnits(width);
    for (BlockQuant quant : {BlockQuant::kQ8, BlockQuant::kQ4}) {
      const uint32_t workgroup = width > 256 ? 256 : 64;
      const std::string what = std::string("rms_norm_add_norm QUANT_BITS=") + (quant == BlockQuant::kQ8 ? "8" : "4") +
                               " WIDTH=" + std::to_string(width);
      gpu::GpuBuffer x_buffer = upload(x, "x");
      gpu::GpuBuffer w_buffer = upload(weight.packed, "w");
      gpu::GpuBuffer next_w_buffer = upload(next_weight.packed, "w_next");
      gpu::GpuBuffer residual_buffer = upload(residual, "residual");
      gpu::GpuBuffer normed = upload(std::vector<float>(width * tokens, 0.0f), "normed");
      gpu::GpuBuffer fused = upload(std::vector<uint32_t>(size_t(units) * 4 * tokens, 0xdeadbeefu), "qx fused");
      gpu::GpuBuffer alone = upload(std::vector<uint32_t>(size_t(units) * 4 * tokens, 0u), "qx alone");
      run(rmsNormAddNormKernel(width, 1e-6f, 1e-5f, workgroup, quant),
          {&x_buffer, &w_buffer, &residual_buffer, &next_w_buffer, &normed, &fused},
          RmsNormAddNormPush{0, width, 0, 0, width, 0, 0, width, tokens}, {tokens, 1, 1});
      run(quantizeActivationKernel(quant, width, 64), {&normed, &alone},
          QuantizeActivationPush{0, width, 0, units, tokens}, {(width / 32 + 63) / 64, tokens, 1});
      EXPECT_EQ(download<uint32_t>(fused, size_t(units) * 4 * tokens), download<uint32_t>(alone, size_t(units) * 4 * tokens))
          << what;
      // rms_norm's quantised output (the first layer's input norm), the same way.
      gpu::GpuBuffer plain = upload(std::vector<float>(width * tokens, 0.0f), "rms_norm out");
      gpu::GpuBuffer plain_fused = upload(std::vector<uint32_t>(size_t(units) * 4 * tokens, 0xdeadbeefu), "qx");
      run(rmsNormKernel(width, 1e-6f, false, workgroup, quant), {&x_buffer, &w_buffer, &plain, &plain_fused},
          RmsNormPush{0, width, 0, 0, width, tokens}, {tokens, 1, 1});
      run(quantizeActivationKernel(quant, width, 64), {&plain, &alone},
          QuantizeActivationPush{0, width, 0, units, tokens}, {(width / 32 + 63) / 64, tokens, 1});
      EXPECT_EQ(download<uint32_t>(plain_fused, size_t(units) * 4 * tokens),
                download<uint32_t>(alone, size_t(units) * 4 * tokens))
          << "rms_norm QUANT_BITS, " << what;
    }
  }
}

// ---------------------------------------------------------------- q/k norm + RoPE

// transformers' float32 inverse frequencies, computed here independently of the library.
std::vector<float> torchInverseFrequencies(uint32_t head_dim, float base, float factor) {
  std::vector<float> inverse;
  for (uint32_t i = 0; i < head_dim; i += 2) {
    inverse.push_back((1.0f / std::pow(base, float(i) / float(head_dim))) / factor);
  }
  return inverse;
}

// Per head: optional RMSNorm with the shared weight, then rotate-half RoPE. The
// angle is the float32 product position * inv_freq (as transformers computes
// it); everything after it is double.
std::vector<double> referenceHeadNormRope(const std::vector<float>& src, const std::vector<float>& weight,
                                          const std::vector<uint32_t>& positions, uint32_t heads, uint32_t head_dim,
                                          bool norm, const std::vector<float>& inverse_frequencies) {
  const uint32_t half = head_dim / 2;
  std::vector<double> out(src.size());
  for (size_t t = 0; t < positions.size(); ++t) {
    for (uint32_t h = 0; h < heads; ++h) {
      const float* x = &src[(t * heads + h) * head_dim];
      std::vector<double> v(x, x + head_dim);
      if (norm) {
        double sum = 0;
        for (double e : v) sum += e * e;
        double inverse_rms = 1.0 / std::sqrt(sum / head_dim + 1e-6);
        for (uint32_t i = 0; i < head_dim; ++i) v[i] = v[i] * inverse_rms * (1.0 + weight[i]);
      }
      double* y = &out[(t * heads + h) * head_dim];
      for (uint32_t i = 0; i < half; ++i) {
        double angle = float(positions[t]) * inverse_frequencies[i];  // float32 product
        y[i] = v[i] * std::cos(angle) - v[i + half] * std::sin(angle);
        y[i + half] = v[i + half] * std::cos(angle) + v[i] * std::sin(angle);
      }
    }
  }
  return out;
}

// A KV ring after a chunk's writes: slot position % capacity of each token
// holds its key (within 2e-5 of the reference) and its value (exactly); every
// other slot still holds the sentinel.
void expectRingSlots(const std::vector<float>& k_got, const std::vector<float>& v_got,
                     const std::vector<double>& k_want, const std::vector<float>& v_src,
                     const std::vector<uint32_t>& positions, uint32_t capacity, uint32_t slot_width, float sentinel,
                     const std::string& what) {
  for (uint32_t slot = 0; slot < capacity; ++slot) {
    int token = -1;
    for (uint32_t t = 0; t < positions.size(); ++t) token = positions[t] % capacity == slot ? int(t) : token;
    for (uint32_t e = 0; e < slot_width; ++e) {
      const size_t at = size_t(slot) * slot_width + e;
      if (token < 0) {
        ASSERT_EQ(k_got[at], sentinel) << what << ": slot " << slot << " overwritten";
        ASSERT_EQ(v_got[at], sentinel) << what << ": slot " << slot << " overwritten";
      } else {
        ASSERT_NEAR(k_got[at], k_want[token * slot_width + e], 2e-5) << what << ": slot " << slot;
        ASSERT_EQ(v_got[at], v_src[token * slot_width + e]) << what << ": slot " << slot;
      }
    }
  }
}

TEST_F(KernelNumericsTest, HeadNormRopeMatchesReferenceAtSmallAndLargePositions) {
  // Tolerance: 1e-5 relative to the largest output. Positions reach 131000 with
  // linear scaling, where an unreduced float32 angle would be off by radians.
  const uint32_t head_dim = 16, heads = 3;
  std::vector<uint32_t> positions = {0, 1, 7, 4095, 131000};
  const uint32_t tokens = uint32_t(positions.size());
  std::vector<float> src = randomFloats(size_t(tokens) * heads * head_dim, 4.0f, 7);
  Bf16Tensor weight = randomBf16(head_dim, 0.5f, 8);
  struct Case {
    float base, factor;
    uint32_t workgroup;
  };
  for (Case c : {Case{10000.0f, 1.0f, 4}, Case{1e6f, 8.0f, 64}}) {
    std::vector<double> want = referenceHeadNormRope(src, weight.values, positions, heads, head_dim, true,
                                                     torchInverseFrequencies(head_dim, c.base, c.factor));
    gpu::GpuBuffer src_buffer = upload(src, "qk");
    gpu::GpuBuffer w_buffer = upload(weight.packed, "norm");
    gpu::GpuBuffer pos_buffer = upload(positions, "positions");
    gpu::GpuBuffer dst = upload(std::vector<float>(src.size(), 0.0f), "out");
    run(headNormRopeKernel(head_dim, heads, 1e-6f, RopeParameters{c.base, c.factor}, c.workgroup),
        {&src_buffer, &w_buffer, &pos_buffer, &dst},
        HeadNormRopePush{0, heads * head_dim, 0, 0, 0, heads * head_dim, 0, tokens}, {heads, tokens, 1});
    expectClose(download<float>(dst, src.size()), want, 1e-5 * maxAbs(want),
                "head_norm_rope base " + std::to_string(c.base));
  }
}

TEST_F(KernelNumericsTest, HeadNormRopeWritesKeysAndValuesIntoRingSlots) {
  // K heads are normed + rotated into slot position % capacity; V heads (no
  // norm, no RoPE) are copied there exactly; other slots stay untouched. The
  // source rows are the K part of a fused QKV row (token stride > heads * D).
  const uint32_t head_dim = 8, kv_heads = 2, capacity = 5, row_width = 3 * kv_heads * head_dim;
  std::vector<uint32_t> positions = {12, 13, 14};  // slots 2, 3, 4; the ring has wrapped
  const uint32_t tokens = 3, slot_width = kv_heads * head_dim;
  std::vector<float> qkv = randomFloats(size_t(tokens) * row_width, 3.0f, 9);
  Bf16Tensor weight = randomBf16(head_dim, 0.5f, 10);
  const float sentinel = 12345.0f;
  gpu::GpuBuffer qkv_buffer = upload(qkv, "qkv");
  gpu::GpuBuffer w_buffer = upload(weight.packed, "k_norm");
  gpu::GpuBuffer pos_buffer = upload(positions, "positions");
  gpu::GpuBuffer k_cache = upload(std::vector<float>(capacity * slot_width, sentinel), "k_cache");
  gpu::GpuBuffer v_cache = upload(std::vector<float>(capacity * slot_width, sentinel), "v_cache");
  const uint32_t k_offset = kv_heads * head_dim, v_offset = 2 * kv_heads * head_dim;
  run(headNormRopeKernel(head_dim, kv_heads, 1e-6f, RopeParameters{10000.0, 1.0}, 8),
      {&qkv_buffer, &w_buffer, &pos_buffer, &k_cache},
      HeadNormRopePush{k_offset, row_width, 0, 0, 0, slot_width, capacity, tokens}, {kv_heads, tokens, 1});
  run(headNormRopeKernel(head_dim, kv_heads, std::nullopt, std::nullopt, 8),
      {&qkv_buffer, &w_buffer, &pos_buffer, &v_cache},
      HeadNormRopePush{v_offset, row_width, 0, 0, 0, slot_width, capacity, tokens}, {kv_heads, tokens, 1});

  std::vector<float> k_src, v_src;
  for (uint32_t t = 0; t < tokens; ++t) {
    k_src.insert(k_src.end(), &qkv[t * row_width + k_offset], &qkv[t * row_width + k_offset + slot_width]);
    v_src.insert(v_src.end(), &qkv[t * row_width + v_offset], &qkv[t * row_width + v_offset + slot_width]);
  }
  std::vector<double> k_want = referenceHeadNormRope(k_src, weight.values, positions, kv_heads, head_dim, true,
                                                     torchInverseFrequencies(head_dim, 10000.0f, 1.0f));
  expectRingSlots(download<float>(k_cache, capacity * slot_width), download<float>(v_cache, capacity * slot_width),
                  k_want, v_src, positions, capacity, slot_width, sentinel, "head_norm_rope");
}

TEST_F(KernelNumericsTest, QkvNormRopeDoesTheLayersThreeHeadKindsInOneDispatch) {
  // From fused q|k|v rows (GQA: 4 query heads, 2 kv heads): queries normed with
  // q_norm and rotated into dense rows, keys normed with k_norm and rotated into
  // ring slot position % capacity, values copied there exactly; other slots stay
  // untouched. Tolerance 2e-5 (as head_norm_rope's), head_dim 256 (Gemma 3 1B:
  // two pairs per invocation at 64) and 16 (fewer pairs than invocations).
  for (uint32_t head_dim : {16u, 256u}) {
    const uint32_t q_heads = 4, kv_heads = 2, capacity = 5;
    const uint32_t q_width = q_heads * head_dim, slot_width = kv_heads * head_dim, row_width = q_width + 2 * slot_width;
    std::vector<uint32_t> positions = {12, 13, 14};  // slots 2, 3, 4; the ring has wrapped
    const uint32_t tokens = 3;
    std::vector<float> qkv = randomFloats(size_t(tokens) * row_width, 3.0f, 44);
    Bf16Tensor q_norm = randomBf16(head_dim, 0.5f, 45), k_norm = randomBf16(head_dim, 0.5f, 46);
    const float sentinel = 12345.0f;
    gpu::GpuBuffer qkv_buffer = upload(qkv, "qkv");
    gpu::GpuBuffer q_norm_buffer = upload(q_norm.packed, "q_norm");
    gpu::GpuBuffer k_norm_buffer = upload(k_norm.packed, "k_norm");
    gpu::GpuBuffer pos_buffer = upload(positions, "positions");
    gpu::GpuBuffer queries = upload(std::vector<float>(tokens * q_width + 1, sentinel), "queries");
    gpu::GpuBuffer k_cache = upload(std::vector<float>(capacity * slot_width, sentinel), "k_cache");
    gpu::GpuBuffer v_cache = upload(std::vector<float>(capacity * slot_width, sentinel), "v_cache");
    const RopeParameters rope{1e6, 8.0};
    run(qkvNormRopeKernel(head_dim, q_heads, kv_heads, 1e-6f, rope, 64),
        {&qkv_buffer, &q_norm_buffer, &k_norm_buffer, &pos_buffer, &queries, &k_cache, &v_cache},
        QkvNormRopePush{0, q_width, q_width + slot_width, row_width, 0, 0, 0, 1, q_width, slot_width, slot_width,
                        capacity, tokens},
        {q_heads + 2 * kv_heads, tokens, 1});

    std::vector<float> q_src, k_src, v_src;
    for (uint32_t t = 0; t < tokens; ++t) {
      const float* row = &qkv[size_t(t) * row_width];
      q_src.insert(q_src.end(), row, row + q_width);
      k_src.insert(k_src.end(), row + q_width, row + q_width + slot_width);
      v_src.insert(v_src.end(), row + q_width + slot_width, row + row_width);
    }
    const std::vector<float> frequencies = torchInverseFrequencies(head_dim, float(rope.base), float(rope.linear_factor));
    std::vector<double> q_want = referenceHeadNormRope(q_src, q_norm.values, positions, q_heads, head_dim, true, frequencies);
    std::vector<double> k_want = referenceHeadNormRope(k_src, k_norm.values, positions, kv_heads, head_dim, true, frequencies);
    std::vector<float> q_got = download<float>(queries, tokens * q_width + 1);
    EXPECT_EQ(q_got[0], sentinel) << "query_dst_base not honoured";
    q_got.erase(q_got.begin());
    expectClose(q_got, q_want, 2e-5, "qkv_norm_rope queries, head_dim " + std::to_string(head_dim));
    expectRingSlots(download<float>(k_cache, capacity * slot_width), download<float>(v_cache, capacity * slot_width),
                    k_want, v_src, positions, capacity, slot_width, sentinel,
                    "qkv_norm_rope head_dim " + std::to_string(head_dim));
  }
}

// ---------------------------------------------------------------- matvec / matmul

std::vector<double> referenceMatmul(const std::vector<float>& x, const std::vector<float>& w, uint32_t tokens,
                                    uint32_t k, uint32_t n, std::vector<double>* magnitude) {
  std::vector<double> y(size_t(tokens) * n);
  magnitude->assign(y.size(), 0.0);
  for (uint32_t t = 0; t < tokens; ++t) {
    for (uint32_t r = 0; r < n; ++r) {
      double sum = 0, abs_sum = 0;
      for (uint32_t i = 0; i < k; ++i) {
        sum += double(x[t * k + i]) * w[size_t(r) * k + i];
        abs_sum += std::abs(double(x[t * k + i]) * w[size_t(r) * k + i]);
      }
      y[t * n + r] = sum;
      (*magnitude)[t * n + r] = abs_sum;
    }
  }
  return y;
}

// |got - want| <= 1e-6 * sum|x_k w_k| per element: float32 accumulation error
// grows with K and with cancellation, which this bound accounts for.
void expectMatmulClose(const std::vector<float>& got, const std::vector<double>& want,
                       const std::vector<double>& magnitude, const std::string& what) {
  int reported = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    double tolerance = 1e-6 * magnitude[i] + 1e-7;
    if (!(std::abs(got[i] - want[i]) <= tolerance) && reported++ < 5) {
      ADD_FAILURE() << what << "[" << i << "]: got " << got[i] << ", want " << want[i];
    }
  }
}

TEST_F(KernelNumericsTest, MatvecMatchesReferenceIncludingPartialRowBlocks) {
  // K = 72: 9 units of 8 weights, so workgroups wider than a row leave lanes
  // idle; rows split over row groups (matvec_rows.glsl) of 8 lanes (one
  // llvmpipe subgroup: shuffles) and of 32 (over subgroups).
  const uint32_t k = 72, n = 13;
  for (uint32_t tokens : {1u, 3u}) {
    std::vector<float> x = randomFloats(size_t(tokens) * k, 2.0f, 11);
    Bf16Tensor w = randomBf16(size_t(n) * k, 0.3f, 12);
    std::vector<double> magnitude;
    std::vector<double> want = referenceMatmul(x, w.values, tokens, k, n, &magnitude);
    for (auto [rows, workgroup, groups] : {std::array{4u, 4u, 1u}, std::array{1u, 64u, 1u}, std::array{8u, 256u, 1u},
                                           std::array{8u, 64u, 8u}, std::array{16u, 128u, 4u}}) {
      gpu::GpuBuffer x_buffer = upload(x, "x");
      gpu::GpuBuffer w_buffer = upload(w.packed, "w");
      gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * n, 0.0f), "y");
      run(matvecKernel(k, n, rows, workgroup, 0.0f, false, groups), {&x_buffer, &w_buffer, &y_buffer},
          MatmulPush{0, k, 0, 0, n, tokens}, {(n + rows - 1) / rows, tokens, 1});
      expectMatmulClose(download<float>(y_buffer, size_t(tokens) * n), want, magnitude,
                        "matvec T=" + std::to_string(tokens) + " rows=" + std::to_string(rows) +
                            " groups=" + std::to_string(groups));
    }
  }
}

TEST_F(KernelNumericsTest, MatvecAppliesGeluToAGateUpInput) {
  // GELU_INPUT: x = gelu(gate) * up read from rows [gate | up | 4 pad], as the
  // decode down projection reads the fused gate/up product; bound like the
  // float product of that x.
  const uint32_t k = 64, n = 13, stride = 2 * k + 4;
  for (uint32_t tokens : {1u, 3u}) {
    std::vector<float> rows = randomFloats(size_t(tokens) * stride, 3.0f, 30 + tokens);
    std::vector<float> x = test_support::geluOfGateUp(rows, k, stride, tokens);
    Bf16Tensor w = randomBf16(size_t(n) * k, 0.3f, 31);
    std::vector<double> magnitude;
    std::vector<double> want = referenceMatmul(x, w.values, tokens, k, n, &magnitude);
    for (double& m : magnitude) m *= 4;  // the kernel's exp may differ from std::exp by a few ulps
    gpu::GpuBuffer x_buffer = upload(rows, "gate|up");
    gpu::GpuBuffer w_buffer = upload(w.packed, "w");
    gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * n, 0.0f), "y");
    run(matvecKernel(k, n, 4, 64, 0.0f, /*gelu_input=*/true), {&x_buffer, &w_buffer, &y_buffer},
        MatmulPush{0, stride, 0, 0, n, tokens}, {(n + 3) / 4, tokens, 1});
    expectMatmulClose(download<float>(y_buffer, size_t(tokens) * n), want, magnitude,
                      "matvec GELU_INPUT T=" + std::to_string(tokens));
  }
}

TEST_F(KernelNumericsTest, MatvecSplitByRowsWritesEachSliceAtItsBase) {
  // A weight too large for one binding: two dispatches, each binding the rows
  // [begin, end) of the weight (as a word offset here) and writing y at its own base.
  const uint32_t k = 32, n = 10, split = 6;
  std::vector<float> x = randomFloats(k, 1.0f, 13);
  Bf16Tensor w = randomBf16(size_t(n) * k, 0.5f, 14);
  std::vector<double> magnitude;
  std::vector<double> want = referenceMatmul(x, w.values, 1, k, n, &magnitude);
  gpu::GpuBuffer x_buffer = upload(x, "x");
  gpu::GpuBuffer w_buffer = upload(w.packed, "w");
  gpu::GpuBuffer y_buffer = upload(std::vector<float>(n, 0.0f), "y");
  run(matvecKernel(k, split, 4, 32), {&x_buffer, &w_buffer, &y_buffer}, MatmulPush{0, k, 0, 0, n, 1}, {2, 1, 1});
  run(matvecKernel(k, n - split, 4, 32), {&x_buffer, &w_buffer, &y_buffer},
      MatmulPush{0, k, split * k / 2, split, n, 1}, {1, 1, 1});
  expectMatmulClose(download<float>(y_buffer, n), want, magnitude, "matvec split");
}

TEST_F(KernelNumericsTest, MatmulTilesMatchReferenceWithRaggedEdges) {
  // T, N and K none a multiple of the 64 x 64 x 32 tile and step (tokens and
  // rows across two tiles, K's last step a quarter full): every edge path runs.
  // Split-K over K's 3 steps too: 2 splits of 2 and 1 steps, and 4 of which
  // the last is empty; each run twice on the same counts, which the last split
  // of each tile must leave at zero, for the same bits (the partials are added
  // in split order whichever arrives last).
  for (uint32_t tokens : {1u, 37u, 70u}) {
    const uint32_t k = 72, n = 77;
    std::vector<float> x = randomFloats(size_t(tokens) * k, 2.0f, 15 + tokens);
    Bf16Tensor w = randomBf16(size_t(n) * k, 0.3f, 16);
    std::vector<double> magnitude;
    std::vector<double> want = referenceMatmul(x, w.values, tokens, k, n, &magnitude);
    gpu::GpuBuffer x_buffer = upload(x, "x");
    gpu::GpuBuffer w_buffer = upload(w.packed, "w");
    for (uint32_t splits : {1u, 2u, 4u}) {
      const std::string what = "matmul T=" + std::to_string(tokens) + " splits=" + std::to_string(splits);
      SplitScratch scratch = splitScratch(tokens, n, splits);
      std::vector<float> first;
      for (int repeat = 0; repeat < 2; ++repeat) {
        gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * n, 0.0f), "y");
        std::vector<const gpu::GpuBuffer*> buffers = {&x_buffer, &w_buffer, &y_buffer};
        if (splits > 1) buffers.insert(buffers.end(), {&scratch.partials, &scratch.counts});
        run(matmulKernel(k, n, 0.0f, splits), buffers, MatmulPush{0, k, 0, 0, n, tokens},
            {(n + 63) / 64, (tokens + 63) / 64, splits});
        const std::vector<float> got = download<float>(y_buffer, size_t(tokens) * n);
        if (repeat == 0) {
          expectMatmulClose(got, want, magnitude, what);
          first = got;
        } else {
          EXPECT_EQ(got, first) << what << ": a rerun differs";
        }
        EXPECT_EQ(download<uint32_t>(scratch.counts, scratch.tiles), std::vector<uint32_t>(scratch.tiles, 0u))
            << what << " left its counts set";
      }
    }
  }
}

TEST_F(KernelNumericsTest, TokenMaximaAreEachRowsLargestMagnitudeExactly) {
  // Rows of K = 40 floats every 44 from float 8 on, 5 tokens of a grid of 7
  // (the last two return, their slots kept); a row's largest magnitude is
  // negative in one, in the last vec4 in another, zero in one, and beyond
  // fp16's range in one. A maximum is exact: compared bit for bit.
  const uint32_t k = 40, stride = 44, base = 8, tokens = 5;
  std::vector<float> x = randomFloats(base + size_t(tokens + 2) * stride, 3.0f, 31);
  x[base + 0 * stride + 7] = -50.0f;
  x[base + 1 * stride + 39] = 60.0f;
  for (uint32_t i = 0; i < k; ++i) x[base + 2 * stride + i] = 0.0f;
  x[base + 3 * stride + 20] = -3.0e9f;
  x[base + 4 * stride + 41] = 1e9f;  // past K: not this row's
  gpu::GpuBuffer x_buffer = upload(x, "x");
  const float kept = -7.0f;
  gpu::GpuBuffer out = upload(std::vector<float>(tokens + 2, kept), "maxima");
  for (uint32_t workgroup : {4u, 256u}) {
    run(tokenMaximaKernel(k, workgroup), {&x_buffer, &out}, TokenMaximaPush{base, stride, tokens}, {tokens + 2, 1, 1});
    const std::vector<float> got = download<float>(out, tokens + 2);
    for (uint32_t t = 0; t < tokens + 2; ++t) {
      float want = kept;
      if (t < tokens) {
        want = 0.0f;
        for (uint32_t i = 0; i < k; ++i) want = std::max(want, std::fabs(x[base + t * stride + i]));
      }
      EXPECT_EQ(got[t], want) << "token " << t << ", workgroup " << workgroup;
    }
  }
  EXPECT_EQ(download<float>(out, 4)[3], 3.0e9f);
}

TEST_F(KernelNumericsTest, RowBoundsAreEachBf16RowsLargestMagnitudeExactly) {
  // 13 bf16 rows of K = 48 from word 8 on (a ragged second workgroup of 8
  // rows, its last 3 past the rows: their slots kept); a row's largest
  // magnitude is negative in one, in its last unit in another, beyond fp16's
  // range in one, and zero in one. A maximum is exact: compared bit for bit.
  const uint32_t k = 48, rows = 13, base_words = 8;
  std::vector<float> w = randomFloats(size_t(rows + 3) * k, 0.5f, 41);
  w[0 * k + 5] = -20.0f;
  w[1 * k + 47] = 30.0f;
  w[4 * k + 9] = -1.0e9f;
  for (uint32_t i = 0; i < k; ++i) w[7 * k + i] = 0.0f;
  w[rows * k + 3] = 1.0e30f;  // past the rows: not any row's
  std::vector<uint16_t> packed(size_t(base_words) * 2, 0x7f80u);  // infinities before row 0
  for (float v : w) packed.push_back(toBf16(v));
  gpu::GpuBuffer w_buffer = upload(packed, "w");
  const float kept = -7.0f;
  gpu::GpuBuffer out = upload(std::vector<float>(16, kept), "bounds");
  for (uint32_t workgroup : {8u, 256u}) {
    run(rowBoundsKernel(k, 0, workgroup), {&w_buffer, &out}, RowBoundsPush{base_words, rows}, {2, 1, 1});
    const std::vector<float> got = download<float>(out, 16);
    for (uint32_t r = 0; r < 16; ++r) {
      float want = kept;
      if (r < rows) {
        want = 0.0f;
        for (uint32_t i = 0; i < k; ++i) want = std::max(want, std::fabs(fromBf16(toBf16(w[size_t(r) * k + i]))));
      }
      EXPECT_EQ(got[r], want) << "row " << r << ", workgroup " << workgroup;
    }
  }
  EXPECT_EQ(download<float>(out, 8)[7], 0.0f);
}

TEST_F(KernelNumericsTest, CoopMatmulMatchesReferenceOrTheDeviceIsRefusedByName) {
  // matmul_bf16_coop runs only where the device has cooperative-matrix units
  // for 16x16x16 fp16 products into fp32 and subgroups of 32; elsewhere the
  // runtime must say why (the executor then runs the bundle's fallback). Both
  // are checked: which one depends on the device the test runs on.
  // Ragged tokens and rows, 2 token tiles x 3 row tiles of the kernel's 128 x
  // 128 (it renumbers its workgroups and leaves most of the grid idle); K of
  // three 32-column steps; tokens and weight rows beyond fp16's range and far
  // below it: what the kernel's power-of-two scaling is for. Tokens and rows
  // are scaled one by one, so a huge and a tiny one share a tile unharmed
  // (tokens 3 and 5, rows 2 and 3).
  const uint32_t tokens = 140, k = 96, n = 300;
  std::vector<float> x = randomFloats(size_t(tokens) * k, 2.0f, 21);
  for (uint32_t i = 0; i < k; ++i) {
    x[3 * k + i] *= 1e6f, x[5 * k + i] *= 1e-6f, x[70 * k + i] *= 1e-4f, x[130 * k + i] *= 1e5f;
  }
  std::vector<float> w_floats = randomFloats(size_t(n) * k, 0.3f, 22);
  for (uint32_t i = 0; i < k; ++i) {
    w_floats[2 * k + i] *= 1e6f, w_floats[3 * k + i] *= 1e-6f, w_floats[66 * k + i] *= 1e-6f;
  }
  Bf16Tensor w;
  for (float v : w_floats) {
    w.packed.push_back(toBf16(v));
    w.values.push_back(fromBf16(w.packed.back()));
  }
  const KernelRequest request = coopMatmulKernel(k, n);
  if (!test_support::runsOnMatrixUnits(*device_, request, test_support::compileKernel(request))) return;
  std::vector<double> magnitude;
  std::vector<double> want = referenceMatmul(x, w.values, tokens, k, n, &magnitude);
  gpu::GpuBuffer x_buffer = upload(x, "x");
  gpu::GpuBuffer w_buffer = upload(w.packed, "w");
  // The tokens' maxima from token_maxima and the rows' bounds from
  // row_bounds, as the schedule has them, bound last.
  gpu::GpuBuffer maxima = upload(std::vector<float>(tokens, -1.0f), "maxima");
  run(tokenMaximaKernel(k), {&x_buffer, &maxima}, TokenMaximaPush{0, k, tokens}, {tokens, 1, 1});
  gpu::GpuBuffer row_bounds = upload(std::vector<float>(n, -1.0f), "row bounds");
  run(rowBoundsKernel(k, 0), {&w_buffer, &row_bounds}, RowBoundsPush{0, n}, {(n + 7) / 8, 1, 1});
  // Unsplit, then split-K (its main_split entry point) over K's 3 steps as 2 +
  // 1 and as 1 + 1 + 1 with a fourth split empty, each twice on the same
  // counts: as the tiled kernel's test, the same bits and the counts back at 0.
  for (uint32_t splits : {1u, 2u, 4u}) {
    SplitScratch scratch = splitScratch(tokens, n, splits);
    for (float cap : {0.0f, 3.0f}) {
      const std::string what = "coop matmul splits=" + std::to_string(splits) + " softcap=" + std::to_string(cap);
      std::vector<float> first;
      for (int repeat = 0; repeat < (splits > 1 ? 2 : 1); ++repeat) {
        gpu::GpuBuffer y_buffer = upload(std::vector<float>(size_t(tokens) * n, 0.0f), "y");
        std::vector<const gpu::GpuBuffer*> buffers = {&x_buffer, &w_buffer, &y_buffer};
        if (splits > 1) buffers.insert(buffers.end(), {&scratch.partials, &scratch.counts});
        buffers.insert(buffers.end(), {&maxima, &row_bounds});
        run(coopMatmulKernel(k, n, cap, splits), buffers, MatmulPush{0, k, 0, 0, n, tokens},
            {(n + 63) / 64, (tokens + 63) / 64, splits});
        const std::vector<float> got = download<float>(y_buffer, size_t(tokens) * n);
        if (repeat == 1) {
          EXPECT_EQ(got, first) << what << ": a rerun differs";
        } else if (cap == 0.0f) {
          expectMatmulClose(got, want, magnitude, what);
        } else {
          std::vector<double> capped = want;
          for (double& v : capped) v = cap * std::tanh(v / cap);
          expectClose(got, capped, 1e-5, what);
        }
        first = got;
        EXPECT_EQ(download<uint32_t>(scratch.counts, scratch.tiles), std::vector<uint32_t>(scratch.tiles, 0u))
            << what << " left its counts set";
      }
    }
  }
}

TEST_F(KernelNumericsTest, MatvecAppliesFinalLogitSoftcap) {
  // Tolerance: 1e-5 absolute on logits capped at 3.
  const uint32_t k = 16, n = 9;
  const float cap = 3.0f;
  std::vector<float> x = randomFloats(k, 3.0f, 17);
  Bf16Tensor w = randomBf16(size_t(n) * k, 1.0f, 18);
  std::vector<double> magnitude;
  std::vector<double> want = referenceMatmul(x, w.values, 1, k, n, &magnitude);
  for (double& v : want) v = cap * std::tanh(v / cap);
  gpu::GpuBuffer x_buffer = upload(x, "x");
  gpu::GpuBuffer w_buffer = upload(w.packed, "w");
  gpu::GpuBuffer y_buffer = upload(std::vector<float>(n, 0.0f), "y");
  run(matvecKernel(k, n, 2, 16, cap), {&x_buffer, &w_buffer, &y_buffer}, MatmulPush{0, k, 0, 0, n, 1}, {5, 1, 1});
  expectClose(download<float>(y_buffer, n), want, 1e-5, "matvec softcap");
}

// ---------------------------------------------------------------- attention

struct AttentionCase {
  uint32_t head_dim, heads, kv_heads;
  float query_pre_attn_scalar;
  uint32_t window;  // 0: global
  float softcap;
  uint32_t capacity;
  std::vector<uint32_t> query_positions;
  uint32_t workgroup;
};

// keys[p], values[p] for every position p < `positions` ([kv_heads, head_dim] each).
std::vector<double> referenceAttention(const AttentionCase& c, const std::vector<float>& queries,
                                       const std::vector<std::vector<float>>& keys,
                                       const std::vector<std::vector<float>>& values) {
  std::vector<double> out(queries.size());
  const uint32_t group = c.heads / c.kv_heads;
  for (size_t t = 0; t < c.query_positions.size(); ++t) {
    uint32_t q_pos = c.query_positions[t];
    for (uint32_t h = 0; h < c.heads; ++h) {
      uint32_t kv = h / group;
      const float* q = &queries[(t * c.heads + h) * c.head_dim];
      std::vector<double> scores;
      std::vector<uint32_t> visible;
      for (uint32_t p = 0; p <= q_pos; ++p) {
        if (c.window != 0 && !(q_pos - p < c.window)) continue;
        double dot = 0;
        for (uint32_t d = 0; d < c.head_dim; ++d) dot += double(q[d]) * keys[p][kv * c.head_dim + d];
        double score = dot / std::sqrt(double(c.query_pre_attn_scalar));
        if (c.softcap > 0) score = c.softcap * std::tanh(score / c.softcap);
        scores.push_back(score);
        visible.push_back(p);
      }
      double top = *std::max_element(scores.begin(), scores.end());
      double total = 0;
      for (double& s : scores) total += (s = std::exp(s - top));
      for (uint32_t d = 0; d < c.head_dim; ++d) {
        double sum = 0;
        for (size_t j = 0; j < visible.size(); ++j) sum += scores[j] / total * values[visible[j]][kv * c.head_dim + d];
        out[(t * c.heads + h) * c.head_dim + d] = sum;
      }
    }
  }
  return out;
}

class AttentionNumericsTest : public KernelNumericsTest {
 protected:
  // Fills a ring of c.capacity slots with the keys/values of the last c.capacity
  // positions up to the last query (what the cache holds after this step's
  // writes), runs the kernel and compares. Tolerance: 1e-5 relative to max|v|.
  void check(const AttentionCase& c, uint32_t seed) {
    const uint32_t tokens = uint32_t(c.query_positions.size());
    const uint32_t last = c.query_positions.back();
    const uint32_t slot_width = c.kv_heads * c.head_dim;
    std::vector<std::vector<float>> keys, values;
    for (uint32_t p = 0; p <= last; ++p) {
      keys.push_back(randomFloats(slot_width, 2.0f, seed * 1000 + 2 * p));
      values.push_back(randomFloats(slot_width, 1.0f, seed * 1000 + 2 * p + 1));
    }
    std::vector<float> k_cache(size_t(c.capacity) * slot_width, 1e30f), v_cache(k_cache.size(), 1e30f);
    for (uint32_t p = (last + 1 > c.capacity ? last + 1 - c.capacity : 0); p <= last; ++p) {
      std::copy(keys[p].begin(), keys[p].end(), k_cache.begin() + (p % c.capacity) * slot_width);
      std::copy(values[p].begin(), values[p].end(), v_cache.begin() + (p % c.capacity) * slot_width);
    }
    std::vector<float> queries = randomFloats(size_t(tokens) * c.heads * c.head_dim, 2.0f, seed);
    std::vector<double> want = referenceAttention(c, queries, keys, values);

    gpu::GpuBuffer q_buffer = upload(queries, "q");
    gpu::GpuBuffer k_buffer = upload(k_cache, "k_cache");
    gpu::GpuBuffer v_buffer = upload(v_cache, "v_cache");
    gpu::GpuBuffer pos_buffer = upload(c.query_positions, "positions");
    const uint32_t row = c.heads * c.head_dim;
    // The plain kernel, then split-K (attention_split.comp): up to 3 shares, and
    // up to 32 or the workgroup size (a share is at least 8 keys, so few keys
    // take fewer shares, or one: then no partials). Each split run twice on the
    // same counts, which the last share of each head must leave at zero.
    for (uint32_t splits : {1u, 3u, std::min(32u, c.workgroup)}) {
      AttentionShape shape{c.head_dim, c.heads, c.kv_heads, 1.0 / std::sqrt(double(c.query_pre_attn_scalar)),
                           c.window, c.softcap, splits};
      const AttentionPush push{0, row, 0, 0, c.capacity, 0, 0, row, tokens};
      if (splits == 1) {
        gpu::GpuBuffer out = upload(std::vector<float>(queries.size(), 0.0f), "out");
        run(attentionKernel(shape, c.workgroup), {&q_buffer, &k_buffer, &v_buffer, &pos_buffer, &out}, push,
            {c.heads, tokens, 1});
        expectClose(download<float>(out, queries.size()), want, 1e-5 * maxAbs(want), "attention");
        continue;
      }
      const size_t partial_floats = size_t(tokens) * c.heads * splits * (c.head_dim + 2);
      gpu::GpuBuffer partials = upload(std::vector<float>(partial_floats, 7.0f), "partials");
      gpu::GpuBuffer counts = upload(std::vector<uint32_t>(size_t(tokens) * c.heads, 0u), "counts");
      for (int repeat = 0; repeat < 2; ++repeat) {
        gpu::GpuBuffer out = upload(std::vector<float>(queries.size(), 0.0f), "out");
        run(splitAttentionKernel(shape, c.workgroup),
            {&q_buffer, &k_buffer, &v_buffer, &pos_buffer, &out, &partials, &counts}, push, {c.heads, tokens, splits});
        expectClose(download<float>(out, queries.size()), want, 1e-5 * maxAbs(want),
                    "attention_split, " + std::to_string(splits) + " share(s), run " + std::to_string(repeat + 1));
        EXPECT_EQ(download<uint32_t>(counts, size_t(tokens) * c.heads), std::vector<uint32_t>(size_t(tokens) * c.heads, 0u))
            << "attention_split left its counts set";
      }
    }
    // The prefill kernel (tiles of 8 queries over blocks of 4 keys) on the same chunk.
    if (attentionPrefillFits(c.head_dim)) {
      gpu::GpuBuffer out = upload(std::vector<float>(queries.size(), 7.0f), "out");
      AttentionShape shape{c.head_dim, c.heads, c.kv_heads, 1.0 / std::sqrt(double(c.query_pre_attn_scalar)),
                           c.window, c.softcap, 1};
      run(attentionPrefillKernel(shape), {&q_buffer, &k_buffer, &v_buffer, &pos_buffer, &out},
          AttentionPush{0, row, 0, 0, c.capacity, 0, 0, row, tokens},
          {c.heads, (tokens + kAttentionPrefillTokens - 1) / kAttentionPrefillTokens, 1});
      expectClose(download<float>(out, queries.size()), want, 1e-5 * maxAbs(want), "attention_prefill");
    }
  }
};

// attention_decode.comp: the one decode token's attention from its q|k|v row
// (queries and the step's key normed and rotated here, the step's key and value
// put into the cache here) against the reference over the normed, rotated
// heads. The cache holds the keys and values of the earlier positions (in
// their ring slots); the step's own slot holds a sentinel first. Tolerances:
// the output 5e-5 relative to max|v| (the heads' norm and rotation carry
// qkv_norm_rope's 2e-5 into the scores; attention alone is held to 1e-5), the
// cache slot as qkv_norm_rope's (key 2e-5, value exact), every other slot
// untouched; with a quantised output, it is bit for bit quantize_activation
// run on the kernel's own float output.
class DecodeAttentionNumericsTest : public KernelNumericsTest {
 protected:
  void check(const AttentionCase& c, uint32_t seed, std::optional<BlockQuant> quantised = std::nullopt) {
    ASSERT_EQ(c.query_positions.size(), 1u) << "attention_decode takes the one decode token";
    const uint32_t position = c.query_positions[0];
    const uint32_t q_width = c.heads * c.head_dim, slot_width = c.kv_heads * c.head_dim;
    const uint32_t row_width = q_width + 2 * slot_width;
    std::vector<std::vector<float>> keys, values;  // already normed and rotated: the cache's
    for (uint32_t p = 0; p < position; ++p) {
      keys.push_back(randomFloats(slot_width, 2.0f, seed * 1000 + 2 * p));
      values.push_back(randomFloats(slot_width, 1.0f, seed * 1000 + 2 * p + 1));
    }
    const float sentinel = 1e30f;
    std::vector<float> k_cache(size_t(c.capacity) * slot_width, sentinel), v_cache(k_cache.size(), sentinel);
    for (uint32_t p = (position + 1 > c.capacity ? position + 1 - c.capacity : 0); p < position; ++p) {
      std::copy(keys[p].begin(), keys[p].end(), k_cache.begin() + (p % c.capacity) * slot_width);
      std::copy(values[p].begin(), values[p].end(), v_cache.begin() + (p % c.capacity) * slot_width);
    }
    // The row sits after 8 other floats (query_base 8), q | k | v.
    std::vector<float> row = randomFloats(8 + row_width, 3.0f, seed + 77);
    Bf16Tensor q_norm = randomBf16(c.head_dim, 0.5f, seed + 78), k_norm = randomBf16(c.head_dim, 0.5f, seed + 79);
    const RopeParameters rope{1e6, 8.0};
    const std::vector<float> frequencies = torchInverseFrequencies(c.head_dim, float(rope.base), float(rope.linear_factor));
    const std::vector<float> q_src(row.begin() + 8, row.begin() + 8 + q_width);
    const std::vector<float> k_src(row.begin() + 8 + q_width, row.begin() + 8 + q_width + slot_width);
    const std::vector<float> v_src(row.begin() + 8 + q_width + slot_width, row.end());
    std::vector<double> q_want = referenceHeadNormRope(q_src, q_norm.values, {position}, c.heads, c.head_dim, true, frequencies);
    std::vector<double> k_want = referenceHeadNormRope(k_src, k_norm.values, {position}, c.kv_heads, c.head_dim, true,
                                                       frequencies);
    keys.emplace_back(k_want.begin(), k_want.end());
    values.push_back(v_src);
    std::vector<double> want = referenceAttention(c, std::vector<float>(q_want.begin(), q_want.end()), keys, values);

    gpu::GpuBuffer row_buffer = upload(row, "qkv row");
    gpu::GpuBuffer q_norm_buffer = upload(q_norm.packed, "q_norm");
    gpu::GpuBuffer k_norm_buffer = upload(k_norm.packed, "k_norm");
    gpu::GpuBuffer pos_buffer = upload(std::vector<uint32_t>{position}, "positions");
    for (uint32_t splits : {3u, std::min(32u, c.workgroup)}) {
      const std::string what = "attention_decode, " + std::to_string(splits) + " shares";
      AttentionShape shape{c.head_dim, c.heads, c.kv_heads, 1.0 / std::sqrt(double(c.query_pre_attn_scalar)),
                           c.window, c.softcap, splits};
      KernelRequest request = decodeAttentionKernel(shape, 1e-6f, rope, c.workgroup, quantised);
      const DecodeAttentionPush push{8, row_width, 0, 0, c.capacity, 0, 0, q_width, 1, 8 + q_width,
                                     8 + q_width + slot_width};
      gpu::GpuBuffer partials = upload(std::vector<float>(size_t(c.heads) * splits * (c.head_dim + 2), 7.0f), "partials");
      gpu::GpuBuffer counts = upload(std::vector<uint32_t>(c.heads, 0u), "counts");
      // Twice on the same counts, which the last share of each head must leave at zero.
      for (int repeat = 0; repeat < 2; ++repeat) {
        gpu::GpuBuffer k_buffer = upload(k_cache, "k_cache");
        gpu::GpuBuffer v_buffer = upload(v_cache, "v_cache");
        gpu::GpuBuffer out = upload(std::vector<float>(q_width, 0.0f), "out");
        const uint32_t units = quantizedActivationUnits(q_width);
        gpu::GpuBuffer quantised_out = upload(std::vector<uint32_t>(4 * units, 0xdeadbeefu), "quantised out");
        std::vector<const gpu::GpuBuffer*> buffers = {&row_buffer, &k_buffer, &v_buffer,      &pos_buffer,   &out,
                                                      &partials,   &counts,   &q_norm_buffer, &k_norm_buffer};
        if (quantised) buffers.push_back(&quantised_out);
        run(request, buffers, push, {c.heads, 1, splits});
        const std::vector<float> got = download<float>(out, q_width);
        expectClose(got, want, 5e-5 * maxAbs(want), what);
        EXPECT_EQ(download<uint32_t>(counts, c.heads), std::vector<uint32_t>(c.heads, 0u)) << what << " left its counts set";
        // The cache: the step's slot as qkv_norm_rope writes it, the rest as it was.
        std::vector<float> k_expected = k_cache, v_expected = v_cache;
        const size_t step_slot = size_t(position % c.capacity) * slot_width;
        std::copy(v_src.begin(), v_src.end(), v_expected.begin() + step_slot);
        const std::vector<float> k_got = download<float>(k_buffer, k_cache.size());
        EXPECT_EQ(download<float>(v_buffer, v_cache.size()), v_expected) << what << ": the value cache";
        for (size_t i = 0; i < k_got.size(); ++i) {
          if (i >= step_slot && i < step_slot + slot_width) {
            ASSERT_NEAR(k_got[i], k_want[i - step_slot], 2e-5) << what << ": the step's key, element " << i - step_slot;
          } else {
            ASSERT_EQ(k_got[i], k_cache[i]) << what << ": key cache element " << i << " overwritten";
          }
        }
        if (!quantised) continue;
        gpu::GpuBuffer reference_quantised = upload(std::vector<uint32_t>(4 * units, 0u), "reference quantised");
        run(quantizeActivationKernel(*quantised, q_width, 64), {&out, &reference_quantised},
            QuantizeActivationPush{0, q_width, 0, units, 1}, {(q_width / 32 + 63) / 64, 1, 1});
        EXPECT_EQ(download<uint32_t>(quantised_out, 4 * units), download<uint32_t>(reference_quantised, 4 * units))
            << what << ": the quantised output is not quantize_activation's on the float output";
      }
    }
  }
};

TEST_F(DecodeAttentionNumericsTest, GlobalLayerWithGqaQuantisedForQ8) {
  // The 27B's shape of head (128, query_pre_attn_scalar 168), 4 query heads on
  // 2 kv heads, position 40 of a global cache: 41 keys in up to 3 or 6 shares.
  check({128, 4, 2, 168.0f, 0, 0.0f, 64, {40}, 64}, 21, BlockQuant::kQ8);
}

TEST_F(DecodeAttentionNumericsTest, SlidingWindowOverAWrappedRingQuantisedForQ4) {
  // Gemma 3 1B's heads (256, one kv head), window 10 over a ring of 12 that has
  // wrapped: the step's slot held position 18, which the query no longer sees.
  check({256, 4, 1, 256.0f, 10, 0.0f, 12, {30}, 64}, 22, BlockQuant::kQ4);
}

TEST_F(DecodeAttentionNumericsTest, FirstTokenAttendsToItsOwnKeyWithSoftcap) {
  // Position 0: the only key is the step's own, from shared memory (one share).
  check({16, 4, 2, 16.0f, 0, 1.5f, 8, {0}, 16}, 23);
}

TEST_F(DecodeAttentionNumericsTest, AnEmptyLastShareLeavesTheStepToTheShareBeforeIt) {
  // 129 keys in 16 shares of 9: the 16th is empty (it would start at 135), and
  // the 15th, [126, 129), holds the step's key.
  check({64, 4, 2, 64.0f, 0, 0.0f, 256, {128}, 16}, 25);
}

TEST_F(DecodeAttentionNumericsTest, ManySharesOfALongContext) {
  // 2000 keys: 32 shares of 63 keys, the last holding the step's.
  check({64, 4, 2, 64.0f, 0, 0.0f, 2048, {1999}, 64}, 24);
}

TEST_F(AttentionNumericsTest, GlobalDecodeWithGqa) {
  // One token at position 40 over a full cache; 4 query heads share 2 kv heads;
  // 41 keys span several key blocks of WG_SIZE 16.
  check({16, 4, 2, 16.0f, 0, 0.0f, 64, {40}, 16}, 1);
}

TEST_F(AttentionNumericsTest, GlobalPrefillIsCausal) {
  std::vector<uint32_t> positions;
  for (uint32_t p = 0; p < 12; ++p) positions.push_back(p);
  check({8, 6, 2, 24.0f, 0, 0.0f, 16, positions, 4}, 2);
}

TEST_F(AttentionNumericsTest, SlidingWindowOverWrappedRingInPrefill) {
  // Window 5, a chunk of 4 tokens at positions 20..23: the ring needs
  // window + chunk - 1 = 8 slots and has wrapped twice; every query must see
  // exactly its last 5 keys, not the older ones still in the ring.
  check({8, 4, 1, 8.0f, 5, 0.0f, 8, {20, 21, 22, 23}, 8}, 3);
}

TEST_F(AttentionNumericsTest, SlidingWindowDecodeWithSoftcapAndQueryScalarUnlikeHeadDim) {
  // query_pre_attn_scalar 168 with head_dim 32 (the 27B situation: the scale is
  // not head_dim^-1/2); attention logit soft-capping at 1.5 (bites hard here).
  check({32, 8, 4, 168.0f, 6, 1.5f, 6, {9}, 64}, 4);
}

TEST_F(AttentionNumericsTest, PrefillTilesOverAWrappedWindowAndPastTheChunksEnd) {
  // 19 tokens at positions 40..58 (tiles of 8: the last one part empty), window
  // 10 over a ring of 28 (window + 19 - 1) that has wrapped; head_dim 256 with
  // GQA, as Gemma 3 1B's sliding layers, and a global one of head_dim 128.
  std::vector<uint32_t> positions;
  for (uint32_t p = 40; p < 59; ++p) positions.push_back(p);
  check({256, 4, 1, 256.0f, 10, 0.0f, 28, positions, 64}, 8);
  check({128, 4, 2, 168.0f, 0, 50.0f, 64, positions, 64}, 9);
}

TEST_F(AttentionNumericsTest, WideHeadsShareEachKeysScoreAcrossLanes) {
  // head_dim 256 (Gemma 3 1B: four lanes a key) and 128 (27B: two), decode over
  // more keys than a block of WG_SIZE, and a sliding window of 100 over a ring.
  check({256, 4, 1, 256.0f, 0, 0.0f, 160, {150}, 64}, 6);
  check({128, 4, 2, 168.0f, 100, 0.0f, 100, {230}, 32}, 7);
}

TEST_F(AttentionNumericsTest, SplitDecodeCombinesManySharesOfALongContext) {
  // 2000 keys over WG_SIZE 64: all 32 shares of 63 keys (and 3 shares of 667),
  // each over blocks of the workgroup, then combined by the last to finish.
  check({64, 4, 2, 64.0f, 0, 0.0f, 2048, {1999}, 64}, 10);
}

TEST_F(AttentionNumericsTest, WindowLargerThanContextActsGlobal) {
  check({8, 2, 2, 8.0f, 100, 0.0f, 100, {0, 1, 2, 3, 4, 5, 6}, 8}, 5);
}

// ---------------------------------------------------------------- elementwise

TEST_F(KernelNumericsTest, GeluTanhTimesUpFromFusedRows) {
  // gate and up are the two halves of a fused [T, 2 * width] projection row.
  // Tolerance: 2e-6 relative + 1e-7 absolute (float32 tanh).
  const uint32_t width = 50, tokens = 3;
  std::vector<float> fused = randomFloats(size_t(tokens) * 2 * width, 6.0f, 19);
  fused[0] = 20.0f;   // saturated tanh
  fused[1] = -20.0f;  // gelu -> -0
  std::vector<double> want(size_t(tokens) * width);
  for (uint32_t t = 0; t < tokens; ++t) {
    for (uint32_t i = 0; i < width; ++i) {
      double g = fused[t * 2 * width + i], u = fused[t * 2 * width + width + i];
      double gelu = 0.5 * g * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (g + 0.044715 * g * g * g)));
      want[t * width + i] = gelu * u;
    }
  }
  gpu::GpuBuffer fused_buffer = upload(fused, "gate_up");
  gpu::GpuBuffer out = upload(std::vector<float>(want.size(), 0.0f), "out");
  run(geluMulKernel(width, 16), {&fused_buffer, &fused_buffer, &out},
      GeluMulPush{0, 2 * width, width, 2 * width, 0, width, tokens}, {(width + 15) / 16, tokens, 1});
  std::vector<float> got = download<float>(out, want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], 2e-6 * std::abs(want[i]) + 1e-7) << i;
  }
}

TEST_F(KernelNumericsTest, AddIsExactAndCoversCountsBeyondTheGrid) {
  const uint32_t count = 1000;
  std::vector<float> a = randomFloats(count + 3, 10.0f, 20), b = randomFloats(count, 10.0f, 21);
  gpu::GpuBuffer a_buffer = upload(a, "a");
  gpu::GpuBuffer b_buffer = upload(b, "b");
  gpu::GpuBuffer out = upload(std::vector<float>(count + 1, -1.0f), "out");
  // 2 groups of 64 invocations cover 1000 elements through the grid-stride loop.
  run(addKernel(64), {&a_buffer, &b_buffer, &out}, AddPush{3, 0, 1, count}, {2, 1, 1});
  std::vector<float> got = download<float>(out, count + 1);
  EXPECT_EQ(got[0], -1.0f);
  for (uint32_t i = 0; i < count; ++i) ASSERT_EQ(got[i + 1], a[i + 3] + b[i]) << i;
}

// ---------------------------------------------------------------- sampling readouts

TEST_F(KernelNumericsTest, ArgmaxPicksTheFirstOfEqualMaxima) {
  // 1000 logits a row: the vec4 form; 1001 below: the scalar one.
  const uint32_t count = 1000, rows = 3;
  std::vector<float> logits = randomFloats(size_t(rows) * count, 5.0f, 22);
  logits[0 * count + 700] = 9.0f;  // row 0: a single maximum
  logits[1 * count + 999] = 9.0f;  // row 1: ties; the lowest index must win
  logits[1 * count + 401] = 9.0f;
  logits[1 * count + 402] = 9.0f;  // a tie in the neighbouring invocation
  logits[1 * count + 657] = 9.0f;  // a tie in the same invocation (657 - 401 = 256, a multiple of WG_SIZE)
  logits[2 * count + 3] = std::nanf("");  // row 2: NaN is never chosen
  logits[2 * count + 0] = 8.0f;
  gpu::GpuBuffer logit_buffer = upload(logits, "logits");
  for (uint32_t workgroup : {4u, 256u}) {
    gpu::GpuBuffer ids = upload(std::vector<uint32_t>(rows + 1, 77u), "ids");
    run(argmaxKernel(count, workgroup), {&logit_buffer, &ids}, ArgmaxPush{0, count, 1, rows}, {rows, 1, 1});
    std::vector<uint32_t> got = download<uint32_t>(ids, rows + 1);
    EXPECT_EQ(got[0], 77u);
    EXPECT_EQ(got[1], 700u) << "WG_SIZE " << workgroup;
    EXPECT_EQ(got[2], 401u) << "WG_SIZE " << workgroup;
    EXPECT_EQ(got[3], 0u) << "WG_SIZE " << workgroup;
  }
  // Batches: a row longer than WG_SIZE * 8 vec4s, its maximum in a later batch
  // and a tie for it later still.
  const uint32_t long_count = 262144;
  std::vector<float> long_row = randomFloats(long_count, 5.0f, 24);
  long_row[200003] = 11.0f;
  long_row[250000] = 11.0f;
  gpu::GpuBuffer long_buffer = upload(long_row, "long logits");
  gpu::GpuBuffer long_id = upload(std::vector<uint32_t>(1, 77u), "id");
  run(argmaxKernel(long_count, 256), {&long_buffer, &long_id}, ArgmaxPush{0, long_count, 0, 1}, {1, 1, 1});
  EXPECT_EQ(download<uint32_t>(long_id, 1)[0], 200003u);
}

// A split argmax (as the schedule runs the greedy token over a 262k
// vocabulary): the splits' candidates, then argmax_combine.
TEST_F(KernelNumericsTest, SplitArgmaxMatchesTheWholeRow) {
  for (uint32_t count : {262208u, 10001u}) {  // the vec4 form; the scalar one
    const uint32_t rows = 3, splits = count % 4 == 0 ? argmaxSplits(count, 256) : 3;
    ASSERT_GT(splits, 2u);
    const uint32_t share = count % 4 == 0 ? (count / 4 + splits - 1) / splits * 4 : (count + splits - 1) / splits;
    std::vector<float> logits = randomFloats(size_t(rows) * count, 5.0f, 26);
    // Row 0: a tie across splits: the lower index, the last of split 1, wins.
    logits[2 * share + 5] = 9.0f;
    logits[1 * share + share - 1] = 9.0f;
    // Row 1: its maximum is the last logit; split 0 all NaN.
    for (uint32_t i = 0; i < share; ++i) logits[size_t(count) + i] = std::nanf("");
    logits[size_t(count) + count - 1] = 12.0f;
    // Row 2: all NaN: token 0.
    for (uint32_t i = 0; i < count; ++i) logits[2 * size_t(count) + i] = std::nanf("");
    gpu::GpuBuffer logit_buffer = upload(logits, "logits");
    gpu::GpuBuffer candidates = upload(std::vector<uint32_t>(2 * (rows * splits + 1), 7u), "candidates");
    gpu::GpuBuffer ids = upload(std::vector<uint32_t>(rows + 1, 77u), "ids");
    run(argmaxKernel(count, 256, splits), {&logit_buffer, &candidates}, ArgmaxPush{0, count, 2, rows},
        {rows, splits, 1});
    run(argmaxCombineKernel(splits, 64), {&candidates, &ids}, ArgmaxCombinePush{1, 1, rows}, {rows, 1, 1});
    std::vector<uint32_t> got = download<uint32_t>(ids, rows + 1);
    EXPECT_EQ(got[0], 77u);
    EXPECT_EQ(got[1], 2 * share - 1) << count;
    EXPECT_EQ(got[2], count - 1) << count;
    EXPECT_EQ(got[3], 0u) << count;
  }
}

TEST_F(KernelNumericsTest, ArgmaxOfRowsNotAMultipleOfFour) {
  const uint32_t count = 1001, rows = 2;
  std::vector<float> logits = randomFloats(size_t(rows) * count, 5.0f, 25);
  logits[0 * count + 1000] = 9.0f;  // the last logit of row 0
  logits[1 * count + 17] = 9.0f;    // row 1 starts unaligned: ties, the first wins
  logits[1 * count + 18] = 9.0f;
  gpu::GpuBuffer logit_buffer = upload(logits, "logits");
  gpu::GpuBuffer ids = upload(std::vector<uint32_t>(rows, 77u), "ids");
  run(argmaxKernel(count, 64), {&logit_buffer, &ids}, ArgmaxPush{0, count, 0, rows}, {rows, 1, 1});
  std::vector<uint32_t> got = download<uint32_t>(ids, rows);
  EXPECT_EQ(got[0], 1000u);
  EXPECT_EQ(got[1], 17u);
}

TEST_F(KernelNumericsTest, LogitsReadoutGivesLogSumExpAndTopK) {
  // lse tolerance: 1e-5 relative; top-k ids and logits exact (ties by ascending id).
  const uint32_t count = 777, rows = 2, top_k = 6, stride = 1 + 2 * top_k;
  std::vector<float> logits = randomFloats(size_t(rows) * count, 8.0f, 23);
  logits[count + 10] = 50.0f;
  logits[count + 5] = 50.0f;  // tie on row 1
  gpu::GpuBuffer logit_buffer = upload(logits, "logits");
  gpu::GpuBuffer readout = upload(std::vector<uint32_t>(rows * stride, 0u), "readout");
  run(logitsReadoutKernel(count, top_k, 32), {&logit_buffer, &readout},
      LogitsReadoutPush{0, count, 0, stride, rows}, {rows, 1, 1});
  std::vector<uint32_t> got = download<uint32_t>(readout, rows * stride);
  auto asFloat = [](uint32_t bits) {
    float value;
    std::memcpy(&value, &bits, 4);
    return value;
  };
  for (uint32_t r = 0; r < rows; ++r) {
    const float* row = &logits[r * count];
    double top = *std::max_element(row, row + count), sum = 0;
    for (uint32_t i = 0; i < count; ++i) sum += std::exp(double(row[i]) - top);
    double lse = top + std::log(sum);
    EXPECT_NEAR(asFloat(got[r * stride]), lse, 1e-5 * std::abs(lse)) << "row " << r;
    std::vector<uint32_t> order(count);
    for (uint32_t i = 0; i < count; ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return row[a] > row[b]; });
    for (uint32_t pick = 0; pick < top_k; ++pick) {
      EXPECT_EQ(got[r * stride + 1 + 2 * pick], order[pick]) << "row " << r << " pick " << pick;
      EXPECT_EQ(asFloat(got[r * stride + 2 + 2 * pick]), row[order[pick]]) << "row " << r << " pick " << pick;
    }
  }
  EXPECT_EQ(got[stride + 1], 5u);  // the tie resolved to the lower id
  EXPECT_EQ(got[stride + 3], 10u);
}

}  // namespace
}  // namespace unicorn::spirv
