// Split-K decode attention (attention_keys.glsl): one token's heads alone are
// too few workgroups to stream a long KV cache at memory speed, so workgroup
// z = s of (head, token) attends to the s-th of `shares` equal parts of the
// visible keys, shares = min(SPLITS, ceil(keys / 8)) (every share at least a
// batch of the value loop; at a handful of keys one workgroup does all and the
// rest return at once). Each writes its partial (the unnormalised sum of
// weighted values, its running max m_s and sum l_s) and counts itself in; the
// last one to arrive folds them into the output,
//   M = max_s m_s,  out = sum_s exp(m_s - M) acc_s / sum_s exp(m_s - M) l_s
// (the softmax over all keys at once), and sets the count back to 0 for the
// next step: no second dispatch, no barrier between the two halves.
//
// The partials reach the last workgroup through `coherent` memory: each
// workgroup's writes, a buffer memory barrier, then its count (an atomic add);
// the one that sees shares - 1 before its add reads them after another barrier
// (the last-block pattern of reductions).
//
// Bindings: as attention_keys.glsl (4 the output), 5 the
// partials, from element 0: ((token * NUM_HEADS + head) * SPLITS + s) *
// (HEAD_DIM + 2); 6 the counts, one uint per (token, head) from element 0,
// zero before the first dispatch (the runtime zero-fills activation buffers)
// and after every one.
// Defines: as attention_keys.glsl, and SPLITS (2 to 64, at most WG_SIZE).
// Dispatch: (NUM_HEADS, num_tokens, SPLITS).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "attention_keys.glsl"

layout(std430, set = 0, binding = 5) coherent buffer Partials { float partials[]; };
layout(std430, set = 0, binding = 6) coherent buffer Counts { uint counts[]; };

const uint kPartialStride = HEAD_DIM + 2u;
// The fewest keys a share takes (a batch of the value loop): short contexts
// spread over several workgroups too, each share's keys being a chain of load
// latencies.
const uint kMinShareKeys = kValueBatch;
// Partials the combine loads at once.
const uint kCombineBatch = 8u;

shared bool is_last_share;
shared float share_weights[SPLITS];

void main() {
  uint head = gl_WorkGroupID.x;
  uint token = gl_WorkGroupID.y;
  uint split = gl_WorkGroupID.z;
  if (token >= pc.num_tokens) return;
  uint lane = gl_LocalInvocationID.x;
  uint first_key;
  uint key_count = visibleKeys(token, first_key);  // at least 1: the query's own key
  uint shares = min(uint(SPLITS), (key_count + kMinShareKeys - 1u) / kMinShareKeys);
  if (split >= shares) return;
  uint share = (key_count + shares - 1u) / shares;
  uint share_begin = min(split * share, key_count);

  loadQuery(head, token);
  float accumulated[kDimsPerInvocation];
  float running_max, running_sum;
  attendKeys(head, first_key + share_begin, min(share_begin + share, key_count) - share_begin, accumulated,
             running_max, running_sum);

  if (shares == 1u) {
    storeAttended(head, token, accumulated, running_sum);
    return;
  }

  uint pair = token * NUM_HEADS + head;
  uint first_partial = pair * uint(SPLITS) * kPartialStride;
  uint partial = first_partial + split * kPartialStride;
  for (uint k = 0u; k < kDimsPerInvocation; ++k) {
    uint d = lane + k * WG_SIZE;
    if (d < HEAD_DIM) partials[partial + d] = accumulated[k];
  }
  if (lane == 0u) {
    partials[partial + HEAD_DIM] = running_max;
    partials[partial + HEAD_DIM + 1u] = running_sum;
  }
  memoryBarrierBuffer();
  barrier();
  if (lane == 0u) is_last_share = atomicAdd(counts[pair], 1u) == shares - 1u;
  barrier();
  if (!is_last_share) return;
  memoryBarrierBuffer();

  // Each share's weight exp(m_s - M) / sum_s exp(m_s - M) l_s, a lane a share.
  float share_max = lane < shares ? partials[first_partial + lane * kPartialStride + HEAD_DIM] : kLowest;
  float share_sum = lane < shares ? partials[first_partial + lane * kPartialStride + HEAD_DIM + 1u] : 0.0;
  float weight = exp(share_max - workgroupMax(share_max));  // 0 past the last share
  float total = workgroupSum(weight * share_sum);
  if (lane < shares) share_weights[lane] = weight / total;
  barrier();
  // The partials kCombineBatch shares at a time, their loads issued together
  // (past the last share: its partial again, weighed 0).
  for (uint d = lane; d < HEAD_DIM; d += WG_SIZE) {
    float sum = 0.0;
    for (uint batch = 0u; batch < shares; batch += kCombineBatch) {
      float parts[kCombineBatch];
      [[unroll]] for (uint u = 0u; u < kCombineBatch; ++u) {
        parts[u] = partials[first_partial + min(batch + u, shares - 1u) * kPartialStride + d];
      }
      [[unroll]] for (uint u = 0u; u < kCombineBatch; ++u) {
        sum += (batch + u < shares ? share_weights[batch + u] : 0.0) * parts[u];
      }
    }
    attended[outputOffset(head, token) + d] = sum;
  }
  if (lane == 0u) counts[pair] = 0u;
}
