#include "compiler/weight_scheme.h"

#include <array>

#include "runtime/error.h"
#include "schemas/tensor_layout.h"

namespace unicorn {
namespace {

// The canonical-name endings of the matrices a matvec (or the embedding lookup) reads row by row.
constexpr std::array<std::string_view, 9> kMatrixSuffixes = {
    "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
    "mlp.gate_proj.weight",    "mlp.up_proj.weight",      "mlp.down_proj.weight",    "embed_tokens.weight",
    "lm_head.weight",
};

bool isQuantisableMatrix(const std::string& canonical_name, const std::vector<std::uint64_t>& shape) {
  if (shape.size() != 2) return false;
  for (std::string_view suffix : kMatrixSuffixes) {
    if (canonical_name.ends_with(suffix)) return true;
  }
  return false;
}

std::string shapeText(const std::vector<std::uint64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

}  // namespace

std::optional<WeightFormat> parseWeightFormat(std::string_view name) {
  if (name == "bf16") return WeightFormat::kBF16;
  if (name == "q8") return WeightFormat::kQ8;
  if (name == "q4") return WeightFormat::kQ4;
  return std::nullopt;
}

WeightScheme chooseWeightScheme(WeightFormat format, const std::string& canonical_name,
                                const std::vector<std::uint64_t>& shape) {
  if (format == WeightFormat::kBF16 || !isQuantisableMatrix(canonical_name, shape)) {
    return {fb::DType::BF16, fb::QuantScheme::None};
  }
  const fb::QuantScheme quant = format == WeightFormat::kQ8 ? fb::QuantScheme::Q8Block32 : fb::QuantScheme::Q4Block32;
  if (!blockQuantLayout(quant, shape[0], shape[1])) {
    throw Error(ExitCode::kInvalidInput,
                "tensor '" + canonical_name + "' " + shapeText(shape) + ": --weights " +
                    (format == WeightFormat::kQ8 ? "q8" : "q4") + " quantises in blocks of " +
                    std::to_string(kQuantBlockElements) + " along the input dimension, which must be a multiple of " +
                    std::to_string(kQuantBlockElements) + " (it is " + std::to_string(shape[1]) +
                    "); use --weights bf16");
  }
  return {quantDType(quant), quant};
}

}  // namespace unicorn
