// The Vulkan device layer (runtime/gpu/) on a real Vulkan device. CI machines
// have only Mesa llvmpipe, a CPU-type device, so these tests ask for it with
// allow_software_gpu — exactly what a user must do. Selection rules are also
// tested on synthetic device reports (two GPUs, a GPU lacking a feature) that
// no test machine has.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "runtime/error.h"
#include "runtime/gpu/command_stream.h"
#include "runtime/gpu/compute_pipeline.h"
#include "runtime/gpu/descriptor_pool.h"
#include "runtime/gpu/device_listing.h"
#include "runtime/gpu/gpu_buffer.h"
#include "runtime/gpu/staged_uploader.h"
#include "runtime/gpu/gpu_device.h"
#include "runtime/gpu/residency.h"
#include "runtime/gpu/vulkan_error.h"
#include "runtime/gpu/vulkan_instance.h"

namespace unicorn::gpu {
namespace {

// SPIR-V compiled from tests/unit/gpu_shaders/*.comp by glslc at build time.
constexpr uint32_t kAffineSpirv[] = {
#include "gpu_shaders/affine.comp.spv.inc"
};
constexpr uint32_t kWorkgroupSumSpirv[] = {
#include "gpu_shaders/workgroup_sum.comp.spv.inc"
};
constexpr uint32_t kSubgroupSizeSpirv[] = {
#include "gpu_shaders/subgroup_size.comp.spv.inc"
};

// affine.comp's specialization constant ids and push constants.
constexpr uint32_t kWorkgroupSizeId = 0;
constexpr uint32_t kScaleId = 1;
struct AffinePush {
  uint32_t count;
  int32_t addend;
};

// Runs `body` and returns the Error it throws (failing the test if it throws none).
template <typename Body>
Error errorFrom(Body body) {
  try {
    body();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an unicorn::Error";
  return Error(ExitCode::kOk, "");
}

// ---------------------------------------------------------------------------
// Selection rules on synthetic devices.

DeviceReport syntheticDevice(uint32_t index, std::string name, DeviceType type,
                             std::vector<std::string> missing = {}) {
  DeviceReport report;
  report.index = index;
  report.capabilities.name = std::move(name);
  report.capabilities.type = type;
  report.missing = std::move(missing);
  return report;
}

const DeviceReport kLlvmpipe = syntheticDevice(0, "llvmpipe (LLVM 15.0.6, 256 bits)", DeviceType::kCpu);

TEST(DeviceSelection, SoftwareDeviceIsRefusedWithoutTheFlagNamingIt) {
  Error error = errorFrom([] { selectDevice({kLlvmpipe}, {"", false}); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_STREQ(error.what(),
               "no GPU found: the only Vulkan device is 'llvmpipe (LLVM 15.0.6, 256 bits)' (a CPU implementation); "
               "pass --allow-software-gpu to use it");
}

TEST(DeviceSelection, SoftwareDeviceIsUsedWithTheFlag) {
  EXPECT_EQ(selectDevice({kLlvmpipe}, {"", true}), 0u);
}

TEST(DeviceSelection, NoDevicesAtAllSaysSo) {
  Error error = errorFrom([] { selectDevice({}, {"", true}); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find("no Vulkan driver/device"), std::string::npos) << error.what();
}

TEST(DeviceSelection, DefaultPrefersIntegratedThenDiscreteAndNeverSoftware) {
  std::vector<DeviceReport> devices = {kLlvmpipe, syntheticDevice(1, "NVIDIA RTX", DeviceType::kDiscreteGpu),
                                       syntheticDevice(2, "AMD Radeon 780M", DeviceType::kIntegratedGpu)};
  EXPECT_EQ(selectDevice(devices, {"", true}), 2u);
  devices.pop_back();
  EXPECT_EQ(selectDevice(devices, {"", true}), 1u);  // discrete beats software even when software is allowed
}

TEST(DeviceSelection, GpuLackingAFeatureIsPassedOverAndNamed) {
  std::vector<DeviceReport> devices = {
      syntheticDevice(0, "Old GPU", DeviceType::kIntegratedGpu, {"storageBuffer16BitAccess"}),
      syntheticDevice(1, "llvmpipe", DeviceType::kCpu)};
  EXPECT_EQ(selectDevice(devices, {"", true}), 1u);  // the only device that can run, and it was asked for
  Error error = errorFrom([&] { selectDevice(devices, {"", false}); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  const std::string message = error.what();
  EXPECT_NE(message.find("'Old GPU' (integrated) lacks storageBuffer16BitAccess"), std::string::npos) << message;
  EXPECT_NE(message.find("--allow-software-gpu"), std::string::npos) << message;
  // Asked for by index, the lacking GPU is refused, not replaced.
  error = errorFrom([&] { selectDevice(devices, {"0", true}); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find("lacks storageBuffer16BitAccess"), std::string::npos) << error.what();
}

TEST(DeviceSelection, SpecByIndex) {
  std::vector<DeviceReport> devices = {syntheticDevice(0, "GPU A", DeviceType::kDiscreteGpu),
                                       syntheticDevice(1, "GPU B", DeviceType::kDiscreteGpu)};
  EXPECT_EQ(selectDevice(devices, {"1", false}), 1u);
  EXPECT_EQ(selectDevice(devices, {"0", false}), 0u);
  Error error = errorFrom([&] { selectDevice(devices, {"2", false}); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find("available: 0 'GPU A' (discrete), 1 'GPU B' (discrete)"),
            std::string::npos)
      << error.what();
}

TEST(DeviceSelection, SpecByNameIsCaseInsensitiveAndMustBeUnique) {
  std::vector<DeviceReport> devices = {syntheticDevice(0, "AMD Radeon 780M (RADV PHOENIX)", DeviceType::kIntegratedGpu),
                                       syntheticDevice(1, "AMD Radeon RX 7900", DeviceType::kDiscreteGpu), kLlvmpipe};
  devices[2].index = 2;
  EXPECT_EQ(selectDevice(devices, {"phoenix", false}), 0u);
  EXPECT_EQ(selectDevice(devices, {"rx 79", false}), 1u);
  Error ambiguous = errorFrom([&] { selectDevice(devices, {"radeon", false}); });
  EXPECT_EQ(ambiguous.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(ambiguous.what()).find("give the index"), std::string::npos) << ambiguous.what();
  Error software = errorFrom([&] { selectDevice(devices, {"LLVMpipe", false}); });
  EXPECT_EQ(software.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(software.what()).find("--allow-software-gpu"), std::string::npos) << software.what();
  EXPECT_EQ(selectDevice(devices, {"LLVMpipe", true}), 2u);
  Error unknown = errorFrom([&] { selectDevice(devices, {"geforce", true}); });
  EXPECT_EQ(unknown.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(unknown.what()).find("2 'llvmpipe (LLVM 15.0.6, 256 bits)' (cpu)"), std::string::npos)
      << unknown.what();
}

TEST(DeviceCapabilitiesRules, MissingRequirementsAreNamed) {
  DeviceCapabilities old_device;
  old_device.api_version = VK_MAKE_API_VERSION(0, 1, 0, 68);
  EXPECT_EQ(missingRequirements(old_device), std::vector<std::string>{"Vulkan 1.1 (it has 1.0.68)"});

  DeviceCapabilities lacking;
  lacking.api_version = VK_API_VERSION_1_2;
  lacking.has_compute_queue = true;
  lacking.subgroup_ops_in_compute = true;
  lacking.subgroup_basic = true;
  lacking.subgroup_arithmetic = true;
  lacking.subgroup_size = 2;
  EXPECT_EQ(missingRequirements(lacking),
            (std::vector<std::string>{"storageBuffer16BitAccess", "subgroup shuffle",
                                      "subgroups of at least 4 invocations (it has 2)"}));
  lacking.storage_buffer_16bit_access = true;
  lacking.subgroup_shuffle = true;
  lacking.subgroup_size = 4;
  EXPECT_TRUE(missingRequirements(lacking).empty());
}

TEST(VulkanError, NamesTheResultAndWhatWasBeingDone) {
  EXPECT_EQ(vkResultName(VK_ERROR_DEVICE_LOST), "VK_ERROR_DEVICE_LOST");
  EXPECT_EQ(vkResultName(static_cast<VkResult>(-123456)), "VkResult(-123456)");
  Error error = errorFrom([] { checkVk(VK_ERROR_OUT_OF_DEVICE_MEMORY, "allocating the KV cache"); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_STREQ(error.what(), "allocating the KV cache failed: VK_ERROR_OUT_OF_DEVICE_MEMORY");
  EXPECT_NO_THROW(checkVk(VK_SUCCESS, "anything"));
}

// ---------------------------------------------------------------------------
// The real device (llvmpipe here).

std::unique_ptr<GpuDevice> openSoftwareOk() { return GpuDevice::open({"", true}); }

TEST(GpuDeviceOpen, SoftwareOnlyMachineRefusesWithoutTheFlag) {
  VulkanInstance instance = VulkanInstance::create();
  std::vector<DeviceReport> devices = describeDevices(instance);
  ASSERT_FALSE(devices.empty());
  for (const DeviceReport& device : devices) {
    if (!device.is_software()) GTEST_SKIP() << "this machine has a GPU: " << device.capabilities.name;
  }
  Error error = errorFrom([] { GpuDevice::open({"", false}); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find(devices[0].capabilities.name), std::string::npos) << error.what();
  EXPECT_NE(std::string(error.what()).find("--allow-software-gpu"), std::string::npos) << error.what();
}

TEST(GpuDeviceOpen, ByIndexByNameAndABadSpec) {
  VulkanInstance instance = VulkanInstance::create();
  std::vector<DeviceReport> devices = describeDevices(instance);
  ASSERT_FALSE(devices.empty());
  const DeviceReport& last = devices.back();
  EXPECT_EQ(GpuDevice::open({std::to_string(last.index), true})->physicalDeviceIndex(), last.index);
  // A name fragment in other case: the first word of the device's name, upper-cased.
  std::string fragment = last.capabilities.name.substr(0, last.capabilities.name.find(' '));
  for (char& c : fragment) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(GpuDevice::open({fragment, true})->capabilities().name, last.capabilities.name);

  Error error = errorFrom([] { GpuDevice::open({"no-such-gpu-anywhere", true}); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find("available: 0 '" + devices[0].capabilities.name + "'"), std::string::npos)
      << error.what();
  error = errorFrom([&] { GpuDevice::open({std::to_string(devices.size()), true}); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
}

TEST(GpuDeviceOpen, CapabilitiesAreSensible) {
  std::unique_ptr<GpuDevice> device = openSoftwareOk();
  const DeviceCapabilities& caps = device->capabilities();
  EXPECT_FALSE(caps.name.empty());
  EXPECT_GE(caps.api_version, VK_API_VERSION_1_1);
  EXPECT_TRUE(caps.has_compute_queue);
  EXPECT_TRUE(caps.storage_buffer_16bit_access);
  ASSERT_GT(caps.subgroup_size, 0u);
  EXPECT_EQ(caps.subgroup_size & (caps.subgroup_size - 1), 0u) << "subgroup size is a power of two";
  EXPECT_LE(caps.min_subgroup_size, caps.subgroup_size);
  EXPECT_GE(caps.max_subgroup_size, caps.subgroup_size);
  // Vulkan's required minimums (spec table "Required Limits").
  EXPECT_GE(caps.max_storage_buffer_range, 1ull << 27);
  EXPECT_GE(caps.max_push_constants_size, 128u);
  EXPECT_GE(caps.max_compute_workgroup_invocations, 128u);
  EXPECT_GE(caps.max_compute_workgroup_size[0], 128u);
  EXPECT_GE(caps.max_memory_allocation_size, 1ull << 30);
  EXPECT_GT(caps.largest_device_local_heap_bytes, 0u);
  if (caps.external_memory_host) {
    EXPECT_GT(caps.min_imported_host_pointer_alignment, 0u);
    EXPECT_NE(device->getMemoryHostPointerProperties(), nullptr);
  }
  if (caps.type == DeviceType::kCpu && caps.name.find("llvmpipe") != std::string::npos) {
    // The limits DESIGN.md quotes for llvmpipe, which the kernels are written against.
    EXPECT_EQ(caps.subgroup_size, 8u);
    EXPECT_EQ(caps.max_storage_buffer_range, 128ull << 20);
  }
  nlohmann::json json = capabilitiesToJson(caps);
  EXPECT_EQ(json["subgroup_size"], caps.subgroup_size);
  EXPECT_EQ(json["type"], std::string(deviceTypeName(caps.type)));
}

std::vector<int32_t> iota(size_t count, int32_t first) {
  std::vector<int32_t> values(count);
  std::iota(values.begin(), values.end(), first);
  return values;
}

// A device with its pipelines and pool, shared by the dispatch tests.
class GpuCompute : public ::testing::Test {
 protected:
  static constexpr uint32_t kWorkgroupSize = 64;

  void SetUp() override {
    device_ = openSoftwareOk();
    pool_ = std::make_unique<DescriptorPool>(DescriptorPool::create(*device_, 16, 32));
  }

  ComputePipeline affinePipeline(int32_t scale) {
    return ComputePipeline::create(
        *device_, {.name = "affine",
                   .spirv = kAffineSpirv,
                   .storage_buffer_count = 2,
                   .push_constant_bytes = sizeof(AffinePush),
                   .specialization = {{kWorkgroupSizeId, kWorkgroupSize}, {kScaleId, static_cast<uint32_t>(scale)}}});
  }

  GpuBuffer intBuffer(const std::vector<int32_t>& values, const std::string& label) {
    GpuBuffer buffer = GpuBuffer::allocate(*device_, values.size() * sizeof(int32_t), MemoryPlacement::kDeviceLocal,
                                           label);
    buffer.write(0, std::as_bytes(std::span(values)));
    return buffer;
  }

  static std::vector<int32_t> readInts(const GpuBuffer& buffer, size_t count) {
    std::vector<int32_t> values(count);
    buffer.read(0, std::as_writable_bytes(std::span(values)));
    return values;
  }

  static uint32_t groupsFor(uint32_t count) { return (count + kWorkgroupSize - 1) / kWorkgroupSize; }

  // An affine kernel ready to dispatch over `count` ints: x = 0, 1, ..., y = 0.
  struct AffineJob {
    ComputePipeline pipeline;
    GpuBuffer x, y;
    VkDescriptorSet set = VK_NULL_HANDLE;
  };
  AffineJob affineJob(int32_t scale, uint32_t count) {
    AffineJob job{affinePipeline(scale), intBuffer(iota(count, 0), "x"),
                  intBuffer(std::vector<int32_t>(count, 0), "y")};
    BufferBinding bindings[] = {{&job.x}, {&job.y}};
    job.set = pool_->allocate(job.pipeline, bindings);
    return job;
  }

  std::unique_ptr<GpuDevice> device_;
  std::unique_ptr<DescriptorPool> pool_;
};

TEST_F(GpuCompute, AffineDispatchUsesSpecializationAndPushConstants) {
  constexpr uint32_t kCount = 1000;  // not a multiple of the workgroup size: the bound check matters
  ComputePipeline affine = affinePipeline(3);
  GpuBuffer x = intBuffer(iota(kCount, -500), "x");
  GpuBuffer y = intBuffer(std::vector<int32_t>(kCount + 24, 12345), "y");  // canary past `count`
  BufferBinding bindings[] = {{&x}, {&y}};
  VkDescriptorSet set = pool_->allocate(affine, bindings);

  CommandStream stream(*device_);
  stream.begin();
  stream.dispatch(affine, set, AffinePush{kCount, -7}, {groupsFor(kCount), 1, 1});
  stream.bufferBarrier(Hazard::kComputeToHost, {{&y}});
  stream.end();
  stream.submitAndWait();

  std::vector<int32_t> result = readInts(y, kCount + 24);
  for (uint32_t i = 0; i < kCount; ++i) ASSERT_EQ(result[i], 3 * (static_cast<int32_t>(i) - 500) - 7) << "i=" << i;
  for (uint32_t i = kCount; i < kCount + 24; ++i) ASSERT_EQ(result[i], 12345) << "written past count at " << i;
}

TEST_F(GpuCompute, PipelinesMadeOnSeveralThreadsKeepTheirOrder) {
  // Eight affine pipelines of different scales over four threads: each comes back
  // at its own index (the scale it computes says which it is).
  constexpr uint32_t kCount = 64, kPipelines = 8;
  std::vector<ComputePipelineDesc> descs;
  for (uint32_t scale = 1; scale <= kPipelines; ++scale) {
    descs.push_back({.name = "affine " + std::to_string(scale),
                     .spirv = kAffineSpirv,
                     .storage_buffer_count = 2,
                     .push_constant_bytes = sizeof(AffinePush),
                     .specialization = {{kWorkgroupSizeId, kWorkgroupSize}, {kScaleId, scale}}});
  }
  std::vector<ComputePipeline> pipelines = ComputePipeline::createAll(*device_, descs, 4);
  ASSERT_EQ(pipelines.size(), kPipelines);
  GpuBuffer x = intBuffer(iota(kCount, 0), "x");
  for (uint32_t i = 0; i < kPipelines; ++i) {
    EXPECT_EQ(pipelines[i].name(), descs[i].name);
    GpuBuffer y = intBuffer(std::vector<int32_t>(kCount, 0), "y");
    BufferBinding bindings[] = {{&x}, {&y}};
    CommandStream stream(*device_);
    stream.begin();
    stream.dispatch(pipelines[i], pool_->allocate(pipelines[i], bindings), AffinePush{kCount, 0}, {1, 1, 1});
    stream.bufferBarrier(Hazard::kComputeToHost, {{&y}});
    stream.end();
    stream.submitAndWait();
    EXPECT_EQ(readInts(y, kCount)[5], 5 * int32_t(i + 1)) << descs[i].name;
  }
}

TEST_F(GpuCompute, PipelinesMadeOnSeveralThreadsReportTheFirstFailure) {
  const uint32_t not_spirv[] = {0xdeadbeef, 1, 2, 3, 4, 5};
  std::vector<ComputePipelineDesc> descs(6, {.name = "affine", .spirv = kAffineSpirv, .storage_buffer_count = 2,
                                             .push_constant_bytes = sizeof(AffinePush)});
  descs[3] = {.name = "junk", .spirv = not_spirv};
  Error error = errorFrom([&] { ComputePipeline::createAll(*device_, descs, 3); });
  EXPECT_EQ(error.code(), ExitCode::kInvalidInput);
  EXPECT_NE(std::string(error.what()).find("junk"), std::string::npos) << error.what();
}

TEST_F(GpuCompute, RecordedStreamReplaysWithNewInputs) {
  constexpr uint32_t kCount = 256;
  auto [affine, x, y, set] = affineJob(5, kCount);

  // Recorded once, like the decode step; each replay must run again on new input.
  CommandStream step(*device_);
  step.begin();
  step.dispatch(affine, set, AffinePush{kCount, 1}, {groupsFor(kCount), 1, 1});
  step.bufferBarrier(Hazard::kComputeToHost, {{&y}});
  step.end();
  for (int32_t replay = 0; replay < 3; ++replay) {
    const std::vector<int32_t> input = iota(kCount, 1000 * replay);
    x.write(0, std::as_bytes(std::span(input)));
    step.submitAndWait();
    std::vector<int32_t> result = readInts(y, kCount);
    for (uint32_t i = 0; i < kCount; ++i) {
      ASSERT_EQ(result[i], 5 * (1000 * replay + static_cast<int32_t>(i)) + 1) << "replay " << replay << " i=" << i;
    }
  }
  EXPECT_EQ(step.submissionCount(), 3u);
  EXPECT_FALSE(step.inFlight());
}

TEST_F(GpuCompute, BarrierOrderedChainOfTwoDispatches) {
  constexpr uint32_t kGroups = 37;
  constexpr uint32_t kCount = kGroups * kWorkgroupSize;
  ComputePipeline affine = affinePipeline(2);
  ComputePipeline sum = ComputePipeline::create(*device_, {.name = "workgroup_sum",
                                                           .spirv = kWorkgroupSumSpirv,
                                                           .storage_buffer_count = 2,
                                                           .specialization = {{kWorkgroupSizeId, kWorkgroupSize}}});
  GpuBuffer x = intBuffer(iota(kCount, -1000), "x");
  GpuBuffer y = intBuffer(std::vector<int32_t>(kCount, 0), "y");
  GpuBuffer sums = intBuffer(std::vector<int32_t>(kGroups, -1), "sums");
  BufferBinding first[] = {{&x}, {&y}};
  BufferBinding second[] = {{&y}, {&sums}};
  VkDescriptorSet affine_set = pool_->allocate(affine, first);
  VkDescriptorSet sum_set = pool_->allocate(sum, second);

  CommandStream stream(*device_);
  stream.begin();
  stream.dispatch(affine, affine_set, AffinePush{kCount, 3}, {kGroups, 1, 1});
  stream.bufferBarrier(Hazard::kComputeToCompute, {{&y}});  // the sum reads what affine wrote
  stream.dispatch(sum, sum_set, std::span<const std::byte>{}, {kGroups, 1, 1});
  stream.memoryBarrier(Hazard::kComputeToHost);
  stream.end();
  stream.submitAndWait();

  std::vector<int32_t> result = readInts(sums, kGroups);
  for (uint32_t g = 0; g < kGroups; ++g) {
    int32_t expected = 0;
    for (uint32_t i = g * kWorkgroupSize; i < (g + 1) * kWorkgroupSize; ++i) {
      expected += 2 * (static_cast<int32_t>(i) - 1000) + 3;
    }
    ASSERT_EQ(result[g], expected) << "group " << g;
  }
}

TEST_F(GpuCompute, SubgroupSizeSeenByKernelsMatchesCapabilities) {
  const DeviceCapabilities& caps = device_->capabilities();
  GpuBuffer result = intBuffer({0}, "subgroup size");
  auto run = [&](uint32_t required) {
    ComputePipeline pipeline = ComputePipeline::create(
        *device_, {.name = "subgroup_size", .spirv = kSubgroupSizeSpirv, .storage_buffer_count = 1,
                   .required_subgroup_size = required});
    BufferBinding binding[] = {{&result}};
    VkDescriptorSet set = pool_->allocate(pipeline, binding);
    CommandStream stream(*device_);
    stream.begin();
    stream.dispatch(pipeline, set, std::span<const std::byte>{}, {1, 1, 1});
    stream.memoryBarrier(Hazard::kComputeToHost);
    stream.end();
    stream.submitAndWait();
    return static_cast<uint32_t>(readInts(result, 1)[0]);
  };
  const uint32_t seen = run(0);
  EXPECT_GE(seen, caps.min_subgroup_size);
  EXPECT_LE(seen, caps.max_subgroup_size);
  if (caps.subgroup_size_control) {
    EXPECT_EQ(run(caps.max_subgroup_size), caps.max_subgroup_size);
  }

  Error error = errorFrom([&] { run(3); });  // not a power of two, and outside every device's range
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find("subgroup size 3"), std::string::npos) << error.what();
}

TEST_F(GpuCompute, StagedUploadAndReadBackRoundTripInChunks) {
  // Over the 64 MiB staging chunk, so the copy loop runs twice; at an offset.
  const size_t count = (64u << 20) / sizeof(int32_t) + 1000;
  std::vector<int32_t> values = iota(count, 7);
  GpuBuffer buffer = GpuBuffer::allocate(*device_, (count + 16) * sizeof(int32_t), MemoryPlacement::kDeviceLocal,
                                         "big");
  buffer.writeStaged(16 * sizeof(int32_t), std::as_bytes(std::span(values)));
  std::vector<int32_t> back(count);
  buffer.readStaged(16 * sizeof(int32_t), std::as_writable_bytes(std::span(back)));
  EXPECT_TRUE(back == values);
  EXPECT_THROW(buffer.writeStaged(buffer.size() - 3, std::as_bytes(std::span(values).first(1))), std::out_of_range);
}

// Uploads of 10000, 12 and 8196 bytes into one uploader's ring of 4 KiB chunks
// of `chunks`: they share chunks (the 12 bytes ride with both neighbours'
// pieces), and the ring comes round while copies may still be in flight.
void uploadThroughOneRing(GpuDevice& device, unsigned chunks) {
  std::vector<std::vector<int32_t>> contents = {iota(2500, 1), iota(3, -9), iota(2049, 100000)};
  std::vector<GpuBuffer> buffers;
  {
    StagedUploader uploader(device, StagingShape{.chunk_bytes = 4096, .chunks = chunks});
    for (size_t i = 0; i < contents.size(); ++i) {
      buffers.push_back(GpuBuffer::allocate(device, (contents[i].size() + 4) * sizeof(int32_t),
                                            MemoryPlacement::kDeviceLocal, "upload " + std::to_string(i)));
      std::vector<int32_t> source = contents[i];  // freed at once: the uploader must not keep it
      uploader.upload(buffers.back(), 4 * sizeof(int32_t), std::as_bytes(std::span(source)));
    }
    uploader.finish();
  }
  for (size_t i = 0; i < contents.size(); ++i) {
    std::vector<int32_t> back(contents[i].size());
    buffers[i].readStaged(4 * sizeof(int32_t), std::as_writable_bytes(std::span(back)));
    EXPECT_TRUE(back == contents[i]) << "buffer " << i << " through " << chunks << " chunks";
  }
}

TEST_F(GpuCompute, OneUploaderServesManyBuffersThroughItsRingOfStagingChunks) {
  for (unsigned chunks : {1u, 2u, 3u}) uploadThroughOneRing(*device_, chunks);
}

TEST_F(GpuCompute, AnUploaderWithAnEmptyStagingShapeIsRefused) {
  EXPECT_THROW(StagedUploader(*device_, StagingShape{.chunk_bytes = 0}), std::invalid_argument);
  EXPECT_THROW(StagedUploader(*device_, StagingShape{.chunks = 0}), std::invalid_argument);
}

TEST_F(GpuCompute, MemoryUseCountsAllocationsUntilTheyAreFreed) {
  const uint64_t before = device_->memoryUse().allocated;
  {
    GpuBuffer a = GpuBuffer::allocate(*device_, 1 << 20, MemoryPlacement::kDeviceLocal, "a");
    GpuBuffer b = GpuBuffer::allocate(*device_, 1 << 16, MemoryPlacement::kHostVisible, "b");
    EXPECT_GE(device_->memoryUse().allocated, before + (1 << 20) + (1 << 16));
    GpuBuffer moved = std::move(a);  // a move hands the allocation over; it is counted once
    EXPECT_GE(device_->memoryUse().allocated, before + (1 << 20) + (1 << 16));
    EXPECT_GE(device_->memoryUse().peak_allocated, device_->memoryUse().allocated);
  }
  EXPECT_EQ(device_->memoryUse().allocated, before);
  EXPECT_GE(device_->memoryUse().peak_allocated, before + (1 << 20) + (1 << 16));
}

TEST_F(GpuCompute, TimedStreamsReportTheirGpuTime) {
  constexpr uint32_t kCount = 4096;
  auto [affine, x, y, set] = affineJob(2, kCount);
  CommandStream stream(*device_);
  for (bool timed : {false, true}) {
    stream.begin(timed);
    stream.dispatch(affine, set, AffinePush{kCount, 1}, {groupsFor(kCount), 1, 1});
    stream.end();
    EXPECT_FALSE(stream.gpuSeconds()) << "nothing has run yet";
    stream.submitAndWait();
    const bool has_timestamps = device_->capabilities().timestamp_period_ns > 0;
    if (timed && has_timestamps) {
      ASSERT_TRUE(stream.gpuSeconds());
      EXPECT_GT(*stream.gpuSeconds(), 0.0);
      EXPECT_LT(*stream.gpuSeconds(), 60.0);
    } else {
      EXPECT_FALSE(stream.gpuSeconds());
    }
  }
}

TEST_F(GpuCompute, MarksTimeEachDispatchWithinItsSubmission) {
  // A profile's timestamps: one per markTime, in order, inside the submission's
  // span; none without `timed`; no more than begin() made room for.
  constexpr uint32_t kCount = 4096;
  auto [affine, x, y, set] = affineJob(2, kCount);
  CommandStream stream(*device_);
  const bool has_timestamps = device_->capabilities().timestamp_period_ns > 0;
  for (bool timed : {true, false}) {
    stream.begin(timed, /*marks=*/3);
    for (int i = 0; i < 3; ++i) {
      if (i) stream.memoryBarrier(Hazard::kComputeToCompute);
      stream.dispatch(affine, set, AffinePush{kCount, 1}, {groupsFor(kCount), 1, 1});
      stream.markTime();
    }
    if (timed && has_timestamps) {
      EXPECT_THROW(stream.markTime(), std::logic_error);
    }
    stream.end();
    EXPECT_TRUE(stream.markSeconds().empty()) << "nothing has run yet";
    stream.submitAndWait();
    const std::vector<double> marks = stream.markSeconds();
    if (!timed || !has_timestamps) {
      EXPECT_TRUE(marks.empty());
      continue;
    }
    ASSERT_EQ(marks.size(), 3u);
    EXPECT_GE(marks[0], 0.0);
    EXPECT_LE(marks[0], marks[1]);
    EXPECT_LE(marks[1], marks[2]);
    ASSERT_TRUE(stream.gpuSeconds());
    EXPECT_LE(marks[2], *stream.gpuSeconds() * (1 + 1e-9) + 1e-9);
  }
}

TEST_F(GpuCompute, DeviceLimitsAreEnforcedWithNamedErrors) {
  const DeviceCapabilities& caps = device_->capabilities();
  Error error = errorFrom([&] {
    GpuBuffer::allocate(*device_, caps.max_memory_allocation_size + 1, MemoryPlacement::kDeviceLocal, "embedding");
  });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find("maxMemoryAllocationSize"), std::string::npos) << error.what();

  error = errorFrom([&] {
    ComputePipeline::create(*device_, {.name = "greedy", .spirv = kAffineSpirv, .storage_buffer_count = 2,
                                       .push_constant_bytes = caps.max_push_constants_size + 4});
  });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find("maxPushConstantsSize"), std::string::npos) << error.what();

  // Array sizes are one per binding, each at least 1.
  for (std::vector<uint32_t> sizes : {std::vector<uint32_t>{2}, std::vector<uint32_t>{1, 0}}) {
    error = errorFrom([&] {
      ComputePipeline::create(*device_, {.name = "arrays", .spirv = kAffineSpirv, .storage_buffer_count = 2,
                                         .array_sizes = sizes, .push_constant_bytes = sizeof(AffinePush)});
    });
    EXPECT_EQ(error.code(), ExitCode::kInvalidInput);
    EXPECT_NE(std::string(error.what()).find("arrays"), std::string::npos) << error.what();
  }

  const uint32_t not_spirv[] = {0xdeadbeef, 1, 2, 3, 4, 5};
  error = errorFrom([&] { ComputePipeline::create(*device_, {.name = "junk", .spirv = not_spirv}); });
  EXPECT_EQ(error.code(), ExitCode::kInvalidInput);
  EXPECT_NE(std::string(error.what()).find("junk"), std::string::npos) << error.what();

  ComputePipeline affine = affinePipeline(1);
  GpuBuffer small = intBuffer(std::vector<int32_t>(64, 0), "small");
  BufferBinding outside[] = {{&small}, {&small, 128, 256}};
  error = errorFrom([&] { pool_->allocate(affine, outside); });
  EXPECT_EQ(error.code(), ExitCode::kInvalidInput);
  BufferBinding too_few[] = {{&small}};
  EXPECT_EQ(errorFrom([&] { pool_->allocate(affine, too_few); }).code(), ExitCode::kInvalidInput);

  if (caps.max_storage_buffer_range < caps.max_memory_allocation_size) {
    GpuBuffer big = GpuBuffer::allocate(*device_, caps.max_storage_buffer_range + 256, MemoryPlacement::kDeviceLocal,
                                        "big tensor");
    BufferBinding too_wide[] = {{&small}, {&big}};
    error = errorFrom([&] { pool_->allocate(affine, too_wide); });
    EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
    EXPECT_NE(std::string(error.what()).find("maxStorageBufferRange"), std::string::npos) << error.what();
    BufferBinding within[] = {{&small}, {&big, 256, caps.max_storage_buffer_range}};
    EXPECT_NE(pool_->allocate(affine, within), VK_NULL_HANDLE);
  }

  CommandStream stream(*device_);
  stream.begin();
  VkDescriptorSet set = pool_->allocate(affine, std::vector<BufferBinding>{{&small}, {&small}});
  EXPECT_THROW(stream.dispatch(affine, set, std::span<const std::byte>{}, {1, 1, 1}), std::invalid_argument);
  error = errorFrom([&] {
    stream.dispatch(affine, set, AffinePush{1, 0}, {caps.max_compute_workgroup_count[0] + 1, 1, 1});
  });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find("maxComputeWorkGroupCount"), std::string::npos) << error.what();
}

TEST_F(GpuCompute, CommandStreamMisuseIsCaught) {
  CommandStream stream(*device_);
  EXPECT_THROW(stream.submit(), std::logic_error);  // nothing recorded
  EXPECT_THROW(stream.wait(), std::logic_error);    // nothing submitted
  stream.begin();
  EXPECT_THROW(stream.submit(), std::logic_error);  // still recording
  stream.end();
  stream.submit();
  EXPECT_THROW(stream.submit(), std::logic_error);  // in flight
  EXPECT_THROW(stream.begin(), std::logic_error);   // in flight
  stream.wait();
  EXPECT_NO_THROW(stream.submitAndWait());          // an empty recording replays too
}

// ---------------------------------------------------------------------------
// Residency: import in place, or a reported copy.

// An anonymous mapping standing in for a 64 KiB-aligned bundle segment.
struct HostPages {
  explicit HostPages(size_t bytes) : size(bytes) {
    base = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED) throw std::runtime_error("mmap failed");
  }
  ~HostPages() { munmap(base, size); }
  int32_t* ints() const { return static_cast<int32_t*>(base); }
  std::span<const std::byte> bytes(size_t offset, size_t length) const {
    return {static_cast<const std::byte*>(base) + offset, length};
  }
  void* base;
  size_t size;
};

TEST_F(GpuCompute, HostImportIsZeroCopyWhenSupported) {
  if (!device_->capabilities().external_memory_host) {
    HostPages pages(64 << 10);
    ResidentBuffer copied = makeResident(*device_, pages.bytes(0, 64 << 10), ResidencyPolicy::kImportOrCopy, "w");
    EXPECT_NE(copied.report.path, ResidencyPath::kImportedHostPointer);
    EXPECT_NE(copied.report.reason.find("VK_EXT_external_memory_host"), std::string::npos) << copied.report.reason;
    GTEST_SKIP() << "the device cannot import host memory; the reported copy was checked";
  }
  constexpr uint32_t kCount = 64 << 10;  // 256 KiB of int32: four 64 KiB segments
  HostPages pages(kCount * sizeof(int32_t));
  for (uint32_t i = 0; i < kCount; ++i) pages.ints()[i] = static_cast<int32_t>(i);
  ResidentBuffer weights =
      makeResident(*device_, pages.bytes(0, kCount * sizeof(int32_t)), ResidencyPolicy::kImportOrCopy, "weights");
  EXPECT_EQ(weights.report.path, ResidencyPath::kImportedHostPointer);
  EXPECT_EQ(weights.report.reason, "");
  EXPECT_EQ(weights.report.bytes, kCount * sizeof(int32_t));
  EXPECT_TRUE(weights.buffer.isImported());
  EXPECT_FALSE(weights.buffer.isMapped());
  EXPECT_THROW(weights.buffer.write(0, pages.bytes(0, 4)), std::logic_error);

  ComputePipeline affine = affinePipeline(1);
  GpuBuffer y = intBuffer(std::vector<int32_t>(kCount, 0), "y");
  BufferBinding bindings[] = {{&weights.buffer}, {&y}};
  VkDescriptorSet set = pool_->allocate(affine, bindings);
  CommandStream stream(*device_);
  stream.begin();
  stream.dispatch(affine, set, AffinePush{kCount, 0}, {groupsFor(kCount), 1, 1});
  stream.bufferBarrier(Hazard::kComputeToHost, {{&y}});
  stream.end();
  stream.submitAndWait();
  EXPECT_EQ(readInts(y, kCount)[kCount - 1], static_cast<int32_t>(kCount - 1));
  // Zero copy: a change to the host pages is what the GPU reads next time.
  pages.ints()[kCount - 1] = -42;
  stream.submitAndWait();
  EXPECT_EQ(readInts(y, kCount)[kCount - 1], -42);
}

TEST_F(GpuCompute, FileBackedReadOnlyMappingImports) {
  if (!device_->capabilities().external_memory_host) GTEST_SKIP() << "no VK_EXT_external_memory_host";
  // Like the bundle: a read-only shared mapping of a file, a segment at a 64 KiB offset.
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("unicorn-gpu-test-" + std::to_string(getpid()) + ".bin");
  std::vector<int32_t> contents = iota(3 * (64 << 10) / sizeof(int32_t), 100);
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(contents.data()), contents.size() * sizeof(int32_t));
  }
  FILE* file = std::fopen(path.c_str(), "rb");
  ASSERT_NE(file, nullptr);
  const size_t file_size = contents.size() * sizeof(int32_t);
  void* mapped = mmap(nullptr, file_size, PROT_READ, MAP_SHARED, fileno(file), 0);
  std::fclose(file);
  std::filesystem::remove(path);
  ASSERT_NE(mapped, MAP_FAILED);
  {
    const size_t segment_offset = 64 << 10, segment_size = 64 << 10;
    std::span<const std::byte> segment(static_cast<const std::byte*>(mapped) + segment_offset, segment_size);
    ResidentBuffer weights = makeResident(*device_, segment, ResidencyPolicy::kRequireImport, "segment 1");
    EXPECT_EQ(weights.report.path, ResidencyPath::kImportedHostPointer);
    std::vector<int32_t> back(segment_size / sizeof(int32_t));
    weights.buffer.read(0, std::as_writable_bytes(std::span(back)));
    EXPECT_EQ(back.front(), contents[segment_offset / sizeof(int32_t)]);
    EXPECT_EQ(back.back(), contents[(segment_offset + segment_size) / sizeof(int32_t) - 1]);
  }
  munmap(mapped, file_size);
}

TEST_F(GpuCompute, CopyInsteadOfImportIsReportedWithTheReason) {
  HostPages pages(64 << 10);
  for (uint32_t i = 0; i < 1024; ++i) pages.ints()[i + 1] = static_cast<int32_t>(i * 7);
  // One int past a page boundary: no device imports at a 4-byte alignment.
  std::span<const std::byte> misaligned = pages.bytes(sizeof(int32_t), 1024 * sizeof(int32_t));
  EXPECT_NE(whyHostImportUnavailable(*device_, misaligned), "");

  ResidentBuffer copied = makeResident(*device_, misaligned, ResidencyPolicy::kImportOrCopy, "misaligned");
  EXPECT_NE(copied.report.path, ResidencyPath::kImportedHostPointer);
  EXPECT_EQ(copied.report.path,
            copied.buffer.isMapped() ? ResidencyPath::kMappedCopy : ResidencyPath::kStagedUpload);
  EXPECT_FALSE(copied.report.reason.empty());
  if (device_->capabilities().external_memory_host) {
    EXPECT_NE(copied.report.reason.find("minImportedHostPointerAlignment"), std::string::npos)
        << copied.report.reason;
  }
  std::vector<int32_t> back(1024);
  copied.buffer.read(0, std::as_writable_bytes(std::span(back)));
  EXPECT_EQ(back[1023], 1023 * 7);

  Error error = errorFrom([&] { makeResident(*device_, misaligned, ResidencyPolicy::kRequireImport, "strict"); });
  EXPECT_EQ(error.code(), ExitCode::kDeviceMissing);
  EXPECT_NE(std::string(error.what()).find("strict"), std::string::npos) << error.what();

  ResidentBuffer forced = makeResident(*device_, pages.bytes(0, 4096), ResidencyPolicy::kCopy, "forced copy");
  EXPECT_NE(forced.report.path, ResidencyPath::kImportedHostPointer);
  EXPECT_NE(forced.report.reason.find("requested"), std::string::npos) << forced.report.reason;
  EXPECT_EQ(residencyPathName(ResidencyPath::kStagedUpload), "staged upload");
}

}  // namespace
}  // namespace unicorn::gpu
