// attention_decode quantises its output for the packed-integer o projection
// right after it (q4, whose decode products all take it by default): the
// dispatch writes @quantised_input's first row (3 units of 16 bytes per block
// of 32 of the 64-wide row) and no quantize_activation runs before that
// product. Heads of 16 (not whole blocks) leave the quantising to
// quantize_activation.
// RUN: unicorn-opt %s -split-input-file --unicorn-fuse --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule | FileCheck %s

// CHECK: unicorn.kernel @[[ATTENTION:attention_decode_[0-9]+]] "attention_decode" {{{.*}}quantised_bits = 4 : i64
// CHECK-LABEL: unicorn.program @decode
// CHECK: unicorn.dispatch @[[ATTENTION]] [{{.*}}, #unicorn.bind<@kn, 0, 0>, #unicorn.bind<@quantised_input, 0, 96>] push
// CHECK-NEXT: unicorn.dispatch @matvec_quant_dot_{{[0-9]+}} [#unicorn.bind<@quantised_input, 0, 96>, #unicorn.bind<@o, 0, 0>
unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @q : tensor<64x32xbf16> from "model.safetensors" at 4096 quant none
unicorn.weight @k : tensor<32x32xbf16> from "model.safetensors" at 8192 quant none
unicorn.weight @v : tensor<32x32xbf16> from "model.safetensors" at 10240 quant none
unicorn.weight @qn : tensor<32xbf16> from "model.safetensors" at 12288 quant none
unicorn.weight @kn : tensor<32xbf16> from "model.safetensors" at 12352 quant none
unicorn.weight @o : tensor<32x64xbf16> from "model.safetensors" at 12416 quant q4

func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %q = unicorn.linear %x, @q : tensor<?x32xf32> -> tensor<?x64xf32>
  %k = unicorn.linear %x, @k : tensor<?x32xf32> -> tensor<?x32xf32>
  %v = unicorn.linear %x, @v : tensor<?x32xf32> -> tensor<?x32xf32>
  %qr = unicorn.qk_norm_rope %q, %pos, @qn {head_dim = 32 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e6 : f64} : tensor<?x64xf32>, tensor<?xi32>
  %kr = unicorn.qk_norm_rope %k, %pos, @kn {head_dim = 32 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e6 : f64} : tensor<?x32xf32>, tensor<?xi32>
  %att = unicorn.attention %qr, %kr, %v, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 32 : i64, scale = 0.25 : f64, window = 0 : i64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>
  %o = unicorn.linear %att, @o : tensor<?x64xf32> -> tensor<?x32xf32>
  %logits = unicorn.lm_head %o, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}

// -----

// CHECK-LABEL: unicorn.program @decode
// CHECK: unicorn.dispatch @attention_decode_0 [{{.*}}, #unicorn.bind<@kn, 0, 0>] push
// CHECK-NEXT: unicorn.dispatch @quantize_activation_0
// CHECK-NEXT: unicorn.dispatch @matvec_quant_dot_{{[0-9]+}} [#unicorn.bind<@quantised_input, 0, 96>, #unicorn.bind<@o, 0, 0>
unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @q : tensor<64x32xbf16> from "model.safetensors" at 4096 quant none
unicorn.weight @k : tensor<32x32xbf16> from "model.safetensors" at 8192 quant none
unicorn.weight @v : tensor<32x32xbf16> from "model.safetensors" at 10240 quant none
unicorn.weight @qn : tensor<16xbf16> from "model.safetensors" at 12288 quant none
unicorn.weight @kn : tensor<16xbf16> from "model.safetensors" at 12352 quant none
unicorn.weight @o : tensor<32x64xbf16> from "model.safetensors" at 12416 quant q4

func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %x = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %q = unicorn.linear %x, @q : tensor<?x32xf32> -> tensor<?x64xf32>
  %k = unicorn.linear %x, @k : tensor<?x32xf32> -> tensor<?x32xf32>
  %v = unicorn.linear %x, @v : tensor<?x32xf32> -> tensor<?x32xf32>
  %qr = unicorn.qk_norm_rope %q, %pos, @qn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e6 : f64} : tensor<?x64xf32>, tensor<?xi32>
  %kr = unicorn.qk_norm_rope %k, %pos, @kn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e6 : f64} : tensor<?x32xf32>, tensor<?xi32>
  %att = unicorn.attention %qr, %kr, %v, %pos {layer = 0 : i64, num_heads = 4 : i64, num_kv_heads = 2 : i64, head_dim = 16 : i64, scale = 0.25 : f64, window = 0 : i64} : tensor<?x64xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>
  %o = unicorn.linear %att, @o : tensor<?x64xf32> -> tensor<?x32xf32>
  %logits = unicorn.lm_head %o, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
