// --unicorn-fuse: linears of one input become one product with a view per
// former result: a linear of their weights stacked (unicorn.stacked_weight)
// where they stack, else a fused_linear; a post-norm and the residual add after
// it become rms_norm_add when the add is the residual's last use. Nothing else
// changes.
// RUN: unicorn-opt %s -split-input-file --unicorn-fuse | FileCheck %s
// RUN: unicorn-opt %s -split-input-file --unicorn-fuse --unicorn-fuse | FileCheck %s

// A toy layer: hidden 32, 2 query heads and 1 kv head of 16, mlp 64, vocab 64.
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

// The stacks, beside their last part, named by the parts' common prefix and
// suffix around what differs.
// CHECK: unicorn.weight @v
// CHECK-NEXT: unicorn.stacked_weight @"q+k+v" : tensor<64x32xbf16> = [@q, @k, @v] quant none
// CHECK: unicorn.weight @up
// CHECK-NEXT: unicorn.stacked_weight @"gate+up" : tensor<128x32xbf16> = [@gate, @up] quant none
// CHECK-LABEL: func.func @forward
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  // CHECK: %[[H:.*]] = unicorn.embed
  %h = unicorn.embed %ids, @embed {scale = 5.656854249492381 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  // CHECK: %[[X:.*]] = unicorn.rms_norm %[[H]], @ln
  %x = unicorn.rms_norm %h, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  // q, k and v in program order, side by side: columns [0, 32), [32, 48), [48, 64).
  // CHECK-NEXT: %[[QKV:.*]] = unicorn.linear %[[X]], @"q+k+v" : tensor<?x32xf32> -> tensor<?x64xf32>
  // CHECK-NEXT: %[[Q:.*]] = unicorn.columns %[[QKV]][0] : tensor<?x64xf32> -> tensor<?x32xf32>
  // CHECK-NEXT: %[[K:.*]] = unicorn.columns %[[QKV]][32] : tensor<?x64xf32> -> tensor<?x16xf32>
  // CHECK-NEXT: %[[V:.*]] = unicorn.columns %[[QKV]][48] : tensor<?x64xf32> -> tensor<?x16xf32>
  // CHECK-NOT: unicorn.linear %[[X]]
  %q = unicorn.linear %x, @q : tensor<?x32xf32> -> tensor<?x32xf32>
  %k = unicorn.linear %x, @k : tensor<?x32xf32> -> tensor<?x16xf32>
  %v = unicorn.linear %x, @v : tensor<?x32xf32> -> tensor<?x16xf32>
  // CHECK: unicorn.qk_norm_rope %[[Q]]
  // CHECK: unicorn.qk_norm_rope %[[K]]
  %qr = unicorn.qk_norm_rope %q, %pos, @qn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x32xf32>, tensor<?xi32>
  %kr = unicorn.qk_norm_rope %k, %pos, @kn {head_dim = 16 : i64, eps = 1.0e-6 : f64, rope_base = 1.0e4 : f64} : tensor<?x16xf32>, tensor<?xi32>
  // CHECK: %[[ATT:.*]] = unicorn.attention %{{.*}}, %{{.*}}, %[[V]], %{{.*}}
  %att = unicorn.attention %qr, %kr, %v, %pos {layer = 0 : i64, num_heads = 2 : i64, num_kv_heads = 1 : i64, head_dim = 16 : i64, scale = 0.25 : f64, window = 4 : i64} : tensor<?x32xf32>, tensor<?x16xf32>, tensor<?x16xf32>, tensor<?xi32>
  // A linear alone on its input stays a linear.
  // CHECK: %[[O:.*]] = unicorn.linear %[[ATT]], @o
  %o = unicorn.linear %att, @o : tensor<?x32xf32> -> tensor<?x32xf32>
  // The residual's last use: the norm and the add become one op, the residual second.
  // CHECK-NEXT: %[[H1:.*]] = unicorn.rms_norm_add %[[O]], %[[H]], @ln {eps = 9.9999999999999995E-7 : f64} : tensor<?x32xf32>
  %on = unicorn.rms_norm %o, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %h1 = unicorn.add %h, %on : tensor<?x32xf32>
  // The norm may sit on either side of the add.
  // CHECK: %[[X2:.*]] = unicorn.rms_norm %[[H1]], @ln
  // CHECK-NEXT: %[[GU:.*]] = unicorn.linear %[[X2]], @"gate+up" : tensor<?x32xf32> -> tensor<?x128xf32>
  // CHECK-NEXT: %[[G:.*]] = unicorn.columns %[[GU]][0] : tensor<?x128xf32> -> tensor<?x64xf32>
  // CHECK-NEXT: %[[U:.*]] = unicorn.columns %[[GU]][64] : tensor<?x128xf32> -> tensor<?x64xf32>
  // CHECK-NEXT: unicorn.gelu_mul %[[G]], %[[U]]
  %x2 = unicorn.rms_norm %h1, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %gate = unicorn.linear %x2, @gate : tensor<?x32xf32> -> tensor<?x64xf32>
  %up = unicorn.linear %x2, @up : tensor<?x32xf32> -> tensor<?x64xf32>
  %act = unicorn.gelu_mul %gate, %up : tensor<?x64xf32>
  %down = unicorn.linear %act, @down : tensor<?x64xf32> -> tensor<?x32xf32>
  // CHECK: %[[H2:.*]] = unicorn.rms_norm_add %{{.*}}, %[[H1]], @ln
  %dn = unicorn.rms_norm %down, @ln {eps = 1.0e-6 : f64} : tensor<?x32xf32>
  %h2 = unicorn.add %dn, %h1 : tensor<?x32xf32>
  %logits = unicorn.lm_head %h2, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}

// -----

// What must not fuse: a residual read again after the add (the add cannot happen
// in place), and a norm with a second user.
unicorn.weight @ln : tensor<8xbf16> from "model.safetensors" at 0 quant none

// CHECK-LABEL: func.func @residual_read_later
func.func @residual_read_later(%h: tensor<?x8xf32>, %o: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // CHECK: %[[N:.*]] = unicorn.rms_norm
  // CHECK-NEXT: %[[S:.*]] = unicorn.add %{{.*}}, %[[N]]
  // CHECK-NEXT: unicorn.add %[[S]], %{{.*}}
  %n = unicorn.rms_norm %o, @ln {eps = 1.0e-6 : f64} : tensor<?x8xf32>
  %s = unicorn.add %h, %n : tensor<?x8xf32>
  %t = unicorn.add %s, %h : tensor<?x8xf32>
  return %t : tensor<?x8xf32>
}

// CHECK-LABEL: func.func @norm_read_twice
func.func @norm_read_twice(%h: tensor<?x8xf32>, %o: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // CHECK-NOT: rms_norm_add
  // CHECK: return
  %n = unicorn.rms_norm %o, @ln {eps = 1.0e-6 : f64} : tensor<?x8xf32>
  %s = unicorn.add %h, %n : tensor<?x8xf32>
  %t = unicorn.add %s, %n : tensor<?x8xf32>
  return %t : tensor<?x8xf32>
}

// -----

// Weights that do not stack: another quant (q8 beside bf16), or a weight also
// read elsewhere (the bundle could not store it only as part of a stack).
// Their linears still become one fused_linear.
unicorn.weight @a : tensor<32x64xbf16> from "model.safetensors" at 0 quant q8
unicorn.weight @b : tensor<16x64xbf16> from "model.safetensors" at 4096 quant none
unicorn.weight @c : tensor<16x64xbf16> from "model.safetensors" at 8192 quant none
unicorn.weight @d : tensor<16x64xbf16> from "model.safetensors" at 12288 quant none

// CHECK-NOT: stacked_weight
// CHECK-LABEL: func.func @mixed_quant
func.func @mixed_quant(%x: tensor<?x64xf32>) -> tensor<?x16xf32> {
  // CHECK: unicorn.fused_linear %{{.*}}, [@a, @b] : tensor<?x64xf32> -> tensor<?x48xf32>
  %a = unicorn.linear %x, @a : tensor<?x64xf32> -> tensor<?x32xf32>
  %b = unicorn.linear %x, @b : tensor<?x64xf32> -> tensor<?x16xf32>
  return %b : tensor<?x16xf32>
}

// CHECK-LABEL: func.func @weight_read_twice
func.func @weight_read_twice(%x: tensor<?x64xf32>, %y: tensor<?x64xf32>) -> tensor<?x16xf32> {
  // CHECK: unicorn.fused_linear %{{.*}}, [@c, @d] : tensor<?x64xf32> -> tensor<?x32xf32>
  // CHECK: unicorn.linear %{{.*}}, @c
  %c = unicorn.linear %x, @c : tensor<?x64xf32> -> tensor<?x16xf32>
  %d = unicorn.linear %x, @d : tensor<?x64xf32> -> tensor<?x16xf32>
  %e = unicorn.linear %y, @c : tensor<?x64xf32> -> tensor<?x16xf32>
  return %e : tensor<?x16xf32>
}
