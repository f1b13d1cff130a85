//===- UnicornDialect.td - the unicorn dialect -------------*- tablegen -*-===//
//
// The `unicorn` dialect holds a Gemma 3 forward pass at the level the model
// card describes it (embed, rms_norm, linear, attention, ...), over builtin
// ranked tensors, and the scheduled form the passes lower it to (buffers,
// kernel specialisations, programs of dispatches: UnicornScheduleOps.td).
// Passes (quantize, fuse, place, plan-memory, schedule) rewrite it; codegen
// turns the kernels into SPIR-V. No loops or memrefs: a kernel's body is GLSL
// in codegen_spirv, not IR.
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

    The schedule pass replaces the graph function by its scheduled form:
    `unicorn.program @prefill` and `@decode`, lists of `unicorn.dispatch` over
    `unicorn.buffer`, `unicorn.kv_cache` and `unicorn.weight` symbols, with
    the kernels they run as `unicorn.kernel` symbols.
  }];
  // The attributes (enums, slots, bindings) are printed/parsed by generated code.
  let useDefaultAttributePrinterParser = 1;
}

class Unicorn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Unicorn_Dialect, mnemonic, traits>;

#endif // UNICORN_DIALECT_TD
