// The read-bandwidth probe of unicorn-exec --bench: streams `count` uvec4 of
// binding 0 once, each invocation a grid-stride share, so neighbouring
// invocations read neighbouring 16 bytes (the access a matvec makes), and
// writes one word per invocation to binding 1 so the reads cannot be dropped.
// Compiled to SPIR-V when unicorn-exec is built (runtime/CMakeLists.txt): the
// runtime itself never compiles shaders.
#version 450

layout(local_size_x = 256) in;

layout(std430, set = 0, binding = 0) readonly buffer Source { uvec4 data[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Sink { uint sink[]; };

layout(push_constant) uniform ProbePush {
  uint count;  // uvec4 elements to read
} pc;

void main() {
  uvec4 folded = uvec4(0u);
  const uint stride = gl_NumWorkGroups.x * 256u;
  for (uint i = gl_GlobalInvocationID.x; i < pc.count; i += stride) folded ^= data[i];
  sink[gl_GlobalInvocationID.x] = folded.x ^ folded.y ^ folded.z ^ folded.w;
}
