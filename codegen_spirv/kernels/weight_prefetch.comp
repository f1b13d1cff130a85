// The first bytes of a decode product's weights read into the device's cache
// while the dispatch before that product runs. A decode step is a chain of
// dependent dispatches, and the small ones between its products (a norm on
// one workgroup, attention over a few keys, quantize_activation) keep the
// memory idle for microseconds each, waiting on latency; the weights do not
// depend on them, so this dispatch, recorded right after such a one with no
// barrier between the two, streams the next product's first rows into the
// cache meanwhile, and the product then finds them there (the schedule pass,
// decode-prefetch-mib). It computes nothing the model uses.
//
// Each invocation folds its units with xor and stores the fold only where it
// equals kSinkKey: the store keeps the loads from being optimised away, and
// whether it happens depends on the weights' bits alone (the sink is written,
// if ever, by no other dispatch, and read by none).
//
// Bindings: 0 the first window (uvec4 units: a quantised matrix's quants or a
// bf16 matrix's rows), 1 the second (its scales; bf16: any, second_units 0),
// 2 the sink (one uint).
// Defines: WG_SIZE, UNITS (units an invocation reads).
// Dispatch: (ceil((first_units + second_units) / (WG_SIZE * UNITS)), 1, 1).
#version 450
#extension GL_EXT_control_flow_attributes : require

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer First { uvec4 first[]; };
layout(std430, set = 0, binding = 1) readonly buffer Second { uvec4 second[]; };
layout(std430, set = 0, binding = 2) writeonly buffer Sink { uint sink; };

layout(push_constant) uniform WeightPrefetchPush {
  uint first_units;
  uint second_units;
} pc;

const uint kSinkKey = 0x9e3779b9u;

void main() {
  // A workgroup's units are contiguous, and its invocations' neighbours: each
  // load instruction of the workgroup reads WG_SIZE consecutive units.
  uint begin = gl_WorkGroupID.x * uint(WG_SIZE) * uint(UNITS) + gl_LocalInvocationID.x;
  uvec4 folded = uvec4(0u);
  [[unroll]] for (uint i = 0u; i < uint(UNITS); ++i) {
    uint unit = begin + i * uint(WG_SIZE);
    if (unit < pc.first_units) {
      folded ^= first[unit];
    } else if (unit - pc.first_units < pc.second_units) {
      folded ^= second[unit - pc.first_units];
    }
  }
  uint word = folded.x ^ folded.y ^ folded.z ^ folded.w;
  if (word == kSinkKey) sink = word;
}
