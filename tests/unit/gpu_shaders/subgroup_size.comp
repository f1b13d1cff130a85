// Writes gl_SubgroupSize, so the test can check what a pipeline actually ran
// with against DeviceCapabilities (and a required subgroup size).
#version 450
#extension GL_KHR_shader_subgroup_basic : require

layout(local_size_x = 64) in;
layout(std430, set = 0, binding = 0) writeonly buffer Result { uint subgroup_size; };

void main() {
  if (gl_LocalInvocationIndex == 0) subgroup_size = gl_SubgroupSize;
}
