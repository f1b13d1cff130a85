// --unicorn-quantize marks every weight the way the bundle will store it: under
// q8/q4 the projections, the embedding and an untied lm_head are quantised, norms
// and matrices outside the policy are not; under bf16 (the default) nothing is.
// The outcome depends only on the option, so re-running it or starting from other
// marks changes nothing.
// RUN: unicorn-opt %s --unicorn-quantize=weights=q8 | FileCheck %s --check-prefixes=CHECK,Q8
// RUN: unicorn-opt %s --unicorn-quantize=weights=q4 | FileCheck %s --check-prefixes=CHECK,Q4
// RUN: unicorn-opt %s --unicorn-quantize=weights=bf16 | FileCheck %s --check-prefix=BF16
// RUN: unicorn-opt %s --unicorn-quantize | FileCheck %s --check-prefix=BF16
// RUN: unicorn-opt %s --unicorn-quantize=weights=q4 --unicorn-quantize=weights=q8 | FileCheck %s --check-prefixes=CHECK,Q8
// RUN: unicorn-opt %s --pass-pipeline='builtin.module(unicorn-quantize{weights=q4})' | FileCheck %s --check-prefixes=CHECK,Q4
// RUN: not unicorn-opt %s --unicorn-quantize=weights=int8 2>&1 | FileCheck %s --check-prefix=BAD-OPTION

// BAD-OPTION: Cannot find option named 'int8'

// A toy layer with K = 32 or 64: hidden 32, 2 query heads and 1 kv head of 16, mlp 64, vocab 64.

// Q8: unicorn.weight @embed_tokens.weight : tensor<64x32xbf16> from "model.safetensors" at 0 quant q8
// Q4: unicorn.weight @embed_tokens.weight : tensor<64x32xbf16> from "model.safetensors" at 0 quant q4
unicorn.weight @embed_tokens.weight : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
// CHECK: @layers.0.input_layernorm.weight : tensor<32xbf16> {{.*}} quant none
unicorn.weight @layers.0.input_layernorm.weight : tensor<32xbf16> from "model.safetensors" at 4096 quant none
// Q8: @layers.0.self_attn.q_proj.weight : tensor<32x32xbf16> {{.*}} quant q8
// Q4: @layers.0.self_attn.q_proj.weight : tensor<32x32xbf16> {{.*}} quant q4
unicorn.weight @layers.0.self_attn.q_proj.weight : tensor<32x32xbf16> from "model.safetensors" at 4160 quant none
// Q8: @layers.0.self_attn.k_proj.weight : tensor<16x32xf32> {{.*}} quant q8
// Q4: @layers.0.self_attn.k_proj.weight : tensor<16x32xf32> {{.*}} quant q4
unicorn.weight @layers.0.self_attn.k_proj.weight : tensor<16x32xf32> from "model.safetensors" at 6208 quant none
// Q8: @layers.0.self_attn.v_proj.weight : tensor<16x32xf16> {{.*}} quant q8
// Q4: @layers.0.self_attn.v_proj.weight : tensor<16x32xf16> {{.*}} quant q4
unicorn.weight @layers.0.self_attn.v_proj.weight : tensor<16x32xf16> from "model.safetensors" at 8256 quant none
// Q8: @layers.0.self_attn.o_proj.weight : tensor<32x32xbf16> {{.*}} quant q8
// Q4: @layers.0.self_attn.o_proj.weight : tensor<32x32xbf16> {{.*}} quant q4
unicorn.weight @layers.0.self_attn.o_proj.weight : tensor<32x32xbf16> from "model.safetensors" at 9280 quant none
// CHECK: @layers.0.self_attn.q_norm.weight : tensor<16xbf16> {{.*}} quant none
unicorn.weight @layers.0.self_attn.q_norm.weight : tensor<16xbf16> from "model.safetensors" at 11328 quant none
// Q8: @layers.0.mlp.gate_proj.weight : tensor<64x32xbf16> {{.*}} quant q8
// Q4: @layers.0.mlp.gate_proj.weight : tensor<64x32xbf16> {{.*}} quant q4
unicorn.weight @layers.0.mlp.gate_proj.weight : tensor<64x32xbf16> from "model.safetensors" at 11360 quant none
// Q8: @layers.0.mlp.up_proj.weight : tensor<64x32xbf16> {{.*}} quant q8
// Q4: @layers.0.mlp.up_proj.weight : tensor<64x32xbf16> {{.*}} quant q4
unicorn.weight @layers.0.mlp.up_proj.weight : tensor<64x32xbf16> from "model.safetensors" at 15456 quant none
// Down projects back: K = 64, the MLP width.
// Q8: @layers.0.mlp.down_proj.weight : tensor<32x64xbf16> {{.*}} quant q8
// Q4: @layers.0.mlp.down_proj.weight : tensor<32x64xbf16> {{.*}} quant q4
unicorn.weight @layers.0.mlp.down_proj.weight : tensor<32x64xbf16> from "model.safetensors" at 19552 quant none
// A matrix the policy does not name stays as it is, even when marked before.
// CHECK: @multi_modal_projector.mm_input_projection_weight : tensor<32x32xbf16> {{.*}} quant none
unicorn.weight @multi_modal_projector.mm_input_projection_weight : tensor<32x32xbf16> from "model.safetensors" at 23648 quant q8
// CHECK: @norm.weight : tensor<32xbf16> {{.*}} quant none
unicorn.weight @norm.weight : tensor<32xbf16> from "model.safetensors" at 25696 quant none
// An untied head is a matrix like any projection; a mark of q4 on input does not survive q8.
// Q8: @lm_head.weight : tensor<64x32xbf16> {{.*}} quant q8
// Q4: @lm_head.weight : tensor<64x32xbf16> {{.*}} quant q4
unicorn.weight @lm_head.weight : tensor<64x32xbf16> from "model.safetensors" at 25760 quant q4

// bf16 quantises nothing, and clears the marks the input had.
// BF16-COUNT-13: quant none
// BF16-NOT: quant q

// The graph that reads the weights is untouched.
// CHECK-LABEL: func.func @head
// CHECK: unicorn.lm_head %{{.*}}, @lm_head.weight
func.func @head(%h: tensor<?x32xf32>) -> tensor<?x64xf32> {
  %logits = unicorn.lm_head %h, @lm_head.weight : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
