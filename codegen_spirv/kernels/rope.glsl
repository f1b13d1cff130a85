// Rotate-half (NeoX) RoPE of one head held as pairs (element i, element
// i + HEAD_DIM/2), for i < HEAD_DIM/2 at angle = position * inv_freq[i]:
//   out[i]        = v[i] * cos - v[i + D/2] * sin
//   out[i + D/2]  = v[i + D/2] * cos + v[i] * sin
// ROPE_INV_FREQ is a float32 table computed by the compiler exactly as
// transformers does (base^(2i/D) in float32, its reciprocal, divided by the
// linear scaling factor), so no GPU pow() error enters the angle. The angle is
// the float32 product position * inv_freq (also as transformers), reduced to
// [-pi, pi] before cos/sin: GPU sin/cos are only accurate there, and at 128K
// positions an unreduced angle loses whole radians on some hardware.
// Needs HEAD_DIM (even) and ROPE_INV_FREQ (float[HEAD_DIM/2] constructor).

const float kInverseFrequencies[HEAD_DIM / 2] = ROPE_INV_FREQ;

// angle - k * 2pi with 2pi split into 8 + 8 + 24 significant bits (Cody-Waite):
// k * kTwoPiHigh and k * kTwoPiMiddle are exact for k < 2^16 (angles up to
// ~400K radians) and each subtraction is exact by Sterbenz' lemma.
const float kTwoPiHigh = 6.28125;
const float kTwoPiMiddle = 0.00193023681640625;
const float kTwoPiLow = 5.07036339e-06;
const float kInverseTwoPi = 0.159154937;

float reduceAngle(float angle) {
  precise float turns = round(angle * kInverseTwoPi);
  precise float reduced = angle - turns * kTwoPiHigh;
  reduced = reduced - turns * kTwoPiMiddle;
  reduced = reduced - turns * kTwoPiLow;
  return reduced;
}

// Pair i of a head, (v[i], v[i + D/2]), rotated for `position`.
vec2 rotatePair(float a, float b, uint i, uint position) {
  float angle = reduceAngle(float(position) * kInverseFrequencies[i]);
  float c = cos(angle);
  float s = sin(angle);
  return vec2(a * c - b * s, b * c + a * s);
}
