// One block of 32 activations quantised to int8 for the packed-integer
// products (matvec_quant_dot.comp): x ~ qx * sx with sx = max |x| / 127 and
// qx = roundEven(x / sx), as llama.cpp's Q8_1 activations, written as three
// uvec4 units (quantize_activation.comp documents the layout: two of qx in
// the byte order of QUANT_BITS' weights, then (sx bits, sum of qx, 0, 0)).
// Shared by quantize_activation.comp and rms_norm_add_norm.comp's quantised
// output. Needs QUANT_BITS (8 or 4).
#extension GL_EXT_control_flow_attributes : require

#if QUANT_BITS != 8 && QUANT_BITS != 4
#error QUANT_BITS must be 8 or 4
#endif

uint packBytes(ivec4 q) { return uint(q.x & 255) | uint(q.y & 255) << 8 | uint(q.z & 255) << 16 | uint(q.w & 255) << 24; }

// The block's 8 vec4 of x (elements 0..31 in order) as its three units.
void quantizeBlock(vec4 values[8], out uvec4 units[3]) {
  float largest = 0.0;
  [[unroll]] for (uint i = 0u; i < 8u; ++i) {
    vec4 magnitude = abs(values[i]);
    largest = max(largest, max(max(magnitude.x, magnitude.y), max(magnitude.z, magnitude.w)));
  }
  float inverse = largest > 0.0 ? 127.0 / largest : 0.0;
  ivec4 q[8];
  int total = 0;
  [[unroll]] for (uint i = 0u; i < 8u; ++i) {
    q[i] = ivec4(roundEven(values[i] * inverse));  // |q| <= 127
    total += q[i].x + q[i].y + q[i].z + q[i].w;
  }
  uint words[8];
  [[unroll]] for (uint j = 0u; j < 4u; ++j) {
#if QUANT_BITS == 8
    words[2u * j] = packBytes(q[2u * j]);
    words[2u * j + 1u] = packBytes(q[2u * j + 1u]);
#else
    // Elements 8j .. 8j+7 are q[2j].xyzw, q[2j+1].xyzw: evens first, then odds.
    ivec4 a = q[2u * j], b = q[2u * j + 1u];
    words[2u * j] = packBytes(ivec4(a.x, a.z, b.x, b.z));
    words[2u * j + 1u] = packBytes(ivec4(a.y, a.w, b.y, b.w));
#endif
  }
  units[0] = uvec4(words[0], words[1], words[2], words[3]);
  units[1] = uvec4(words[4], words[5], words[6], words[7]);
  units[2] = uvec4(floatBitsToUint(largest / 127.0), uint(total), 0u, 0u);
}
