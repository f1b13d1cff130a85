// sample.comp on a real Vulkan device (Mesa llvmpipe in CI): temperature,
// top-k and top-p sampling of one row of logits, judged by what it draws.
//
// The expected distribution is computed here in double precision by the rule
// transformers applies (temperature, then top-k, then top-p over the top-k
// set renormalised, then a draw), and thousands of draws (one per position of
// a fixed seed) are compared with it by a chi-square statistic. The seeds are
// fixed, so each test gives the same verdict every run; the bounds are set
// where a correct sampler fails with probability below 1e-6, while a sampler
// that ignores the temperature, renormalises top-p over the wrong set or
// skews any one id by a few percent fails by far.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>
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
#include "tests/support/kernel_pipeline.h"

namespace unicorn::spirv {
namespace {

struct Settings {
  float temperature = 1.0f;
  uint32_t top_k = 0;
  float top_p = 1.0f;
  uint64_t seed = 1;
};

// transformers' warpers in double: softmax(logits / T), top-k (ties at the
// boundary kept, as the kernel documents), then top-p over the renormalised
// top-k set (a token stays when the mass strictly above it is < p).
std::vector<double> expectedDistribution(const std::vector<float>& logits, const Settings& s) {
  const size_t n = logits.size();
  std::vector<double> scaled(n);
  for (size_t i = 0; i < n; ++i) scaled[i] = double(logits[i]) / s.temperature;
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scaled[a] > scaled[b]; });
  std::vector<bool> kept(n, true);
  if (s.top_k > 0 && s.top_k < n) {
    const double threshold = scaled[order[s.top_k - 1]];
    for (size_t i = 0; i < n; ++i) kept[i] = scaled[i] >= threshold;
  }
  const double top = scaled[order[0]];
  std::vector<double> p(n, 0.0);
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    if (kept[i]) total += p[i] = std::exp(scaled[i] - top);
  }
  for (double& v : p) v /= total;
  if (s.top_p < 1.0f) {
    double above = 0;
    for (size_t rank = 0; rank < n; ++rank) {
      const size_t i = order[rank];
      if (!kept[i]) continue;
      if (above >= s.top_p) kept[i] = false;
      above += p[i];
    }
    total = 0;
    for (size_t i = 0; i < n; ++i) total += kept[i] ? p[i] : 0.0;
    for (size_t i = 0; i < n; ++i) p[i] = kept[i] ? p[i] / total : 0.0;
  }
  return p;
}

// Pearson's chi-square of `counts` against `expected` probabilities over
// `draws`; every id with zero probability must never have been drawn.
double chiSquare(const std::map<uint32_t, int>& counts, const std::vector<double>& expected, int draws) {
  double statistic = 0;
  for (const auto& [id, count] : counts) {
    EXPECT_LT(id, expected.size());
    EXPECT_GT(expected[id], 0.0) << "id " << id << " was drawn but lies outside the kept set";
  }
  for (size_t id = 0; id < expected.size(); ++id) {
    if (expected[id] == 0.0) continue;
    const double want = expected[id] * draws;
    const auto found = counts.find(uint32_t(id));
    const double got = found == counts.end() ? 0.0 : found->second;
    statistic += (got - want) * (got - want) / want;
  }
  return statistic;
}

// chi-square quantile for P(X > q) = 1e-6 with `dof` degrees of freedom, by
// the Wilson-Hilferty approximation (within a few percent for dof >= 1).
double chiSquareBound(size_t dof) {
  const double z = 4.753;  // standard normal upper 1e-6 quantile
  const double k = double(dof);
  const double term = 1.0 - 2.0 / (9.0 * k) + z * std::sqrt(2.0 / (9.0 * k));
  return k * term * term * term;
}

class SampleKernelTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // llvmpipe is allowed explicitly: tests run where no GPU exists (DESIGN.md).
    device_ = gpu::GpuDevice::open({"", /*allow_software_gpu=*/true}).release();
  }
  static void TearDownTestSuite() {
    delete device_;
    device_ = nullptr;
  }

  // The kernel bound to `logits` and a step-input buffer laid out as the
  // schedule's: [0] the drawn id, [1] the position, [2..6] SamplingParams.
  class Sampler {
   public:
    Sampler(gpu::GpuDevice& device, const std::vector<float>& logits, uint32_t workgroup = 256)
        : logits_(gpu::GpuBuffer::allocate(device, logits.size() * 4, gpu::MemoryPlacement::kHostVisible, "logits")),
          step_(gpu::GpuBuffer::allocate(device, 8 * 4, gpu::MemoryPlacement::kHostVisible, "step")),
          pipeline_(makePipeline(device, sampleKernel(uint32_t(logits.size()), workgroup))),
          pool_(gpu::DescriptorPool::create(device, 1, 2)),
          stream_(device) {
      logits_.write(0, std::as_bytes(std::span(logits)));
      const std::vector<gpu::BufferBinding> bindings = {{&logits_, 0, VK_WHOLE_SIZE}, {&step_, 0, VK_WHOLE_SIZE}};
      VkDescriptorSet set = pool_.allocate(pipeline_, bindings);
      stream_.begin();
      stream_.dispatch(pipeline_, set, SamplePush{0, 2, 1, 0}, {1, 1, 1});
      stream_.memoryBarrier(gpu::Hazard::kComputeToHost);
      stream_.end();
    }
    uint32_t draw(const Settings& s, uint32_t position) {
      const uint32_t words[7] = {0xdeadbeefu, position, std::bit_cast<uint32_t>(s.temperature), s.top_k,
                                 std::bit_cast<uint32_t>(s.top_p), uint32_t(s.seed), uint32_t(s.seed >> 32)};
      step_.write(0, std::as_bytes(std::span(words)));
      stream_.submitAndWait();
      uint32_t id = 0;
      step_.read(0, std::as_writable_bytes(std::span(&id, 1)));
      return id;
    }
    std::map<uint32_t, int> histogram(const Settings& s, int draws) {
      std::map<uint32_t, int> counts;
      for (int position = 0; position < draws; ++position) ++counts[draw(s, uint32_t(position))];
      return counts;
    }

   private:
    static gpu::ComputePipeline makePipeline(gpu::GpuDevice& device, const KernelRequest& request) {
      EXPECT_EQ(KernelLibrary::builtin().get(request.kernel).push_constant_bytes, sizeof(SamplePush));
      return test_support::kernelPipeline(device, request);
    }

    gpu::GpuBuffer logits_, step_;
    gpu::ComputePipeline pipeline_;
    gpu::DescriptorPool pool_;
    gpu::CommandStream stream_;
  };

  // Draws `draws` tokens and checks them against expectedDistribution.
  void expectDistribution(const std::vector<float>& logits, const Settings& s, int draws, uint32_t workgroup,
                          const std::string& what) {
    Sampler sampler(*device_, logits, workgroup);
    const std::vector<double> expected = expectedDistribution(logits, s);
    const std::map<uint32_t, int> counts = sampler.histogram(s, draws);
    const size_t support = size_t(std::count_if(expected.begin(), expected.end(), [](double p) { return p > 0; }));
    ASSERT_GE(support, 2u) << what;
    const double statistic = chiSquare(counts, expected, draws);
    EXPECT_LT(statistic, chiSquareBound(support - 1)) << what << ": chi-square over " << support << " ids";
  }

  static gpu::GpuDevice* device_;
};
gpu::GpuDevice* SampleKernelTest::device_ = nullptr;

// Ten logits spread so every id gets a few percent or more at T = 1.5.
const std::vector<float> kTenLogits = {1.0f, 2.5f, 0.2f, 3.0f, -0.5f, 2.0f, 1.7f, 0.9f, 2.9f, 1.1f};

TEST_F(SampleKernelTest, DrawsFollowTheTemperedSoftmax) {
  for (uint32_t workgroup : {4u, 256u}) {  // one token per invocation or none for most
    expectDistribution(kTenLogits, {1.5f, 0, 1.0f, 11}, 6000, workgroup,
                       "T=1.5, WG_SIZE " + std::to_string(workgroup));
  }
  // The temperature matters: draws at T = 0.5 do not pass as T = 1.5's.
  Sampler sampler(*device_, kTenLogits);
  const std::map<uint32_t, int> cold = sampler.histogram({0.5f, 0, 1.0f, 11}, 3000);
  EXPECT_GT(chiSquare(cold, expectedDistribution(kTenLogits, {1.5f}), 3000), 10 * chiSquareBound(9));
}

TEST_F(SampleKernelTest, TopKKeepsTheKLargestRenormalised) {
  std::mt19937 random(5);
  std::uniform_real_distribution<float> uniform(-4.0f, 4.0f);
  std::vector<float> logits(1000);
  for (float& v : logits) v = uniform(random);
  expectDistribution(logits, {2.0f, 5, 1.0f, 12}, 4000, 64, "top-k 5 of 1000");
  // k = 1 is greedy at any temperature.
  Sampler sampler(*device_, logits);
  const uint32_t best = uint32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
  for (uint32_t position = 0; position < 50; ++position) {
    ASSERT_EQ(sampler.draw({5.0f, 1, 1.0f, 13}, position), best);
  }
}

TEST_F(SampleKernelTest, TopPKeepsTheNucleusOfTheTopKSet) {
  // Probabilities 0.5, 0.3, 0.15, 0.05 (ids 3, 0, 2, 1).
  const std::vector<float> logits = {std::log(0.3f), std::log(0.05f), std::log(0.15f), std::log(0.5f)};
  // p = 0.7: the 0.3 token stays (0.5 above it), the 0.15 token goes (0.8 above).
  expectDistribution(logits, {1.0f, 0, 0.7f, 21}, 4000, 64, "top-p 0.7");
  // top-k 3 first (mass 0.95, renormalised: 0.526, 0.316, 0.158), then p = 0.84:
  // the third token has 0.842 above it and goes. Over the whole distribution it
  // would have had 0.8 above and stayed, so this pins transformers' order.
  const Settings ordered{1.0f, 3, 0.84f, 22};
  const std::vector<double> expected = expectedDistribution(logits, ordered);
  ASSERT_EQ(expected[2], 0.0);
  expectDistribution(logits, ordered, 4000, 64, "top-k 3 then top-p 0.84");
  // A tiny p keeps only the most likely token.
  Sampler sampler(*device_, logits);
  for (uint32_t position = 0; position < 50; ++position) ASSERT_EQ(sampler.draw({1.0f, 0, 1e-4f, 23}, position), 3u);
}

TEST_F(SampleKernelTest, TiesAtTheTopKBoundaryAreAllKept) {
  // One 5 and six 4s: top-k 2 keeps all seven, in proportion e : 1 : ... : 1.
  std::vector<float> logits(300, -3.0f);
  logits[100] = 5.0f;
  for (uint32_t i : {7u, 64u, 65u, 128u, 200u, 299u}) logits[i] = 4.0f;
  expectDistribution(logits, {1.0f, 2, 1.0f, 31}, 4000, 256, "tied top-k boundary");
}

TEST_F(SampleKernelTest, TheSameSeedAndPositionDrawTheSameToken) {
  // Gemma's vocabulary size, near-flat logits: draws spread over many ids.
  std::mt19937 random(9);
  std::normal_distribution<float> normal(0.0f, 0.3f);
  std::vector<float> logits(262208);
  for (float& v : logits) v = normal(random);
  Sampler sampler(*device_, logits);
  std::set<uint32_t> distinct;
  for (uint32_t position = 0; position < 40; ++position) {
    const uint32_t first = sampler.draw({1.0f, 0, 1.0f, 77}, position);
    ASSERT_LT(first, logits.size());
    EXPECT_EQ(sampler.draw({1.0f, 0, 1.0f, 77}, position), first) << "position " << position;
    distinct.insert(first);
    distinct.insert(sampler.draw({1.0f, 0, 1.0f, 78}, position));
  }
  EXPECT_GT(distinct.size(), 70u) << "80 draws from ~262k near-equal ids should hardly repeat";
}

}  // namespace
}  // namespace unicorn::spirv
