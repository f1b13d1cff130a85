// A norm kernel's normed row quantised per block of 32 for the packed-integer
// products (matvec_quant_dot.comp), in quantize_activation.comp's layout and
// bit for bit its result on the same floats (block_quantize.glsl's arithmetic):
// rms_norm.comp and rms_norm_add_norm.comp with QUANT_BITS. A block's 8 vec4
// lie on 8 neighbouring lanes (vec4 v of the row on lane v % WG_SIZE,
// row_lanes.glsl); its maximum and sum cross them by subgroup shuffles where
// those lanes share a subgroup, else through shared memory, 8 bytes a vec4 of
// the row (never the row itself) and three barriers. Both give the same bits
// (a maximum and an integer sum, in any order).
//
// Include after the kernel's `uint qx_words[]` output binding and
// row_lanes.glsl; needs WIDTH (a multiple of 32), WG_SIZE, QUANT_BITS (8 or 4),
// kVec4PerRow and kVec4PerInvocation.
#extension GL_KHR_shader_subgroup_shuffle : require
#include "block_quantize.glsl"

// Per vec4 of the row: first its largest magnitude, then the sum of its qx.
shared float vec4_scratch[kVec4PerRow];
shared uint vec4_bytes[kVec4PerRow];  // its qx, packed

// A block's two words of q4 quants from the bytes of its vec4 a (even) and b
// (the odd one after it): vec4 2p and 2p + 1's even elements, then their odd
// ones (quantizeBlock's q4 order), bytes taken a0 a2 b0 b2.
uvec2 q4Words(uint a, uint b) {
  return uvec2((a & 0xffu) | ((a >> 8) & 0xff00u) | ((b & 0xffu) << 16) | ((b << 8) & 0xff000000u),
               ((a >> 8) & 0xffu) | ((a >> 16) & 0xff00u) | ((b << 8) & 0xff0000u) | (b & 0xff000000u));
}

// storeQuantised where a block's 8 lanes share a subgroup (blocksInSubgroups):
// the block's maximum and sum by shuffles across lanes lane ^ 1, ^ 2, ^ 4, no
// barrier. Every lane runs every shuffle (those past the row too: their
// blocks lie wholly past it, and they write nothing).
void storeQuantisedBySubgroups(vec4 normed[kVec4PerInvocation], uint token, uint lane) {
  const uint kWordsPerRow = 3u * 4u * uint(WIDTH) / 32u;
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = lane + j * WG_SIZE;
    vec4 magnitude = abs(normed[j]);
    float largest = max(max(magnitude.x, magnitude.y), max(magnitude.z, magnitude.w));
    [[unroll]] for (uint mask = 1u; mask < 8u; mask *= 2u) largest = max(largest, subgroupShuffleXor(largest, mask));
    float inverse = largest > 0.0 ? 127.0 / largest : 0.0;
    ivec4 q = ivec4(roundEven(normed[j] * inverse));  // as quantizeBlock
    uint bytes = packBytes(q);
    int total = q.x + q.y + q.z + q.w;
    [[unroll]] for (uint mask = 1u; mask < 8u; mask *= 2u) total += subgroupShuffleXor(total, mask);
    uint next_bytes = subgroupShuffleXor(bytes, 1u);  // on an even lane: the odd vec4's after it
    if (v >= kVec4PerRow) continue;
    uint i = v % 8u;
    uint block_word = token * kWordsPerRow + v / 8u * 12u;
#if QUANT_BITS == 8
    qx_words[block_word + i] = bytes;
#else
    if (i % 2u == 0u) {
      uvec2 words = q4Words(bytes, next_bytes);
      qx_words[block_word + i] = words.x;
      qx_words[block_word + i + 1u] = words.y;
    }
#endif
    if (i == 0u) {
      qx_words[block_word + 8u] = floatBitsToUint(largest / 127.0);
      qx_words[block_word + 9u] = uint(total);
      qx_words[block_word + 10u] = 0u;
      qx_words[block_word + 11u] = 0u;
    }
  }
}

// storeQuantised elsewhere: the exchange through shared memory.
void storeQuantisedThroughShared(vec4 normed[kVec4PerInvocation], uint token, uint lane) {
  const uint kWordsPerRow = 3u * 4u * uint(WIDTH) / 32u;
  float largest[kVec4PerInvocation];
  int sums[kVec4PerInvocation];
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = lane + j * WG_SIZE;
    vec4 magnitude = abs(normed[j]);
    if (v < kVec4PerRow) vec4_scratch[v] = max(max(magnitude.x, magnitude.y), max(magnitude.z, magnitude.w));
  }
  barrier();
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = lane + j * WG_SIZE;
    largest[j] = 0.0;
    sums[j] = 0;
    if (v >= kVec4PerRow) continue;
    uint first = v & ~7u;
    for (uint i = 0u; i < 8u; ++i) largest[j] = max(largest[j], vec4_scratch[first + i]);
    float inverse = largest[j] > 0.0 ? 127.0 / largest[j] : 0.0;
    ivec4 q = ivec4(roundEven(normed[j] * inverse));  // as quantizeBlock
    vec4_bytes[v] = packBytes(q);
    sums[j] = q.x + q.y + q.z + q.w;
  }
  barrier();  // every block's maximum read: the scratch takes the sums
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = lane + j * WG_SIZE;
    if (v < kVec4PerRow) vec4_scratch[v] = float(sums[j]);  // |sum| <= 508: exact
  }
  barrier();
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = lane + j * WG_SIZE;
    if (v >= kVec4PerRow) continue;
    uint i = v % 8u;
    uint block_word = token * kWordsPerRow + v / 8u * 12u;
#if QUANT_BITS == 8
    qx_words[block_word + i] = vec4_bytes[v];
#else
    if (i % 2u == 0u) {
      uvec2 words = q4Words(vec4_bytes[v], vec4_bytes[v + 1u]);
      qx_words[block_word + i] = words.x;
      qx_words[block_word + i + 1u] = words.y;
    }
#endif
    if (i == 0u) {
      float total = 0.0;
      for (uint k = 0u; k < 8u; ++k) total += vec4_scratch[v + k];
      qx_words[block_word + 8u] = floatBitsToUint(largest[j] / 127.0);
      qx_words[block_word + 9u] = uint(int(total));
      qx_words[block_word + 10u] = 0u;
      qx_words[block_word + 11u] = 0u;
    }
  }
}

// The normed row (this invocation's vec4s, lane + j * WG_SIZE) quantised per
// block of 32 (8 vec4, on 8 neighbouring lanes) into qx_words. Every
// invocation of the workgroup calls it.
void storeQuantised(vec4 normed[kVec4PerInvocation], uint token) {
  uint lane = rowLane();
  if (blocksInSubgroups()) {
    storeQuantisedBySubgroups(normed, token, lane);
  } else {
    storeQuantisedThroughShared(normed, token, lane);
  }
}
