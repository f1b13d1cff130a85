// gelu_pytorch_tanh(gate) * up in float32 as the kernels compute it (gelu.glsl's
// g / (1 + exp(-2z)) form): the reference input of the products that apply it
// while loading a fused gate|up row (GELU_INPUT), for the kernel tests.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace unicorn::test_support {

// x[t][i] = gelu(rows[t][i]) * rows[t][k + i] for rows [gate (k) | up (k) | pad]
// `stride` floats apart.
inline std::vector<float> geluOfGateUp(const std::vector<float>& rows, uint32_t k, uint32_t stride, uint32_t tokens) {
  std::vector<float> x(size_t(tokens) * k);
  for (uint32_t t = 0; t < tokens; ++t) {
    for (uint32_t i = 0; i < k; ++i) {
      const float g = rows[size_t(t) * stride + i], u = rows[size_t(t) * stride + k + i];
      const float z = 0.797884561f * (g + 0.044715f * g * g * g);
      x[size_t(t) * k + i] = g / (1.0f + std::exp(-2.0f * z)) * u;
    }
  }
  return x;
}

}  // namespace unicorn::test_support
