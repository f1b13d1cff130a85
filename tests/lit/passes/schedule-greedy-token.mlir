// The greedy token over a long vocabulary: argmax splits each row of logits
// over workgroups of one batch each (262144 / (16 vec4 loads * 256 invocations
// * 4) = 16), their candidates (8 bytes each) into @argmax_candidates, then
// argmax_combine writes the token id; in both programs. A short vocabulary
// (schedule.mlir) stays one workgroup, writing the token itself.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s

unicorn.weight @embed : tensor<262144x8xbf16> from "model.safetensors" at 0 quant none

// CHECK-DAG: unicorn.buffer @argmax_candidates activations bytes 128
// CHECK-DAG: unicorn.kernel @[[ARGMAX:[a-z_0-9]+]] "argmax" {count = 262144 : i64, splits = 16 : i64, workgroup_size = 256 : i64}
// CHECK-DAG: unicorn.kernel @[[COMBINE:[a-z_0-9]+]] "argmax_combine" {splits = 16 : i64, workgroup_size = 64 : i64}
// CHECK-LABEL: unicorn.program @prefill
// CHECK: unicorn.dispatch @[[ARGMAX]] [#unicorn.bind<@arena, {{[0-9]+}}, {{[0-9]+}}>, #unicorn.bind<@argmax_candidates, 0, 128>] push [0, 262144, 0, 1] groups [#unicorn.groups<1>, #unicorn.groups<16>, #unicorn.groups<1>] {{.*}} when greedy_token
// CHECK-NEXT: unicorn.dispatch @[[COMBINE]] [#unicorn.bind<@argmax_candidates, 0, 128>, #unicorn.bind<@step_input, 0, 0>] push [0, 0, 1] groups [#unicorn.groups<1>, #unicorn.groups<1>, #unicorn.groups<1>] barrier when greedy_token
// CHECK-LABEL: unicorn.program @decode
// CHECK: unicorn.dispatch @[[ARGMAX]]
// CHECK-NEXT: unicorn.dispatch @[[COMBINE]]
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x262144xf32> {
  %h = unicorn.embed %ids, @embed {scale = 2.0 : f64} : tensor<?xi32> -> tensor<?x8xf32>
  %logits = unicorn.lm_head %h, @embed : tensor<?x8xf32> -> tensor<?x262144xf32>
  return %logits : tensor<?x262144xf32>
}
