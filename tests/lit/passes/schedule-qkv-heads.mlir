// A global layer's q, k and v heads as one qkv_norm_rope dispatch in prefill:
// its caches are sized by the context, so the dispatch's ring (push word 11)
// is patched with it. In decode the heads are left to the attention, which
// runs attention_decode from the q|k|v row (split into 32 shares; the key and
// value heads at floats 32 and 48 of it, push words 9 and 10; it writes both
// caches); with decode-attention=false qkv_norm_rope runs there too, then
// attention_split. A layer whose q and k norms differ in RoPE stays three
// dispatches.
// RUN: unicorn-opt %s -split-input-file --unicorn-fuse --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s
// RUN: unicorn-opt %s -split-input-file --unicorn-fuse --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="decode-attention=false" | FileCheck %s --check-prefix=TWO

// CHECK: unicorn.kernel @attention_decode_0 "attention_decode" {eps = {{.*}}, head_dim = 16 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, query_scale = 2.500000e-01 : f64, rope_base = 1.000000e+06 : f64, rope_linear_factor = 1.000000e+00 : f64, softcap = 0.000000e+00 : f64, splits = 32 : i64, window = 0 : i64, workgroup_size = 64 : i64}
// CHECK-LABEL: unicorn.program @prefill
// CHECK: unicorn.dispatch @qkv_norm_rope_0 [#unicorn.bind<@arena, {{[0-9]+}}, {{[0-9]+}}>, #unicorn.bind<@qn, 0, 0>, #unicorn.bind<@kn, 0, 0>, #unicorn.bind<@step_input, 0, 0>, #unicorn.bind<@arena, {{[0-9]+}}, {{[0-9]+}}>, #unicorn.bind<@kv.layers.0.key, 0, 0>, #unicorn.bind<@kv.layers.0.value, 0, 0>] push [0, 32, 48, 64, 0, 0, 4, 0, 32, 16, 16, 0, 0] groups [#unicorn.groups<4>, #unicorn.groups<tokens>, #unicorn.groups<1>] patches [#unicorn.patch<12 += tokens>, #unicorn.patch<11 += context>]
// CHECK-LABEL: unicorn.program @decode
// CHECK-NOT: norm_rope
// CHECK: unicorn.dispatch @attention_decode_0 [#unicorn.bind<@arena, [[ROW:[0-9]+, [0-9]+]]>, #unicorn.bind<@kv.layers.0.key, 0, 0>, #unicorn.bind<@kv.layers.0.value, 0, 0>, #unicorn.bind<@step_input, 0, 0>, #unicorn.bind<@arena, {{[0-9]+}}, {{[0-9]+}}>, #unicorn.bind<@arena, {{[0-9]+}}, {{[0-9]+}}>, #unicorn.bind<@attention_counts, 0, 8>, #unicorn.bind<@qn, 0, 0>, #unicorn.bind<@kn, 0, 0>] push [0, 64, 0, 0, 0, 4, 0, 32, 1, 32, 48] groups [#unicorn.groups<2>, #unicorn.groups<1>, #unicorn.groups<32>] patches [#unicorn.patch<4 += context>] barrier
// TWO-LABEL: unicorn.program @decode
// TWO: unicorn.dispatch @qkv_norm_rope_0
// TWO-NEXT: unicorn.dispatch @attention_split_0
// TWO-NOT: attention_decode
unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @q : tensor<32x32xbf16> from "model.safetensors" at 4160 quant none
unicorn.weight @k : tensor<16x32xbf16> from "model.safetensors" at 6208 quant none
unicorn.weight @v : tensor<16x32xbf16> from "model.safetensors" at 7232 quant none
unicorn.weight @qn : tensor<16xbf16> from "model.safetensors" at 8256 quant none
unicorn.weight @kn : tensor<16xbf16> from "model.safetensors" at 8288 quant none

func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %q = unicorn.linear %x, @q : tensor<?x32xf32> -> tensor<?x32xf32>
  %k = unicorn.linear %x, @k : tensor<?x32xf32> -> tensor<?x16xf32>
  %v = unicorn.linear %x, @v : tensor<?x32xf32> -> tensor<?x16xf32>
  %qr = unicorn.qk_norm_rope %q, %pos, @qn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e6 : f64} : tensor<?x32xf32>, tensor<?xi32>
  %kr = unicorn.qk_norm_rope %k, %pos, @kn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e6 : f64} : tensor<?x16xf32>, tensor<?xi32>
  %att = unicorn.attention %qr, %kr, %v, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 16 : i64, scale = 0.25 : f64, window = 0 : i64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>
  %logits = unicorn.lm_head %att, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}

// -----

// CHECK-LABEL: unicorn.program @decode
// CHECK-NOT: qkv_norm_rope
// CHECK: unicorn.dispatch @head_norm_rope_0
// CHECK-NEXT: unicorn.dispatch @head_norm_rope_1
// CHECK-NEXT: unicorn.dispatch @head_norm_rope_2
// CHECK-NEXT: unicorn.dispatch @attention_split_0
// TWO-LABEL: unicorn.program @decode
// TWO: unicorn.dispatch @head_norm_rope_0
unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @q : tensor<32x32xbf16> from "model.safetensors" at 4160 quant none
unicorn.weight @k : tensor<16x32xbf16> from "model.safetensors" at 6208 quant none
unicorn.weight @v : tensor<16x32xbf16> from "model.safetensors" at 7232 quant none
unicorn.weight @qn : tensor<16xbf16> from "model.safetensors" at 8256 quant none
unicorn.weight @kn : tensor<16xbf16> from "model.safetensors" at 8288 quant none

func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %q = unicorn.linear %x, @q : tensor<?x32xf32> -> tensor<?x32xf32>
  %k = unicorn.linear %x, @k : tensor<?x32xf32> -> tensor<?x16xf32>
  %v = unicorn.linear %x, @v : tensor<?x32xf32> -> tensor<?x16xf32>
  %qr = unicorn.qk_norm_rope %q, %pos, @qn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e6 : f64} : tensor<?x32xf32>, tensor<?xi32>
  %kr = unicorn.qk_norm_rope %k, %pos, @kn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x16xf32>, tensor<?xi32>
  %att = unicorn.attention %qr, %kr, %v, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 16 : i64, scale = 0.25 : f64, window = 0 : i64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>
  %logits = unicorn.lm_head %att, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
