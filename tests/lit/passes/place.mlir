// --unicorn-place puts every op of the graph on a device. Target igpu (the
// default): all of them on the iGPU. Target npu+igpu cannot be honoured here (no
// NPU code generation): an error at the first op the NPU would take, not a
// silent fallback to the GPU.
// RUN: unicorn-opt %s --unicorn-place | FileCheck %s
// RUN: unicorn-opt %s --unicorn-place=target=igpu | FileCheck %s
// RUN: not unicorn-opt %s --unicorn-place=target=npu+igpu 2>&1 | FileCheck %s --check-prefix=NPU
// RUN: not unicorn-opt %s --unicorn-place=target=cpu 2>&1 | FileCheck %s --check-prefix=UNKNOWN

// NPU: error: target npu+igpu: this op would run on the NPU, but no NPU code can be generated (codegen_aie needs an AIE tile compiler, Peano/llvm-aie, which is not available); use target igpu
// NPU-NEXT: unicorn.fused_linear
// UNKNOWN: error: unicorn-place: unknown target 'cpu' (igpu or npu+igpu)

unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @ln : tensor<32xbf16> from "model.safetensors" at 4096 quant none
unicorn.weight @q : tensor<32x32xbf16> from "model.safetensors" at 4160 quant none

// CHECK-LABEL: func.func @forward
func.func @forward(%ids: tensor<?xi32>) -> tensor<?x64xf32> {
  // CHECK: unicorn.embed {{.*}}unicorn.device = #unicorn<device igpu>
  %h = unicorn.embed %ids, @embed {scale = 5.656854249492381 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  // CHECK-NEXT: unicorn.rms_norm {{.*}}unicorn.device = #unicorn<device igpu>
  %x = unicorn.rms_norm %h, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  // CHECK-NEXT: unicorn.fused_linear {{.*}}unicorn.device = #unicorn<device igpu>
  %qq = unicorn.fused_linear %x, [@q, @q] : tensor<?x32xf32> -> tensor<?x64xf32>
  // CHECK-NEXT: unicorn.columns {{.*}}unicorn.device = #unicorn<device igpu>
  %q = unicorn.columns %qq[32] : tensor<?x64xf32> -> tensor<?x32xf32>
  // CHECK-NEXT: unicorn.lm_head {{.*}}unicorn.device = #unicorn<device igpu>
  %logits = unicorn.lm_head %q, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  // CHECK-NEXT: return %{{.*}} : tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
