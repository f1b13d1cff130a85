#include "compiler/weight_scheme.h"

#include "runtime/error.h"
#include "schemas/tensor_layout.h"

namespace unicorn {
namespace {

std::string shapeText(const std::vector<std::uint64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace

WeightScheme chooseWeightScheme(WeightFormat format, const std::string& canonical_name,
                                const std::vector<std::uint64_t>& shape) {
  if (format == WeightFormat::kBF16 || !isQuantizable(canonical_name, shape)) {
    return {fb::DType::BF16, fb::QuantScheme::None};
  }
  const fb::QuantScheme quant = format == WeightFormat::kQ8 ? fb::QuantScheme::Q8Block32 : fb::QuantScheme::Q4Block32;
  // The policy's block rule first (the one the pass applies); the layout check
  // on top only adds 64-bit overflow, which no real checkpoint reaches.
  if (!fillsWholeQuantBlocks(shape[1]) || !blockQuantLayout(quant, shape[0], shape[1])) {
    throw Error(ExitCode::kInvalidInput,
                "tensor '" + canonical_name + "' " + shapeText(shape) + ": --weights " +
                    std::string(weightFormatName(format)) + " quantises in blocks of " +
                    std::to_string(quantBlockElements()) + " along the input dimension, which must be a multiple of " +
                    std::to_string(quantBlockElements()) + " (it is " + std::to_string(shape[1]) +
                    "); use --weights bf16");
  }
  return {quantDType(quant), quant};
}

}  // namespace unicorn
