// A norm kernel's normed row quantised per block of 32 for the packed-integer
// products (matvec_quant_dot.comp), in quantize_activation.comp's layout and
// bit for bit its result on the same floats (block_quantize.glsl's arithmetic):
// rms_norm.comp and rms_norm_add_norm.comp with QUANT_BITS. A block's 8 vec4
// lie on 8 neighbouring invocations (vec4 v of the row on invocation v %
// WG_SIZE); its maximum and sum cross them through shared memory, 8 bytes a
// vec4 of the row, never the row itself. (Subgroup shuffles instead, with no
// barrier, were bit-exact and no faster on an H200: becda19, reverted,
// bench/results/norm-shuffle-h200-2026-12-04.json.)
//
// Include after the kernel's `uint qx_words[]` output binding; needs WIDTH (a
// multiple of 32), WG_SIZE, QUANT_BITS (8 or 4), kVec4PerRow and
// kVec4PerInvocation.
#include "block_quantize.glsl"

// Per vec4 of the row: first its largest magnitude, then the sum of its qx.
shared float vec4_scratch[kVec4PerRow];
shared uint vec4_bytes[kVec4PerRow];  // its qx, packed

// The normed row (this invocation's vec4s, lane + j * WG_SIZE) quantised per
// block of 32 (8 vec4, on 8 neighbouring invocations) into qx_words. Every
// invocation of the workgroup calls it.
void storeQuantised(vec4 normed[kVec4PerInvocation], uint token) {
  const uint kWordsPerRow = 3u * 4u * uint(WIDTH) / 32u;
  float largest[kVec4PerInvocation];
  int sums[kVec4PerInvocation];
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = gl_LocalInvocationID.x + j * WG_SIZE;
    vec4 magnitude = abs(normed[j]);
    if (v < kVec4PerRow) vec4_scratch[v] = max(max(magnitude.x, magnitude.y), max(magnitude.z, magnitude.w));
  }
  barrier();
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = gl_LocalInvocationID.x + j * WG_SIZE;
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
    uint v = gl_LocalInvocationID.x + j * WG_SIZE;
    if (v < kVec4PerRow) vec4_scratch[v] = float(sums[j]);  // |sum| <= 508: exact
  }
  barrier();
  [[unroll]] for (uint j = 0u; j < kVec4PerInvocation; ++j) {
    uint v = gl_LocalInvocationID.x + j * WG_SIZE;
    if (v >= kVec4PerRow) continue;
    uint i = v % 8u;
    uint block_word = token * kWordsPerRow + v / 8u * 12u;
#if QUANT_BITS == 8
    qx_words[block_word + i] = vec4_bytes[v];
#else
    // Words 2p and 2p + 1 of the block hold vec4 2p and 2p + 1's even elements,
    // then their odd ones (quantizeBlock's q4 order), bytes taken a0 a2 b0 b2.
    if (i % 2u == 0u) {
      uint a = vec4_bytes[v], b = vec4_bytes[v + 1u];
      qx_words[block_word + i] = (a & 0xffu) | ((a >> 8) & 0xff00u) | ((b & 0xffu) << 16) | ((b << 8) & 0xff000000u);
      qx_words[block_word + i + 1u] =
          ((a >> 8) & 0xffu) | ((a >> 16) & 0xff00u) | ((b << 8) & 0xff0000u) | (b & 0xff000000u);
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
