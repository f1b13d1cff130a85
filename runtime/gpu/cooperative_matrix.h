// VK_KHR_cooperative_matrix as the runtime uses it: which matrix products a
// device's cooperative-matrix units run (read once with the capabilities), and
// whether a kernel's matrices are among them.
//
// The Vulkan headers Debian 12 builds against (1.3.239) predate the extension
// (1.3.255), so its few definitions are spelled out here from the
// specification; the loader passes the unknown physical-device function through
// to the driver, which is all that is needed.
#pragma once

#include <vulkan/vulkan.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace unicorn::gpu {

// VkComponentTypeKHR and VkScopeKHR values (the same as the NV extension's).
enum class MatrixComponent : uint32_t {
  kFloat16 = 0, kFloat32 = 1, kFloat64 = 2, kSint8 = 3, kSint16 = 4, kSint32 = 5, kSint64 = 6,
  kUint8 = 7, kUint16 = 8, kUint32 = 9, kUint64 = 10,
};
inline constexpr uint32_t kMatrixScopeSubgroup = 3;

// One entry of vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR: the device
// computes Result (M x N) = A (M x K) * B (K x N) + C (M x N) at `scope`.
struct CooperativeMatrixShape {
  uint32_t m = 0, n = 0, k = 0;
  MatrixComponent a{}, b{}, c{}, result{};
  bool saturating = false;
  uint32_t scope = 0;
};

// How a module uses one OpTypeCooperativeMatrixKHR (SPIR-V's CooperativeMatrixUse).
enum class MatrixUse : uint32_t { kA = 0, kB = 1, kAccumulator = 2 };
struct CooperativeMatrixType {
  uint32_t rows = 0, columns = 0;
  MatrixComponent component{};
  uint32_t scope = 0;
  MatrixUse use{};
};

// What the KHR extension's feature struct holds (VkPhysicalDeviceCooperativeMatrixFeaturesKHR).
struct CooperativeMatrixFeatures {
  VkStructureType sType = static_cast<VkStructureType>(1000506000);
  void* pNext = nullptr;
  VkBool32 cooperativeMatrix = VK_FALSE;
  VkBool32 cooperativeMatrixRobustBufferAccess = VK_FALSE;
};
inline constexpr const char* kCooperativeMatrixExtension = "VK_KHR_cooperative_matrix";

// The device's shapes (empty where the driver does not return the function).
std::vector<CooperativeMatrixShape> readCooperativeMatrixShapes(VkInstance instance, VkPhysicalDevice device);

// Why `shapes` cannot hold the module's matrix `type` ("16x16 fp16 A matrices
// at subgroup scope"), or nullopt when some shape takes it in that role.
std::optional<std::string> unsupportedMatrix(const CooperativeMatrixType& type,
                                             const std::vector<CooperativeMatrixShape>& shapes);

}  // namespace unicorn::gpu
