//===- UnicornDialect.td - the unicorn dialect -------------*- tablegen -*-===//
//
// The `unicorn` dialect holds a Gemma 3 forward pass at the level the model
// card describes it (embed, rms_norm, linear, attention, ...), over builtin
// ranked tensors. Passes (quantize, fuse, place, plan-memory, schedule) rewrite
// it; codegen lowers it. Nothing below this level (loops, buffers) lives here.
//
//===----------------------------------------------------------------------===//

#ifndef UNICORN_DIALECT_TD
#define UNICORN_DIALECT_TD

include "mlir/IR/OpBase.td"

def Unicorn_Dialect : Dialect {
  let name = "unicorn";
  let cppNamespace = "::unicorn";
  let summary = "Gemma 3 graph: transformer-level ops over tensors, weights as symbols";
  let description = [{
    Graph container: a builtin `module` holds one `unicorn.weight` symbol per
    checkpoint tensor and a `func.func` per entry point (e.g. prefill and
    decode). We reuse `func.func` instead of inventing a `unicorn.graph` op
    because it already gives us arguments/results, a symbol name, the symbol
    table the weight references resolve against, and every upstream pass and
    utility that walks functions; a graph op would add nothing but code.

    Activations are rank-2 `tensor<tokens x features x f32>`: the token count
    is usually dynamic (`?`) so one function serves any prompt length, the
    feature sizes are static. Gemma 3 activations overflow fp16, so the
    residual stream, norms and softmax are fp32 by construction (enforced by
    the op type constraints).
  }];
  // The quant-scheme enum attribute is printed/parsed by the generated code.
  let useDefaultAttributePrinterParser = 1;
}

class Unicorn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Unicorn_Dialect, mnemonic, traits>;

#endif // UNICORN_DIALECT_TD
