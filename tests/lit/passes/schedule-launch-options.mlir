// The decode launch shapes are pass options (unicorn-compile --matvec-launch,
// --dot-min-mib): rows per workgroup x workgroup per kind of product, and the
// quant bytes from which q8 products (q4's with dot-q4-by-size) take the
// packed-integer kernel. Here 64 MiB puts the 16 MiB q4 product back on
// matvec_quant, with its own launch shape.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="quant-matvec=2x128 bf16-matvec=8x32 dot-q4-by-size=true dot-min-mib=64" | FileCheck %s
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="dot-matvec=8x32" | FileCheck %s --check-prefix=DOT
// A third field splits each workgroup's rows over that many groups of its
// invocations (matvec_rows.glsl); it must be a power of two dividing the rows.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="dot-matvec=16x128x4" | FileCheck %s --check-prefix=GROUPS
// RUN: not unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="quant-matvec=4" 2>&1 | FileCheck %s --check-prefix=BAD
// RUN: not unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="dot-matvec=8x128x3" 2>&1 | FileCheck %s --check-prefix=BAD-GROUPS
// q8 products from dot-min-mib take the packed-integer kernel too (here the LM
// head over the q8 table), 4 rows a workgroup of 128 in 2 row groups by
// default; dot-q8=false (unicorn-compile --no-dot-q8) keeps them on matvec_quant.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="dot-min-mib=0" | FileCheck %s --check-prefix=DOTQ8
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="dot-min-mib=0 dot-q8-matvec=8x64x4" | FileCheck %s --check-prefix=DOTQ8-SET
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="dot-q8=false dot-min-mib=0" | FileCheck %s --check-prefix=NO-DOTQ8
// coop-matmul=false (unicorn-compile --no-coop-matmul): prefill's products on
// the tiled kernels alone, no cooperative-matrix kernel with one as fallback.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="coop-matmul=false" | FileCheck %s --check-prefix=TILED
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule | FileCheck %s --check-prefix=COOP
// Products of at most 2048 rows (here the LM head's 64) have a kind of their
// own, narrow: 2 rows a workgroup of 128 by default.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule | FileCheck %s --check-prefix=NARROW
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule="narrow-matvec=8x32" | FileCheck %s --check-prefix=NARROW-SET

unicorn.weight @embed : tensor<64x4096xbf16> from "model.safetensors" at 0 quant q8
unicorn.weight @large : tensor<8192x4096xbf16> from "model.safetensors" at 65536 quant q4
unicorn.weight @w16 : tensor<4096x8192xbf16> from "model.safetensors" at 16842752 quant none

// CHECK-NOT: quantize_activation
// CHECK-DAG: unicorn.kernel @{{[a-z_0-9]+}} "matvec_quant" {bits = 4 : i64, k = 4096 : i64, n = 8192 : i64, rows_per_workgroup = 2 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 128 : i64}
// CHECK-DAG: unicorn.kernel @{{[a-z_0-9]+}} "matvec_bf16" {k = 8192 : i64, n = 4096 : i64, rows_per_workgroup = 8 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 32 : i64}
// DOT: unicorn.kernel @{{[a-z_0-9]+}} "matvec_quant_dot" {bits = 4 : i64, k = 4096 : i64, n = 8192 : i64, rows_per_workgroup = 8 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 32 : i64}
// GROUPS: unicorn.kernel @{{[a-z_0-9]+}} "matvec_quant_dot" {bits = 4 : i64, k = 4096 : i64, n = 8192 : i64, row_groups = 4 : i64, rows_per_workgroup = 16 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 128 : i64}
// DOTQ8: unicorn.kernel @{{[a-z_0-9]+}} "quantize_activation" {bits = 8 : i64, k = 4096 : i64
// DOTQ8: unicorn.kernel @{{[a-z_0-9]+}} "matvec_quant_dot" {bits = 8 : i64, k = 4096 : i64, n = 64 : i64, row_groups = 2 : i64, rows_per_workgroup = 4 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 128 : i64}
// DOTQ8-SET: unicorn.kernel @{{[a-z_0-9]+}} "matvec_quant_dot" {bits = 8 : i64, k = 4096 : i64, n = 64 : i64, row_groups = 4 : i64, rows_per_workgroup = 8 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 64 : i64}
// NO-DOTQ8-NOT: "quantize_activation" {bits = 8
// NO-DOTQ8: unicorn.kernel @{{[a-z_0-9]+}} "matvec_quant" {bits = 8 : i64, k = 4096 : i64, n = 64 : i64
// BAD-GROUPS: dot-matvec must be ROWSxWORKGROUP[xGROUPS] (e.g. 4x64, 16x128x4), got '8x128x3'
// BAD: quant-matvec must be ROWSxWORKGROUP[xGROUPS] (e.g. 4x64, 16x128x4), got '4'
// TILED-NOT: _coop
// TILED: unicorn.kernel @[[TILED:[a-z_0-9]+]] "matmul_bf16" {k = 8192 : i64, n = 4096 : i64, softcap = 0.000000e+00 : f64}
// TILED-NOT: _coop
// TILED: unicorn.dispatch @[[TILED]]
// NARROW: unicorn.kernel @{{[a-z_0-9]+}} "matvec_quant" {bits = 8 : i64, k = 4096 : i64, n = 64 : i64, rows_per_workgroup = 2 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 128 : i64}
// NARROW-SET: unicorn.kernel @{{[a-z_0-9]+}} "matvec_quant" {bits = 8 : i64, k = 4096 : i64, n = 64 : i64, rows_per_workgroup = 8 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 32 : i64}
// COOP: unicorn.kernel @{{[a-z_0-9]+}} "matmul_quant_coop" {bits = 4 : i64, k = 4096 : i64, n = 8192 : i64, softcap = 0.000000e+00 : f64} fallback @{{matmul_quant_[0-9]+}}
// COOP: unicorn.kernel @{{[a-z_0-9]+}} "matmul_bf16_coop" {k = 8192 : i64, n = 4096 : i64, softcap = 0.000000e+00 : f64} fallback @{{matmul_bf16_[0-9]+}}
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 64.0 : f64} : tensor<?xi32> -> tensor<?x4096xf32>
  %a = unicorn.linear %h, @large : tensor<?x4096xf32> -> tensor<?x8192xf32>
  %b = unicorn.linear %a, @w16 : tensor<?x8192xf32> -> tensor<?x4096xf32>
  %logits = unicorn.lm_head %b, @embed : tensor<?x4096xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
