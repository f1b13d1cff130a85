// Decode folds gelu(gate) * up into the down projection's input where that
// product runs matvec_bf16 or matvec_quant (GELU_INPUT) or the packed kernel
// (its quantize_activation takes GELU_INPUT: q4's products, and q8's from
// dot-min-mib's bytes, here 0), but keeps the gelu_mul dispatch before a large
// q8 product left on matvec_quant (dot-q8=false), which would recompute the
// GELU in every workgroup. Prefill always runs gelu_mul.
// RUN: sed -e 's/DOWN_QUANT/none/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s --check-prefix=BF16
// RUN: sed -e 's/DOWN_QUANT/q8/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s --check-prefix=SMALL
// RUN: sed -e 's/DOWN_QUANT/q8/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule="dot-min-mib=0 dot-q8=false" | FileCheck %s --check-prefix=Q8LARGE
// RUN: sed -e 's/DOWN_QUANT/q8/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule="dot-min-mib=0" | FileCheck %s --check-prefix=Q8DOT
// RUN: sed -e 's/DOWN_QUANT/q4/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule | FileCheck %s --check-prefix=Q4DOT
// RUN: sed -e 's/DOWN_QUANT/q4/' %s | unicorn-opt --unicorn-fuse --unicorn-place \
// RUN:   --unicorn-plan-memory=prefill-chunk=4 --unicorn-schedule="dot-q4-by-size=true" | FileCheck %s --check-prefix=SMALL

// BF16-LABEL: unicorn.program @decode
// BF16-NOT: gelu_mul
// BF16: unicorn.dispatch @{{matvec_bf16_[0-9]+}} {{.*}}#unicorn.bind<@down, 0, 0>
// BF16-NOT: gelu_mul
// SMALL: unicorn.kernel @[[DOWN:matvec_quant_[0-9]+]] "matvec_quant" {bits = {{[48]}} : i64, gelu_input = true, k = 64 : i64, n = 32 : i64
// SMALL-LABEL: unicorn.program @decode
// SMALL-NOT: gelu_mul
// SMALL: unicorn.dispatch @[[DOWN]] {{.*}}#unicorn.bind<@down, 0, 0>
// SMALL-NOT: gelu_mul
// Q8LARGE-LABEL: unicorn.program @decode
// Q8LARGE: unicorn.dispatch @gelu_mul_0
// Q8LARGE-NEXT: unicorn.dispatch @{{matvec_quant_[0-9]+}} {{.*}}#unicorn.bind<@down, 0, 0>
// Q4DOT: unicorn.kernel @[[QUANTIZE:quantize_activation_[0-9]+]] "quantize_activation" {bits = 4 : i64, gelu_input = true, k = 64 : i64
// Q4DOT-LABEL: unicorn.program @decode
// Q4DOT-NOT: gelu_mul
// Q8DOT: unicorn.kernel @[[QUANTIZE:quantize_activation_[0-9]+]] "quantize_activation" {bits = 8 : i64, gelu_input = true, k = 64 : i64
// Q8DOT-LABEL: unicorn.program @decode
// Q8DOT-NOT: gelu_mul
// Q8DOT: unicorn.dispatch @[[QUANTIZE]]
// Q8DOT: unicorn.dispatch @{{matvec_quant_dot_[0-9]+}} {{.*}}#unicorn.bind<@down, 0, 0>
// Q8DOT-NOT: gelu_mul
// Q4DOT: unicorn.dispatch @[[QUANTIZE]]
// Q4DOT: unicorn.dispatch @{{matvec_quant_dot_[0-9]+}} {{.*}}#unicorn.bind<@down, 0, 0>
// Q4DOT-NOT: gelu_mul

unicorn.weight @embed : tensor<64x32xbf16> from "model.safetensors" at 0 quant none
unicorn.weight @gate : tensor<64x32xbf16> from "model.safetensors" at 4096 quant none
unicorn.weight @up : tensor<64x32xbf16> from "model.safetensors" at 8192 quant none
unicorn.weight @down : tensor<32x64xbf16> from "model.safetensors" at 12288 quant DOWN_QUANT

func.func @forward(%ids: tensor<?xi32>, %pos: tensor<?xi32>) -> tensor<?x64xf32> {
  %h = unicorn.embed %ids, @embed {scale = 1.0 : f64} : tensor<?xi32> -> tensor<?x32xf32>
  %gate = unicorn.linear %h, @gate : tensor<?x32xf32> -> tensor<?x64xf32>
  %up = unicorn.linear %h, @up : tensor<?x32xf32> -> tensor<?x64xf32>
  %act = unicorn.gelu_mul %gate, %up : tensor<?x64xf32>
  %down = unicorn.linear %act, @down : tensor<?x64xf32> -> tensor<?x32xf32>
  %logits = unicorn.lm_head %down, @embed : tensor<?x32xf32> -> tensor<?x64xf32>
  return %logits : tensor<?x64xf32>
}
