// The quantisation policy: which storage scheme each weight tensor gets for a
// requested --weights format. It lives in one place, as a pure function of the
// tensor's name and shape, so that the quantize pass (passes/, next milestone)
// can take it over unchanged.
//
// With q8 or q4, the 2-D matrices are block-quantised: the attention projections
// (q/k/v/o), the MLP projections (gate/up/down), the embedding (which Gemma 3
// ties to the LM head, so it is also the largest matvec of a decode step) and an
// untied lm_head. Norm weights and every other 1-D tensor stay bf16: they are a
// rounding error of the model's size, and (1 + w) in RMSNorm would turn their
// quantisation error into a per-channel gain error on every token.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "schemas/bundle_generated.h"

namespace unicorn {

// The storage the user asked for (unicorn-compile --weights).
enum class WeightFormat { kBF16, kQ8, kQ4 };

// "bf16", "q8", "q4" -> the format; nullopt for anything else.
std::optional<WeightFormat> parseWeightFormat(std::string_view name);

// How one tensor is stored in the bundle.
struct WeightScheme {
  fb::DType dtype;
  fb::QuantScheme quant;
};

// The scheme for the tensor `canonical_name` of `shape` under `format`. Throws
// Error(kInvalidInput) naming the tensor when a matrix to quantise has an input
// dimension K that is not a multiple of the 32-element block (no Gemma 3 model has one).
WeightScheme chooseWeightScheme(WeightFormat format, const std::string& canonical_name,
                                const std::vector<std::uint64_t>& shape);

}  // namespace unicorn
