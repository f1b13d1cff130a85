// Attention as the schedule lowers it: keys and values not written straight
// into their caches by a q/k-norm are copied there first; decode splits a
// global layer's keys into up to 32 shares (one workgroup each, attention_split:
// the last share to finish folds their partials into the output, counting in a
// scratch buffer of its own); prefill, with workgroups enough, does not:
// it runs attention_prefill (tiles of 8 tokens a head), or with flash-prefill=false
// (unicorn-compile --no-flash-prefill) attention.comp, one workgroup a token.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule=flash-prefill=false \
// RUN:   | FileCheck %s --check-prefix=TOKENS

unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @kv : tensor<64x32xbf16> from "model.safetensors" at 4096 quant none

// CHECK: unicorn.kernel @attention_split_0 "attention_split" {{{.*}}splits = 32 : i64, window = 0 : i64
// CHECK: unicorn.buffer @attention_counts activations bytes 4
// CHECK-LABEL: unicorn.program @prefill
// CHECK: unicorn.dispatch @head_norm_rope_0 {{.*}}#unicorn.bind<@kv.layers.5.key, 0, 0>] push [0, 64, 0, 4, 0, 32, 0, 0] {{.*}}patches [#unicorn.patch<7 += tokens>, #unicorn.patch<6 += context>]
// CHECK-NEXT: unicorn.dispatch @head_norm_rope_0 {{.*}}#unicorn.bind<@kv.layers.5.value, 0, 0>] push [32, 64, 0, 4, 0, 32, 0, 0]
// CHECK-NEXT: unicorn.dispatch @attention_prefill_0 {{.*}}groups [#unicorn.groups<1>, #unicorn.groups<tokens / 8>, #unicorn.groups<1>] patches [#unicorn.patch<8 += tokens>, #unicorn.patch<4 += context>] barrier{{$}}
// CHECK-NOT: attention_split
// TOKENS-LABEL: unicorn.program @prefill
// TOKENS: unicorn.dispatch @attention_0 {{.*}}groups [#unicorn.groups<1>, #unicorn.groups<tokens>, #unicorn.groups<1>] patches [#unicorn.patch<8 += tokens>, #unicorn.patch<4 += context>] barrier{{$}}
// TOKENS-LABEL: unicorn.program @decode
// CHECK-LABEL: unicorn.program @decode
// One dispatch: the output row, the partials in the op's scratch region, the counts.
// CHECK: unicorn.dispatch @attention_split_0 [#unicorn.bind<@arena, 0, 512>, #unicorn.bind<@kv.layers.5.key, 0, 0>, #unicorn.bind<@kv.layers.5.value, 0, 0>, #unicorn.bind<@step_input, 0, 0>, #unicorn.bind<@arena, 5888, 512>, #unicorn.bind<@arena, 1536, 4352>, #unicorn.bind<@attention_counts, 0, 4>] push [0, 32, 0, 0, 0, 4, 0, 32, 0] groups [#unicorn.groups<1>, #unicorn.groups<tokens>, #unicorn.groups<32>]
// CHECK-NEXT: unicorn.dispatch @matvec_bf16_0 [#unicorn.bind<@arena, 5888, 512>
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %kv = unicorn.linear %h, @kv : tensor<?x32xf32> -> tensor<?x64xf32>
  %k = unicorn.columns %kv[0] : tensor<?x64xf32> -> tensor<?x32xf32>
  %v = unicorn.columns %kv[32] : tensor<?x64xf32> -> tensor<?x32xf32>
  %att = unicorn.attention %h, %k, %v, %pos {layer = 5 : i64, num_heads = 1 : i64, num_kv_heads = 1 : i64, head_dim = 32 : i64, scale = 0.25 : f64} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>
  %logits = unicorn.lm_head %att, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
