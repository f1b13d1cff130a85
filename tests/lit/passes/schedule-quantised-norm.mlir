// A norm whose result only the packed-integer product right after it reads
// (q4, whose decode products all take it by default) quantises its row in the
// same dispatch: rms_norm (the first) and rms_norm_add_norm write
// @quantised_input's first row beside the normed one, and no
// quantize_activation runs before those products. The GELU product's input is
// still quantised by quantize_activation; prefill quantises nothing.
// RUN: unicorn-opt %s --unicorn-fuse --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule | FileCheck %s
// RUN: unicorn-opt %s --unicorn-fuse --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="dot-q4-by-size=true dot-min-mib=0" | FileCheck %s
// RUN: unicorn-opt %s --unicorn-fuse --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="dot-q4-by-size=true" | FileCheck %s --check-prefix=FLOAT

// CHECK: unicorn.kernel @[[FIRST:rms_norm_[0-9]+]] "rms_norm" {add_to_output = false, eps = {{.*}}, quantised_bits = 4 : i64, width = 32 : i64, workgroup_size = 64 : i64}
// CHECK: unicorn.kernel @[[NORM:rms_norm_add_norm_[0-9]+]] "rms_norm_add_norm" {eps = {{.*}}, quantised_bits = 4 : i64, width = 32 : i64, workgroup_size = 64 : i64}
// CHECK-LABEL: unicorn.program @prefill
// CHECK-NOT: quantised_input
// CHECK-LABEL: unicorn.program @decode
// CHECK-NEXT: unicorn.dispatch @embedding_0
// CHECK-NEXT: unicorn.dispatch @[[FIRST]] [{{.*}}, #unicorn.bind<@arena, 512, 512>, #unicorn.bind<@quantised_input, 0, 48>] push
// CHECK-NEXT: unicorn.dispatch @matvec_quant_dot_0 [#unicorn.bind<@quantised_input, 0, 48>, #unicorn.bind<@a, 0, 0>
// CHECK-NEXT: unicorn.dispatch @[[NORM]] [{{.*}}, #unicorn.bind<@arena, 512, 512>, #unicorn.bind<@quantised_input, 0, 48>] push
// CHECK-NEXT: unicorn.dispatch @matvec_quant_dot_1 [#unicorn.bind<@quantised_input, 0, 48>, #unicorn.bind<@"gate+up", 0, 0>
// CHECK: unicorn.dispatch @quantize_activation_0
// CHECK-NEXT: unicorn.dispatch @matvec_quant_dot_2 {{.*}}#unicorn.bind<@down, 0, 0>
// With q4 by size (dot-q4-by-size), products below dot-min-mib (the default
// 8 MiB: every product here) run on float x and leave the norm as it was.
// FLOAT-NOT: quantised_bits
// FLOAT-NOT: quantize_activation
unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @ln : tensor<32xbf16> from "model.safetensors" at 4096 quant none
unicorn.weight @a : tensor<32x32xbf16> from "model.safetensors" at 4160 quant q4
unicorn.weight @gate : tensor<64x32xbf16> from "model.safetensors" at 6208 quant q4
unicorn.weight @up : tensor<64x32xbf16> from "model.safetensors" at 10304 quant q4
unicorn.weight @down : tensor<32x64xbf16> from "model.safetensors" at 14400 quant q4
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %x = unicorn.rms_norm %h, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %a = unicorn.linear %x, @a : tensor<?x32xf32> -> tensor<?x32xf32>
  %an = unicorn.rms_norm %a, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %h1 = unicorn.add %h, %an : tensor<?x32xf32>
  %x2 = unicorn.rms_norm %h1, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %gate = unicorn.linear %x2, @gate : tensor<?x32xf32> -> tensor<?x64xf32>
  %up = unicorn.linear %x2, @up : tensor<?x32xf32> -> tensor<?x64xf32>
  %act = unicorn.gelu_mul %gate, %up : tensor<?x64xf32>
  %down = unicorn.linear %act, @down : tensor<?x64xf32> -> tensor<?x32xf32>
  %logits = unicorn.lm_head %down, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
