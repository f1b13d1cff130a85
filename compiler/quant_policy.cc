#include "compiler/quant_policy.h"

#include <array>

#include "schemas/tensor_layout.h"

namespace unicorn {
namespace {

// The canonical-name endings of the matrices a matvec (or the embedding lookup) reads row by row.
constexpr std::array<std::string_view, 9> kMatrixSuffixes = {
    "self_attn.q_proj.weight", "self_attn.k_proj.weight", "self_attn.v_proj.weight", "self_attn.o_proj.weight",
    "mlp.gate_proj.weight",    "mlp.up_proj.weight",      "mlp.down_proj.weight",    "embed_tokens.weight",
    "lm_head.weight",
};

}  // namespace

std::optional<WeightFormat> parseWeightFormat(std::string_view name) noexcept {
  if (name == "bf16") return WeightFormat::kBF16;
  if (name == "q8") return WeightFormat::kQ8;
  if (name == "q4") return WeightFormat::kQ4;
  return std::nullopt;
}

std::string_view weightFormatName(WeightFormat format) noexcept {
  switch (format) {
    case WeightFormat::kQ8: return "q8";
    case WeightFormat::kQ4: return "q4";
    case WeightFormat::kBF16: break;
  }
  return "bf16";
}

bool isQuantizable(std::string_view canonical_name, std::span<const std::uint64_t> shape) noexcept {
  if (shape.size() != 2) return false;
  for (std::string_view suffix : kMatrixSuffixes) {
    if (canonical_name.ends_with(suffix)) return true;
  }
  return false;
}

std::uint64_t quantBlockElements() noexcept { return kQuantBlockElements; }

bool fillsWholeQuantBlocks(std::uint64_t row_elements) noexcept {
  return row_elements != 0 && row_elements % kQuantBlockElements == 0;
}

}  // namespace unicorn
