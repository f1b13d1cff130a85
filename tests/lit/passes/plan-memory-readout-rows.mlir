// The logits are computed for the readout rows only: with a 262144-token
// vocabulary (1 MiB a row) a chunk of 512 tokens gets 128 rows of logits, all
// that one 128 MiB binding holds (--dump-logits then runs in chunks of 128),
// while the other activations have room for the whole chunk.
// RUN: unicorn-opt %s --unicorn-plan-memory=prefill-chunk=512 | FileCheck %s

unicorn.weight @embed : tensor<262144x32xbf16> from "model.safetensors" at 0 quant none

// CHECK: module attributes {unicorn.prefill_chunk = 512 : i64, unicorn.readout_rows = 128 : i64}
// CHECK: unicorn.embed {{.*}}unicorn.storage = #unicorn.arena<offset = {{[0-9]+}}, bytes = 65536, base = 0, stride = 32>
// CHECK: unicorn.lm_head {{.*}}unicorn.storage = #unicorn.arena<offset = {{[0-9]+}}, bytes = 134217728, base = 0, stride = 262144>
func.func @forward(%ids: tensor<?xi32>) -> tensor<?x262144xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %logits = unicorn.lm_head %h, @embed : tensor<?x32xf32> -> tensor<?x262144xf32>
  return %logits : tensor<?x262144xf32>
}
