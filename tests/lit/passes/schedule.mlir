// --unicorn-schedule lowers the planned graph to the programs @prefill (tiled
// matmuls over a chunk) and @decode (matvecs for one token), every kernel
// specialisation once as a unicorn.kernel. Barriers go exactly where a dispatch
// reads or overwrites what one since the last barrier wrote or read.
// (narrow-matvec=4x0: these small products launch as the wide ones' kinds do
// by default; schedule-launch-options.mlir checks the narrow products' shape.)
// RUN: unicorn-opt %s --unicorn-fuse --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule=narrow-matvec=4x0 | FileCheck %s

// The logits region of the arena, the sampling settings after ids [4] and positions [4].
// CHECK: module attributes {unicorn.logits = #unicorn.bind<@arena, 1024, 1024>, unicorn.prefill_chunk = 4 : i64, unicorn.readout_rows = 4 : i64, unicorn.readout_top_k = 32 : i64, unicorn.sampling_params_word = 8 : i64}
// CHECK: unicorn.buffer @arena activations bytes 4096
// (2 * 4 + 8) words of step input; 4 rows of lse and 32 (id, logit) pairs.
// CHECK-NEXT: unicorn.buffer @step_input step_input bytes 64
// The step before's input, where decode reads its token id: as large.
// CHECK-NEXT: unicorn.buffer @previous_step_input previous_step_input bytes 64
// CHECK-NEXT: unicorn.buffer @readout readout bytes 1040
// q, k and v stacked by the fuse pass: one product of 64 rows. Prefill runs
// each bf16 product on cooperative-matrix units, falling back to the tiled
// kernel (same grid) where the device has none; token_maxima finds its
// tokens' scales first (one kernel per width of x).
// CHECK: unicorn.kernel @token_maxima_0 "token_maxima" {k = 32 : i64, workgroup_size = 256 : i64}
// CHECK-NEXT: unicorn.kernel @matmul_bf16_0 "matmul_bf16" {k = 32 : i64, n = 64 : i64, softcap = 0.000000e+00 : f64}
// CHECK-NEXT: unicorn.kernel @matmul_bf16_coop_0 "matmul_bf16_coop" {k = 32 : i64, n = 64 : i64, softcap = 0.000000e+00 : f64} fallback @matmul_bf16_0
// The layer's q, k and v heads in one kernel (2 query heads, 1 kv head).
// CHECK: unicorn.kernel @qkv_norm_rope_0 "qkv_norm_rope" {eps = 9.9999999999999995E-7 : f64, head_dim = 16 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, rope_base = 1.000000e+04 : f64, rope_linear_factor = 1.000000e+00 : f64, workgroup_size = 64 : i64}
// CHECK: unicorn.kernel @attention_prefill_0 "attention_prefill" {head_dim = 16 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, query_scale = 2.500000e-01 : f64, softcap = 0.000000e+00 : f64, window = 4 : i64}
// A window of 4 keys is not split in decode either (passes/AttentionSplits.h).
// CHECK: unicorn.kernel @attention_0 "attention" {head_dim = 16 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, query_scale = 2.500000e-01 : f64, softcap = 0.000000e+00 : f64, window = 4 : i64, workgroup_size = 64 : i64}
// CHECK-NOT: attention_split
// CHECK: unicorn.kernel @{{matvec_bf16_[0-9]+}} "matvec_bf16" {gelu_input = true, k = 64 : i64, n = 32 : i64, rows_per_workgroup = 4 : i64, softcap = 0.000000e+00 : f64, workgroup_size = 64 : i64}
// CHECK-NOT: unicorn.kernel @matmul_bf16_4
// CHECK-NOT: unicorn.kernel @matmul_bf16_coop_4
// CHECK-NOT: func.func

// The setup program, run once when the bundle is opened: each row's bound on
// |w| of every matrix a cooperative-matrix product reads (8 rows a workgroup),
// each in its own region of @row_bounds, no barriers (they read weights alone).
// CHECK: unicorn.buffer @row_bounds activations bytes 1536
// CHECK-LABEL: unicorn.program @setup
// CHECK-NEXT: unicorn.dispatch @row_bounds_0 [#unicorn.bind<@"q+k+v", 0, 0>, #unicorn.bind<@row_bounds, 0, 256>] push [0, 64] groups [#unicorn.groups<8>, #unicorn.groups<1>, #unicorn.groups<1>]{{$}}
// CHECK-NEXT: unicorn.dispatch @row_bounds_0 [#unicorn.bind<@o, 0, 0>, #unicorn.bind<@row_bounds, 256, 256>] push [0, 32] groups [#unicorn.groups<4>, #unicorn.groups<1>, #unicorn.groups<1>]{{$}}
// CHECK-NEXT: unicorn.dispatch @row_bounds_0 [#unicorn.bind<@"gate+up", 0, 0>, #unicorn.bind<@row_bounds, 512, 512>] push [0, 128] groups [#unicorn.groups<16>, #unicorn.groups<1>, #unicorn.groups<1>]{{$}}
// CHECK-NEXT: unicorn.dispatch @row_bounds_1 [#unicorn.bind<@down, 0, 0>, #unicorn.bind<@row_bounds, 1024, 256>] push [0, 32] groups [#unicorn.groups<4>, #unicorn.groups<1>, #unicorn.groups<1>]{{$}}
// The LM head's, for --dump-logits' products over the embedding.
// CHECK-NEXT: unicorn.dispatch @row_bounds_0 [#unicorn.bind<@embed, 0, 0>, #unicorn.bind<@row_bounds, 1280, 256>] push [0, 64] groups [#unicorn.groups<8>, #unicorn.groups<1>, #unicorn.groups<1>]{{$}}
// CHECK-NEXT: }

// CHECK-LABEL: unicorn.program @prefill
// Nothing ran before the embedding in this submission: no barrier.
// CHECK-NEXT: unicorn.dispatch @embedding_0 [#unicorn.bind<@step_input, 0, 0>, #unicorn.bind<@embed, 0, 0>, #unicorn.bind<@arena, 0, 512>] push [0, 0, 64, 64, 0, 32, 0] groups [#unicorn.groups<tokens>, #unicorn.groups<1>, #unicorn.groups<1>] patches [#unicorn.patch<6 += tokens>]{{$}}
// CHECK-NEXT: unicorn.dispatch @rms_norm_0 {{.*}} barrier{{$}}
// q, k and v in one product over their stacked weight: the qkv rows.
// Each token's largest |x| first, into the token_maxima scratch buffer; the
// product binds it and its rows' bounds (found by the setup program) last (its
// fallback, the tiled kernel, leaves those bindings out).
// It serves the matrix units' products alone: where their fallbacks run, the
// runtime leaves it out (for_matrix_units).
// CHECK-NEXT: unicorn.dispatch @token_maxima_0 [#unicorn.bind<@arena, 512, 512>, #unicorn.bind<@token_maxima, 0, 256>] push [0, 32, 0] groups [#unicorn.groups<tokens>, #unicorn.groups<1>, #unicorn.groups<1>] patches [#unicorn.patch<2 += tokens>] barrier for_matrix_units{{$}}
// CHECK-NEXT: unicorn.dispatch @matmul_bf16_coop_0 [#unicorn.bind<@arena, 512, 512>, #unicorn.bind<@"q+k+v", 0, 0>, #unicorn.bind<@arena, 1024, 1024>, #unicorn.bind<@token_maxima, 0, 256>, #unicorn.bind<@row_bounds, 0, 256>] push [0, 32, 0, 0, 64, 0] groups [#unicorn.groups<1>, #unicorn.groups<tokens / 64>, #unicorn.groups<1>] patches [#unicorn.patch<5 += tokens>] barrier{{$}}
// One dispatch for the heads (2 + 1 + 1 workgroups a token), from columns 0, 32
// and 48 of the qkv rows: queries into the arena (dense rows of 32), the key and
// the value straight into their rings of 7 (slots of 16).
// CHECK-NEXT: unicorn.dispatch @qkv_norm_rope_0 [#unicorn.bind<@arena, 1024, 1024>, #unicorn.bind<@qn, 0, 0>, #unicorn.bind<@kn, 0, 0>, #unicorn.bind<@step_input, 0, 0>, #unicorn.bind<@arena, 512, 512>, #unicorn.bind<@kv.layers.0.key, 0, 0>, #unicorn.bind<@kv.layers.0.value, 0, 0>] push [0, 32, 48, 64, 0, 0, 4, 0, 32, 16, 16, 7, 0] groups [#unicorn.groups<4>, #unicorn.groups<tokens>, #unicorn.groups<1>] patches [#unicorn.patch<12 += tokens>] barrier{{$}}
// Prefill attention in tiles of 8 tokens per head.
// CHECK-NEXT: unicorn.dispatch @attention_prefill_0 [#unicorn.bind<@arena, 512, 512>, #unicorn.bind<@kv.layers.0.key, 0, 0>, #unicorn.bind<@kv.layers.0.value, 0, 0>, #unicorn.bind<@step_input, 0, 0>, #unicorn.bind<@arena, 2048, 512>] push [0, 32, 0, 0, 7, 4, 0, 32, 0] groups [#unicorn.groups<2>, #unicorn.groups<tokens / 8>, #unicorn.groups<1>] patches [#unicorn.patch<8 += tokens>] barrier{{$}}
// CHECK-NEXT: unicorn.dispatch @token_maxima_0 [#unicorn.bind<@arena, 2048, 512>, {{.*}} barrier for_matrix_units{{$}}
// CHECK-NEXT: unicorn.dispatch @matmul_bf16_coop_1 {{.*}}#unicorn.bind<@o, 0, 0>{{.*}}#unicorn.bind<@row_bounds, 256, 256>] {{.*}} barrier{{$}}
// The post-attention norm's residual add, in place on the residual stream
// (region 0), and the pre-feedforward norm of the sum, in one dispatch; the
// norm's output takes the rows of the add's input (512), which dies there.
// CHECK-NEXT: unicorn.dispatch @rms_norm_add_norm_0 [#unicorn.bind<@arena, 512, 512>, #unicorn.bind<@ln, 0, 0>, #unicorn.bind<@arena, 0, 512>, #unicorn.bind<@ln, 0, 0>, #unicorn.bind<@arena, 512, 512>] push [0, 32, 0, 0, 32, 0, 0, 32, 0] groups [#unicorn.groups<tokens>, #unicorn.groups<1>, #unicorn.groups<1>] patches [#unicorn.patch<8 += tokens>] barrier{{$}}
// CHECK-NEXT: unicorn.dispatch @token_maxima_0
// CHECK-NEXT: unicorn.dispatch @matmul_bf16_coop_2 {{.*}}#unicorn.bind<@"gate+up", 0, 0>{{.*}} push [0, 32, 0, 0, 128, 0] {{.*}} barrier{{$}}
// CHECK-NEXT: unicorn.dispatch @gelu_mul_0 [#unicorn.bind<@arena, 1024, 2048>, #unicorn.bind<@arena, 1024, 2048>, #unicorn.bind<@arena, 3072, 1024>] push [0, 128, 64, 128, 0, 64, 0] groups [#unicorn.groups<1>, #unicorn.groups<tokens>, #unicorn.groups<1>] patches [#unicorn.patch<6 += tokens>] barrier{{$}}
// CHECK-NEXT: unicorn.dispatch @token_maxima_1 [#unicorn.bind<@arena, 3072, 1024>, #unicorn.bind<@token_maxima, 0, 256>] push [0, 64, 0] {{.*}} barrier for_matrix_units{{$}}
// CHECK-NEXT: unicorn.dispatch @matmul_bf16_coop_3
// The post-feedforward norm stays alone in prefill: the final norm after it reads the readout rows only.
// CHECK-NEXT: unicorn.dispatch @rms_norm_1 [#unicorn.bind<@arena, 512, 512>, #unicorn.bind<@ln, 0, 0>, #unicorn.bind<@arena, 0, 512>] {{.*}} barrier{{$}}
// The final norm reads the readout rows (the chunk's last) and writes rows 0..R-1.
// CHECK-NEXT: unicorn.dispatch @rms_norm_0 [#unicorn.bind<@arena, 0, 512>, #unicorn.bind<@ln, 0, 0>, #unicorn.bind<@arena, 512, 512>] push [0, 32, 0, 0, 32, 0] groups [#unicorn.groups<readout_rows>, #unicorn.groups<1>, #unicorn.groups<1>] patches [#unicorn.patch<5 += readout_rows>, #unicorn.patch<0 += first_readout_row * 32>] barrier when logits_needed
// The LM head: a matvec for one row, the matmul for every row under --dump-logits.
// CHECK-NEXT: unicorn.dispatch @matvec_bf16_0 [#unicorn.bind<@arena, 512, 512>, #unicorn.bind<@embed, 0, 0>, #unicorn.bind<@arena, 1024, 1024>] push [0, 32, 0, 0, 64, 0] groups [#unicorn.groups<16>, #unicorn.groups<readout_rows>, #unicorn.groups<1>] patches [#unicorn.patch<5 += readout_rows>] barrier when one_logits_row
// CHECK-NEXT: unicorn.dispatch @token_maxima_0 {{.*}}groups [#unicorn.groups<readout_rows>, {{.*}}when dump_logits for_matrix_units
// CHECK-NEXT: unicorn.dispatch @matmul_bf16_coop_0 {{.*}}#unicorn.bind<@embed, 0, 0>{{.*}}groups [#unicorn.groups<1>, #unicorn.groups<readout_rows / 64>, #unicorn.groups<1>] {{.*}}when dump_logits
// CHECK-NEXT: unicorn.dispatch @logits_readout_0 [#unicorn.bind<@arena, 1024, 1024>, #unicorn.bind<@readout, 0, 0>] push [0, 64, 0, 65, 0] {{.*}}when dump_logits
// The next token into step input word 0, read from the last readout row.
// CHECK-NEXT: unicorn.dispatch @argmax_0 [#unicorn.bind<@arena, 1024, 1024>, #unicorn.bind<@step_input, 0, 0>] push [0, 64, 0, 1] groups [#unicorn.groups<1>, #unicorn.groups<1>, #unicorn.groups<1>] patches [#unicorn.patch<0 += last_readout_row * 64>] barrier when greedy_token
// CHECK-NEXT: unicorn.dispatch @sample_0 [#unicorn.bind<@arena, 1024, 1024>, #unicorn.bind<@step_input, 0, 0>] push [0, 8, 4, 0] {{.*}}patches [#unicorn.patch<0 += last_readout_row * 64>, #unicorn.patch<2 += last_token>] barrier when sampled_token
// CHECK-NEXT: }

// CHECK-LABEL: unicorn.program @decode
// The token id the step before's argmax or sample wrote into its own input.
// CHECK-NEXT: unicorn.dispatch @embedding_0 [#unicorn.bind<@previous_step_input, 0, 0>, #unicorn.bind<@embed, 0, 0>, #unicorn.bind<@arena, 0, 512>]
// CHECK-NEXT: unicorn.dispatch @rms_norm_0
// Decode multiplies by matvec: 4 rows per workgroup.
// CHECK-NEXT: unicorn.dispatch @matvec_bf16_0 {{.*}}#unicorn.bind<@"q+k+v", 0, 0>{{.*}}groups [#unicorn.groups<16>, #unicorn.groups<tokens>, #unicorn.groups<1>]
// CHECK-NOT: matmul
// CHECK: unicorn.dispatch @rms_norm_add_norm_0
// CHECK-NOT: matmul
// No gelu_mul in decode: the down projection reads gelu(gate) * up from the
// gate|up rows (region 1024, up 64 floats after gate) as it loads them.
// CHECK-NOT: gelu_mul
// CHECK: unicorn.dispatch @[[DOWN:matvec_bf16_[0-9]+]] [#unicorn.bind<@arena, 1024, 2048>, #unicorn.bind<@down, 0, 0>, #unicorn.bind<@arena, 512, 512>] push [0, 128, 0, 0, 32, 0] {{.*}} barrier{{$}}
// CHECK-NOT: gelu_mul
// The final norm joins the post-feedforward one: the step's one row is its readout row.
// CHECK-NEXT: unicorn.dispatch @rms_norm_add_norm_0 [#unicorn.bind<@arena, 512, 512>, #unicorn.bind<@ln, 0, 0>, #unicorn.bind<@arena, 0, 512>, #unicorn.bind<@ln, 0, 0>, #unicorn.bind<@arena, 512, 512>] {{.*}}groups [#unicorn.groups<tokens>, #unicorn.groups<1>, #unicorn.groups<1>] patches [#unicorn.patch<8 += tokens>] barrier{{$}}
// CHECK-NEXT: unicorn.dispatch @matvec_bf16_0 {{.*}}#unicorn.bind<@embed, 0, 0>{{.*}} when logits_needed
// CHECK-NEXT: unicorn.dispatch @logits_readout_0
// CHECK-NEXT: unicorn.dispatch @argmax_0
// CHECK-NEXT: unicorn.dispatch @sample_0
// CHECK-NEXT: }

// The graph: one sliding layer (window 4), hidden 32, 2 query heads and 1 kv head
// of 16, mlp 64, vocab 64, as the graph builder makes it.
unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @ln : tensor<32xbf16> from "model.safetensors" at 4096 quant none
unicorn.weight @q : tensor<32x32xbf16> from "model.safetensors" at 4160 quant none
unicorn.weight @k : tensor<16x32xbf16> from "model.safetensors" at 6208 quant none
unicorn.weight @v : tensor<16x32xbf16> from "model.safetensors" at 7232 quant none
unicorn.weight @qn : tensor<16xbf16> from "model.safetensors" at 8256 quant none
unicorn.weight @kn : tensor<16xbf16> from "model.safetensors" at 8288 quant none
unicorn.weight @o : tensor<32x32xbf16> from "model.safetensors" at 8320 quant none
unicorn.weight @gate : tensor<64x32xbf16> from "model.safetensors" at 10496 quant none
unicorn.weight @up : tensor<64x32xbf16> from "model.safetensors" at 14592 quant none
unicorn.weight @down : tensor<32x64xbf16> from "model.safetensors" at 18688 quant none

func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 5.656854249492381 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %x = unicorn.rms_norm %h, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  // q, k and v in program order, side by side: columns [0, 32), [32, 48), [48, 64).
  %q = unicorn.linear %x, @q : tensor<?x32xf32> -> tensor<?x32xf32>
  %k = unicorn.linear %x, @k : tensor<?x32xf32> -> tensor<?x16xf32>
  %v = unicorn.linear %x, @v : tensor<?x32xf32> -> tensor<?x16xf32>
  %qr = unicorn.qk_norm_rope %q, %pos, @qn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x32xf32>, tensor<?xi32>
  %kr = unicorn.qk_norm_rope %k, %pos, @kn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x16xf32>, tensor<?xi32>
  %att = unicorn.attention %qr, %kr, %v, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 16 : i64, scale = 0.25 : f64, window = 4 : i64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>
  // A linear alone on its input stays a linear.
  %o = unicorn.linear %att, @o : tensor<?x32xf32> -> tensor<?x32xf32>
  // The residual's last use: the norm and the add become one op, the residual second.
  %on = unicorn.rms_norm %o, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %h1 = unicorn.add %h, %on : tensor<?x32xf32>
  // The norm may sit on either side of the add.
  %x2 = unicorn.rms_norm %h1, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %gate = unicorn.linear %x2, @gate : tensor<?x32xf32> -> tensor<?x64xf32>
  %up = unicorn.linear %x2, @up : tensor<?x32xf32> -> tensor<?x64xf32>
  %act = unicorn.gelu_mul %gate, %up : tensor<?x64xf32>
  %down = unicorn.linear %act, @down : tensor<?x64xf32> -> tensor<?x32xf32>
  %dn = unicorn.rms_norm %down, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %h2 = unicorn.add %dn, %h1 : tensor<?x32xf32>
  %f = unicorn.rms_norm %h2, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %logits = unicorn.lm_head %f, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}

