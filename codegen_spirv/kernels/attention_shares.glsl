// Split-K decode attention's shares (attention_split.comp, attention_decode.comp):
// one token's heads alone are too few workgroups to stream a long KV cache at
// memory speed, so workgroup z = s of (head, token) attends to the s-th of
// `shares` equal parts of the visible keys, shares = min(SPLITS, ceil(keys /
// 8)) (every share at least a batch of the value loop; at a handful of keys
// one workgroup does all and the rest return at once). Each writes its partial
// (the unnormalised sum of weighted values, its running max m_s and sum l_s)
// and counts itself in; the last one to arrive folds them into the output,
//   M = max_s m_s,  out = sum_s exp(m_s - M) acc_s / sum_s exp(m_s - M) l_s
// (the softmax over all keys at once), and sets the count back to 0 for the
// next step: no second dispatch, no barrier between the two halves.
//
// The partials reach the last workgroup through `coherent` memory: each
// workgroup's writes, a buffer memory barrier, then its count (an atomic add);
// the one that sees shares - 1 before its add reads them after another barrier
// (the last-block pattern of reductions).
//
// Bindings 5 the partials, from element 0: ((token * NUM_HEADS + head) *
// SPLITS + s) * (HEAD_DIM + 2); 6 the counts, one uint per (token, head) from
// element 0, zero before the first dispatch (the runtime zero-fills activation
// buffers) and after every one.
// Include after attention_keys.glsl; needs SPLITS (2 to 64, at most WG_SIZE).

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

// How many shares `key_count` visible keys take.
uint shareCount(uint key_count) { return min(uint(SPLITS), (key_count + kMinShareKeys - 1u) / kMinShareKeys); }

// The keys [begin, end) of the visible ones that share `split` of `shares`
// attends to; the last shares can be empty (129 keys in 16 shares of 9: the
// 16th starts at 135), their partials then count as no keys.
void shareBounds(uint key_count, uint shares, uint split, out uint begin, out uint end) {
  uint share = (key_count + shares - 1u) / shares;
  begin = min(split * share, key_count);
  end = min(begin + share, key_count);
}

// This share's attendKeys result in; true in the workgroup that then holds
// the head's normalised output (this lane's dimensions, lane + k * WG_SIZE, in
// `attended_row`): with one share, this one; else the last share to arrive,
// after folding in every partial. Every invocation of the workgroup calls it;
// the result is uniform over the workgroup.
bool finishShare(uint head, uint token, uint split, uint shares, float accumulated[kDimsPerInvocation],
                 float running_max, float running_sum, out float attended_row[kDimsPerInvocation]) {
  if (shares == 1u) {
    for (uint k = 0u; k < kDimsPerInvocation; ++k) attended_row[k] = accumulated[k] / running_sum;
    return true;
  }
  uint lane = gl_LocalInvocationID.x;
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
  if (!is_last_share) return false;
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
  for (uint k = 0u; k < kDimsPerInvocation; ++k) {
    uint d = min(lane + k * WG_SIZE, HEAD_DIM - 1u);
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
    attended_row[k] = sum;
  }
  if (lane == 0u) counts[pair] = 0u;
  return true;
}
