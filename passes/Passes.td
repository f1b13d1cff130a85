//===- Passes.td - the unicorn pass pipeline ---------------*- tablegen -*-===//
//
// The passes of unicorn-compile, in pipeline order (DESIGN.md "Passes"). Each
// is one file under passes/ and has lit tests under tests/lit/passes/.
//
//===----------------------------------------------------------------------===//

#ifndef UNICORN_PASSES_TD
#define UNICORN_PASSES_TD

include "mlir/Pass/PassBase.td"

def Quantize : Pass<"unicorn-quantize", "::mlir::ModuleOp"> {
  let summary = "choose each weight's storage scheme (quant none/q8/q4)";
  let description = [{
    Sets the `quant` attribute of every `unicorn.weight` from the `weights`
    format and the quantisation policy that the bundle writer applies too
    (compiler/quant_policy.h): with q8 or q4 the projection matrices, the
    embedding and an untied lm_head are block-quantised, everything else
    (norms) stays `none`; with bf16 every weight is `none`. The result depends
    only on the option, never on the input's `quant`, so the pass is idempotent.

    A weight the policy would quantise whose input dimension K is not a
    multiple of the 32-element block is an error naming the weight: the bundle
    could not store it.
  }];
  let options = [
    Option<"weights", "weights", "::unicorn::WeightFormat",
           /*default=*/"::unicorn::WeightFormat::kBF16",
           "weight storage: bf16 (keep all), q8 or q4 (block-quantise the matrices)",
           [{::llvm::cl::values(
               clEnumValN(::unicorn::WeightFormat::kBF16, "bf16", "no weight is quantised"),
               clEnumValN(::unicorn::WeightFormat::kQ8, "q8", "symmetric int8, one scale per 32 along K"),
               clEnumValN(::unicorn::WeightFormat::kQ4, "q4", "symmetric int4, one scale per 32 along K"))}]>
  ];
}

#endif // UNICORN_PASSES_TD
