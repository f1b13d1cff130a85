// out = a + b over `count` float32 elements (the residual add where it is not
// fused into a norm). out may be a or b (same element, same invocation).
//
// Defines: WG_SIZE.
// Dispatch: (any number of groups, 1, 1): a grid-stride loop covers `count`,
// so counts beyond maxComputeWorkGroupCount * WG_SIZE work too.
#version 450

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer A { float a[]; };
layout(std430, set = 0, binding = 1) readonly buffer B { float b[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Output { float sum[]; };

layout(push_constant) uniform AddPush {
  uint a_base;
  uint b_base;
  uint out_base;
  uint count;
} pc;

void main() {
  uint stride = gl_NumWorkGroups.x * WG_SIZE;
  for (uint i = gl_GlobalInvocationID.x; i < pc.count; i += stride) {
    sum[pc.out_base + i] = a[pc.a_base + i] + b[pc.b_base + i];
  }
}
