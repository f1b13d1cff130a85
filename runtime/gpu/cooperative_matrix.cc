#include "runtime/gpu/cooperative_matrix.h"

namespace unicorn::gpu {
namespace {

// VkCooperativeMatrixPropertiesKHR.
struct MatrixProperties {
  VkStructureType sType = static_cast<VkStructureType>(1000506001);
  void* pNext = nullptr;
  uint32_t MSize = 0, NSize = 0, KSize = 0;
  uint32_t AType = 0, BType = 0, CType = 0, ResultType = 0;
  VkBool32 saturatingAccumulation = VK_FALSE;
  uint32_t scope = 0;
};
using GetMatrixProperties = VkResult(VKAPI_PTR*)(VkPhysicalDevice, uint32_t*, MatrixProperties*);

std::string componentName(MatrixComponent component) {
  switch (component) {
    case MatrixComponent::kFloat16: return "fp16";
    case MatrixComponent::kFloat32: return "fp32";
    case MatrixComponent::kFloat64: return "fp64";
    case MatrixComponent::kSint8: return "int8";
    case MatrixComponent::kSint16: return "int16";
    case MatrixComponent::kSint32: return "int32";
    case MatrixComponent::kSint64: return "int64";
    case MatrixComponent::kUint8: return "uint8";
    case MatrixComponent::kUint16: return "uint16";
    case MatrixComponent::kUint32: return "uint32";
    case MatrixComponent::kUint64: return "uint64";
  }
  return "component " + std::to_string(static_cast<uint32_t>(component));
}

}  // namespace

std::vector<CooperativeMatrixShape> readCooperativeMatrixShapes(VkInstance instance, VkPhysicalDevice device) {
  auto get = reinterpret_cast<GetMatrixProperties>(
      vkGetInstanceProcAddr(instance, "vkGetPhysicalDeviceCooperativeMatrixPropertiesKHR"));
  if (get == nullptr) return {};
  uint32_t count = 0;
  if (get(device, &count, nullptr) != VK_SUCCESS || count == 0) return {};
  std::vector<MatrixProperties> properties(count);
  if (get(device, &count, properties.data()) < VK_SUCCESS) return {};
  properties.resize(count);
  std::vector<CooperativeMatrixShape> shapes;
  for (const MatrixProperties& p : properties) {
    shapes.push_back({p.MSize, p.NSize, p.KSize, MatrixComponent(p.AType), MatrixComponent(p.BType),
                      MatrixComponent(p.CType), MatrixComponent(p.ResultType), p.saturatingAccumulation == VK_TRUE,
                      p.scope});
  }
  return shapes;
}

std::optional<std::string> unsupportedMatrix(const CooperativeMatrixType& type,
                                             const std::vector<CooperativeMatrixShape>& shapes) {
  for (const CooperativeMatrixShape& s : shapes) {
    if (s.scope != type.scope) continue;
    const bool fits = type.use == MatrixUse::kA ? s.m == type.rows && s.k == type.columns && s.a == type.component
                      : type.use == MatrixUse::kB
                          ? s.k == type.rows && s.n == type.columns && s.b == type.component
                          : s.m == type.rows && s.n == type.columns && s.c == type.component && s.result == type.component;
    if (fits) return std::nullopt;
  }
  const char* role = type.use == MatrixUse::kA ? "A" : type.use == MatrixUse::kB ? "B" : "accumulator";
  return std::to_string(type.rows) + "x" + std::to_string(type.columns) + " " + componentName(type.component) + " " +
         role + " matrices" + (type.scope == kMatrixScopeSubgroup ? " at subgroup scope" : " at scope " + std::to_string(type.scope));
}

}  // namespace unicorn::gpu
