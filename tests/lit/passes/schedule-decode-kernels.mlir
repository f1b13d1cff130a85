// The decode products' kernel follows the weights' scheme: matvec_quant (float
// x) for q8, matvec_quant_dot (packed int8 dot products) for q4 with its own
// launch shape, 16 rows per workgroup of 64, its x quantised first by
// quantize_activation into @quantised_input (48 bytes a block of 32: one block
// here); bf16 matvec_bf16, 4 rows. Prefill runs the matmul kernels whatever the
// scheme.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s

unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant q8
unicorn.weight @w4 : tensor<96x32xbf16> from "model.safetensors" at 4096 quant q4
unicorn.weight @w16 : tensor<32x96xbf16> from "model.safetensors" at 8192 quant none

// CHECK-DAG: unicorn.buffer @quantised_input activations bytes 48
// CHECK-DAG: unicorn.kernel @[[QX:[a-z_0-9]+]] "quantize_activation" {bits = 4 : i64, k = 32 : i64, workgroup_size = 64 : i64}
// CHECK-DAG: unicorn.kernel @[[Q8:[a-z_0-9]+]] "matvec_quant" {bits = 8 : i64, k = 32 : i64, n = 64 : i64, rows_per_workgroup = 4 : i64,
// CHECK-DAG: unicorn.kernel @[[Q4:[a-z_0-9]+]] "matvec_quant_dot" {bits = 4 : i64, k = 32 : i64, n = 96 : i64, rows_per_workgroup = 16 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 64 : i64}
// CHECK-DAG: unicorn.kernel @[[BF16:[a-z_0-9]+]] "matvec_bf16" {k = 96 : i64, n = 32 : i64, rows_per_workgroup = 4 : i64,
// CHECK-LABEL: unicorn.program @decode
// CHECK: unicorn.dispatch @[[QX]] [#unicorn.bind<@arena, 0, 512>, #unicorn.bind<@quantised_input, 0, 48>] push [0, 32, 0, 3, 0] groups [#unicorn.groups<1>, #unicorn.groups<tokens>, #unicorn.groups<1>] patches [#unicorn.patch<4 += tokens>]
// CHECK-NEXT: unicorn.dispatch @[[Q4]] [#unicorn.bind<@quantised_input, 0, 48>, {{.*}}] push [0, 3, {{.*}}groups [#unicorn.groups<6>, #unicorn.groups<tokens>, #unicorn.groups<1>] {{.*}}barrier
// CHECK: unicorn.dispatch @[[BF16]]
// CHECK: unicorn.dispatch @[[Q8]]
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 5.656854249492381 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %a = unicorn.linear %h, @w4 : tensor<?x32xf32> -> tensor<?x96xf32>
  %b = unicorn.linear %a, @w16 : tensor<?x96xf32> -> tensor<?x32xf32>
  %logits = unicorn.lm_head %b, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
