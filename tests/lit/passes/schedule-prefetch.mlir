// decode-prefetch-mib: the first N MiB of each matvec product's weights read
// into the cache by a weight_prefetch dispatch recorded after the dispatch that
// computes the product's x and before the product's barrier, so that the two
// run together (the prefetch reads weights alone: no barrier of its own). A
// quantised matrix's first rows are two windows, their quants and their
// scales; each prefetch writes a sink word of its own. Off by default.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule=decode-prefetch-mib=1 | FileCheck %s
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s --check-prefix=OFF

// q8 [64, 512]: rows of 512 quant bytes and 16 bf16 scales, 34 KiB in all;
// its scales from 64 * 512 = 32768.
unicorn.weight @embed : tensor<64x512xbf16> from "model.safetensors" at 0 quant q8
// bf16 [2048, 512]: rows of 1 KiB, 2 MiB in all: its first 1024 rows are the MiB.
unicorn.weight @w : tensor<2048x512xbf16> from "model.safetensors" at 65536 quant none

// A word of sink a prefetch, on 256-byte offsets: two in the decode program.
// CHECK: unicorn.buffer @prefetch_sinks activations bytes 512
// CHECK-LABEL: unicorn.program @prefill
// The prompt's products are matmuls: nothing prefetched for them. The LM head's
// one readout row is a matvec after the (latency-bound) rows before it:
// CHECK-NOT: weight_prefetch
// CHECK: unicorn.dispatch @weight_prefetch_0 [#unicorn.bind<@embed, 0, 32768>, #unicorn.bind<@embed, 32768, 2048>, #unicorn.bind<@prefetch_sinks, 0, 256>] push [2048, 128] groups [#unicorn.groups<2>, #unicorn.groups<1>, #unicorn.groups<1>] when one_logits_row{{$}}
// CHECK-NEXT: unicorn.dispatch @matvec_quant_0 {{.*}} barrier when one_logits_row{{$}}

// CHECK-LABEL: unicorn.program @decode
// CHECK-NEXT: unicorn.dispatch @embedding_quant_0
// 1 MiB of @w in 65536 units of 16 bytes, 2048 a workgroup of 256 (8 each).
// CHECK-NEXT: unicorn.dispatch @weight_prefetch_0 [#unicorn.bind<@w, 0, 1048576>, #unicorn.bind<@w, 0, 1048576>, #unicorn.bind<@prefetch_sinks, 0, 256>] push [65536, 0] groups [#unicorn.groups<32>, #unicorn.groups<1>, #unicorn.groups<1>]{{$}}
// CHECK-NEXT: unicorn.dispatch @matvec_bf16_0 {{.*}} barrier{{$}}
// All of the LM head's 64 rows (under the MiB), quants and scales, in the
// interval of the product before it, under the LM head's condition.
// CHECK-NEXT: unicorn.dispatch @weight_prefetch_0 [#unicorn.bind<@embed, 0, 32768>, #unicorn.bind<@embed, 32768, 2048>, #unicorn.bind<@prefetch_sinks, 256, 256>] push [2048, 128] groups [#unicorn.groups<2>, #unicorn.groups<1>, #unicorn.groups<1>] when logits_needed{{$}}
// CHECK-NEXT: unicorn.dispatch @matvec_quant_0 {{.*}} barrier when logits_needed{{$}}

// OFF-NOT: weight_prefetch
// OFF-NOT: prefetch_sinks
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 5.656854249492381 : f64} : tensor<?xi32> -> tensor<?x512xf32>
  %y = unicorn.linear %h, @w : tensor<?x512xf32> -> tensor<?x2048xf32>
  %c = unicorn.columns %y[16] : tensor<?x2048xf32> -> tensor<?x512xf32>
  %logits = unicorn.lm_head %c, @embed : tensor<?x512xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
