// Reading the Q8Block32 / Q4Block32 weights of schemas/bundle.fbs (enum
// QuantScheme) as uint32 words: blocks of 32 elements along K, one bf16 scale
// per block, quants row-major with a row of R = K (q8) or K / 2 (q4) bytes.
//   q8: element 4j+i of a row is the signed byte i of word j (two's complement)
//   q4: element 8j+i of a row is ((word_j >> 4i) & 15) - 8
// A quant times its bf16 scale is exact in float32 (at most 7 + 8 significant
// bits), so a dequantised weight here equals the reference W' bit for bit.
// Needs QUANT_BITS (8 or 4) and K (a multiple of 32).
#if QUANT_BITS != 8 && QUANT_BITS != 4
#error QUANT_BITS must be 8 (Q8Block32) or 4 (Q4Block32)
#endif

const uint kQuantsPerWord = 32u / uint(QUANT_BITS);  // 4 or 8
const uint kQuantGroupsPerWord = kQuantsPerWord / 4u;  // vec4s per word: 1 or 2
const uint kWordsPerBlock = 32u / kQuantsPerWord;  // 8 or 4
const uint kQuantWordsPerRow = uint(K) / kQuantsPerWord;
const uint kBlocksPerRow = uint(K) / 32u;

// Elements 4g .. 4g+3 of a quant word as floats (the integers, not yet scaled).
vec4 quantGroup(uint word, uint g) {
#if QUANT_BITS == 8
  // Move byte i to the top, then an arithmetic shift back down sign-extends
  // it (uint -> int conversion keeps the bits).
  ivec4 q = ivec4(uvec4(word) << uvec4(24u, 16u, 8u, 0u)) >> 24;
#else
  // Offset binary: nibble (q + 8); even elements in the low nibble of each byte.
  uvec4 shifts = uvec4(16u * g) + uvec4(0u, 4u, 8u, 12u);
  ivec4 q = ivec4((uvec4(word) >> shifts) & 15u) - 8;
#endif
  return vec4(q);
}

// The four bytes of a word as floats: the shape AMD's one-instruction
// byte-to-float conversions (v_cvt_f32_ubyte0..3) are matched from.
vec4 byteValues(uint word) { return vec4((uvec4(word) >> uvec4(0u, 8u, 16u, 24u)) & 0xffu); }

// The matvec's inner product of one quant word with the x values under it:
//   q8: x.xyzw = elements 0..3 (in x_lo); x_hi unused
//   q4: x_lo = elements 0, 2, 4, 6 and x_hi = 1, 3, 5, 7 (the low and the high
//       nibbles of the word's bytes), x_sum = the sum of all eight.
// For q4 the codes (q + 8) are summed as they are and 8 * x_sum subtracted once
// per word: masking the word with 0x0f0f0f0f leaves the even codes as whole
// bytes, so an element needs a conversion and a multiply-add, not also a shift,
// a mask and a subtraction. (Not yet measured on an AMD GPU; on an H200 both
// forms ran alike, that kernel not being ALU-bound there.) The cancellation it
// brings stays near float32 rounding of sum |x| * 15, far below the
// quantisation error.
float quantWordDot(uint word, vec4 x_lo, vec4 x_hi, float x_sum) {
#if QUANT_BITS == 8
  return dot(x_lo, quantGroup(word, 0u));
#else
  return dot(x_lo, byteValues(word & 0x0f0f0f0fu)) + dot(x_hi, byteValues((word >> 4) & 0x0f0f0f0fu)) - 8.0 * x_sum;
#endif
}
