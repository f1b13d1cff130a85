// The quantisation policy: which checkpoint tensors --weights q8|q4 quantises.
// It is the one decision that both the quantize pass (passes/QuantizePass.cpp,
// which marks unicorn.weight ops in the IR) and the bundle writer (through
// chooseWeightScheme in weight_scheme.h) take, so the IR and the bundle cannot
// disagree about a tensor.
//
// Deliberately plain: no MLIR, no flatbuffers, nothing that throws (hence
// noexcept). The pass is built like LLVM (without exceptions) and links this
// alone; the bundle writer wraps it and turns a refusal into an Error.
//
// With q8 or q4, the 2-D matrices are block-quantised: the attention projections
// (q/k/v/o), the MLP projections (gate/up/down), the embedding (which Gemma 3
// ties to the LM head, so it is also the largest matvec of a decode step) and an
// untied lm_head. Norm weights and every other 1-D tensor stay as they are: they
// are a rounding error of the model's size, and (1 + w) in RMSNorm would turn
// their quantisation error into a per-channel gain error on every token.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace unicorn {

// The storage the user asked for (unicorn-compile --weights, the quantize pass's
// weights= option).
enum class WeightFormat { kBF16, kQ8, kQ4 };

// "bf16", "q8", "q4" -> the format; nullopt for anything else.
std::optional<WeightFormat> parseWeightFormat(std::string_view name) noexcept;
// The inverse: the flag spelling of a format.
std::string_view weightFormatName(WeightFormat format) noexcept;

// Whether q8/q4 quantise the tensor `canonical_name` (the checkpoint key without
// its architecture prefix, e.g. "layers.0.mlp.up_proj.weight") of `shape`.
// Independent of the format: bf16 simply quantises nothing.
bool isQuantizable(std::string_view canonical_name, std::span<const std::uint64_t> shape) noexcept;

// Elements per quantisation block along K, the matrix's last (input) dimension:
// the bundle format's block (kQuantBlockElements in schemas/tensor_layout.h),
// behind a function so that callers need not include the flatbuffer schema.
std::uint64_t quantBlockElements() noexcept;

// Whether an input dimension K splits into whole blocks (non-zero multiple of
// quantBlockElements()). A quantisable matrix that fails this cannot be stored
// as q8/q4: the pass and the bundle writer both refuse it, naming the tensor.
bool fillsWholeQuantBlocks(std::uint64_t row_elements) noexcept;

}  // namespace unicorn
