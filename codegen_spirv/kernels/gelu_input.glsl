// The vec4 of a product's input x at vec4 index v of its binding x4: with
// GELU_INPUT, gelu_tanh(gate) * up from a fused gate|up row (up K elements
// after gate), so no gelu_mul dispatch runs before the product; else x4[v].
// Include after the binding x4; needs K and GELU_INPUT (0|1).
#include "gelu.glsl"

vec4 inputAt(uint v) {
#if GELU_INPUT
  return geluTanh(x4[v]) * x4[v + uint(K) / 4u];
#else
  return x4[v];
#endif
}
