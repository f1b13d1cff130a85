// Every unicorn op parses, verifies, prints in its custom form, and prints
// something that parses back to the same thing (custom and generic forms).
// RUN: unicorn-opt %s | FileCheck %s
// RUN: unicorn-opt %s | unicorn-opt | FileCheck %s
// RUN: unicorn-opt %s --mlir-print-op-generic | unicorn-opt | FileCheck %s
// RUN: unicorn-opt %s --mlir-print-op-generic | FileCheck %s --check-prefix=GENERIC

// A toy Gemma 3 layer: hidden 8, 2 query heads and 1 kv head of 4, mlp 16, vocab 32.

// CHECK-LABEL: unicorn.weight @model.embed_tokens.weight : tensor<32x8xbf16> from "model.safetensors" at 0 quant none
// GENERIC: "unicorn.weight"() <{file = "model.safetensors", offset = 0 : i64, quant = #unicorn<quant none>, sym_name = "model.embed_tokens.weight", type = tensor<32x8xbf16>}>
unicorn.weight @model.embed_tokens.weight : tensor<32x8xbf16> from "model.safetensors" at 0 quant none
// CHECK: unicorn.weight @input_layernorm : tensor<8xf32> from "model.safetensors" at 512 quant none
unicorn.weight @input_layernorm : tensor<8xf32> from "model.safetensors" at 512 quant none
// CHECK: unicorn.weight @q_proj : tensor<8x8xf16> from "model-00002-of-00002.safetensors" at 544 quant q8
// GENERIC: quant = #unicorn<quant q8>
unicorn.weight @q_proj : tensor<8x8xf16> from "model-00002-of-00002.safetensors" at 544 quant q8
// CHECK: unicorn.weight @k_proj : tensor<4x8xbf16> from "model.safetensors" at 672 quant q4
unicorn.weight @k_proj : tensor<4x8xbf16> from "model.safetensors" at 672 quant q4
unicorn.weight @v_proj : tensor<4x8xbf16> from "model.safetensors" at 736 quant none
unicorn.weight @o_proj : tensor<8x8xbf16> from "model.safetensors" at 800 quant none
unicorn.weight @q_norm : tensor<4xbf16> from "model.safetensors" at 928 quant none
unicorn.weight @k_norm : tensor<4xbf16> from "model.safetensors" at 936 quant none
unicorn.weight @gate_proj : tensor<16x8xbf16> from "model.safetensors" at 944 quant none
unicorn.weight @up_proj : tensor<16x8xbf16> from "model.safetensors" at 1200 quant none
unicorn.weight @down_proj : tensor<8x16xbf16> from "model.safetensors" at 1456 quant none

// CHECK-LABEL: func.func @decode
func.func @decode(%ids: tensor<?xi32>, %positions: tensor<?xi32>) -> tensor<?xi32> {
  // CHECK: %[[X:.*]] = unicorn.embed %{{.*}}, @model.embed_tokens.weight {scale = 2.8284271247461903 : f64} : tensor<?xi32> -> tensor<?x8xf32>
  %x = unicorn.embed %ids, @model.embed_tokens.weight {scale = 2.8284271247461903 : f64} : tensor<?xi32> -> tensor<?x8xf32>
  // CHECK: %[[H:.*]] = unicorn.rms_norm %[[X]], @input_layernorm {eps = 9.9999999999999995E-7 : f64} : tensor<?x8xf32>
  %h = unicorn.rms_norm %x, @input_layernorm {eps = 1.0e-6 : f64} : tensor<?x8xf32>
  // CHECK: %[[Q:.*]] = unicorn.linear %[[H]], @q_proj : tensor<?x8xf32> -> tensor<?x8xf32>
  %q = unicorn.linear %h, @q_proj : tensor<?x8xf32> -> tensor<?x8xf32>
  %k = unicorn.linear %h, @k_proj : tensor<?x8xf32> -> tensor<?x4xf32>
  %v = unicorn.linear %h, @v_proj : tensor<?x8xf32> -> tensor<?x4xf32>
  // CHECK: %[[QR:.*]] = unicorn.qk_norm_rope %[[Q]], %{{.*}}, @q_norm {eps = 9.9999999999999995E-7 : f64, head_dim = 4 : i64, rope_base = 1.000000e+06 : f64, rope_linear_factor = 8.000000e+00 : f64} : tensor<?x8xf32>, tensor<?xi32>
  %qr = unicorn.qk_norm_rope %q, %positions, @q_norm {head_dim = 4 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e6 : f64, rope_linear_factor = 8.0 : f64} : tensor<?x8xf32>, tensor<?xi32>
  // The default linear factor (1.0) is elided when printed.
  // CHECK: unicorn.qk_norm_rope %{{.*}}, %{{.*}}, @k_norm {eps = 9.9999999999999995E-7 : f64, head_dim = 4 : i64, rope_base = 1.000000e+04 : f64} : tensor<?x4xf32>, tensor<?xi32>
  %kr = unicorn.qk_norm_rope %k, %positions, @k_norm {head_dim = 4 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x4xf32>, tensor<?xi32>
  // CHECK: %[[ATT:.*]] = unicorn.attention %[[QR]], %{{.*}}, %{{.*}}, %{{.*}} {head_dim = 4 : i64, layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f64, softcap = 5.000000e+01 : f64, window = 3 : i64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>
  %att = unicorn.attention %qr, %kr, %v, %positions {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, window = 3 : i64, softcap = 50.0 : f64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>
  // A global layer without soft-capping: window and softcap take their defaults.
  // CHECK: unicorn.attention %{{.*}} {head_dim = 4 : i64, layer = 5 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, scale = 5.000000e-01 : f64} :
  %global = unicorn.attention %qr, %kr, %v, %positions {layer = 5 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>
  %o = unicorn.linear %att, @o_proj : tensor<?x8xf32> -> tensor<?x8xf32>
  // CHECK: %[[R:.*]] = unicorn.add %[[X]], %{{.*}} : tensor<?x8xf32>
  %r = unicorn.add %x, %o : tensor<?x8xf32>
  %gate = unicorn.linear %r, @gate_proj : tensor<?x8xf32> -> tensor<?x16xf32>
  %up = unicorn.linear %r, @up_proj : tensor<?x8xf32> -> tensor<?x16xf32>
  // CHECK: unicorn.gelu_mul %{{.*}}, %{{.*}} : tensor<?x16xf32>
  %act = unicorn.gelu_mul %gate, %up : tensor<?x16xf32>
  %down = unicorn.linear %act, @down_proj : tensor<?x16xf32> -> tensor<?x8xf32>
  %out = unicorn.add %r, %down : tensor<?x8xf32>
  // The tied LM head reads the embedding table by reference.
  // CHECK: %[[LOGITS:.*]] = unicorn.lm_head %{{.*}}, @model.embed_tokens.weight : tensor<?x8xf32> -> tensor<?x32xf32>
  %logits = unicorn.lm_head %out, @model.embed_tokens.weight : tensor<?x8xf32> -> tensor<?x32xf32>
  // CHECK: unicorn.lm_head %{{.*}}, @model.embed_tokens.weight {softcap = 3.000000e+01 : f64} : tensor<1x8xf32> -> tensor<1x32xf32>
  %last = tensor.extract_slice %out[0, 0] [1, 8] [1, 1] : tensor<?x8xf32> to tensor<1x8xf32>
  %capped = unicorn.lm_head %last, @model.embed_tokens.weight {softcap = 30.0 : f64} : tensor<1x8xf32> -> tensor<1x32xf32>
  // CHECK: %[[NEXT:.*]] = unicorn.sample %[[LOGITS]] : tensor<?x32xf32> -> tensor<?xi32>
  %next = unicorn.sample %logits : tensor<?x32xf32> -> tensor<?xi32>
  // CHECK: return %[[NEXT]]
  return %next : tensor<?xi32>
}

// The fused forms (made by --unicorn-fuse).
// CHECK-LABEL: func.func @fused
func.func @fused(%x: tensor<?x8xf32>, %h: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // CHECK: %[[QKV:.*]] = unicorn.fused_linear %{{.*}}, [@q_proj, @k_proj, @v_proj] : tensor<?x8xf32> -> tensor<?x16xf32>
  // GENERIC: "unicorn.fused_linear"(%{{.*}}) <{weights = [@q_proj, @k_proj, @v_proj]}>
  %qkv = unicorn.fused_linear %x, [@q_proj, @k_proj, @v_proj] : tensor<?x8xf32> -> tensor<?x16xf32>
  // CHECK: %[[K:.*]] = unicorn.columns %[[QKV]][8] : tensor<?x16xf32> -> tensor<?x4xf32>
  %k = unicorn.columns %qkv[8] : tensor<?x16xf32> -> tensor<?x4xf32>
  // CHECK: unicorn.rms_norm_add %{{.*}}, %{{.*}}, @input_layernorm {eps = 9.9999999999999995E-7 : f64} : tensor<?x8xf32>
  %r = unicorn.rms_norm_add %x, %h, @input_layernorm {eps = 1.0e-6 : f64} : tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}
