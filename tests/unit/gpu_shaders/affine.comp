// y[i] = kScale * x[i] + addend for i < count: the smallest kernel that uses
// every input the device layer passes — a specialization constant (kScale, and
// the workgroup size), push constants (count, addend) and two storage buffers.
// Integer arithmetic so the test compares results exactly.
#version 450

layout(local_size_x_id = 0) in;
layout(constant_id = 1) const int kScale = 1;

layout(push_constant) uniform Push {
  uint count;
  int addend;
} push;

layout(std430, set = 0, binding = 0) readonly buffer Input { int x[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { int y[]; };

void main() {
  uint i = gl_GlobalInvocationID.x;
  if (i < push.count) y[i] = kScale * x[i] + push.addend;
}
