// --unicorn-plan-memory: every activation gets a region of one arena, packed
// first-fit by liveness (a value lives from its definition to its last use);
// views share their source's region, rms_norm_add its residual's, and a key
// whose only use is attention goes straight into the layer's KV cache. Sliding
// layers get a ring of window + chunk - 1 slots, global layers the context.
// RUN: unicorn-opt %s -split-input-file --unicorn-plan-memory=prefill-chunk=4 -verify-diagnostics | FileCheck %s

// A fused toy layer (hidden 32, 2 query heads and 1 kv head of 16, mlp 64,
// vocab 64): with a chunk of 4 tokens a 32-wide value takes 512 bytes.
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

// CHECK: module attributes {unicorn.prefill_chunk = 4 : i64, unicorn.readout_rows = 4 : i64}
// The sliding layer's ring: window 4 + chunk 4 - 1 slots of 16 floats.
// CHECK: unicorn.kv_cache @kv.layers.0.key layer 0 key slot_bytes 64 ring 7
// CHECK-NEXT: unicorn.kv_cache @kv.layers.0.value layer 0 value slot_bytes 64 ring 7
// The arena holds what is live at once, at most: h, qkv, the rotated queries and the attention output.
// CHECK-NEXT: unicorn.buffer @arena activations bytes 4096
// CHECK-LABEL: func.func @forward
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  // CHECK-NOT: unicorn.scratch
  // The residual stream lives throughout, at 0.
  // CHECK: unicorn.embed {{.*}}#unicorn.arena<offset = 0, bytes = 512, base = 0, stride = 32>
  %h = unicorn.embed %ids, @embed {scale = 5.656854249492381 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  // CHECK-NEXT: unicorn.rms_norm {{.*}}#unicorn.arena<offset = 512, bytes = 512, base = 0, stride = 32>
  %x = unicorn.rms_norm %h, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  // CHECK-NEXT: unicorn.fused_linear {{.*}}#unicorn.arena<offset = 1024, bytes = 1024, base = 0, stride = 64>
  // CHECK-NEXT: unicorn.columns {{.*}}#unicorn.arena<offset = 1024, bytes = 1024, base = 0, stride = 64>
  // CHECK-NEXT: unicorn.columns {{.*}}#unicorn.arena<offset = 1024, bytes = 1024, base = 32, stride = 64>
  // CHECK-NEXT: unicorn.columns {{.*}}#unicorn.arena<offset = 1024, bytes = 1024, base = 48, stride = 64>
  %qkv = unicorn.fused_linear %x, [@q, @k, @v] : tensor<?x32xf32> -> tensor<?x64xf32>
  %q = unicorn.columns %qkv[0] : tensor<?x64xf32> -> tensor<?x32xf32>
  %k = unicorn.columns %qkv[32] : tensor<?x64xf32> -> tensor<?x16xf32>
  %v = unicorn.columns %qkv[48] : tensor<?x64xf32> -> tensor<?x16xf32>
  // x is dead: the rotated queries take its region.
  // CHECK-NEXT: unicorn.qk_norm_rope {{.*}}#unicorn.arena<offset = 512, bytes = 512, base = 0, stride = 32>
  %qr = unicorn.qk_norm_rope %q, %pos, @qn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x32xf32>, tensor<?xi32>
  // CHECK-NEXT: unicorn.qk_norm_rope {{.*}}unicorn.storage = #unicorn.cache<layer = 0, part = key>
  %kr = unicorn.qk_norm_rope %k, %pos, @kn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x16xf32>, tensor<?xi32>
  // qkv (v is a view of it) is read by the attention itself: the output goes past it.
  // CHECK-NEXT: unicorn.attention {{.*}}#unicorn.arena<offset = 2048, bytes = 512, base = 0, stride = 32>
  %att = unicorn.attention %qr, %kr, %v, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 16 : i64, scale = 0.25 : f64, window = 4 : i64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>
  // CHECK-NEXT: unicorn.linear {{.*}}#unicorn.arena<offset = 512, bytes = 512, base = 0, stride = 32>
  %o = unicorn.linear %att, @o : tensor<?x32xf32> -> tensor<?x32xf32>
  // In place: the residual's region.
  // CHECK-NEXT: unicorn.rms_norm_add {{.*}}#unicorn.arena<offset = 0, bytes = 512, base = 0, stride = 32>
  %h1 = unicorn.rms_norm_add %o, %h, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  // CHECK-NEXT: unicorn.rms_norm {{.*}}#unicorn.arena<offset = 512, bytes = 512, base = 0, stride = 32>
  %x2 = unicorn.rms_norm %h1, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  // CHECK-NEXT: unicorn.fused_linear {{.*}}#unicorn.arena<offset = 1024, bytes = 2048, base = 0, stride = 128>
  %gu = unicorn.fused_linear %x2, [@gate, @up] : tensor<?x32xf32> -> tensor<?x128xf32>
  %g = unicorn.columns %gu[0] : tensor<?x128xf32> -> tensor<?x64xf32>
  %u = unicorn.columns %gu[64] : tensor<?x128xf32> -> tensor<?x64xf32>
  // CHECK: unicorn.gelu_mul {{.*}}#unicorn.arena<offset = 3072, bytes = 1024, base = 0, stride = 64>
  %act = unicorn.gelu_mul %g, %u : tensor<?x64xf32>
  // CHECK-NEXT: unicorn.linear {{.*}}#unicorn.arena<offset = 512, bytes = 512, base = 0, stride = 32>
  %down = unicorn.linear %act, @down : tensor<?x64xf32> -> tensor<?x32xf32>
  %h2 = unicorn.rms_norm_add %down, %h1, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  // down is dead once added: the logits start on its region.
  // CHECK: unicorn.lm_head {{.*}}#unicorn.arena<offset = 512, bytes = 1024, base = 0, stride = 64>
  %logits = unicorn.lm_head %h2, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}

// -----

// A global layer keeps one slot per context position (no ring); a key that is
// not a q/k-norm's result (here a view) keeps its arena region, to be copied.
// Its attention gets scratch for split-K decode.
unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @kv : tensor<64x32xbf16> from "model.safetensors" at 4096 quant none

// CHECK: unicorn.kv_cache @kv.layers.5.key layer 5 key slot_bytes 128{{$}}
// CHECK-NEXT: unicorn.kv_cache @kv.layers.5.value layer 5 value slot_bytes 128{{$}}
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %kv = unicorn.linear %h, @kv : tensor<?x32xf32> -> tensor<?x64xf32>
  // CHECK: unicorn.columns {{.*}}#unicorn.arena<offset = 512, bytes = 1024, base = 0, stride = 64>
  %k = unicorn.columns %kv[0] : tensor<?x64xf32> -> tensor<?x32xf32>
  %v = unicorn.columns %kv[32] : tensor<?x64xf32> -> tensor<?x32xf32>
  // Decode splits a global layer's keys 32 ways: 32 partials of 32 + 2 floats
  // (4352 bytes), live only while the attention runs, so beside its inputs and output.
  // CHECK: unicorn.attention {{.*}}unicorn.scratch = #unicorn.arena<offset = 1536, bytes = 4352, base = 0, stride = 0>, unicorn.storage = #unicorn.arena<offset = 5888, bytes = 512, base = 0, stride = 32>
  %att = unicorn.attention %h, %k, %v, %pos {layer = 5 : i64, num_heads = 1 : i64, num_kv_heads = 1 : i64, head_dim = 32 : i64, scale = 0.25 : f64} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>
  %logits = unicorn.lm_head %att, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}

// -----

unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @ln : tensor<32xbf16> from "model.safetensors" at 4096 quant none

func.func @forward(%ids: tensor<?xi32>) -> tensor<?x32xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %o = unicorn.rms_norm %h, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  // expected-error @+1 {{adds into its residual in place, but the residual is read again later}}
  %h1 = unicorn.rms_norm_add %o, %h, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %h2 = unicorn.rms_norm_add %h1, %h, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  return %h2 : tensor<?x32xf32>
}

// -----

// One layer, one cache.
unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none

func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x32xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %a = unicorn.attention %h, %h, %h, %pos {layer = 0 : i64, num_heads = 1 : i64, num_kv_heads = 1 : i64, head_dim = 32 : i64, scale = 0.25 : f64} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>
  // expected-error @+1 {{is the second attention of layer 0: a layer has one KV cache}}
  %b = unicorn.attention %a, %a, %a, %pos {layer = 0 : i64, num_heads = 1 : i64, num_kv_heads = 1 : i64, head_dim = 32 : i64, scale = 0.25 : f64} : tensor<?x32xf32>, tensor<?x32xf32>, tensor<?x32xf32>, tensor<?xi32>
  return %b : tensor<?x32xf32>
}

// -----

// expected-error @below {{unicorn-plan-memory: needs the graph as func.func @forward with one block}}
module {
  func.func @other() {
    return
  }
}
