//===- UnicornAttrs.td - unicorn dialect attributes --------*- tablegen -*-===//

#ifndef UNICORN_ATTRS_TD
#define UNICORN_ATTRS_TD

include "ir/UnicornDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"

// How a weight is stored in the bundle. The quantize pass chooses it per
// weight; the graph builder starts every weight at `none`.
def Unicorn_QuantScheme : I32Enum<"QuantScheme", "weight storage scheme in the bundle", [
    // Stored as the checkpoint has it (bf16/f16/f32), no requantisation.
    I32EnumCase<"None", 0, "none">,
    // Symmetric int8 in blocks along K (the input dimension), one scale per block.
    I32EnumCase<"Q8", 1, "q8">,
    // Symmetric int4 in blocks along K, one scale per block.
    I32EnumCase<"Q4", 2, "q4">
  ]> {
  let cppNamespace = "::unicorn";
}

// Generic form: `#unicorn<quant q8>`; inside unicorn.weight just `q8`.
def Unicorn_QuantSchemeAttr : EnumAttr<Unicorn_Dialect, Unicorn_QuantScheme, "quant">;

#endif // UNICORN_ATTRS_TD
