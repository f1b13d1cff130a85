// bf16 weights are stored as uint16 pairs inside uint words (little-endian: the
// element with the even index sits in the low half). A bf16 value is the top 16
// bits of the float32 with the same sign/exponent, so widening is a shift and
// exact; no 16-bit storage feature is needed.
float bf16Low(uint word) { return uintBitsToFloat(word << 16); }
float bf16High(uint word) { return uintBitsToFloat(word & 0xffff0000u); }

// Elements 0..3 of the two words' four bf16 values, in order.
vec4 bf16Quad(uvec2 words) { return vec4(bf16Low(words.x), bf16High(words.x), bf16Low(words.y), bf16High(words.y)); }

// Element `index` of a bf16 vector, given the word that holds it (word index/2).
float bf16Element(uint word, uint index) {
  return (index & 1u) == 0u ? bf16Low(word) : bf16High(word);
}
