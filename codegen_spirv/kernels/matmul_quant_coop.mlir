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
// Work: q8 rows are 2 units of 16 bytes (16 quants) a block, staged by all 256
// invocations (row i / 2, unit i % 2); q4 rows one unit (32 quants), staged by
// the first 128 (row i).
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

  // This invocation's unit of the step (registers), its block's scale and
  // 1 / s_n of its row.
  spirv.GlobalVariable @w_quants : !spirv.ptr<vector<4xi32>, Private>
  spirv.GlobalVariable @w_block_scale : !spirv.ptr<f32, Private>
  spirv.GlobalVariable @w_inverse : !spirv.ptr<f32, Private>

  // include: matmul_coop_frame.mlir

  // 16-byte units of a row's block: 2 (q8) or 1 (q4).
  spirv.func @units_per_block() -> i32 "None" {
    %c2 = spirv.Constant 2 : i32
    %bits = spirv.mlir.referenceof @QUANT_BITS : i32
    %units = spirv.ShiftRightLogical %bits, %c2 : i32, i32
    spirv.ReturnValue %units : i32
  }

  // This invocation's row of the tile and unit of its block; past row 127 it
  // stages nothing (q4's second half).
  spirv.func @w_line() -> i32 "None" {
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %units = spirv.FunctionCall @units_per_block() : () -> i32
    %line = spirv.UDiv %invocation, %units : i32
    spirv.ReturnValue %line : i32
  }
  spirv.func @w_part() -> i32 "None" {
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %units = spirv.FunctionCall @units_per_block() : () -> i32
    %part = spirv.UMod %invocation, %units : i32
    spirv.ReturnValue %part : i32
  }
  spirv.func @w_stages() -> i1 "None" {
    %c128 = spirv.Constant 128 : i32
    %line = spirv.FunctionCall @w_line() : () -> i32
    %stages = spirv.ULessThan %line, %c128 : i32
    spirv.ReturnValue %stages : i1
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
    %c0 = spirv.Constant 0 : i32
    %c1 = spirv.Constant 1 : i32
    %line = spirv.FunctionCall @w_line() : () -> i32
    %stages = spirv.FunctionCall @w_stages() : () -> i1
    %safe_line = spirv.Select %stages, %line, %c0 : i1, i32
    %inverse = spirv.FunctionCall @inverse_scale(%c1, %safe_line) : (i32, i32) -> f32
    %slot = spirv.mlir.addressof @w_inverse : !spirv.ptr<f32, Private>
    spirv.Store "Private" %slot, %inverse : f32
    spirv.Return
  }

  // This invocation's unit of block k0 / 32 of its row and the block's scale
  // (zeros past N; nothing for an invocation that stages nothing).
  spirv.func @w_fetch(%first_row : i32, %k0 : i32) "None" {
    %c0 = spirv.Constant 0 : i32
    %c2 = spirv.Constant 2 : i32
    %c5 = spirv.Constant 5 : i32
    %K = spirv.mlir.referenceof @K : i32
    %N = spirv.mlir.referenceof @N : i32
    %stages = spirv.FunctionCall @w_stages() : () -> i1
    spirv.mlir.selection {
      spirv.BranchConditional %stages, ^fetch, ^merge
    ^fetch:
      %line = spirv.FunctionCall @w_line() : () -> i32
      %part = spirv.FunctionCall @w_part() : () -> i32
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
      %at = spirv.IAdd %block_at, %part : i32
      %buffer = spirv.mlir.addressof @quant_units : !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xi32>, stride=16> [0]), Block>, StorageBuffer>
      %ptr = spirv.AccessChain %buffer[%c0, %at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xi32>, stride=16> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<vector<4xi32>, StorageBuffer>
      %loaded = spirv.Load "StorageBuffer" %ptr : vector<4xi32>
      %mask = spirv.FunctionCall @keep_mask(%inside) : (i1) -> vector<4xi32>
      %quants = spirv.BitwiseAnd %loaded, %mask : vector<4xi32>
      %scale = spirv.FunctionCall @block_scale(%row, %block) : (i32, i32) -> f32
      %quants_slot = spirv.mlir.addressof @w_quants : !spirv.ptr<vector<4xi32>, Private>
      %scale_slot = spirv.mlir.addressof @w_block_scale : !spirv.ptr<f32, Private>
      spirv.Store "Private" %quants_slot, %quants : vector<4xi32>
      spirv.Store "Private" %scale_slot, %scale : f32
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
    %tile = spirv.mlir.addressof @w_tile : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
    %ptr = spirv.AccessChain %tile[%at] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
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

  // The unit into w_tile: row line, columns 16 part .. of the step (q8: 4 vec4
  // of its 16 quants; q4: 8 vec4 of its 32).
  spirv.func @w_stage() "None" {
    %c1 = spirv.Constant 1 : i32
    %c2 = spirv.Constant 2 : i32
    %c3 = spirv.Constant 3 : i32
    %c4 = spirv.Constant 4 : i32
    %c5 = spirv.Constant 5 : i32
    %c6 = spirv.Constant 6 : i32
    %c7 = spirv.Constant 7 : i32
    %c8 = spirv.Constant 8 : i32
    %c10 = spirv.Constant 10 : i32
    %low_nibbles = spirv.Constant dense<[0, 4, 8, 12]> : vector<4xi32>
    %high_nibbles = spirv.Constant dense<[16, 20, 24, 28]> : vector<4xi32>
    %bits = spirv.mlir.referenceof @QUANT_BITS : i32
    %stages = spirv.FunctionCall @w_stages() : () -> i1
    spirv.mlir.selection {
      spirv.BranchConditional %stages, ^stage, ^merge
    ^stage:
      %line = spirv.FunctionCall @w_line() : () -> i32
      %part = spirv.FunctionCall @w_part() : () -> i32
      %quants_ptr = spirv.mlir.addressof @w_quants : !spirv.ptr<vector<4xi32>, Private>
      %scale_ptr = spirv.mlir.addressof @w_block_scale : !spirv.ptr<f32, Private>
      %inverse_ptr = spirv.mlir.addressof @w_inverse : !spirv.ptr<f32, Private>
      %quants = spirv.Load "Private" %quants_ptr : vector<4xi32>
      %scale = spirv.Load "Private" %scale_ptr : f32
      %inverse = spirv.Load "Private" %inverse_ptr : f32
      %factor = spirv.FMul %scale, %inverse : f32
      %line_at = spirv.IMul %line, %c10 : i32
      %part_at = spirv.IMul %part, %c4 : i32
      %at = spirv.IAdd %line_at, %part_at : i32
      %word0 = spirv.CompositeExtract %quants[0 : i32] : vector<4xi32>
      %word1 = spirv.CompositeExtract %quants[1 : i32] : vector<4xi32>
      %word2 = spirv.CompositeExtract %quants[2 : i32] : vector<4xi32>
      %word3 = spirv.CompositeExtract %quants[3 : i32] : vector<4xi32>
      %at1 = spirv.IAdd %at, %c1 : i32
      %at2 = spirv.IAdd %at, %c2 : i32
      %at3 = spirv.IAdd %at, %c3 : i32
      %is_q8 = spirv.IEqual %bits, %c8 : i32
      spirv.mlir.selection {
        spirv.BranchConditional %is_q8, ^q8, ^q4
      ^q8:
        %codes0 = spirv.FunctionCall @q8_codes(%word0) : (i32) -> vector<4xi32>
        %codes1 = spirv.FunctionCall @q8_codes(%word1) : (i32) -> vector<4xi32>
        %codes2 = spirv.FunctionCall @q8_codes(%word2) : (i32) -> vector<4xi32>
        %codes3 = spirv.FunctionCall @q8_codes(%word3) : (i32) -> vector<4xi32>
        spirv.FunctionCall @stage_codes(%codes0, %factor, %at) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%codes1, %factor, %at1) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%codes2, %factor, %at2) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%codes3, %factor, %at3) : (vector<4xi32>, f32, i32) -> ()
        spirv.Branch ^merge
      ^q4:
        %at4 = spirv.IAdd %at, %c4 : i32
        %at5 = spirv.IAdd %at, %c5 : i32
        %at6 = spirv.IAdd %at, %c6 : i32
        %at7 = spirv.IAdd %at, %c7 : i32
        %low0 = spirv.FunctionCall @q4_codes(%word0, %low_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
        %high0 = spirv.FunctionCall @q4_codes(%word0, %high_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
        %low1 = spirv.FunctionCall @q4_codes(%word1, %low_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
        %high1 = spirv.FunctionCall @q4_codes(%word1, %high_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
        %low2 = spirv.FunctionCall @q4_codes(%word2, %low_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
        %high2 = spirv.FunctionCall @q4_codes(%word2, %high_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
        %low3 = spirv.FunctionCall @q4_codes(%word3, %low_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
        %high3 = spirv.FunctionCall @q4_codes(%word3, %high_nibbles) : (i32, vector<4xi32>) -> vector<4xi32>
        spirv.FunctionCall @stage_codes(%low0, %factor, %at) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%high0, %factor, %at1) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%low1, %factor, %at2) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%high1, %factor, %at3) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%low2, %factor, %at4) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%high2, %factor, %at5) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%low3, %factor, %at6) : (vector<4xi32>, f32, i32) -> ()
        spirv.FunctionCall @stage_codes(%high3, %factor, %at7) : (vector<4xi32>, f32, i32) -> ()
        spirv.Branch ^merge
      ^merge:
        spirv.mlir.merge
      }
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
