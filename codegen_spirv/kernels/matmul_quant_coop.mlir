// y[t, n] = sum_k x[t, k] * W'[n, k] with W block-quantised (Q8Block32 or
// Q4Block32, block_quant.glsl's layout: W' = q * the block's bf16 scale) on
// cooperative-matrix units: the prefill kernel for devices that have them, a
// drop-in for matmul_quant — its bindings (and after them two more, the
// tokens' maxima and the rows' bounds, which matmul_quant ignores), push
// constants (QuantMatmulPush),
// alignment rules and dispatch grid (ceil(N / 64), ceil(num_tokens / 64), SPLITS).
// matmul_coop_frame.mlir is the product (tiles, scales, steps, output); this
// file is its weights' part. In MLIR's SPIR-V dialect for the reason
// matmul_bf16_coop.mlir gives.
//
// A step of 32 columns is one block of each row: its quants and its scale.
// W's scale s_n bounds the row's |w| by its largest block scale times the
// largest quant (128 for q8, whose codes reach -128; 8 for q4), from the
// scales alone (row_bounds.comp's, bound after the maxima); a weight is staged as q * (scale / s_n) in
// fp16. For q4 that is exact (at most 3 + 8 significant bits fit fp16's 11); a
// q8 weight (up to 7 + 8 bits) is rounded to 11, a relative error of at most
// 2^-12: a 32nd of the quantisation step at the block's largest code.
//
// Work: q8 rows are 2 units of 16 bytes (16 quants) a block, q4 rows one unit
// (32 quants); invocation i fetches row i / 2's block and stages 8 of its
// columns each half-step (columns 8 (i % 2) .. +7 of the half).
//
// Specialisation constants (set by unicorn-compile from the defines; SPLITS,
// default 1, is the frame's):
//   QUANT_BITS (8 or 4), K (a multiple of 32), N, SOFTCAP (float, 0.0 = off).
!push_ptr = !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20], i32 [24]), Block>, PushConstant>
spirv.module Logical GLSL450 requires #spirv.vce<v1.3,
    [Shader, Float16, CooperativeMatrixKHR],
    [SPV_KHR_storage_buffer_storage_class, SPV_KHR_cooperative_matrix]> {
  spirv.GlobalVariable @x bind(0, 0) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xf32>, stride=16> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @quant_units bind(0, 1) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xi32>, stride=16> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @y bind(0, 2) {NonReadable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  // Split-K's partials and counts (split_k.glsl; the frame's fold).
  spirv.GlobalVariable @partials bind(0, 4) {Coherent} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @counts bind(0, 5) {Coherent} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @scale_words bind(0, 3) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>
  // token_maxima.comp's output: each token's largest |x| (the frame's x
  // scales), after the tiled kernel's bindings, so its fallback ignores it.
  spirv.GlobalVariable @token_maxima bind(0, 4) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @split_token_maxima bind(0, 6) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  // row_bounds.comp's output: each row's bound on |w| (the frame's W scales), after the maxima.
  spirv.GlobalVariable @row_bounds bind(0, 5) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @split_row_bounds bind(0, 7) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  // QuantMatmulPush: x_base, x_token_stride, quant_base (a word index, a
  // multiple of 4), y_base, y_token_stride, num_tokens, scale_base (a bf16
  // element index).
  spirv.GlobalVariable @pc : !push_ptr

  spirv.SpecConstant @K spec_id(0) = 32 : i32
  spirv.SpecConstant @N spec_id(1) = 64 : i32
  spirv.SpecConstant @SOFTCAP spec_id(2) = 0.0 : f32
  spirv.SpecConstant @QUANT_BITS spec_id(3) = 8 : i32

  // This invocation's registers for each half of the step: its row's 16-byte
  // unit with the half's quants (q8: unit `half` of the block; q4: the block's
  // one unit) and the block's scale; and 1 / s_n of the row.
  spirv.GlobalVariable @w_quants0 : !spirv.ptr<vector<4xi32>, Private>
  spirv.GlobalVariable @w_quants1 : !spirv.ptr<vector<4xi32>, Private>
  spirv.GlobalVariable @w_block_scale0 : !spirv.ptr<f32, Private>
  spirv.GlobalVariable @w_block_scale1 : !spirv.ptr<f32, Private>
  spirv.GlobalVariable @w_inverse : !spirv.ptr<f32, Private>

  // include: matmul_coop_frame.mlir

  // 16-byte units of a row's block: 2 (q8) or 1 (q4).
  spirv.func @units_per_block() -> i32 "None" {
    %c2 = spirv.Constant 2 : i32
    %bits = spirv.mlir.referenceof @QUANT_BITS : i32
    %units = spirv.ShiftRightLogical %bits, %c2 : i32, i32
    spirv.ReturnValue %units : i32
  }

  // This invocation's row of the tile and its part of each half-step:
  // columns 8 part .. +7 of the half (two invocations a row).
  spirv.func @w_line() -> i32 "None" {
    %c1 = spirv.Constant 1 : i32
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %line = spirv.ShiftRightLogical %invocation, %c1 : i32, i32
    spirv.ReturnValue %line : i32
  }
  spirv.func @w_part() -> i32 "None" {
    %c1 = spirv.Constant 1 : i32
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %part = spirv.BitwiseAnd %invocation, %c1 : i32
    spirv.ReturnValue %part : i32
  }

  // The scale of block `block` of row `row` (0 past N).
  spirv.func @block_scale(%row : i32, %block : i32) -> f32 "None" {
    %c0 = spirv.Constant 0 : i32
    %c1 = spirv.Constant 1 : i32
    %c4 = spirv.Constant 4 : i32
    %c5 = spirv.Constant 5 : i32
    %c6 = spirv.Constant 6 : i32
    %c16 = spirv.Constant 16 : i32
    %high_half = spirv.Constant -65536 : i32
    %f0 = spirv.Constant 0.0 : f32
    %K = spirv.mlir.referenceof @K : i32
    %N = spirv.mlir.referenceof @N : i32
    %pc = spirv.mlir.addressof @pc : !push_ptr
    %base_ptr = spirv.AccessChain %pc[%c6] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
    %base = spirv.Load "PushConstant" %base_ptr : i32
    %inside = spirv.ULessThan %row, %N : i32
    %safe_row = spirv.Select %inside, %row, %c0 : i1, i32
    %blocks_per_row = spirv.ShiftRightLogical %K, %c5 : i32, i32
    %row_at = spirv.IMul %safe_row, %blocks_per_row : i32
    %row_element = spirv.IAdd %base, %row_at : i32
    %element = spirv.IAdd %row_element, %block : i32
    %word_at = spirv.ShiftRightLogical %element, %c1 : i32, i32
    %buffer = spirv.mlir.addressof @scale_words : !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>
    %ptr = spirv.AccessChain %buffer[%c0, %word_at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<i32, StorageBuffer>
    %word = spirv.Load "StorageBuffer" %ptr : i32
    // Element 2i is the word's low half, 2i + 1 its high half.
    %odd = spirv.BitwiseAnd %element, %c1 : i32
    %is_high = spirv.IEqual %odd, %c1 : i32
    %low_bits = spirv.ShiftLeftLogical %word, %c16 : i32, i32
    %high_bits = spirv.BitwiseAnd %word, %high_half : i32
    %bits = spirv.Select %is_high, %high_bits, %low_bits : i1, i32
    %scale = spirv.Bitcast %bits : i32 to f32
    %kept = spirv.Select %inside, %scale, %f0 : i1, f32
    spirv.ReturnValue %kept : f32
  }

  spirv.func @w_prepare() "None" {
    %c1 = spirv.Constant 1 : i32
    %line = spirv.FunctionCall @w_line() : () -> i32
    %inverse = spirv.FunctionCall @inverse_scale(%c1, %line) : (i32, i32) -> f32
    %slot = spirv.mlir.addressof @w_inverse : !spirv.ptr<f32, Private>
    spirv.Store "Private" %slot, %inverse : f32
    spirv.Return
  }

  // Half `half` of this invocation's row's block k0 / 32 (q8: its unit
  // `half`; q4: its one unit, which both halves load, the second time from the
  // cache) and the block's scale into that half's registers (zeros past N).
  spirv.func @w_fetch(%first_row : i32, %k0 : i32, %half : i32) "None" {
    %c0 = spirv.Constant 0 : i32
    %c2 = spirv.Constant 2 : i32
    %c5 = spirv.Constant 5 : i32
    %c8 = spirv.Constant 8 : i32
    %K = spirv.mlir.referenceof @K : i32
    %N = spirv.mlir.referenceof @N : i32
    %bits = spirv.mlir.referenceof @QUANT_BITS : i32
    %line = spirv.FunctionCall @w_line() : () -> i32
    %units = spirv.FunctionCall @units_per_block() : () -> i32
    %row = spirv.IAdd %first_row, %line : i32
    %block = spirv.ShiftRightLogical %k0, %c5 : i32, i32
    %inside = spirv.ULessThan %row, %N : i32
    %safe_row = spirv.Select %inside, %row, %c0 : i1, i32
    %pc = spirv.mlir.addressof @pc : !push_ptr
    %base_ptr = spirv.AccessChain %pc[%c2] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
    %base = spirv.Load "PushConstant" %base_ptr : i32
    %base_unit = spirv.ShiftRightLogical %base, %c2 : i32, i32
    %blocks_per_row = spirv.ShiftRightLogical %K, %c5 : i32, i32
    %units_per_row = spirv.IMul %blocks_per_row, %units : i32
    %row_units = spirv.IMul %safe_row, %units_per_row : i32
    %block_units = spirv.IMul %block, %units : i32
    %row_at = spirv.IAdd %base_unit, %row_units : i32
    %block_at = spirv.IAdd %row_at, %block_units : i32
    %is_q8 = spirv.IEqual %bits, %c8 : i32
    %unit_in_block = spirv.Select %is_q8, %half, %c0 : i1, i32
    %at = spirv.IAdd %block_at, %unit_in_block : i32
    %buffer = spirv.mlir.addressof @quant_units : !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xi32>, stride=16> [0]), Block>, StorageBuffer>
    %ptr = spirv.AccessChain %buffer[%c0, %at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xi32>, stride=16> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<vector<4xi32>, StorageBuffer>
    %loaded = spirv.Load "StorageBuffer" %ptr : vector<4xi32>
    %mask = spirv.FunctionCall @keep_mask(%inside) : (i1) -> vector<4xi32>
    %quants = spirv.BitwiseAnd %loaded, %mask : vector<4xi32>
    %scale = spirv.FunctionCall @block_scale(%row, %block) : (i32, i32) -> f32
    %first = spirv.IEqual %half, %c0 : i32
    spirv.mlir.selection {
      spirv.BranchConditional %first, ^first, ^second
    ^first:
      %quants0_slot = spirv.mlir.addressof @w_quants0 : !spirv.ptr<vector<4xi32>, Private>
      %scale0_slot = spirv.mlir.addressof @w_block_scale0 : !spirv.ptr<f32, Private>
      spirv.Store "Private" %quants0_slot, %quants : vector<4xi32>
      spirv.Store "Private" %scale0_slot, %scale : f32
      spirv.Branch ^merge
    ^second:
      %quants1_slot = spirv.mlir.addressof @w_quants1 : !spirv.ptr<vector<4xi32>, Private>
      %scale1_slot = spirv.mlir.addressof @w_block_scale1 : !spirv.ptr<f32, Private>
      spirv.Store "Private" %quants1_slot, %quants : vector<4xi32>
      spirv.Store "Private" %scale1_slot, %scale : f32
      spirv.Branch ^merge
    ^merge:
      spirv.mlir.merge
    }
    spirv.Return
  }

  // Four quants as fp16 weights at vec4 `at` of w_tile: codes times `factor`
  // (the block's scale / s_n).
  spirv.func @stage_codes(%codes : vector<4xi32>, %factor : f32, %at : i32) "None" {
    %values = spirv.ConvertSToF %codes : vector<4xi32> to vector<4xf32>
    %scaled = spirv.VectorTimesScalar %values, %factor : (vector<4xf32>, f32) -> vector<4xf32>
    %halves = spirv.FConvert %scaled : vector<4xf32> to vector<4xf16>
    %tile = spirv.mlir.addressof @w_tile : !spirv.ptr<!spirv.array<1536 x vector<4xf16>>, Workgroup>
    %ptr = spirv.AccessChain %tile[%at] : !spirv.ptr<!spirv.array<1536 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    spirv.Store "Workgroup" %ptr, %halves : vector<4xf16>
    spirv.Return
  }

  // q8 word: element 4j + i of the row is its signed byte i (moved to the top,
  // then shifted back down with its sign).
  spirv.func @q8_codes(%word : i32) -> vector<4xi32> "None" {
    %to_top = spirv.Constant dense<[24, 16, 8, 0]> : vector<4xi32>
    %down = spirv.Constant dense<24> : vector<4xi32>
    %words = spirv.CompositeConstruct %word, %word, %word, %word : (i32, i32, i32, i32) -> vector<4xi32>
    %top = spirv.ShiftLeftLogical %words, %to_top : vector<4xi32>, vector<4xi32>
    %codes = spirv.ShiftRightArithmetic %top, %down : vector<4xi32>, vector<4xi32>
    spirv.ReturnValue %codes : vector<4xi32>
  }
  // q4 word: element 8j + i of the row is ((word >> 4i) & 15) - 8; `shifts`
  // picks nibbles 0..3 or 4..7.
  spirv.func @q4_codes(%word : i32, %shifts : vector<4xi32>) -> vector<4xi32> "None" {
    %nibble = spirv.Constant dense<15> : vector<4xi32>
    %offset = spirv.Constant dense<8> : vector<4xi32>
    %words = spirv.CompositeConstruct %word, %word, %word, %word : (i32, i32, i32, i32) -> vector<4xi32>
    %shifted = spirv.ShiftRightLogical %words, %shifts : vector<4xi32>, vector<4xi32>
    %masked = spirv.BitwiseAnd %shifted, %nibble : vector<4xi32>
    %codes = spirv.ISub %masked, %offset : vector<4xi32>
    spirv.ReturnValue %codes : vector<4xi32>
  }

  // Half `half` of the block (that half's registers) into that half of
  // w_tile: row line, columns 8 part .. +7 of the half, 2 vec4. q8: words
  // 2 part, + 1 of the block's unit `half` (4 quants each); q4: word
  // 2 half + part of its unit (8 quants, nibbles 0-3 then 4-7).
  spirv.func @w_stage(%half : i32) "None" {
    %c0 = spirv.Constant 0 : i32
    %c1 = spirv.Constant 1 : i32
    %c2 = spirv.Constant 2 : i32
    %c6 = spirv.Constant 6 : i32
    %c8 = spirv.Constant 8 : i32
    %c768 = spirv.Constant 768 : i32
    %low_nibbles = spirv.Constant dense<[0, 4, 8, 12]> : vector<4xi32>
    %high_nibbles = spirv.Constant dense<[16, 20, 24, 28]> : vector<4xi32>
    %bits = spirv.mlir.referenceof @QUANT_BITS : i32
    %line = spirv.FunctionCall @w_line() : () -> i32
    %part = spirv.FunctionCall @w_part() : () -> i32
    %scale0_ptr = spirv.mlir.addressof @w_block_scale0 : !spirv.ptr<f32, Private>
    %scale1_ptr = spirv.mlir.addressof @w_block_scale1 : !spirv.ptr<f32, Private>
    %quants0_ptr = spirv.mlir.addressof @w_quants0 : !spirv.ptr<vector<4xi32>, Private>
    %quants1_ptr = spirv.mlir.addressof @w_quants1 : !spirv.ptr<vector<4xi32>, Private>
    %inverse_ptr = spirv.mlir.addressof @w_inverse : !spirv.ptr<f32, Private>
    %scale0 = spirv.Load "Private" %scale0_ptr : f32
    %scale1 = spirv.Load "Private" %scale1_ptr : f32
    %quants0 = spirv.Load "Private" %quants0_ptr : vector<4xi32>
    %quants1 = spirv.Load "Private" %quants1_ptr : vector<4xi32>
    %inverse = spirv.Load "Private" %inverse_ptr : f32
    %first_half = spirv.IEqual %half, %c0 : i32
    %first_half4 = spirv.CompositeConstruct %first_half, %first_half, %first_half, %first_half : (i1, i1, i1, i1) -> vector<4xi1>
    %scale = spirv.Select %first_half, %scale0, %scale1 : i1, f32
    %unit = spirv.Select %first_half4, %quants0, %quants1 : vector<4xi1>, vector<4xi32>
    %factor = spirv.FMul %scale, %inverse : f32
    %line_at = spirv.IMul %line, %c6 : i32
    %part_at = spirv.IMul %part, %c2 : i32
    %in_half = spirv.IAdd %line_at, %part_at : i32
    %half_at = spirv.IMul %half, %c768 : i32
    %at = spirv.IAdd %half_at, %in_half : i32
    %at1 = spirv.IAdd %at, %c1 : i32
    %is_q8 = spirv.IEqual %bits, %c8 : i32
    spirv.mlir.selection {
      spirv.BranchConditional %is_q8, ^q8, ^q4
    ^q8:
      %word_index0 = spirv.IMul %part, %c2 : i32
      %word_index1 = spirv.IAdd %word_index0, %c1 : i32
      %word0 = spirv.VectorExtractDynamic %unit[%word_index0] : vector<4xi32>, i32
      %word1 = spirv.VectorExtractDynamic %unit[%word_index1] : vector<4xi32>, i32
      %codes0 = spirv.FunctionCall @q8_codes(%word0) : (i32) -> vector<4xi32>
      %codes1 = spirv.FunctionCall @q8_codes(%word1) : (i32) -> vector<4xi32>
      spirv.FunctionCall @stage_codes(%codes0, %factor, %at) : (vector<4xi32>, f32, i32) -> ()
      spirv.FunctionCall @stage_codes(%codes1, %factor, %at1) : (vector<4xi32>, f32, i32) -> ()
      spirv.Branch ^merge
    ^q4:
      %half_words = spirv.IMul %half, %c2 : i32
      %word_index = spirv.IAdd %half_words, %part : i32
      %word = spirv.VectorExtractDynamic %unit[%word_index] : vector<4xi32>, i32
      %low = spirv.FunctionCall @q4_codes(%word, %low_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
      %high = spirv.FunctionCall @q4_codes(%word, %high_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
      spirv.FunctionCall @stage_codes(%low, %factor, %at) : (vector<4xi32>, f32, i32) -> ()
      spirv.FunctionCall @stage_codes(%high, %factor, %at1) : (vector<4xi32>, f32, i32) -> ()
      spirv.Branch ^merge
    ^merge:
      spirv.mlir.merge
    }
    spirv.Return
  }

  spirv.EntryPoint "GLCompute" @main, @x, @quant_units, @y, @scale_words, @token_maxima, @row_bounds, @pc, @workgroup_id, @workgroup_count,
      @invocation_index, @x_hi, @x_lo, @w_tile, @token_scale, @row_scale, @staging
  spirv.ExecutionMode @main "LocalSize", 256, 1, 1
  spirv.EntryPoint "GLCompute" @main_split, @x, @quant_units, @y, @scale_words, @partials, @counts, @split_token_maxima, @split_row_bounds, @pc,
      @workgroup_id, @workgroup_count, @invocation_index, @x_hi, @x_lo, @w_tile, @token_scale, @row_scale, @staging
  spirv.ExecutionMode @main_split "LocalSize", 256, 1, 1
}
