// Decode: a packed gate|up product also quantises gelu(gate) * up for the
// packed down projection (matvec_quant_dot's gelu_quantise, its counts in
// @gelu_counts), into the row of @quantised_input after its own x's, which the
// down projection binds; no quantize_activation runs between the two. Not with
// gelu-quantise=false, nor where the products are not packed (q8 below
// dot-min-mib's bytes), nor in prefill.
// RUN: sed -e 's/QUANT/q4/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s --check-prefix=FUSED
// RUN: sed -e 's/QUANT/q8/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule="dot-min-mib=0" | FileCheck %s --check-prefix=FUSED
// RUN: sed -e 's/QUANT/q4/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule="gelu-quantise=false" | FileCheck %s --check-prefix=APART
// RUN: sed -e 's/QUANT/q8/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s --check-prefix=FLOAT

// FUSED: unicorn.kernel @[[GATE_UP:matvec_quant_dot_[0-9]+]] "matvec_quant_dot" {bits = {{[48]}} : i64, gelu_quantise = 64 : i64, k = 32 : i64, n = 128 : i64
// FUSED: unicorn.buffer @gelu_counts activations bytes 256
// FUSED-LABEL: unicorn.program @decode
// FUSED: unicorn.dispatch @[[GATE_UP]] [#unicorn.bind<@quantised_input, 0, {{[0-9]+}}>, {{.*}}, #unicorn.bind<@gelu_counts, 0, 256>, #unicorn.bind<@quantised_input, 256, [[GELU_BYTES:[0-9]+]]>]
// FUSED-NEXT: unicorn.dispatch @{{matvec_quant_dot_[0-9]+}} [#unicorn.bind<@quantised_input, 256, [[GELU_BYTES]]>, #unicorn.bind<@down, 0, 0>

// APART-NOT: gelu_quantise
// APART: unicorn.kernel @[[QUANTIZE:quantize_activation_[0-9]+]] "quantize_activation" {bits = 4 : i64, gelu_input = true, k = 64 : i64
// APART-LABEL: unicorn.program @decode
// APART: unicorn.dispatch @[[QUANTIZE]]
// APART-NEXT: unicorn.dispatch @{{matvec_quant_dot_[0-9]+}} {{.*}}#unicorn.bind<@down, 0, 0>
// APART-NOT: gelu_counts

// FLOAT-NOT: gelu_quantise
// FLOAT-NOT: gelu_counts

unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @gate : tensor<64x32xbf16> from "model.safetensors" at 4096 quant QUANT
unicorn.weight @up : tensor<64x32xbf16> from "model.safetensors" at 8192 quant QUANT
unicorn.weight @down : tensor<32x64xbf16> from "model.safetensors" at 12288 quant QUANT

func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %gate = unicorn.linear %h, @gate : tensor<?x32xf32> -> tensor<?x64xf32>
  %up = unicorn.linear %h, @up : tensor<?x32xf32> -> tensor<?x64xf32>
  %act = unicorn.gelu_mul %gate, %up : tensor<?x64xf32>
  %down = unicorn.linear %act, @down : tensor<?x64xf32> -> tensor<?x32xf32>
  %logits = unicorn.lm_head %down, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
