// The scheduled form parses, verifies and prints back to itself, in the custom
// and the generic forms.
// RUN: unicorn-opt %s | FileCheck %s
// RUN: unicorn-opt %s | unicorn-opt | FileCheck %s
// RUN: unicorn-opt %s --mlir-print-op-generic | unicorn-opt | FileCheck %s

// CHECK: module attributes {unicorn.logits = #unicorn.bind<@arena, 256, 512>}
module attributes {unicorn.logits = #unicorn.bind<@arena, 256, 512>} {
  unicorn.weight @w : tensor<64x32xbf16> from "model.safetensors" at 0 quant q8
  // CHECK: unicorn.kv_cache @kv.layers.0.key layer 0 key slot_bytes 64 ring 7
  unicorn.kv_cache @kv.layers.0.key layer 0 key slot_bytes 64 ring 7
  // CHECK-NEXT: unicorn.kv_cache @kv.layers.1.value layer 1 value slot_bytes 64{{$}}
  unicorn.kv_cache @kv.layers.1.value layer 1 value slot_bytes 64
  // CHECK-NEXT: unicorn.buffer @arena activations bytes 1024
  unicorn.buffer @arena activations bytes 1024
  // CHECK-NEXT: unicorn.buffer @input step_input bytes 64
  unicorn.buffer @input step_input bytes 64
  // CHECK-NEXT: unicorn.kernel @k "matvec_quant" {bits = 8 : i64, flag = true, softcap = 0.000000e+00 : f64}
  unicorn.kernel @k "matvec_quant" {bits = 8 : i64, softcap = 0.0 : f64, flag = true}
  // A kernel that names its fallback round-trips with it.
  // CHECK-NEXT: unicorn.kernel @coop "matmul_bf16_coop" {k = 32 : i64} fallback @k
  unicorn.kernel @coop "matmul_bf16_coop" {k = 32 : i64} fallback @k
  // CHECK-NEXT: unicorn.program @decode {
  unicorn.program @decode {
    // A dispatch with its defaults (no patches, no barrier, every run) prints them not.
    // CHECK-NEXT: unicorn.dispatch @k [#unicorn.bind<@input, 0, 0>, #unicorn.bind<@w, 256, 512>] push [0, 4294967295] groups [#unicorn.groups<8>, #unicorn.groups<tokens>, #unicorn.groups<1>]{{$}}
    unicorn.dispatch @k [#unicorn.bind<@input, 0, 0>, #unicorn.bind<@w, 256, 512>] push [0, 4294967295] groups [#unicorn.groups<8>, #unicorn.groups<1 * tokens / 1>, #unicorn.groups<1>]
    // CHECK-NEXT: unicorn.dispatch @k [#unicorn.bind<@kv.layers.0.key, 0, 0>] push [0] groups [#unicorn.groups<2 * readout_rows / 64>, #unicorn.groups<context>, #unicorn.groups<1>] patches [#unicorn.patch<0 += tokens>, #unicorn.patch<0 += first_readout_row * 1152>] barrier when dump_logits
    unicorn.dispatch @k [#unicorn.bind<@kv.layers.0.key, 0, 0>] push [0] groups [#unicorn.groups<2 * readout_rows / 64>, #unicorn.groups<context>, #unicorn.groups<1>] patches [#unicorn.patch<0 += tokens>, #unicorn.patch<0 += first_readout_row * 1152>] barrier when dump_logits
  }
}
