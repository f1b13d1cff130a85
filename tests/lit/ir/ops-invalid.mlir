// Shape and type errors the unicorn op verifiers catch, one per split.
// RUN: unicorn-opt %s -split-input-file -verify-diagnostics

unicorn.weight @q_proj : tensor<16x8xbf16> from "model.safetensors" at 0 quant none
func.func @linear_k_mismatch(%x: tensor<?x12xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{input has 12 features but weight @q_proj is [out=16, in=8]}}
  %y = unicorn.linear %x, @q_proj : tensor<?x12xf32> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

unicorn.weight @q_proj : tensor<16x8xbf16> from "model.safetensors" at 0 quant none
func.func @linear_n_mismatch(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{result has 8 features but weight @q_proj is [out=16, in=8]}}
  %y = unicorn.linear %x, @q_proj : tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @linear_unknown_weight(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{names @missing, which is not a unicorn.weight}}
  %y = unicorn.linear %x, @missing : tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// A symbol that exists but is no weight (here: a function) is rejected too.
func.func @linear_names_a_function(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{names @linear_names_a_function, which is not a unicorn.weight}}
  %y = unicorn.linear %x, @linear_names_a_function : tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

unicorn.weight @norm : tensor<8xf32> from "model.safetensors" at 0 quant none
func.func @linear_with_a_vector(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{needs weight @norm of rank 2, got 'tensor<8xf32>'}}
  %y = unicorn.linear %x, @norm : tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

unicorn.weight @w : tensor<16x8xbf16> from "model.safetensors" at 0 quant none
func.func @linear_token_mismatch(%x: tensor<3x8xf32>) -> tensor<4x16xf32> {
  // expected-error @+1 {{input has 3 tokens but result has 4}}
  %y = unicorn.linear %x, @w : tensor<3x8xf32> -> tensor<4x16xf32>
  return %y : tensor<4x16xf32>
}

// -----

// Activations are fp32 by construction: Gemma 3 overflows fp16.
unicorn.weight @w : tensor<16x8xbf16> from "model.safetensors" at 0 quant none
func.func @linear_half_input(%x: tensor<?x8xf16>) -> tensor<?x16xf32> {
  // expected-error @+1 {{operand #0 must be 2D tensor of 32-bit float values}}
  %y = unicorn.linear %x, @w : tensor<?x8xf16> -> tensor<?x16xf32>
  return %y : tensor<?x16xf32>
}

// -----

unicorn.weight @input_layernorm : tensor<6xf32> from "model.safetensors" at 0 quant none
func.func @rms_norm_weight_size(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{weight @input_layernorm has 6 elements but the input has 8 features}}
  %y = unicorn.rms_norm %x, @input_layernorm {eps = 1.0e-6 : f64} : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

unicorn.weight @input_layernorm : tensor<8xf32> from "model.safetensors" at 0 quant none
func.func @rms_norm_zero_eps(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{eps must be > 0, got 0}}
  %y = unicorn.rms_norm %x, @input_layernorm {eps = 0.0 : f64} : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

unicorn.weight @embed : tensor<32x8xbf16> from "model.safetensors" at 0 quant none
func.func @embed_hidden_mismatch(%ids: tensor<?xi32>) -> tensor<?x6xf32> {
  // expected-error @+1 {{result has 6 features but table @embed has rows of 8}}
  %x = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x6xf32>
  return %x : tensor<?x6xf32>
}

// -----

unicorn.weight @embed : tensor<32x8xbf16> from "model.safetensors" at 0 quant none
func.func @embed_token_mismatch(%ids: tensor<3xi32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{ids has 3 tokens but result has 4}}
  %x = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<3xi32> -> tensor<4x8xf32>
  return %x : tensor<4x8xf32>
}

// -----

unicorn.weight @q_norm : tensor<3xbf16> from "model.safetensors" at 0 quant none
func.func @rope_odd_head_dim(%q: tensor<?x6xf32>, %pos: tensor<?xi32>) -> tensor<?x6xf32> {
  // expected-error @+1 {{head_dim must be even, got 3}}
  %y = unicorn.qk_norm_rope %q, %pos, @q_norm {head_dim = 3 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x6xf32>, tensor<?xi32>
  return %y : tensor<?x6xf32>
}

// -----

unicorn.weight @q_norm : tensor<4xbf16> from "model.safetensors" at 0 quant none
func.func @rope_partial_head(%q: tensor<?x10xf32>, %pos: tensor<?xi32>) -> tensor<?x10xf32> {
  // expected-error @+1 {{input has 10 features, not a whole number of heads of 4}}
  %y = unicorn.qk_norm_rope %q, %pos, @q_norm {head_dim = 4 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x10xf32>, tensor<?xi32>
  return %y : tensor<?x10xf32>
}

// -----

// q_norm is one head_dim-sized weight shared by all heads, not one per feature.
unicorn.weight @q_norm : tensor<8xbf16> from "model.safetensors" at 0 quant none
func.func @rope_norm_weight_size(%q: tensor<?x8xf32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{norm weight @q_norm has 8 elements but head_dim is 4}}
  %y = unicorn.qk_norm_rope %q, %pos, @q_norm {head_dim = 4 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x8xf32>, tensor<?xi32>
  return %y : tensor<?x8xf32>
}

// -----

unicorn.weight @q_norm : tensor<4xbf16> from "model.safetensors" at 0 quant none
func.func @rope_positions_count(%q: tensor<2x8xf32>, %pos: tensor<3xi32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{input has 2 tokens but positions has 3}}
  %y = unicorn.qk_norm_rope %q, %pos, @q_norm {head_dim = 4 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<2x8xf32>, tensor<3xi32>
  return %y : tensor<2x8xf32>
}

// -----

unicorn.weight @q_norm : tensor<4xbf16> from "model.safetensors" at 0 quant none
func.func @rope_zero_factor(%q: tensor<?x8xf32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{rope_linear_factor must be > 0, got 0}}
  %y = unicorn.qk_norm_rope %q, %pos, @q_norm {head_dim = 4 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64, rope_linear_factor = 0.0 : f64} : tensor<?x8xf32>, tensor<?xi32>
  return %y : tensor<?x8xf32>
}

// -----

func.func @attention_groups(%q: tensor<?x12xf32>, %k: tensor<?x8xf32>, %pos: tensor<?xi32>) -> tensor<?x12xf32> {
  // expected-error @+1 {{num_heads 3 is not a multiple of num_kv_heads 2}}
  %o = unicorn.attention %q, %k, %k, %pos {layer = 0 : i64, num_heads = 3 : i64, num_kv_heads = 2 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : tensor<?x12xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?xi32>
  return %o : tensor<?x12xf32>
}

// -----

func.func @attention_query_width(%q: tensor<?x12xf32>, %k: tensor<?x4xf32>, %pos: tensor<?xi32>) -> tensor<?x12xf32> {
  // expected-error @+1 {{query has 12 features, expected 2 heads x 4}}
  %o = unicorn.attention %q, %k, %k, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : tensor<?x12xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>
  return %o : tensor<?x12xf32>
}

// -----

func.func @attention_key_width(%q: tensor<?x8xf32>, %k: tensor<?x8xf32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{key has 8 features, expected 1 kv heads x 4}}
  %o = unicorn.attention %q, %k, %k, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : tensor<?x8xf32>, tensor<?x8xf32>, tensor<?x8xf32>, tensor<?xi32>
  return %o : tensor<?x8xf32>
}

// -----

func.func @attention_value_type(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %v: tensor<?x6xf32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{key 'tensor<?x4xf32>' and value 'tensor<?x6xf32>' must have the same type}}
  %o = unicorn.attention %q, %k, %v, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x6xf32>, tensor<?xi32>
  return %o : tensor<?x8xf32>
}

// -----

func.func @attention_token_mismatch(%q: tensor<2x8xf32>, %k: tensor<3x4xf32>, %pos: tensor<2xi32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{query has 2 tokens but key has 3}}
  %o = unicorn.attention %q, %k, %k, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64} : tensor<2x8xf32>, tensor<3x4xf32>, tensor<3x4xf32>, tensor<2xi32>
  return %o : tensor<2x8xf32>
}

// -----

func.func @attention_negative_softcap(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{softcap must be >= 0 (0 = off), got -1}}
  %o = unicorn.attention %q, %k, %k, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, softcap = -1.0 : f64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>
  return %o : tensor<?x8xf32>
}

// -----

func.func @attention_negative_window(%q: tensor<?x8xf32>, %k: tensor<?x4xf32>, %pos: tensor<?xi32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{attribute 'window' failed to satisfy constraint: 64-bit signless integer attribute whose value is non-negative}}
  %o = unicorn.attention %q, %k, %k, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 4 : i64, scale = 0.5 : f64, window = -1 : i64} : tensor<?x8xf32>, tensor<?x4xf32>, tensor<?x4xf32>, tensor<?xi32>
  return %o : tensor<?x8xf32>
}

// -----

unicorn.weight @embed : tensor<32x8xbf16> from "model.safetensors" at 0 quant none
func.func @lm_head_vocab(%x: tensor<?x8xf32>) -> tensor<?x30xf32> {
  // expected-error @+1 {{result has 30 features but weight @embed is [out=32, in=8]}}
  %l = unicorn.lm_head %x, @embed : tensor<?x8xf32> -> tensor<?x30xf32>
  return %l : tensor<?x30xf32>
}

// -----

func.func @sample_token_mismatch(%logits: tensor<2x32xf32>) -> tensor<1xi32> {
  // expected-error @+1 {{logits has 2 tokens but result has 1}}
  %ids = unicorn.sample %logits : tensor<2x32xf32> -> tensor<1xi32>
  return %ids : tensor<1xi32>
}

// -----

func.func @add_shape_mismatch(%a: tensor<?x8xf32>, %b: tensor<?x4xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %s = "unicorn.add"(%a, %b) : (tensor<?x8xf32>, tensor<?x4xf32>) -> tensor<?x8xf32>
  return %s : tensor<?x8xf32>
}

// -----

func.func @gelu_mul_shape_mismatch(%gate: tensor<?x16xf32>, %up: tensor<?x8xf32>) -> tensor<?x16xf32> {
  // expected-error @+1 {{requires the same type for all operands and results}}
  %h = "unicorn.gelu_mul"(%gate, %up) : (tensor<?x16xf32>, tensor<?x8xf32>) -> tensor<?x16xf32>
  return %h : tensor<?x16xf32>
}

// -----

unicorn.weight @a : tensor<4x8xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @b : tensor<4x6xbf16> from "model.safetensors" at 64 quant none
func.func @fused_linear_k(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{input has 8 features but weight @b is [out=4, in=6]}}
  %y = unicorn.fused_linear %x, [@a, @b] : tensor<?x8xf32> -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

unicorn.weight @a : tensor<4x8xbf16> from "model.safetensors" at 0 quant none
func.func @fused_linear_width(%x: tensor<?x8xf32>) -> tensor<?x6xf32> {
  // expected-error @+1 {{result has 6 features but the weights give 8}}
  %y = unicorn.fused_linear %x, [@a, @a] : tensor<?x8xf32> -> tensor<?x6xf32>
  return %y : tensor<?x6xf32>
}

// -----

unicorn.weight @a : tensor<4x8xbf16> from "model.safetensors" at 0 quant none
func.func @fused_linear_one(%x: tensor<?x8xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{fuses at least two weights, got 1}}
  %y = unicorn.fused_linear %x, [@a] : tensor<?x8xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

func.func @columns_outside(%x: tensor<?x8xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{columns [6, 10) are not inside the input's 8 features}}
  %y = unicorn.columns %x[6] : tensor<?x8xf32> -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}

// -----

unicorn.weight @w : tensor<6xbf16> from "model.safetensors" at 0 quant none
func.func @rms_norm_add_weight(%x: tensor<?x8xf32>, %h: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{weight @w has 6 elements but the input has 8 features}}
  %y = unicorn.rms_norm_add %x, %h, @w {eps = 1.0e-6 : f64} : tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}
