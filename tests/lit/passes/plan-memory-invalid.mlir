// What plan-memory refuses, each with a message that names the cause.
// RUN: unicorn-opt %s -split-input-file --unicorn-plan-memory=prefill-chunk=512 -verify-diagnostics
// RUN: not unicorn-opt %s -split-input-file --unicorn-plan-memory=prefill-chunk=0 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: unicorn-plan-memory: prefill-chunk must be at least 1

// 512 tokens of 131072 features do not fit one 128 MiB binding.
unicorn.weight @embed : tensor<64x131072xbf16> from "model.safetensors" at 0 quant none

func.func @forward(%ids: tensor<?xi32>) -> tensor<?x64xf32> {
  // expected-error @+1 {{makes 268435456 bytes for a chunk of 512 tokens, more than one 128 MiB binding: use a smaller prefill chunk}}
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x131072xf32>
  %logits = unicorn.lm_head %h, @embed : tensor<?x131072xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}

// -----

// The logits have as few rows as the readout needs, but one row of a vocabulary
// wider than 2^25 already exceeds a binding.
unicorn.weight @embed : tensor<33554433x32xbf16> from "model.safetensors" at 0 quant none

func.func @forward(%ids: tensor<?xi32>) -> tensor<?x33554433xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  // expected-error @+1 {{makes rows of 134217732 bytes of logits, more than one 128 MiB binding}}
  %logits = unicorn.lm_head %h, @embed : tensor<?x32xf32> -> tensor<?x33554433xf32>
  return %logits : tensor<?x33554433xf32>
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
