// What the schedule pass refuses: a graph the earlier passes did not prepare,
// and ops it has no kernels for, each named.
// RUN: unicorn-opt %s -split-input-file --unicorn-schedule -verify-diagnostics
// RUN: not unicorn-opt %s -split-input-file --unicorn-schedule=min-row-slices=0 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: unicorn-schedule: min-row-slices must be at least 1

// expected-error @below {{unicorn-schedule: needs @forward planned by unicorn-plan-memory (its @arena, unicorn.prefill_chunk and unicorn.readout_rows)}}
module {
  unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
  func.func @forward(%ids: tensor<?xi32>) -> tensor<?x64xf32> {
    %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
    %logits = unicorn.lm_head %h, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
    return %logits : tensor<?x64xf32>
  }
}

// -----

module attributes {unicorn.prefill_chunk = 4 : i64, unicorn.readout_rows = 4 : i64} {
  unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
  unicorn.buffer @arena activations bytes 1536
  func.func @forward(%ids: tensor<?xi32>) -> tensor<?x64xf32> {
    // expected-error @+1 {{has no unicorn.device: run unicorn-place first}}
    %h = unicorn.embed %ids, @embed {scale = 1.0 : f64, unicorn.storage = #unicorn.arena<offset = 0, bytes = 512, base = 0, stride = 32>} : tensor<?xi32> -> tensor<?x32xf32>
    %logits = unicorn.lm_head %h, @embed {unicorn.device = #unicorn<device igpu>, unicorn.storage = #unicorn.arena<offset = 512, bytes = 1024, base = 0, stride = 64>} : tensor<?x32xf32> -> tensor<?x64xf32>
    return %logits : tensor<?x64xf32>
  }
}

// -----

module attributes {unicorn.prefill_chunk = 4 : i64, unicorn.readout_rows = 4 : i64} {
  unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
  unicorn.buffer @arena activations bytes 1536
  func.func @forward(%ids: tensor<?xi32>) -> tensor<?x64xf32> {
    %h = unicorn.embed %ids, @embed {scale = 1.0 : f64, unicorn.device = #unicorn<device igpu>, unicorn.storage = #unicorn.arena<offset = 0, bytes = 512, base = 0, stride = 32>} : tensor<?xi32> -> tensor<?x32xf32>
    // expected-error @+1 {{is placed on the npu, which has no kernels here}}
    %logits = unicorn.lm_head %h, @embed {unicorn.device = #unicorn<device npu>, unicorn.storage = #unicorn.arena<offset = 512, bytes = 1024, base = 0, stride = 64>} : tensor<?x32xf32> -> tensor<?x64xf32>
    return %logits : tensor<?x64xf32>
  }
}

// -----

// The graph ends in logits; choosing the token is the schedule's own step.
module attributes {unicorn.prefill_chunk = 4 : i64, unicorn.readout_rows = 4 : i64} {
  unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
  unicorn.buffer @arena activations bytes 1536
  func.func @forward(%ids: tensor<?xi32>) -> tensor<?xi32> {
    %h = unicorn.embed %ids, @embed {scale = 1.0 : f64, unicorn.device = #unicorn<device igpu>, unicorn.storage = #unicorn.arena<offset = 0, bytes = 512, base = 0, stride = 32>} : tensor<?xi32> -> tensor<?x32xf32>
    %logits = unicorn.lm_head %h, @embed {unicorn.device = #unicorn<device igpu>, unicorn.storage = #unicorn.arena<offset = 512, bytes = 1024, base = 0, stride = 64>} : tensor<?x32xf32> -> tensor<?x64xf32>
    // expected-error @+1 {{has no lowering in the schedule (it chooses the next token itself)}}
    %next = unicorn.sample %logits {unicorn.device = #unicorn<device igpu>} : tensor<?x64xf32> -> tensor<?xi32>
    return %next : tensor<?xi32>
  }
}

// -----

module attributes {unicorn.prefill_chunk = 4 : i64, unicorn.readout_rows = 4 : i64} {
  unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
  unicorn.buffer @arena activations bytes 1536
  func.func @forward(%ids: tensor<?xi32>) -> tensor<?x32xf32> {
    %h = unicorn.embed %ids, @embed {scale = 1.0 : f64, unicorn.device = #unicorn<device igpu>, unicorn.storage = #unicorn.arena<offset = 0, bytes = 512, base = 0, stride = 32>} : tensor<?xi32> -> tensor<?x32xf32>
    // expected-error @+1 {{must return the LM head's logits}}
    return %h : tensor<?x32xf32>
  }
}
