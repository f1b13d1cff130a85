// unicorn.weight rejects what no checkpoint tensor can be.
// RUN: unicorn-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{checkpoint dtype must be bf16, f16 or f32, got 'i8'}}
unicorn.weight @w : tensor<4x8xi8> from "model.safetensors" at 0 quant none

// -----

// expected-error @+1 {{checkpoint shape must be static, got 'tensor<?x8xbf16>'}}
unicorn.weight @w : tensor<?x8xbf16> from "model.safetensors" at 0 quant none

// -----

// expected-error @+1 {{must be a vector or a matrix, got rank 3}}
unicorn.weight @w : tensor<2x4x8xbf16> from "model.safetensors" at 0 quant none

// -----

// Norm weights stay as they are: block quantisation needs a K axis.
// expected-error @+1 {{quant q4 needs a matrix (blocks run along K), got 'tensor<8xbf16>'}}
unicorn.weight @w : tensor<8xbf16> from "model.safetensors" at 0 quant q4

// -----

// expected-error @+1 {{needs a checkpoint file name}}
unicorn.weight @w : tensor<8xbf16> from "" at 0 quant none

// -----

// expected-error @+1 {{attribute 'offset' failed to satisfy constraint}}
unicorn.weight @w : tensor<8xbf16> from "model.safetensors" at -4 quant none

// -----

func.func @weights_live_in_the_module() {
  // expected-error @+1 {{expects parent op 'builtin.module'}}
  unicorn.weight @w : tensor<8xbf16> from "model.safetensors" at 0 quant none
  return
}
