// What plan-memory refuses, each with a message that names the cause.
// RUN: unicorn-opt %s -split-input-file --unicorn-plan-memory=prefill-chunk=512 -verify-diagnostics
// RUN: not unicorn-opt %s -split-input-file --unicorn-plan-memory=prefill-chunk=0 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: unicorn-plan-memory: prefill-chunk must be at least 1

// 512 tokens of a 262144-wide vocabulary (Gemma 3) do not fit one 128 MiB binding.
unicorn.weight @embed : tensor<262144x32xbf16> from "model.safetensors" at 0 quant none

func.func @forward(%ids: tensor<?xi32>) -> tensor<?x262144xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  // expected-error @+1 {{makes 536870912 bytes for a chunk of 512 tokens, more than one 128 MiB binding: use a smaller prefill chunk}}
  %logits = unicorn.lm_head %h, @embed : tensor<?x32xf32> -> tensor<?x262144xf32>
  return %logits : tensor<?x262144xf32>
}

// -----

// A module is planned once.
// expected-error @below {{unicorn-plan-memory: the module is planned already (it has @arena)}}
module {
  unicorn.buffer @arena activations bytes 256
  func.func @forward() {
    return
  }
}
