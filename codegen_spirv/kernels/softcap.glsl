// Gemma's optional logit soft-capping: cap * tanh(x / cap). The argument is
// clamped because some drivers evaluate tanh through exp and return NaN for large
// inputs; tanh(+-15) already rounds to +-1 in float32, so the clamp changes nothing.
float softcap(float value, float cap) {
  return cap * tanh(clamp(value / cap, -15.0, 15.0));
}
