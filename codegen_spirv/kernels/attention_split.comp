// Split-K decode attention (attention_keys.glsl, attention_shares.glsl): the
// visible keys of each (head, token) in shares, one workgroup each, combined
// by the last share to finish. attention_decode.comp does the same from the
// q|k|v product row, with the heads' norms and RoPE; this kernel reads the
// queries and every key and value from memory, written there before.
//
// Bindings: as attention_keys.glsl (4 the output), 5 the partials and 6 the
// counts as attention_shares.glsl.
// Defines: as attention_keys.glsl, and SPLITS (2 to 64, at most WG_SIZE).
// Dispatch: (NUM_HEADS, num_tokens, SPLITS).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "attention_keys.glsl"
#include "attention_shares.glsl"

void main() {
  uint head = gl_WorkGroupID.x;
  uint token = gl_WorkGroupID.y;
  uint split = gl_WorkGroupID.z;
  if (token >= pc.num_tokens) return;
  uint first_key;
  uint key_count = visibleKeys(token, first_key);  // at least 1: the query's own key
  uint shares = shareCount(key_count);
  if (split >= shares) return;
  uint share_begin, share_end;
  shareBounds(key_count, shares, split, share_begin, share_end);

  loadQuery(head, token);
  float accumulated[kDimsPerInvocation];
  float running_max, running_sum;
  attendKeys(head, first_key + share_begin, share_end - share_begin, accumulated, running_max, running_sum);
  float attended_row[kDimsPerInvocation];
  if (finishShare(head, token, split, shares, accumulated, running_max, running_sum, attended_row)) {
    storeAttended(head, token, attended_row, 1.0);
  }
}
