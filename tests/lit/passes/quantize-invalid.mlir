// --unicorn-quantize refuses a matrix it must quantise whose K (last dimension)
// is not a multiple of the 32-element block, naming the weight: the bundle could
// not store it. Every such weight is reported, not just the first.
// RUN: unicorn-opt %s -split-input-file -verify-diagnostics --unicorn-quantize=weights=q8
// bf16 stores any shape, so the same input passes untouched.
// RUN: unicorn-opt %s -split-input-file --unicorn-quantize=weights=bf16 | FileCheck %s --check-prefix=BF16
// BF16: @layers.0.mlp.up_proj.weight : tensor<128x40xbf16> {{.*}} quant none

// expected-error @+1 {{weight @layers.0.mlp.up_proj.weight 'tensor<128x40xbf16>': q8 needs K (its last dimension) to be a multiple of the 32-element block, got 40}}
unicorn.weight @layers.0.mlp.up_proj.weight : tensor<128x40xbf16> from "model.safetensors" at 0 quant none

// -----

// expected-error @+1 {{weight @embed_tokens.weight 'tensor<64x48xbf16>': q8 needs K (its last dimension) to be a multiple of the 32-element block, got 48}}
unicorn.weight @embed_tokens.weight : tensor<64x48xbf16> from "model.safetensors" at 0 quant none
// A norm of any length is never quantised, so never refused.
unicorn.weight @norm.weight : tensor<48xbf16> from "model.safetensors" at 6144 quant none
// expected-error @+1 {{weight @layers.0.mlp.down_proj.weight 'tensor<48x16xbf16>': q8 needs K (its last dimension) to be a multiple of the 32-element block, got 16}}
unicorn.weight @layers.0.mlp.down_proj.weight : tensor<48x16xbf16> from "model.safetensors" at 6240 quant none

// -----

// Only what the policy quantises needs whole blocks.
unicorn.weight @multi_modal_projector.mm_input_projection_weight : tensor<48x40xbf16> from "model.safetensors" at 0 quant none
