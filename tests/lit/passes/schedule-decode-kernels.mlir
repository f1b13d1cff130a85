// The decode products' kernel follows the weights' scheme and size: matvec_quant
// (float x) for q8 below 8 MiB of quants sharing one x; matvec_quant_dot (packed
// int8 dot products) for every q4 product, with its own launch shape, 4 rows
// per workgroup of 128, its x quantised first by quantize_activation into
// @quantised_input (48 bytes a block of 32, one row: as large as the widest x,
// 32768 / 32 * 48 bytes); bf16 matvec_bf16, 4 rows. With dot-q4-by-size
// (unicorn-compile --dot-q4-by-size) q4 products follow q8's rule: the small
// one runs matvec_quant. Prefill runs the matmul kernels whatever the scheme.
// (narrow-matvec=4x0: these small products launch as the wide ones' kinds do
// by default; schedule-launch-options.mlir checks the narrow products' shape.)
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="narrow-matvec=4x0 dot-q4-by-size=true" | FileCheck %s
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule=narrow-matvec=4x0 | FileCheck %s --check-prefix=Q4

unicorn.weight @embed : tensor<64x1024xbf16> from "model.safetensors" at 0 quant q8
unicorn.weight @small : tensor<96x1024xbf16> from "model.safetensors" at 65536 quant q4
unicorn.weight @large : tensor<32768x1024xbf16> from "model.safetensors" at 131072 quant q4
unicorn.weight @w16 : tensor<1024x96xbf16> from "model.safetensors" at 33554432 quant none
unicorn.weight @down : tensor<1024x32768xbf16> from "model.safetensors" at 33751040 quant q4

// CHECK-DAG: unicorn.buffer @quantised_input activations bytes 49152
// CHECK-DAG: unicorn.kernel @[[QX:[a-z_0-9]+]] "quantize_activation" {bits = 4 : i64, k = 1024 : i64, workgroup_size = 64 : i64}
// CHECK-DAG: unicorn.kernel @[[QXW:[a-z_0-9]+]] "quantize_activation" {bits = 4 : i64, k = 32768 : i64, workgroup_size = 64 : i64}
// CHECK-DAG: unicorn.kernel @[[Q8:[a-z_0-9]+]] "matvec_quant" {bits = 8 : i64, k = 1024 : i64, n = 64 : i64, rows_per_workgroup = 4 : i64,
// CHECK-DAG: unicorn.kernel @[[Q4S:[a-z_0-9]+]] "matvec_quant" {bits = 4 : i64, k = 1024 : i64, n = 96 : i64, rows_per_workgroup = 4 : i64,
// CHECK-DAG: unicorn.kernel @[[Q4L:[a-z_0-9]+]] "matvec_quant_dot" {bits = 4 : i64, k = 1024 : i64, n = 32768 : i64, row_groups = 4 : i64, rows_per_workgroup = 4 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 128 : i64}
// CHECK-DAG: unicorn.kernel @[[BF16:[a-z_0-9]+]] "matvec_bf16" {k = 96 : i64, n = 1024 : i64, rows_per_workgroup = 4 : i64,
// CHECK-LABEL: unicorn.program @decode
// CHECK: unicorn.dispatch @[[Q4S]] [#unicorn.bind<@arena,
// CHECK: unicorn.dispatch @[[BF16]]
// CHECK: unicorn.dispatch @[[QX]] [#unicorn.bind<@arena, {{[0-9]+}}, 16384>, #unicorn.bind<@quantised_input, 0, 1536>] push [0, 1024, 0, 96, 0] groups [#unicorn.groups<1>, #unicorn.groups<tokens>, #unicorn.groups<1>] patches [#unicorn.patch<4 += tokens>]
// CHECK-NEXT: unicorn.dispatch @[[Q4L]] [#unicorn.bind<@quantised_input, 0, 1536>, {{.*}}] push [0, 96, {{.*}}groups [#unicorn.groups<8192>, #unicorn.groups<tokens>, #unicorn.groups<1>] {{.*}}barrier
// CHECK: unicorn.dispatch @[[QXW]] [#unicorn.bind<@arena, {{[0-9]+}}, 524288>, #unicorn.bind<@quantised_input, 0, 49152>] push [{{[0-9]+}}, 32768, 0, 3072, 0] groups [#unicorn.groups<16>,
// CHECK-NEXT: unicorn.dispatch @{{matvec_quant_dot_[0-9]+}} [#unicorn.bind<@quantised_input, 0, 49152>,
// CHECK: unicorn.dispatch @[[Q8]]
// Q4-NOT: "matvec_quant" {bits = 4
// Q4-DAG: unicorn.kernel @[[Q4S:[a-z_0-9]+]] "matvec_quant_dot" {bits = 4 : i64, k = 1024 : i64, n = 96 : i64, row_groups = 4 : i64, rows_per_workgroup = 4 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 128 : i64}
// Q4-DAG: unicorn.kernel @[[Q8:[a-z_0-9]+]] "matvec_quant" {bits = 8 : i64, k = 1024 : i64, n = 64 : i64, rows_per_workgroup = 4 : i64,
// Q4-LABEL: unicorn.program @decode
// Q4: unicorn.dispatch @{{quantize_activation_[0-9]+}} [#unicorn.bind<@arena, {{[0-9]+}}, {{[0-9]+}}>, #unicorn.bind<@quantised_input, 0, 1536>]
// Q4-NEXT: unicorn.dispatch @[[Q4S]] [#unicorn.bind<@quantised_input, 0, 1536>,
// Q4: unicorn.dispatch @[[Q8]]
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 32.0 : f64} : tensor<?xi32> -> tensor<?x1024xf32>
  %a = unicorn.linear %h, @small : tensor<?x1024xf32> -> tensor<?x96xf32>
  %b = unicorn.linear %a, @w16 : tensor<?x96xf32> -> tensor<?x1024xf32>
  %c = unicorn.linear %b, @large : tensor<?x1024xf32> -> tensor<?x32768xf32>
  %d = unicorn.linear %c, @down : tensor<?x32768xf32> -> tensor<?x1024xf32>
  %logits = unicorn.lm_head %d, @embed : tensor<?x1024xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
