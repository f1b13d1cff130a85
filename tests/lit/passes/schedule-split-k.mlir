// Split-K in prefill (split_k.glsl), with prefill-split-tiles (here 256; the
// default 0 is off): a product of fewer 128 x 128 output tiles at the chunk's
// tokens shares each tile's K among enough workgroups to make up as many, at
// most 8 and each at least 256 columns: grid z is the splits, the kernel takes
// them as `splits` and binds split-K's partials and counts after its other
// buffers (as large as its split needs), then the tokens' maxima (last, so
// that the tiled fallback binds a prefix of them). A split product keeps its
// cooperative-matrix kernel (the frame's main_split), the tiled kernel with
// the same splits its fallback. At 4 tokens: @back (4096 rows, 32 tiles) and
// the q4 @narrow (1024 rows, 8 tiles) take 8, @wide (K = 1024) 4, @short (K =
// 512) 2. Decode is never split; off, nothing is.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 \
// RUN:   --unicorn-schedule=prefill-split-tiles=256 | FileCheck %s
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s --check-prefix=OFF

// CHECK-DAG: unicorn.kernel @[[SHORT_TILED:matmul_bf16_[0-9]+]] "matmul_bf16" {k = 512 : i64, n = 8192 : i64, softcap = 0.000000e+00 : f64, splits = 2 : i64}
// CHECK-DAG: unicorn.kernel @[[SHORT:matmul_bf16_coop_[0-9]+]] "matmul_bf16_coop" {k = 512 : i64, n = 8192 : i64, softcap = 0.000000e+00 : f64, splits = 2 : i64} fallback @[[SHORT_TILED]]
// CHECK-DAG: unicorn.kernel @[[BACK_TILED:matmul_bf16_[0-9]+]] "matmul_bf16" {k = 8192 : i64, n = 4096 : i64, softcap = 0.000000e+00 : f64, splits = 8 : i64}
// CHECK-DAG: unicorn.kernel @[[BACK:matmul_bf16_coop_[0-9]+]] "matmul_bf16_coop" {k = 8192 : i64, n = 4096 : i64, softcap = 0.000000e+00 : f64, splits = 8 : i64} fallback @[[BACK_TILED]]
// CHECK-DAG: unicorn.kernel @[[NARROW_TILED:matmul_quant_[0-9]+]] "matmul_quant" {bits = 4 : i64, k = 4096 : i64, n = 1024 : i64, softcap = 0.000000e+00 : f64, splits = 8 : i64}
// CHECK-DAG: unicorn.kernel @[[NARROW:matmul_quant_coop_[0-9]+]] "matmul_quant_coop" {bits = 4 : i64, k = 4096 : i64, n = 1024 : i64, softcap = 0.000000e+00 : f64, splits = 8 : i64} fallback @[[NARROW_TILED]]
// CHECK-DAG: unicorn.kernel @[[WIDE_TILED:matmul_bf16_[0-9]+]] "matmul_bf16" {k = 1024 : i64, n = 512 : i64, softcap = 0.000000e+00 : f64, splits = 4 : i64}
// CHECK-DAG: unicorn.kernel @[[WIDE:matmul_bf16_coop_[0-9]+]] "matmul_bf16_coop" {k = 1024 : i64, n = 512 : i64, softcap = 0.000000e+00 : f64, splits = 4 : i64} fallback @[[WIDE_TILED]]
// CHECK-DAG: unicorn.buffer @matmul_counts activations bytes 512
// CHECK-DAG: unicorn.buffer @matmul_partials activations bytes 16777216
// CHECK-LABEL: unicorn.program @prefill
// CHECK: unicorn.dispatch @[[SHORT]] [{{.*}}, #unicorn.bind<@matmul_partials, 0, 8388608>, #unicorn.bind<@matmul_counts, 0, 512>, #unicorn.bind<@token_maxima, 0, 256>, #unicorn.bind<@row_bounds, {{[0-9]+}}, {{[0-9]+}}>] push {{.*}} groups [#unicorn.groups<128>, #unicorn.groups<tokens / 64>, #unicorn.groups<2>]
// CHECK: unicorn.dispatch @[[BACK]] [{{.*}}, #unicorn.bind<@matmul_partials, 0, 16777216>, #unicorn.bind<@matmul_counts, 0, 256>, #unicorn.bind<@token_maxima, 0, 256>, #unicorn.bind<@row_bounds, {{[0-9]+}}, {{[0-9]+}}>] push {{.*}} groups [#unicorn.groups<64>, #unicorn.groups<tokens / 64>, #unicorn.groups<8>]
// CHECK: unicorn.dispatch @[[NARROW]] [{{.*}}, #unicorn.bind<@matmul_partials, 0, 4194304>, #unicorn.bind<@matmul_counts, 0, 256>, #unicorn.bind<@token_maxima, 0, 256>, #unicorn.bind<@row_bounds, {{[0-9]+}}, {{[0-9]+}}>] push {{.*}} groups [#unicorn.groups<16>, #unicorn.groups<tokens / 64>, #unicorn.groups<8>]
// CHECK: unicorn.dispatch @[[WIDE]] [{{.*}}, #unicorn.bind<@matmul_partials, 0, 1048576>, #unicorn.bind<@matmul_counts, 0, 256>, #unicorn.bind<@token_maxima, 0, 256>, #unicorn.bind<@row_bounds, {{[0-9]+}}, {{[0-9]+}}>] push {{.*}} groups [#unicorn.groups<8>, #unicorn.groups<tokens / 64>, #unicorn.groups<4>]
// CHECK-LABEL: unicorn.program @decode
// CHECK-NOT: matmul_partials
// OFF-NOT: matmul_partials
// OFF-NOT: f64, splits
// OFF: unicorn.dispatch @{{matmul_bf16_coop_[0-9]+}} [#unicorn.bind<@arena, {{[0-9]+}}, {{[0-9]+}}>, #unicorn.bind<@short, 0, 0>, #unicorn.bind<@arena, {{[0-9]+}}, {{[0-9]+}}>, #unicorn.bind<@token_maxima, 0, 256>, #unicorn.bind<@row_bounds, {{[0-9]+}}, {{[0-9]+}}>] push {{.*}} groups [#unicorn.groups<128>, #unicorn.groups<tokens / 64>, #unicorn.groups<1>]
// OFF-NOT: matmul_partials

unicorn.weight @embed : tensor<64x512xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @short : tensor<8192x512xbf16> from "model.safetensors" at 65536 quant none
unicorn.weight @back : tensor<4096x8192xbf16> from "model.safetensors" at 8454144 quant none
unicorn.weight @narrow : tensor<1024x4096xbf16> from "model.safetensors" at 75563008 quant q4
unicorn.weight @wide : tensor<512x1024xbf16> from "model.safetensors" at 83951616 quant none

func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x512xf32>
  %b = unicorn.linear %h, @short : tensor<?x512xf32> -> tensor<?x8192xf32>
  %c = unicorn.linear %b, @back : tensor<?x8192xf32> -> tensor<?x4096xf32>
  %a = unicorn.linear %c, @narrow : tensor<?x4096xf32> -> tensor<?x1024xf32>
  %d = unicorn.linear %a, @wide : tensor<?x1024xf32> -> tensor<?x512xf32>
  %logits = unicorn.lm_head %d, @embed : tensor<?x512xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
