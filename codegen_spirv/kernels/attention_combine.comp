// The second half of split-K attention (attention.comp with SPLITS > 1): per
// token and head, folds the SPLITS partials (unnormalised value sum acc_s,
// running max m_s, running sum l_s) into the output
//   M = max_s m_s,  out = sum_s exp(m_s - M) acc_s / sum_s exp(m_s - M) l_s
// which is the softmax over all keys at once. An empty share (m_s = kLowest,
// l_s = 0) contributes nothing; share 0 always holds the first visible key.
//
// Bindings: 0 partials (float), 1 out (float).
// Defines: HEAD_DIM, NUM_HEADS, SPLITS, WG_SIZE.
// Dispatch: (NUM_HEADS, num_tokens, 1).
#version 450

layout(local_size_x = WG_SIZE) in;

layout(std430, set = 0, binding = 0) readonly buffer Partials { float partials[]; };
layout(std430, set = 0, binding = 1) writeonly buffer Output { float attended[]; };

layout(push_constant) uniform AttentionCombinePush {
  uint partials_base;  // element index of token 0, head 0, share 0
  uint out_base;
  uint out_token_stride;
  uint num_tokens;
} pc;

const uint kPartialStride = HEAD_DIM + 2u;

void main() {
  uint head = gl_WorkGroupID.x;
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint first = pc.partials_base + (token * NUM_HEADS + head) * uint(SPLITS) * kPartialStride;
  float shared_max = partials[first + HEAD_DIM];
  for (uint s = 1u; s < uint(SPLITS); ++s) shared_max = max(shared_max, partials[first + s * kPartialStride + HEAD_DIM]);
  float total = 0.0;
  for (uint s = 0u; s < uint(SPLITS); ++s) {
    uint at = first + s * kPartialStride;
    total += exp(partials[at + HEAD_DIM] - shared_max) * partials[at + HEAD_DIM + 1u];
  }
  uint out_offset = pc.out_base + token * pc.out_token_stride + head * HEAD_DIM;
  for (uint d = gl_LocalInvocationID.x; d < HEAD_DIM; d += WG_SIZE) {
    float sum = 0.0;
    for (uint s = 0u; s < uint(SPLITS); ++s) {
      uint at = first + s * kPartialStride;
      sum += exp(partials[at + HEAD_DIM] - shared_max) * partials[at + d];
    }
    attended[out_offset + d] = sum / total;
  }
}
