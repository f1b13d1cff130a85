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

def Fuse : Pass<"unicorn-fuse", "::mlir::ModuleOp"> {
  let summary = "merge graph steps that the kernels run as one";
  let description = [{
    Two rewrites of every function, each keeping the graph's meaning exactly:

    - Linears of one input (Gemma: q/k/v of a layer, gate/up of its MLP)
      become one product, side by side in program order, each former result a
      `unicorn.columns` view of it: where their weights stack (matrices of one
      dtype and quant, read by nothing else) a `unicorn.linear` of a
      `unicorn.stacked_weight` of them (one dispatch, one tensor in the
      bundle), else a `unicorn.fused_linear` (the input read once, the
      products without barriers between them).
    - `add(residual, rms_norm(x))`, where the norm has no other user and the
      add is the residual's last use, becomes `unicorn.rms_norm_add`: the
      kernel adds the normalised row into the residual's storage in place.

    q/k-norm and RoPE are one op from the start (unicorn.qk_norm_rope). Not
    fused yet: a norm into the matvec after it (needs a normalising matvec
    kernel).
  }];
  let dependentDialects = ["::unicorn::UnicornDialect"];
}

def Place : Pass<"unicorn-place", "::mlir::ModuleOp"> {
  let summary = "assign every op of the graph to a device";
  let description = [{
    Sets `unicorn.device` on every op of every function. With target `igpu`
    every op runs on the integrated GPU. With `npu+igpu` the matrix products
    would go to the NPU, but no NPU code can be generated here (codegen_aie
    needs an AIE tile compiler, Peano/llvm-aie): the pass refuses, naming the
    first op it would have placed there, instead of silently placing it on the
    GPU.
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"igpu\"",
           "the devices the bundle runs on: igpu or npu+igpu">
  ];
  let dependentDialects = ["::unicorn::UnicornDialect"];
}

def PlanMemory : Pass<"unicorn-plan-memory", "::mlir::ModuleOp"> {
  let summary = "one activation arena by liveness, one KV cache per attention layer";
  let description = [{
    Gives every activation of `@forward` a place, as its defining op's
    `unicorn.storage` attribute:

    - `#unicorn.arena<...>`: a region of the one activation arena
      (`unicorn.buffer @arena`) with room for a whole prefill chunk of
      `prefill-chunk` tokens. Regions are packed first-fit by liveness (a
      value lives from its definition to its last use in program order), so
      values whose lives do not overlap share memory. A unicorn.columns view
      shares its source's region (which then lives as long as the view); an
      rms_norm_add result shares its residual's.
    - `#unicorn.cache<...>`: a key (or value) whose only use is its layer's
      attention and that a q/k-norm + RoPE makes goes straight into that
      layer's cache: no arena region, no copy.

    Each attention gets a `unicorn.kv_cache` (sliding layers: a ring of
    window + prefill-chunk - 1 slots; global layers: the context) and, where
    decode splits it (passes/AttentionSplits.h), a `unicorn.scratch` region
    for the partials, live only while it runs. The LM head's logits get rows
    for as many tokens as one 128 MiB binding holds, at most the chunk: they
    are computed for the readout rows only (the last token, or every token
    under --dump-logits, which then runs in chunks that small). The module
    gets `unicorn.prefill_chunk` and `unicorn.readout_rows`. Any other value
    wider than one binding for a chunk is an error that names it.
  }];
  let options = [
    Option<"prefillChunk", "prefill-chunk", "unsigned", /*default=*/"64",
           "tokens per prefill chunk (long prompts run as several)">,
    Option<"maxReadoutRows", "max-readout-rows", "unsigned", /*default=*/"0",
           "at most this many rows of logits (0: as many as one binding holds; a developer "
           "setting: small models then take the path of --dump-logits in smaller chunks)">
  ];
  let dependentDialects = ["::unicorn::UnicornDialect"];
}

def Schedule : Pass<"unicorn-schedule", "::mlir::ModuleOp"> {
  let summary = "lower the planned graph to kernels and programs of dispatches";
  let description = [{
    Replaces `@forward` (placed and planned) by `unicorn.program @prefill`
    and `@decode`: per op the dispatches of its kernels (matmul in prefill,
    matvec in decode; matrices over one 128 MiB binding in row slices;
    decode attention split-K over its keys, then combined), then
    the next-token choice (argmax or the sample kernel, and the --dump-logits
    readout) on the logits. Kernel specialisations become `unicorn.kernel`
    symbols, shared between equal ones; the step input and readout buffers
    `unicorn.buffer` symbols. A barrier goes before a dispatch exactly when
    it reads or overwrites memory that a dispatch since the last barrier
    wrote or read, counting only barriers every run records.

    The final norm and the LM head run for the rows whose logits are read
    out (the last token, or every token under --dump-logits).

    Some neighbouring ops share a dispatch where their rows allow it: an
    rms_norm_add and the rms_norm of its sum (rms_norm_add_norm); a layer's
    q and k qk_norm_rope and its attention's copy of the values into the
    cache (qkv_norm_rope; in decode also the attention itself,
    attention_decode, which then quantises its output for a packed-integer o
    projection); in decode, a gelu_mul and the linear right after it that
    reads it (the product applies GELU to the gate|up rows as it loads them). A long vocabulary's argmax runs split, then combined.
  }];
  let options = [
    Option<"minRowSlices", "min-row-slices", "unsigned", /*default=*/"1",
           "bind every weight matrix as at least this many row slices (a developer "
           "setting: small models then take the path of matrices over 128 MiB)">,
    // Decode launch shapes, "ROWSxWORKGROUP[xGROUPS]" (passes/MatvecLaunch.h;
    // workgroup 0: by K, groups 1 by default); empty: the measured defaults.
    // Developer settings, for comparing shapes in the model.
    Option<"bf16Matvec", "bf16-matvec", "std::string", /*default=*/"\"\"",
           "matvec_bf16's rows per workgroup x workgroup [x row groups] (default 4x0)">,
    Option<"quantMatvec", "quant-matvec", "std::string", /*default=*/"\"\"",
           "matvec_quant's (q8 below dot-min-mib) rows per workgroup x workgroup [x row groups] (default 4x0)">,
    Option<"narrowMatvec", "narrow-matvec", "std::string", /*default=*/"\"\"",
           "the same for matvec_bf16 and matvec_quant products of at most 2048 rows (default 2x128)">,
    Option<"dotMatvec", "dot-matvec", "std::string", /*default=*/"\"\"",
           "matvec_quant_dot's rows per workgroup x workgroup [x row groups] for q4 (default 4x128x4)">,
    Option<"dotQ8Matvec", "dot-q8-matvec", "std::string", /*default=*/"\"\"",
           "the same for q8 (default 4x128x2)">,
    Option<"dotMinMib", "dot-min-mib", "unsigned", /*default=*/"8",
           "q8 products sharing one x take matvec_quant_dot from this many MiB of quants (q4 with dot-q4-by-size)">,
    Option<"dotQ8", "dot-q8", "bool", /*default=*/"true",
           "q8 products from dot-min-mib on matvec_quant_dot too (false: on matvec_quant, a "
           "developer setting to compare the two kernels for q8)">,
    Option<"dotQ4BySize", "dot-q4-by-size", "bool", /*default=*/"false",
           "q4 products on matvec_quant_dot only from dot-min-mib, as q8's (false: all of them; a "
           "developer setting to compare the two kernels for q4)">,
    Option<"normWorkgroup", "norm-workgroup", "unsigned", /*default=*/"0",
           "the norms' workgroup size (0: 64 up to a width of 512, else 256; a developer setting)">,
    Option<"prefillSplitTiles", "prefill-split-tiles", "unsigned", /*default=*/"0",
           "prefill products of fewer 128 x 128 output tiles than this share each tile's K among "
           "several workgroups (split-K) to make up as many (0, the default: never)">,
    Option<"coopMatmul", "coop-matmul", "bool", /*default=*/"true",
           "prefill products (bf16, q8, q4) on cooperative-matrix units where the device has them "
           "(false: the tiled shader-core kernels everywhere; for comparing the two)">,
    Option<"flashPrefill", "flash-prefill", "bool", /*default=*/"true",
           "prefill attention in tiles of 8 queries sharing each block of keys (attention_prefill; "
           "false: one workgroup per token, attention.comp; for comparing the two)">,
    Option<"decodeAttention", "decode-attention", "bool", /*default=*/"true",
           "decode attention from the q|k|v row in one dispatch with the q and k norms and RoPE "
           "(attention_decode; false: qkv_norm_rope, then attention_split; for comparing the two)">
  ];
  let dependentDialects = ["::unicorn::UnicornDialect"];
}

#endif // UNICORN_PASSES_TD
