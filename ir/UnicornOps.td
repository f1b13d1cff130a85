//===- UnicornOps.td - unicorn dialect operations ----------*- tablegen -*-===//
//
// One op per step of the Gemma 3 forward pass. Shapes follow one convention:
// activations are `tensor<T x F x f32>` (T tokens, F features), weights are
// `unicorn.weight` symbols referenced by name, so the graph never holds weight
// bytes and a verifier can still check every shape against the checkpoint's.
//
//===----------------------------------------------------------------------===//

#ifndef UNICORN_OPS_TD
#define UNICORN_OPS_TD

include "ir/UnicornDialect.td"
include "ir/UnicornAttrs.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// Activations: [tokens, features] in fp32 (see the dialect description).
def Unicorn_Activation : 2DTensorOf<[F32]>;
// Token ids and positions: one i32 per token.
def Unicorn_TokenVector : 1DTensorOf<[I32]>;

def Unicorn_PositiveI64 : ConfinedAttr<I64Attr, [IntPositive]>;
def Unicorn_NonNegativeI64 : ConfinedAttr<I64Attr, [IntNonNegative]>;

// Ops that read a weight implement SymbolUserOpInterface: the check of their
// shapes against the weight's runs once per module, through the symbol table,
// instead of a symbol lookup per op verification.
class Unicorn_WeightUserOp<string mnemonic, list<Trait> traits = []>
    : Unicorn_Op<mnemonic, !listconcat(traits,
          [DeclareOpInterfaceMethods<SymbolUserOpInterface>])>;

//===----------------------------------------------------------------------===//
// Weights
//===----------------------------------------------------------------------===//

def Unicorn_WeightOp : Unicorn_Op<"weight", [Symbol, HasParent<"::mlir::ModuleOp">]> {
  let summary = "a checkpoint tensor, by reference";
  let description = [{
    Names one tensor of the input checkpoint: `file` (relative to the model
    directory), absolute byte `offset` of its first byte in that file, and its
    checkpoint dtype and shape as a ranked tensor type (bf16, f16 or f32 —
    the dtypes safetensors checkpoints of Gemma 3 use). The bytes are streamed
    by the bundle writer; they never become an MLIR attribute, so a 27B model's
    module stays a few hundred KiB.

    `quant` is how the bundle will store it (set by the quantize pass). Only
    matrices (rank 2) can be quantised: blocks run along their last (K) axis.

    ```mlir
    unicorn.weight @model.layers.0.mlp.up_proj.weight : tensor<6912x1152xbf16>
        from "model.safetensors" at 1048576 quant q8
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<AnyRankedTensor>:$type,
    StrAttr:$file,
    Unicorn_NonNegativeI64:$offset,
    Unicorn_QuantSchemeAttr:$quant
  );
  // The enum attribute prints its own leading space; `` avoids a second one.
  let assemblyFormat = [{
    $sym_name `:` $type `from` $file `at` $offset `quant` `` $quant attr-dict
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
    /// Bytes the tensor occupies in the checkpoint file (dense, row-major).
    int64_t getCheckpointByteSize();
  }];
}

def Unicorn_StackedWeightOp : Unicorn_Op<"stacked_weight",
    [Symbol, HasParent<"::mlir::ModuleOp">, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "a matrix of other weights' rows, stacked in order";
  let description = [{
    `rows = concat(parts' rows)`: the rows of each `unicorn.weight` part in
    turn, [N_0 + N_1 + ..., K]. The fuse pass stacks the weights of linears that
    share an input (Gemma: q/k/v, gate/up), so one product reads them: one
    dispatch instead of one per weight, a wider one, and one tensor in the
    bundle, which stores it instead of its parts (each row as the part stored
    it: a block-quantised row is quantised alone, so stacking changes no value).
    The parts are matrices of one K, checkpoint dtype and quant, this op's.

    ```mlir
    unicorn.stacked_weight @"layers.0.mlp.gate_proj+up_proj.weight" : tensor<256x64xbf16>
        = [@layers.0.mlp.gate_proj.weight, @layers.0.mlp.up_proj.weight] quant q8
    ```
  }];
  let arguments = (ins
    SymbolNameAttr:$sym_name,
    TypeAttrOf<AnyRankedTensor>:$type,
    FlatSymbolRefArrayAttr:$parts,
    Unicorn_QuantSchemeAttr:$quant
  );
  let assemblyFormat = [{
    $sym_name `:` $type `=` $parts `quant` `` $quant attr-dict
  }];
  let extraClassDeclaration = [{
    ::mlir::RankedTensorType getTensorType() {
      return ::llvm::cast<::mlir::RankedTensorType>(getType());
    }
  }];
}

//===----------------------------------------------------------------------===//
// Transformer steps
//===----------------------------------------------------------------------===//

def Unicorn_EmbedOp : Unicorn_WeightUserOp<"embed", [Pure]> {
  let summary = "token embedding lookup, times a scale";
  let description = [{
    `result[t] = table[ids[t]] * scale`. `table` is `[vocab, hidden]`; Gemma
    scales by sqrt(hidden) (transformers rounds that scale to the table's
    dtype; the graph builder decides which value to put here).
  }];
  let arguments = (ins Unicorn_TokenVector:$ids, FlatSymbolRefAttr:$table, F64Attr:$scale);
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = "$ids `,` $table attr-dict `:` type($ids) `->` type($result)";
  let hasVerifier = 1;
}

def Unicorn_RmsNormOp : Unicorn_WeightUserOp<"rms_norm",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "Gemma RMSNorm with the (1 + w) weight offset";
  let description = [{
    Per row: `y = x * rsqrt(mean(x^2) + eps) * (1 + w)`, all in fp32. The
    checkpoint stores `w` as an offset from one (Gemma initialises it at zero),
    so kernels must add the one; passing `w` alone is the classic Gemma bug.
    `weight` is `[features]`.
  }];
  let arguments = (ins Unicorn_Activation:$input, FlatSymbolRefAttr:$weight, F64Attr:$eps);
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Unicorn_LinearOp : Unicorn_WeightUserOp<"linear", [Pure]> {
  let summary = "matrix product with a checkpoint weight, no bias";
  let description = [{
    `result = input x weight^T`. The weight keeps PyTorch's nn.Linear layout,
    `[out, in]` = `[N, K]`, so each output feature is one contiguous row — the
    layout a matvec streams and the one the checkpoint already has.
  }];
  let arguments = (ins Unicorn_Activation:$input, FlatSymbolRefAttr:$weight);
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Unicorn_FusedLinearOp : Unicorn_Op<"fused_linear",
    [Pure, DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "several matrix products of one input, side by side";
  let description = [{
    `result = input x concat(weights)^T`: the products with each `[N_i, K]`
    weight, their outputs placed next to each other in weight order (columns
    [0, N_0) from the first, [N_0, N_0 + N_1) from the second, ...). The fuse
    pass makes one of the linears that share an input (Gemma: q/k/v, gate/up),
    so the input is read once per step and the products run without a barrier
    between them; unicorn.columns picks each product back out.
  }];
  let arguments = (ins Unicorn_Activation:$input, FlatSymbolRefArrayAttr:$weights);
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = "$input `,` $weights attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Unicorn_ColumnsOp : Unicorn_Op<"columns", [Pure]> {
  let summary = "a contiguous range of an activation's features (a view)";
  let description = [{
    `result[t, f] = input[t, offset + f]` for f below the result's feature
    count. No data moves: plan-memory gives the result its input's storage,
    shifted by `offset` columns, and kernels read it through their row stride.
  }];
  let arguments = (ins Unicorn_Activation:$input, Unicorn_NonNegativeI64:$offset);
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = "$input `[` $offset `]` attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Unicorn_RmsNormAddOp : Unicorn_WeightUserOp<"rms_norm_add",
    [Pure, AllTypesMatch<["input", "residual", "result"]>]> {
  let summary = "residual + rms_norm(input): a post-norm and its residual add";
  let description = [{
    `result = residual + x * rsqrt(mean(x^2) + eps) * (1 + w)` per row, fp32
    (Gemma 3's post-attention and post-feedforward norms with the residual
    connection after them). The fuse pass forms it when the add is the
    residual's last use, so the kernel can add into the residual's storage in
    place; plan-memory relies on that.
  }];
  let arguments = (ins Unicorn_Activation:$input, Unicorn_Activation:$residual,
                       FlatSymbolRefAttr:$weight, F64Attr:$eps);
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = "$input `,` $residual `,` $weight attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Unicorn_QkNormRopeOp : Unicorn_WeightUserOp<"qk_norm_rope",
    [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "per-head RMSNorm followed by rotary position embedding";
  let description = [{
    `input` is `[tokens, heads * head_dim]` (queries or keys). Each head is
    RMS-normalised with the shared `[head_dim]` weight (the same (1 + w)
    rule as rms_norm), then rotated by RoPE in rotate-half (NeoX) form at
    `positions[t]`, with `inv_freq[i] = rope_base^(-2i / head_dim) /
    rope_linear_factor` in fp32 (factor 1 = no scaling; Gemma 3 4B+ global
    layers use 8).
  }];
  let arguments = (ins
    Unicorn_Activation:$input,
    Unicorn_TokenVector:$positions,
    FlatSymbolRefAttr:$norm_weight,
    Unicorn_PositiveI64:$head_dim,
    F64Attr:$eps,
    F64Attr:$rope_base,
    DefaultValuedAttr<F64Attr, "1.0">:$rope_linear_factor
  );
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = [{
    $input `,` $positions `,` $norm_weight attr-dict `:` type($input) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Unicorn_AttentionOp : Unicorn_Op<"attention",
    [AllTypesMatch<["query", "result"]>, MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "causal grouped-query attention over this layer's KV cache";
  let description = [{
    Appends `key`/`value` rows (the new tokens, at `positions`) to the KV cache
    of `layer`, then for every query row attends to every cached key k with
    `0 <= q - k` and, when `window` > 0, `q - k < window` (sliding layers;
    0 = global). Scores are `scale * q.k` (Gemma: query_pre_attn_scalar^-0.5),
    optionally soft-capped as `softcap * tanh(s / softcap)` (0 = off), softmax
    in fp32. Query heads share key/value heads in contiguous groups of
    `num_heads / num_kv_heads`. Writing the cache is why this op is not Pure.
  }];
  let arguments = (ins
    Unicorn_Activation:$query,
    Unicorn_Activation:$key,
    Unicorn_Activation:$value,
    Unicorn_TokenVector:$positions,
    Unicorn_NonNegativeI64:$layer,
    Unicorn_PositiveI64:$num_heads,
    Unicorn_PositiveI64:$num_kv_heads,
    Unicorn_PositiveI64:$head_dim,
    F64Attr:$scale,
    DefaultValuedAttr<Unicorn_NonNegativeI64, "0">:$window,
    DefaultValuedAttr<F64Attr, "0.0">:$softcap
  );
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $positions attr-dict `:`
        type($query) `,` type($key) `,` type($value) `,` type($positions)
  }];
  let hasVerifier = 1;
}

def Unicorn_GeluMulOp : Unicorn_Op<"gelu_mul", [Pure, SameOperandsAndResultType]> {
  let summary = "gelu_pytorch_tanh(gate) * up";
  let description = [{
    The gated MLP's activation: tanh-approximated GELU of `gate`, times `up`,
    elementwise.
  }];
  let arguments = (ins Unicorn_Activation:$gate, Unicorn_Activation:$up);
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = "$gate `,` $up attr-dict `:` type($result)";
}

def Unicorn_AddOp : Unicorn_Op<"add", [Pure, Commutative, SameOperandsAndResultType]> {
  let summary = "elementwise sum (the residual connection)";
  let arguments = (ins Unicorn_Activation:$lhs, Unicorn_Activation:$rhs);
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($result)";
}

def Unicorn_LmHeadOp : Unicorn_WeightUserOp<"lm_head", [Pure]> {
  let summary = "logits from the final hidden state";
  let description = [{
    `result = input x weight^T`, weight `[vocab, hidden]` — for Gemma the tied
    embedding table, referenced, not copied. When `softcap` > 0 the logits are
    `softcap * tanh(logit / softcap)` (Gemma 3 configs leave it off).
  }];
  let arguments = (ins
    Unicorn_Activation:$input,
    FlatSymbolRefAttr:$weight,
    DefaultValuedAttr<F64Attr, "0.0">:$softcap
  );
  let results = (outs Unicorn_Activation:$result);
  let assemblyFormat = "$input `,` $weight attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Unicorn_SampleOp : Unicorn_Op<"sample", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "one token id per row of logits";
  let description = [{
    Draws a token from each row of `logits`. Temperature, top-k, top-p and the
    seed are run-time choices of the user, so they are executor inputs (push
    constants), not attributes; temperature 0 means argmax. It advances the
    sampler's random state, hence not Pure (two samples must not be CSE'd).
  }];
  let arguments = (ins Unicorn_Activation:$logits);
  let results = (outs Unicorn_TokenVector:$result);
  let assemblyFormat = "$logits attr-dict `:` type($logits) `->` type($result)";
  let hasVerifier = 1;
}

#endif // UNICORN_OPS_TD
