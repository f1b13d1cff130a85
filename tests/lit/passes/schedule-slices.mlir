// Matrices are bound in row slices when one binding cannot hold them (here forced
// with min-row-slices, as unicorn-compile --min-row-slices does for tests):
// every slice of a product one dispatch, all of a matrix's slices without
// barriers between them, each on a 256-byte aligned window with the kernel's
// bases covering the rest; the embedding binds them all in one. q8 weights bind
// their quants and their scales as two windows.
// RUN: unicorn-opt %s --unicorn-place --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule=min-row-slices=3 | FileCheck %s

// q8 [64, 32]: rows of 32 quant bytes, 8 rows per 256 bytes, so slices of 24, 24
// and 16 rows; quants [0, 2048), scales (2 bytes per row) from 2048.
unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant q8
// bf16 [48, 32]: rows of 64 bytes, 4 rows per 256 bytes: slices of 16 rows.
unicorn.weight @w : tensor<48x32xbf16> from "model.safetensors" at 4096 quant none

// The setup program finds each slice's row bounds from its own window, into a
// 256-byte region of its own; the q8 LM head's from its scales' windows
// (those of rows 0, 24 and 48: scale bases 0, 24 and 48 from 2048).
// CHECK-LABEL: unicorn.program @setup
// CHECK-NEXT: unicorn.dispatch @row_bounds_0 [#unicorn.bind<@w, 0, 1024>, #unicorn.bind<@row_bounds, 0, 256>] push [0, 16] {{.*}}]{{$}}
// CHECK-NEXT: unicorn.dispatch @row_bounds_0 [#unicorn.bind<@w, 1024, 1024>, #unicorn.bind<@row_bounds, 256, 256>] push [0, 16] {{.*}}]{{$}}
// CHECK-NEXT: unicorn.dispatch @row_bounds_0 [#unicorn.bind<@w, 2048, 1024>, #unicorn.bind<@row_bounds, 512, 256>] push [0, 16] {{.*}}]{{$}}
// CHECK-NEXT: unicorn.dispatch @row_bounds_1 [#unicorn.bind<@embed, 2048, 48>, #unicorn.bind<@row_bounds, 768, 256>] push [0, 24] {{.*}}]{{$}}
// CHECK-NEXT: unicorn.dispatch @row_bounds_1 [#unicorn.bind<@embed, 2048, 96>, #unicorn.bind<@row_bounds, 1024, 256>] push [24, 24] {{.*}}]{{$}}
// CHECK-NEXT: unicorn.dispatch @row_bounds_1 [#unicorn.bind<@embed, 2048, 128>, #unicorn.bind<@row_bounds, 1280, 256>] push [48, 16] {{.*}}]{{$}}
// CHECK-NEXT: }

// CHECK-LABEL: unicorn.program @prefill
// The lookup is one dispatch over the slices, its quants an array binding of
// their windows (rows [0, 24), [24, 48), [48, 64), each from its first row: base
// 0; 24 rows a slice, 64 in all) and its scales one binding of the scales part.
// CHECK-NEXT: unicorn.dispatch @embedding_quant_0 [#unicorn.bind<@step_input, 0, 0>, #unicorn.bind<@embed, 0, 768>, #unicorn.bind<@embed, 768, 768>, #unicorn.bind<@embed, 1536, 512>, #unicorn.bind<@arena, 0, 512>, #unicorn.bind<@embed, 2048, 128>] push [0, 0, 24, 64, 0, 32, 0, 0] {{.*}}patches [#unicorn.patch<6 += tokens>]{{$}}
// Slices of a bf16 matrix write their rows' columns of the output: y_base 0, 16, 32.
// CHECK-NEXT: unicorn.dispatch @token_maxima_0 [#unicorn.bind<@arena, 0, 512>, #unicorn.bind<@token_maxima, 0, 256>] {{.*}} barrier for_matrix_units{{$}}
// CHECK-NEXT: unicorn.dispatch @matmul_bf16_coop_0 [#unicorn.bind<@arena, 0, 512>, #unicorn.bind<@w, 0, 1024>, #unicorn.bind<@arena, 512, 768>, #unicorn.bind<@token_maxima, 0, 256>, #unicorn.bind<@row_bounds, 0, 256>] push [0, 32, 0, 0, 48, 0] {{.*}} barrier{{$}}
// CHECK-NEXT: unicorn.dispatch @matmul_bf16_coop_0 [#unicorn.bind<@arena, 0, 512>, #unicorn.bind<@w, 1024, 1024>, #unicorn.bind<@arena, 512, 768>, #unicorn.bind<@token_maxima, 0, 256>, #unicorn.bind<@row_bounds, 256, 256>] push [0, 32, 0, 16, 48, 0] {{.*}}patches [#unicorn.patch<5 += tokens>]{{$}}
// CHECK-NEXT: unicorn.dispatch @matmul_bf16_coop_0 [#unicorn.bind<@arena, 0, 512>, #unicorn.bind<@w, 2048, 1024>, #unicorn.bind<@arena, 512, 768>, #unicorn.bind<@token_maxima, 0, 256>, #unicorn.bind<@row_bounds, 512, 256>] push [0, 32, 0, 32, 48, 0] {{.*}}patches [#unicorn.patch<5 += tokens>]{{$}}
// The LM head over the q8 embedding, slice by slice, as a matvec for one row; no
// final norm restricted it to the readout rows, so it reads the chunk's last
// rows of its input (a view: base 16, rows of 48).
// CHECK-NEXT: unicorn.dispatch @matvec_quant_0 [#unicorn.bind<@arena, 512, 768>, #unicorn.bind<@embed, 0, 768>, #unicorn.bind<@arena, 1280, 1024>, #unicorn.bind<@embed, 2048, 48>] {{.*}} barrier when one_logits_row
// CHECK-NEXT: unicorn.dispatch @matvec_quant_0 {{.*}}#unicorn.bind<@embed, 768, 768>{{.*}}push [16, 48, 0, 24, 64, 0, 24] {{.*}}patches [#unicorn.patch<5 += readout_rows>, #unicorn.patch<0 += first_readout_row * 48>] when one_logits_row
func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 5.656854249492381 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %y = unicorn.linear %h, @w : tensor<?x32xf32> -> tensor<?x48xf32>
  %c = unicorn.columns %y[16] : tensor<?x48xf32> -> tensor<?x32xf32>
  %logits = unicorn.lm_head %c, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
