// A head of a q|k|v row as pairs (element i, element i + HEAD_DIM/2), a lane
// each of WG_SIZE (pair p of a lane: i = lane + p * WG_SIZE), with its norm's
// gains, loaded in one burst; then RMS-normed and rotated for a position
// (rope.glsl): what qkv_norm_rope.comp and attention_decode.comp do to a query
// or key head (norm: v = x * inversesqrt(mean(x^2) + EPS) * (1 + w)).
//
// Include after the row's binding, a float array the kernel names HEAD_ROW,
// and the norms' bindings query_norm_words and key_norm_words (bf16 pairs);
// needs HEAD_DIM (even), WG_SIZE, EPS, bf16.glsl and rope.glsl.

const uint kHalf = HEAD_DIM / 2;
const uint kPairsPerInvocation = (kHalf + WG_SIZE - 1) / WG_SIZE;
const uint kQueryHead = 0u, kKeyHead = 1u, kValueHead = 2u;

struct HeadPairs {
  float first[kPairsPerInvocation];   // element i
  float second[kPairsPerInvocation];  // element i + HEAD_DIM/2
  float first_gain[kPairsPerInvocation], second_gain[kPairsPerInvocation];
  float sum_of_squares;  // this lane's
};

// The head at src_head of HEAD_ROW, of `part` (kQueryHead or kKeyHead: its
// norm's gains from word norm_base on; kValueHead: none, gains 1). Pairs past
// the head load as zeros.
HeadPairs loadHeadPairs(uint src_head, uint part, uint norm_base) {
  HeadPairs h;
  h.sum_of_squares = 0.0;
  for (uint p = 0u; p < kPairsPerInvocation; ++p) {
    uint i = gl_LocalInvocationID.x + p * WG_SIZE;
    uint j = i + kHalf;
    bool inside = i < kHalf;
    h.first[p] = inside ? HEAD_ROW[src_head + i] : 0.0;
    h.second[p] = inside ? HEAD_ROW[src_head + j] : 0.0;
    uint first_word = 0u, second_word = 0u;
    if (inside && part == kQueryHead) {
      first_word = query_norm_words[norm_base + i / 2u];
      second_word = query_norm_words[norm_base + j / 2u];
    } else if (inside && part == kKeyHead) {
      first_word = key_norm_words[norm_base + i / 2u];
      second_word = key_norm_words[norm_base + j / 2u];
    }
    h.first_gain[p] = 1.0 + bf16Element(first_word, i);
    h.second_gain[p] = 1.0 + bf16Element(second_word, j);
    h.sum_of_squares += h.first[p] * h.first[p] + h.second[p] * h.second[p];
  }
  return h;
}

// 1 / rms of the head from the workgroup's sum of its squares.
float inverseRms(float workgroup_sum_of_squares) {
  return inversesqrt(workgroup_sum_of_squares / float(HEAD_DIM) + EPS);
}

// Pair p of the head normed and rotated for `position` (past the head: the
// last pair's angle, its values zeros).
vec2 normRotatedPair(HeadPairs h, uint p, float inverse_rms, uint position) {
  return rotatePair(h.first[p] * inverse_rms * h.first_gain[p], h.second[p] * inverse_rms * h.second_gain[p],
                    min(gl_LocalInvocationID.x + p * WG_SIZE, kHalf - 1u), position);
}
