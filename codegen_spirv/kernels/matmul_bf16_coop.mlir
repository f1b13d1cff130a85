// y[t, n] = sum_k x[t, k] * W[n, k], W bf16 [out, in], on cooperative-matrix
// units (SPV_KHR_cooperative_matrix): the prefill kernel for devices that have
// them, a drop-in for matmul_bf16 — its bindings (and after them two more,
// the tokens' maxima and the rows' bounds, which matmul_bf16 ignores), push
// constants (MatmulPush),
// alignment rules and dispatch grid (ceil(N / 64), ceil(num_tokens / 64), SPLITS).
// Written in MLIR's SPIR-V dialect because Debian's glslang cannot express the
// KHR extension; mlir-translate verifies and serialises it when Unicorn is
// built. matmul_coop_frame.mlir is the product (tiles, scales, steps, output);
// this file is its weights' part.
//
// W's scale s_n is from its row's largest |w| (row_bounds.comp's, bound
// after the maxima); W / s_n converts to fp16 exactly (bf16's 8-bit significand fits
// fp16's 11). An invocation stages 2 units of 8 bf16 a step: rows w_line and
// w_line + 64 of the tile, columns 8 w_unit .. +7.
//
// Specialisation constants (set by unicorn-compile from the defines; SPLITS,
// default 1, is the frame's):
//   K (a multiple of 32), N, SOFTCAP (float, 0.0 = off).
!push_ptr = !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20]), Block>, PushConstant>
spirv.module Logical GLSL450 requires #spirv.vce<v1.3,
    [Shader, Float16, CooperativeMatrixKHR],
    [SPV_KHR_storage_buffer_storage_class, SPV_KHR_cooperative_matrix]> {
  spirv.GlobalVariable @x bind(0, 0) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xf32>, stride=16> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @weight_units bind(0, 1) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xi32>, stride=16> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @y bind(0, 2) {NonReadable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  // Split-K's partials and counts (split_k.glsl; the frame's fold).
  spirv.GlobalVariable @partials bind(0, 3) {Coherent} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @counts bind(0, 4) {Coherent} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>
  // token_maxima.comp's output: each token's largest |x| (the frame's x
  // scales), after the tiled kernel's bindings, so its fallback ignores it.
  spirv.GlobalVariable @token_maxima bind(0, 3) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @split_token_maxima bind(0, 5) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  // row_bounds.comp's output: each row's bound on |w| (the frame's W scales), after the maxima.
  spirv.GlobalVariable @row_bounds bind(0, 4) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @split_row_bounds bind(0, 6) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  // MatmulPush: x_base, x_token_stride, weight_base, y_base, y_token_stride, num_tokens.
  spirv.GlobalVariable @pc : !push_ptr

  spirv.SpecConstant @K spec_id(0) = 32 : i32
  spirv.SpecConstant @N spec_id(1) = 64 : i32
  spirv.SpecConstant @SOFTCAP spec_id(2) = 0.0 : f32

  // This invocation's W units of the step (registers) and 1 / s_n of their rows.
  spirv.GlobalVariable @w_units0 : !spirv.ptr<vector<4xi32>, Private>
  spirv.GlobalVariable @w_units1 : !spirv.ptr<vector<4xi32>, Private>
  spirv.GlobalVariable @w_inverse0 : !spirv.ptr<f32, Private>
  spirv.GlobalVariable @w_inverse1 : !spirv.ptr<f32, Private>

  // include: matmul_coop_frame.mlir

  // W[row, 8 unit .. +7] as 4 words of bf16 pairs (unit counts 16-byte units
  // along K), zeros past N or K.
  spirv.func @w_unit(%row : i32, %unit : i32) -> vector<4xi32> "None" {
    %c0 = spirv.Constant 0 : i32
    %c2 = spirv.Constant 2 : i32
    %c3 = spirv.Constant 3 : i32
    %K = spirv.mlir.referenceof @K : i32
    %N = spirv.mlir.referenceof @N : i32
    %pc = spirv.mlir.addressof @pc : !push_ptr
    %base_ptr = spirv.AccessChain %pc[%c2] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
    %base = spirv.Load "PushConstant" %base_ptr : i32
    %units_per_row = spirv.ShiftRightLogical %K, %c3 : i32, i32
    %row_inside = spirv.ULessThan %row, %N : i32
    %unit_inside = spirv.ULessThan %unit, %units_per_row : i32
    %inside = spirv.LogicalAnd %row_inside, %unit_inside : i1
    %safe_row = spirv.Select %row_inside, %row, %c0 : i1, i32
    %safe_unit = spirv.Select %unit_inside, %unit, %c0 : i1, i32
    %base_unit = spirv.ShiftRightLogical %base, %c2 : i32, i32
    %row_units = spirv.IMul %safe_row, %units_per_row : i32
    %row_at = spirv.IAdd %base_unit, %row_units : i32
    %at = spirv.IAdd %row_at, %safe_unit : i32
    %buffer = spirv.mlir.addressof @weight_units : !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xi32>, stride=16> [0]), Block>, StorageBuffer>
    %ptr = spirv.AccessChain %buffer[%c0, %at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xi32>, stride=16> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<vector<4xi32>, StorageBuffer>
    %loaded = spirv.Load "StorageBuffer" %ptr : vector<4xi32>
    %mask = spirv.FunctionCall @keep_mask(%inside) : (i1) -> vector<4xi32>
    %kept = spirv.BitwiseAnd %loaded, %mask : vector<4xi32>
    spirv.ReturnValue %kept : vector<4xi32>
  }

  // The bf16 pairs of a W unit as floats: (low halves, high halves).
  spirv.func @bf16_low(%words : vector<4xi32>) -> vector<4xf32> "None" {
    %c16 = spirv.Constant dense<16> : vector<4xi32>
    %bits = spirv.ShiftLeftLogical %words, %c16 : vector<4xi32>, vector<4xi32>
    %values = spirv.Bitcast %bits : vector<4xi32> to vector<4xf32>
    spirv.ReturnValue %values : vector<4xf32>
  }

  spirv.func @bf16_high(%words : vector<4xi32>) -> vector<4xf32> "None" {
    %high_half = spirv.Constant dense<-65536> : vector<4xi32>
    %bits = spirv.BitwiseAnd %words, %high_half : vector<4xi32>
    %values = spirv.Bitcast %bits : vector<4xi32> to vector<4xf32>
    spirv.ReturnValue %values : vector<4xf32>
  }

  // Stage a W unit (8 bf16, in order) at `at` and `at` + 1 of w_tile, scaled by 1 / s_n.
  spirv.func @stage_unit(%words : vector<4xi32>, %inverse : f32, %at : i32) "None" {
    %c1 = spirv.Constant 1 : i32
    %low = spirv.FunctionCall @bf16_low(%words) : (vector<4xi32>) -> vector<4xf32>
    %high = spirv.FunctionCall @bf16_high(%words) : (vector<4xi32>) -> vector<4xf32>
    %low_scaled = spirv.VectorTimesScalar %low, %inverse : (vector<4xf32>, f32) -> vector<4xf32>
    %high_scaled = spirv.VectorTimesScalar %high, %inverse : (vector<4xf32>, f32) -> vector<4xf32>
    %low_halves = spirv.FConvert %low_scaled : vector<4xf32> to vector<4xf16>
    %high_halves = spirv.FConvert %high_scaled : vector<4xf32> to vector<4xf16>
    %first = spirv.VectorShuffle [0 : i32, 4 : i32, 1 : i32, 5 : i32] %low_halves, %high_halves : vector<4xf16>, vector<4xf16> -> vector<4xf16>
    %second = spirv.VectorShuffle [2 : i32, 6 : i32, 3 : i32, 7 : i32] %low_halves, %high_halves : vector<4xf16>, vector<4xf16> -> vector<4xf16>
    %tile = spirv.mlir.addressof @w_tile : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
    %at_second = spirv.IAdd %at, %c1 : i32
    %first_ptr = spirv.AccessChain %tile[%at] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %second_ptr = spirv.AccessChain %tile[%at_second] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    spirv.Store "Workgroup" %first_ptr, %first : vector<4xf16>
    spirv.Store "Workgroup" %second_ptr, %second : vector<4xf16>
    spirv.Return
  }

  // This invocation's rows (w_line, + 64) and 16-byte unit of a step.
  spirv.func @w_line() -> i32 "None" {
    %c2 = spirv.Constant 2 : i32
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %line = spirv.ShiftRightLogical %invocation, %c2 : i32, i32
    spirv.ReturnValue %line : i32
  }
  spirv.func @w_unit_of_step() -> i32 "None" {
    %c3 = spirv.Constant 3 : i32
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %unit = spirv.BitwiseAnd %invocation, %c3 : i32
    spirv.ReturnValue %unit : i32
  }

  spirv.func @w_prepare() "None" {
    %c1 = spirv.Constant 1 : i32
    %c64 = spirv.Constant 64 : i32
    %line = spirv.FunctionCall @w_line() : () -> i32
    %line1 = spirv.IAdd %line, %c64 : i32
    %inverse0 = spirv.FunctionCall @inverse_scale(%c1, %line) : (i32, i32) -> f32
    %inverse1 = spirv.FunctionCall @inverse_scale(%c1, %line1) : (i32, i32) -> f32
    %slot0 = spirv.mlir.addressof @w_inverse0 : !spirv.ptr<f32, Private>
    %slot1 = spirv.mlir.addressof @w_inverse1 : !spirv.ptr<f32, Private>
    spirv.Store "Private" %slot0, %inverse0 : f32
    spirv.Store "Private" %slot1, %inverse1 : f32
    spirv.Return
  }

  spirv.func @w_fetch(%first_row : i32, %k0 : i32) "None" {
    %c3 = spirv.Constant 3 : i32
    %c64 = spirv.Constant 64 : i32
    %line = spirv.FunctionCall @w_line() : () -> i32
    %unit = spirv.FunctionCall @w_unit_of_step() : () -> i32
    %row0 = spirv.IAdd %first_row, %line : i32
    %row1 = spirv.IAdd %row0, %c64 : i32
    %step = spirv.ShiftRightLogical %k0, %c3 : i32, i32
    %at = spirv.IAdd %step, %unit : i32
    %words0 = spirv.FunctionCall @w_unit(%row0, %at) : (i32, i32) -> vector<4xi32>
    %words1 = spirv.FunctionCall @w_unit(%row1, %at) : (i32, i32) -> vector<4xi32>
    %slot0 = spirv.mlir.addressof @w_units0 : !spirv.ptr<vector<4xi32>, Private>
    %slot1 = spirv.mlir.addressof @w_units1 : !spirv.ptr<vector<4xi32>, Private>
    spirv.Store "Private" %slot0, %words0 : vector<4xi32>
    spirv.Store "Private" %slot1, %words1 : vector<4xi32>
    spirv.Return
  }

  spirv.func @w_stage() "None" {
    %c2 = spirv.Constant 2 : i32
    %c10 = spirv.Constant 10 : i32
    %c640 = spirv.Constant 640 : i32
    %line = spirv.FunctionCall @w_line() : () -> i32
    %unit = spirv.FunctionCall @w_unit_of_step() : () -> i32
    %line_at = spirv.IMul %line, %c10 : i32
    %pair = spirv.IMul %unit, %c2 : i32
    %at0 = spirv.IAdd %line_at, %pair : i32
    %at1 = spirv.IAdd %at0, %c640 : i32
    %units0_ptr = spirv.mlir.addressof @w_units0 : !spirv.ptr<vector<4xi32>, Private>
    %units1_ptr = spirv.mlir.addressof @w_units1 : !spirv.ptr<vector<4xi32>, Private>
    %inverse0_ptr = spirv.mlir.addressof @w_inverse0 : !spirv.ptr<f32, Private>
    %inverse1_ptr = spirv.mlir.addressof @w_inverse1 : !spirv.ptr<f32, Private>
    %units0 = spirv.Load "Private" %units0_ptr : vector<4xi32>
    %units1 = spirv.Load "Private" %units1_ptr : vector<4xi32>
    %inverse0 = spirv.Load "Private" %inverse0_ptr : f32
    %inverse1 = spirv.Load "Private" %inverse1_ptr : f32
    spirv.FunctionCall @stage_unit(%units0, %inverse0, %at0) : (vector<4xi32>, f32, i32) -> ()
    spirv.FunctionCall @stage_unit(%units1, %inverse1, %at1) : (vector<4xi32>, f32, i32) -> ()
    spirv.Return
  }

  spirv.EntryPoint "GLCompute" @main, @x, @weight_units, @y, @token_maxima, @row_bounds, @pc, @workgroup_id, @workgroup_count, @invocation_index,
      @x_hi, @x_lo, @w_tile, @token_scale, @row_scale, @staging
  spirv.ExecutionMode @main "LocalSize", 256, 1, 1
  spirv.EntryPoint "GLCompute" @main_split, @x, @weight_units, @y, @partials, @counts, @split_token_maxima, @split_row_bounds, @pc, @workgroup_id,
      @workgroup_count, @invocation_index, @x_hi, @x_lo, @w_tile, @token_scale, @row_scale, @staging
  spirv.ExecutionMode @main_split "LocalSize", 256, 1, 1
}
