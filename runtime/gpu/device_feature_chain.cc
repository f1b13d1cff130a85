#include "runtime/gpu/device_feature_chain.h"

namespace unicorn::gpu {

DeviceFeatureChain::DeviceFeatureChain(Present present) {
  features.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  storage16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES;
  storage8.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_8BIT_STORAGE_FEATURES;
  float16_int8.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES;
  size_control.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES;
  integer_dot.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_INTEGER_DOT_PRODUCT_FEATURES;
  executable_properties.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PIPELINE_EXECUTABLE_PROPERTIES_FEATURES_KHR;
  features.pNext = &storage16;
  void** tail = &storage16.pNext;
  auto link = [&tail](bool wanted, auto& next) {
    if (!wanted) return;
    *tail = &next;
    tail = &next.pNext;
  };
  link(present.storage8, storage8);
  link(present.float16_int8, float16_int8);
  link(present.size_control, size_control);
  link(present.integer_dot, integer_dot);
  link(present.cooperative_matrix, cooperative_matrix);
  link(present.executable_properties, executable_properties);
}

}  // namespace unicorn::gpu
