// gelu_pytorch_tanh(g) = 0.5 * g * (1 + tanh(sqrt(2/pi) * (g + 0.044715 * g^3))),
// for gelu_mul.comp and for the products that apply it to their input while
// loading it (GELU_INPUT: x = gelu(gate) * up, from a fused gate|up row).

const float kSqrtTwoOverPi = 0.797884561;
const float kCubicCoefficient = 0.044715;

// 0.5 * g * (1 + tanh(z)) rewritten as g / (1 + exp(-2z)) — the same function,
// without the cancellation in 1 + tanh(z) for very negative z (where the tanh
// form loses every digit) and without tanh, which some drivers evaluate to NaN
// for large arguments. exp overflowing to +inf gives the correct -0.
float geluTanh(float g) {
  float z = kSqrtTwoOverPi * (g + kCubicCoefficient * g * g * g);
  return g / (1.0 + exp(-2.0 * z));
}

vec4 geluTanh(vec4 g) {
  vec4 z = kSqrtTwoOverPi * (g + kCubicCoefficient * g * g * g);
  return g / (1.0 + exp(-2.0 * z));
}
