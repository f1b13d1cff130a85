// Causal attention of each query head of each token over the KV cache
// (attention_keys.glsl), one workgroup a (head, token): prefill where the
// flash-style kernel does not fit, and decode of the layers whose keys are too
// few to split (attention_split.comp does the others).
//
// Bindings: as attention_keys.glsl (4 the output).
// Defines: as attention_keys.glsl.
// Dispatch: (NUM_HEADS, num_tokens, 1).
#version 450
#extension GL_GOOGLE_include_directive : require
#include "attention_keys.glsl"

void main() {
  uint head = gl_WorkGroupID.x;
  uint token = gl_WorkGroupID.y;
  if (token >= pc.num_tokens) return;
  uint first_key;
  uint key_count = visibleKeys(token, first_key);
  loadQuery(head, token);
  float accumulated[kDimsPerInvocation];
  float running_max, running_sum;
  attendKeys(head, first_key, key_count, accumulated, running_max, running_sum);
  storeAttended(head, token, accumulated, running_sum);
}
