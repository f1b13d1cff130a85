// The largest (value, index) pair over the workgroup; among equal values the
// lowest index wins, like torch.argmax. An invocation without a candidate passes
// (-inf, kNoIndex). Same calling rules as workgroup_reduce.glsl. Needs WG_SIZE.
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require

const uint kNoIndex = 0xffffffffu;
// A macro: uintBitsToFloat is not a constant expression in GLSL 4.50.
#define kNegativeInfinity uintBitsToFloat(0xff800000u)

shared float argmax_values[WG_SIZE];
shared uint argmax_indices[WG_SIZE];

// True when (value, index) ranks before (best_value, best_index).
bool ranksBefore(float value, uint index, float best_value, uint best_index) {
  return value > best_value || (value == best_value && index < best_index);
}

void workgroupArgmax(inout float value, inout uint index) {
  float subgroup_best = subgroupMax(value);
  uint subgroup_index = subgroupMin(value == subgroup_best ? index : kNoIndex);
  if (subgroupElect()) {
    argmax_values[gl_SubgroupID] = subgroup_best;
    argmax_indices[gl_SubgroupID] = subgroup_index;
  }
  barrier();
  value = argmax_values[0];
  index = argmax_indices[0];
  for (uint i = 1u; i < gl_NumSubgroups; ++i) {
    if (ranksBefore(argmax_values[i], argmax_indices[i], value, index)) {
      value = argmax_values[i];
      index = argmax_indices[i];
    }
  }
  barrier();
}
