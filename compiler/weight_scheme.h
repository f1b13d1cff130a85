// The bundle's storage of each weight tensor for a requested --weights format:
// the quantisation policy (quant_policy.h, shared with the quantize pass) turned
// into the schema's dtype and quant scheme, with a refusal as an Error.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compiler/quant_policy.h"
#include "schemas/bundle_generated.h"

namespace unicorn {

// How one tensor is stored in the bundle.
struct WeightScheme {
  fb::DType dtype;
  fb::QuantScheme quant;
};

// The scheme for the tensor `canonical_name` of `shape` under `format`: block
// quantised exactly when isQuantizable() says so. Throws Error(kInvalidInput)
// naming the tensor when a matrix to quantise has an input dimension K that is
// not a multiple of the 32-element block (no Gemma 3 model has one); the
// quantize pass refuses the same tensors, so a compile stops there first.
WeightScheme chooseWeightScheme(WeightFormat format, const std::string& canonical_name,
                                const std::vector<std::uint64_t>& shape);

}  // namespace unicorn
