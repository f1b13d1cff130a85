//===- UnicornScheduleOps.td - the scheduled form ----------*- tablegen -*-===//
//
// What plan-memory and schedule lower the graph to: the buffers of a run
// (activation arena, step input, readout, KV caches; weights stay
// unicorn.weight), the kernel specialisations, and per entry point an ordered
// program of dispatches. It is schemas/schedule.fbs as IR, so the bundle
// writer copies it into the bundle without deciding anything.
//
//===----------------------------------------------------------------------===//

#ifndef UNICORN_SCHEDULE_OPS_TD
#define UNICORN_SCHEDULE_OPS_TD

include "ir/UnicornDialect.td"
include "ir/UnicornAttrs.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/IR/OpBase.td"

def Unicorn_KvCacheOp : Unicorn_Op<"kv_cache", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "the key or the value cache of one attention layer";
  let description = [{
    Made by plan-memory, a key and a value cache for each unicorn.attention:
    `slot_bytes` per slot (kv_heads * head_dim fp32). A sliding-window layer
    keeps a ring of `ring` slots, at least window + prefill chunk - 1 so that
    no key a query of a chunk can see is overwritten by a later token of the
    same chunk; a global layer (no `ring`) keeps one slot per position of the
    context chosen at run time (--ctx).

    ```mlir
    unicorn.kv_cache @kv.layers.0.key layer 0 key slot_bytes 1024 ring 575
    unicorn.kv_cache @kv.layers.5.value layer 5 value slot_bytes 1024
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    ConfinedAttr<I64Attr, [IntNonNegative]>:$layer,
    Unicorn_KvPartAttr:$part,
    ConfinedAttr<I64Attr, [IntPositive]>:$slot_bytes,
    OptionalAttr<ConfinedAttr<I64Attr, [IntPositive]>>:$ring
  );
  let assemblyFormat = [{
    $sym_name `layer` $layer `` $part `slot_bytes` $slot_bytes (`ring` $ring^)? attr-dict
  }];
}

def Unicorn_BufferOp : Unicorn_Op<"buffer", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a buffer the runtime allocates for a run";
  let description = [{
    The activation arena (made by plan-memory), or the step input and readout
    buffers (made by schedule): `bytes` each, allocated once before the first
    token. `kind` says where (device-local or host-visible) and what for.

    ```mlir
    unicorn.buffer @arena activations bytes 1048576
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    Unicorn_BufferKindAttr:$kind,
    ConfinedAttr<I64Attr, [IntPositive]>:$bytes
  );
  let assemblyFormat = "$sym_name `` $kind `bytes` $bytes attr-dict";
}

def Unicorn_KernelOp : Unicorn_Op<"kernel", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a library kernel and the parameters that specialise it";
  let description = [{
    One specialisation of a codegen_spirv kernel: its library name and the
    model-level parameters (shapes, eps, RoPE base, workgroup size, ...) from
    which codegen derives the defines and compiles checked SPIR-V. Equal
    specialisations are one op, shared by every dispatch that runs it.

    ```mlir
    unicorn.kernel @rms_norm_0 "rms_norm" {add_to_output = false, eps = 1.0e-06 : f64,
                                           width = 1152 : i64, workgroup_size = 256 : i64}
    ```

    A kernel that needs an optional device feature (cooperative matrices)
    names the kernel to run where the device lacks it: `fallback @matmul_bf16_0`,
    one with the same bindings, push constants and dispatch grid. The runtime
    chooses between them from the device it opens.
  }];
  let arguments = (ins SymbolNameAttr:$sym_name, StrAttr:$kernel, DictionaryAttr:$params,
                       OptionalAttr<FlatSymbolRefAttr>:$fallback);
  let assemblyFormat = "$sym_name $kernel $params (`fallback` $fallback^)? attr-dict";
  let hasVerifier = 1;
}

def Unicorn_ProgramOp : Unicorn_Op<"program",
    [Symbol, HasParent<"::mlir::ModuleOp">, NoTerminator, SingleBlock, NoRegionArguments]> {
  let summary = "the ordered dispatches of one entry point";
  let description = [{
    `@prefill` runs one chunk of 1..prefill_chunk prompt tokens at consecutive
    positions; `@decode` one token. The runtime records the dispatches in
    order, leaving out those whose condition does not hold for the run.
    `@setup` runs once when the bundle is opened, before any chunk: what
    depends on the weights alone (no conditions, patches or chunk counts).
  }];
  let arguments = (ins SymbolNameAttr:$sym_name);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$sym_name attr-dict-with-keyword $body";
}

def Unicorn_DispatchOp : Unicorn_Op<"dispatch",
    [HasParent<"ProgramOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "one compute dispatch of a kernel";
  let description = [{
    Runs `kernel` with binding i of set 0 bound to `bindings[i]`, the push
    constants `push` (32-bit words) with `patches` added for the chunk, over
    `groups` (x, y, z) workgroups. `barrier`: a compute-to-compute memory
    barrier first, because this dispatch reads or overwrites memory that an
    earlier one since the last barrier wrote or read. `when`: the runs it
    belongs to (default: every run). `for_matrix_units`: only kernels with a
    fallback (the cooperative-matrix products) read what it writes, so it runs
    only where the device runs them, not their fallbacks; where it does not,
    the runtime leaves it out but keeps its barrier.

    ```mlir
    unicorn.dispatch @rms_norm_0 [#unicorn.bind<@arena, 0, 2048>, ...] push [0, 8, 0, 0, 8, 0]
        groups [#unicorn.groups<fixed = 1, value = tokens, divisor = 1>, ...]
        patches [#unicorn.patch<word = 5, value = tokens, multiplier = 1>] barrier
    ```
  }];
  let arguments = (ins
    FlatSymbolRefAttr:$kernel,
    TypedArrayAttrBase<Unicorn_BindingAttr, "bindings">:$bindings,
    DenseI64ArrayAttr:$push,
    TypedArrayAttrBase<Unicorn_WorkgroupCountAttr, "x, y, z workgroup counts">:$groups,
    DefaultValuedAttr<TypedArrayAttrBase<Unicorn_PushPatchAttr, "push-constant patches">, "{}">:$patches,
    UnitAttr:$barrier,
    DefaultValuedAttr<Unicorn_DispatchConditionAttr, "::unicorn::DispatchCondition::Always">:$when,
    UnitAttr:$for_matrix_units
  );
  let assemblyFormat = [{
    $kernel $bindings `push` $push `groups` $groups (`patches` $patches^)? (`barrier` $barrier^)?
    (`when` `` $when^)? (`for_matrix_units` $for_matrix_units^)? attr-dict
  }];
  let hasVerifier = 1;
}

#endif // UNICORN_SCHEDULE_OPS_TD
