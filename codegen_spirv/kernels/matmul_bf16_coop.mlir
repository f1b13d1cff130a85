// y[t, n] = sum_k x[t, k] * W[n, k], W bf16 [out, in], on cooperative-matrix
// units (SPV_KHR_cooperative_matrix): the prefill kernel for devices that have
// them, a drop-in for matmul_bf16 with TILE_M = TILE_N = 64 — same bindings,
// push constants (MatmulPush) and dispatch grid (ceil(N / 64), ceil(num_tokens
// / 64), 1). Written in MLIR's SPIR-V dialect because Debian's glslang cannot
// express the KHR extension; mlir-translate verifies and serialises it when
// Unicorn is built.
//
// Precision. The units multiply fp16 and accumulate in fp32, and fp16 has
// neither bf16's nor fp32's range (Gemma's activations exceed it). So values
// are scaled by powers of two (exact; @scale_of) into fp16's range: each
// token's row of x by one scale s_t from its largest |x| over all of K, each
// step's 64 x 32 tile of W by one s_w. W / s_w converts exactly (bf16's 8-bit
// significand fits fp16's 11); x / s_t is split into hi + lo, two fp16 values,
// and the step adds (hi * W' + lo * W') * s_w, the output is multiplied by s_t.
// That keeps ~21 bits of every x within 2^19 of its token's largest (lo stays
// a normal fp16; units may flush subnormal inputs to zero): about float32's
// accuracy, at twice the matrix work of a plain fp16 product.
//
// Work. A workgroup is 4 subgroups of 32 invocations (the runtime chooses this
// kernel only where subgroups have 32 invocations); subgroup g owns the 32 x 32
// quarter (tokens 32 * (g / 2), rows 32 * (g % 2)) of the workgroup's 64 x 64
// tile as 2 x 2 accumulators of 16 x 16. Each step stages 32 columns of k:
// x (scaled, split) and W (as fp16) in shared memory, rows padded to 40 halves
// so rows start 16 bytes apart on different banks.
//
// Specialisation constants (set by unicorn-compile from the defines):
//   K (a multiple of 32), N, SOFTCAP (float, 0.0 = off).
spirv.module Logical GLSL450 requires #spirv.vce<v1.3,
    [Shader, Float16, GroupNonUniform, GroupNonUniformArithmetic, CooperativeMatrixKHR],
    [SPV_KHR_storage_buffer_storage_class, SPV_KHR_cooperative_matrix]> {
  spirv.GlobalVariable @x bind(0, 0) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @weight_words bind(0, 1) {NonWritable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>
  spirv.GlobalVariable @y bind(0, 2) {NonReadable} :
      !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
  // MatmulPush: x_base, x_token_stride, weight_base, y_base, y_token_stride, num_tokens.
  spirv.GlobalVariable @pc : !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20]), Block>, PushConstant>

  spirv.GlobalVariable @workgroup_id built_in("WorkgroupId") : !spirv.ptr<vector<3xi32>, Input>
  spirv.GlobalVariable @invocation_index built_in("LocalInvocationIndex") : !spirv.ptr<i32, Input>

  // 64 rows x 40 halves each; the fp32 staging is 16 x 16 per subgroup.
  spirv.GlobalVariable @x_hi : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>
  spirv.GlobalVariable @x_lo : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>
  spirv.GlobalVariable @w_tile : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>
  spirv.GlobalVariable @subgroup_max : !spirv.ptr<!spirv.array<4 x f32>, Workgroup>
  spirv.GlobalVariable @token_scale : !spirv.ptr<!spirv.array<64 x f32>, Workgroup>
  spirv.GlobalVariable @staging : !spirv.ptr<!spirv.array<1024 x f32>, Workgroup>

  spirv.SpecConstant @K spec_id(0) = 32 : i32
  spirv.SpecConstant @N spec_id(1) = 64 : i32
  spirv.SpecConstant @SOFTCAP spec_id(2) = 0.0 : f32

  // The power of two s that brings magnitudes up to `largest` into fp16's
  // range, and 1 / s: s = 2^(e - 15) for largest in [2^e, 2^(e+1)), so every
  // |value / s| < 2^16 (truncated to fp16's 11 bits it is at most 65504); s = 1
  // where largest is not a normal float above 2^-112 (zero, tiny, inf, NaN:
  // nothing to gain, or nothing to save).
  spirv.func @scale_of(%largest : f32) -> vector<2xf32> "None" {
    %c15 = spirv.Constant 15 : i32
    %c16 = spirv.Constant 16 : i32
    %c23 = spirv.Constant 23 : i32
    %c254 = spirv.Constant 254 : i32
    %c255 = spirv.Constant 255 : i32
    %c269 = spirv.Constant 269 : i32
    %f1 = spirv.Constant 1.0 : f32
    %bits = spirv.Bitcast %largest : f32 to i32
    %exponent_field = spirv.ShiftRightLogical %bits, %c23 : i32, i32
    %biased = spirv.BitwiseAnd %exponent_field, %c255 : i32
    %not_tiny = spirv.UGreaterThanEqual %biased, %c16 : i32
    %finite = spirv.ULessThanEqual %biased, %c254 : i32
    %scalable = spirv.LogicalAnd %not_tiny, %finite : i1
    %scale_biased = spirv.ISub %biased, %c15 : i32
    %inverse_biased = spirv.ISub %c269, %biased : i32
    %scale_bits = spirv.ShiftLeftLogical %scale_biased, %c23 : i32, i32
    %inverse_bits = spirv.ShiftLeftLogical %inverse_biased, %c23 : i32, i32
    %scale_raw = spirv.Bitcast %scale_bits : i32 to f32
    %inverse_raw = spirv.Bitcast %inverse_bits : i32 to f32
    %scale = spirv.Select %scalable, %scale_raw, %f1 : i1, f32
    %inverse = spirv.Select %scalable, %inverse_raw, %f1 : i1, f32
    %pair = spirv.CompositeConstruct %scale, %inverse : (f32, f32) -> vector<2xf32>
    spirv.ReturnValue %pair : vector<2xf32>
  }

  spirv.func @main() "None" {
    %c0 = spirv.Constant 0 : i32
    %c1 = spirv.Constant 1 : i32
    %c2 = spirv.Constant 2 : i32
    %c3 = spirv.Constant 3 : i32
    %c4 = spirv.Constant 4 : i32
    %c5 = spirv.Constant 5 : i32
    %c8 = spirv.Constant 8 : i32
    %c15 = spirv.Constant 15 : i32
    %c16 = spirv.Constant 16 : i32
    %c31 = spirv.Constant 31 : i32
    %c32 = spirv.Constant 32 : i32
    %c40 = spirv.Constant 40 : i32
    %c64 = spirv.Constant 64 : i32
    %c96 = spirv.Constant 96 : i32
    %c128 = spirv.Constant 128 : i32
    %c256 = spirv.Constant 256 : i32
    %high_half = spirv.Constant -65536 : i32
    %fp16_significand = spirv.Constant -8192 : i32
    %f0 = spirv.Constant 0.0 : f32
    %f1 = spirv.Constant 1.0 : f32
    %f15 = spirv.Constant 15.0 : f32
    %fm15 = spirv.Constant -15.0 : f32
    %zero_acc = spirv.CompositeConstruct %f0 : (f32) -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>

    %K = spirv.mlir.referenceof @K : i32
    %N = spirv.mlir.referenceof @N : i32
    %softcap = spirv.mlir.referenceof @SOFTCAP : f32
    %words_per_row = spirv.ShiftRightLogical %K, %c1 : i32, i32

    %pc = spirv.mlir.addressof @pc : !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20]), Block>, PushConstant>
    %pc_x_base = spirv.AccessChain %pc[%c0] : !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20]), Block>, PushConstant>, i32 -> !spirv.ptr<i32, PushConstant>
    %x_base = spirv.Load "PushConstant" %pc_x_base : i32
    %pc_x_stride = spirv.AccessChain %pc[%c1] : !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20]), Block>, PushConstant>, i32 -> !spirv.ptr<i32, PushConstant>
    %x_stride = spirv.Load "PushConstant" %pc_x_stride : i32
    %pc_w_base = spirv.AccessChain %pc[%c2] : !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20]), Block>, PushConstant>, i32 -> !spirv.ptr<i32, PushConstant>
    %w_base = spirv.Load "PushConstant" %pc_w_base : i32
    %pc_y_base = spirv.AccessChain %pc[%c3] : !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20]), Block>, PushConstant>, i32 -> !spirv.ptr<i32, PushConstant>
    %y_base = spirv.Load "PushConstant" %pc_y_base : i32
    %pc_y_stride = spirv.AccessChain %pc[%c4] : !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20]), Block>, PushConstant>, i32 -> !spirv.ptr<i32, PushConstant>
    %y_stride = spirv.Load "PushConstant" %pc_y_stride : i32
    %pc_tokens = spirv.AccessChain %pc[%c5] : !spirv.ptr<!spirv.struct<(i32 [0], i32 [4], i32 [8], i32 [12], i32 [16], i32 [20]), Block>, PushConstant>, i32 -> !spirv.ptr<i32, PushConstant>
    %num_tokens = spirv.Load "PushConstant" %pc_tokens : i32

    %wg_ptr = spirv.mlir.addressof @workgroup_id : !spirv.ptr<vector<3xi32>, Input>
    %wg = spirv.Load "Input" %wg_ptr : vector<3xi32>
    %wg_x = spirv.CompositeExtract %wg[0 : i32] : vector<3xi32>
    %wg_y = spirv.CompositeExtract %wg[1 : i32] : vector<3xi32>
    %first_row = spirv.IMul %wg_x, %c64 : i32
    %first_token = spirv.IMul %wg_y, %c64 : i32
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %subgroup = spirv.ShiftRightLogical %invocation, %c5 : i32, i32
    %lane = spirv.BitwiseAnd %invocation, %c31 : i32
    // This subgroup's quarter of the tile: tokens sub_token.., rows sub_row..
    %sub_token_half = spirv.ShiftRightLogical %subgroup, %c1 : i32, i32
    %sub_token = spirv.IMul %sub_token_half, %c32 : i32
    %sub_row_half = spirv.BitwiseAnd %subgroup, %c1 : i32
    %sub_row = spirv.IMul %sub_row_half, %c32 : i32

    // What each invocation stages: x elements (token i/32 + 4j, column i%32),
    // W words (row i/16 + 8j, word i%16).
    %x_column = spirv.BitwiseAnd %invocation, %c31 : i32
    %x_first_line = spirv.ShiftRightLogical %invocation, %c5 : i32, i32
    %w_word = spirv.BitwiseAnd %invocation, %c15 : i32
    %w_first_line = spirv.ShiftRightLogical %invocation, %c4 : i32, i32

    %x_buffer = spirv.mlir.addressof @x : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
    %w_buffer = spirv.mlir.addressof @weight_words : !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>
    %y_buffer = spirv.mlir.addressof @y : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
    %x_hi = spirv.mlir.addressof @x_hi : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>
    %x_lo = spirv.mlir.addressof @x_lo : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>
    %w_tile = spirv.mlir.addressof @w_tile : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>
    %subgroup_max = spirv.mlir.addressof @subgroup_max : !spirv.ptr<!spirv.array<4 x f32>, Workgroup>
    %token_scale = spirv.mlir.addressof @token_scale : !spirv.ptr<!spirv.array<64 x f32>, Workgroup>
    %staging = spirv.mlir.addressof @staging : !spirv.ptr<!spirv.array<1024 x f32>, Workgroup>

    %x_values = spirv.Variable : !spirv.ptr<!spirv.array<16 x f32>, Function>
    %x_inverse = spirv.Variable : !spirv.ptr<!spirv.array<16 x f32>, Function>
    %acc = spirv.Variable : !spirv.ptr<!spirv.array<4 x !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>>, Function>
    %step = spirv.Variable : !spirv.ptr<!spirv.array<4 x !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>>, Function>
    %local_max = spirv.Variable : !spirv.ptr<f32, Function>
    %w_local_max = spirv.Variable : !spirv.ptr<f32, Function>
    %w_words = spirv.Variable : !spirv.ptr<!spirv.array<8 x i32>, Function>
    // What a guarded load yields (0 past the last token / row).
    %value = spirv.Variable : !spirv.ptr<f32, Function>
    %word = spirv.Variable : !spirv.ptr<i32, Function>

    // acc[i] = 0 for the four accumulators (i = 2 * token half + row half).
    spirv.mlir.loop {
      spirv.Branch ^header(%c0 : i32)
    ^header(%i : i32):
      %more = spirv.ULessThan %i, %c4 : i32
      spirv.BranchConditional %more, ^body, ^merge
    ^body:
      %slot = spirv.AccessChain %acc[%i] : !spirv.ptr<!spirv.array<4 x !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>>, Function>, i32 -> !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
      spirv.Store "Function" %slot, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
      %next = spirv.IAdd %i, %c1 : i32
      spirv.Branch ^header(%next : i32)
    ^merge:
      spirv.mlir.merge
    }

    // Each token's scale s_t (@scale_of) from its largest |x| over all of K:
    // subgroup g takes tokens g, g + 4, ..., its lanes strided along the row.
    spirv.mlir.loop {
      spirv.Branch ^header(%c0 : i32)
    ^header(%i : i32):
      %more_t = spirv.ULessThan %i, %c16 : i32
      spirv.BranchConditional %more_t, ^body, ^merge
    ^body:
      %t_step = spirv.IMul %i, %c4 : i32
      %t_line = spirv.IAdd %subgroup, %t_step : i32
      %t_token = spirv.IAdd %first_token, %t_line : i32
      %t_in_range = spirv.ULessThan %t_token, %num_tokens : i32
      spirv.Store "Function" %local_max, %f0 : f32
      spirv.mlir.selection {
        spirv.BranchConditional %t_in_range, ^scan, ^merge
      ^scan:
        %t_row_start = spirv.IMul %t_token, %x_stride : i32
        %t_at_row = spirv.IAdd %x_base, %t_row_start : i32
        spirv.mlir.loop {
          spirv.Branch ^header(%lane : i32)
        ^header(%c : i32):
          %more_c = spirv.ULessThan %c, %K : i32
          spirv.BranchConditional %more_c, ^body, ^merge
        ^body:
          // Four loads in flight per lane; a column past K reads column c (in the
          // row) and counts as 0.
          %c_inside0 = spirv.ULessThan %c, %K : i32
          %c_safe0 = spirv.Select %c_inside0, %c, %c : i1, i32
          %c_at0 = spirv.IAdd %t_at_row, %c_safe0 : i32
          %c_ptr0 = spirv.AccessChain %x_buffer[%c0, %c_at0] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
          %c_value0 = spirv.Load "StorageBuffer" %c_ptr0 : f32
          %c_abs0 = spirv.GL.FAbs %c_value0 : f32
          %c_magnitude0 = spirv.Select %c_inside0, %c_abs0, %f0 : i1, f32
          %c_column1 = spirv.IAdd %c, %c32 : i32
          %c_inside1 = spirv.ULessThan %c_column1, %K : i32
          %c_safe1 = spirv.Select %c_inside1, %c_column1, %c : i1, i32
          %c_at1 = spirv.IAdd %t_at_row, %c_safe1 : i32
          %c_ptr1 = spirv.AccessChain %x_buffer[%c0, %c_at1] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
          %c_value1 = spirv.Load "StorageBuffer" %c_ptr1 : f32
          %c_abs1 = spirv.GL.FAbs %c_value1 : f32
          %c_magnitude1 = spirv.Select %c_inside1, %c_abs1, %f0 : i1, f32
          %c_column2 = spirv.IAdd %c, %c64 : i32
          %c_inside2 = spirv.ULessThan %c_column2, %K : i32
          %c_safe2 = spirv.Select %c_inside2, %c_column2, %c : i1, i32
          %c_at2 = spirv.IAdd %t_at_row, %c_safe2 : i32
          %c_ptr2 = spirv.AccessChain %x_buffer[%c0, %c_at2] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
          %c_value2 = spirv.Load "StorageBuffer" %c_ptr2 : f32
          %c_abs2 = spirv.GL.FAbs %c_value2 : f32
          %c_magnitude2 = spirv.Select %c_inside2, %c_abs2, %f0 : i1, f32
          %c_column3 = spirv.IAdd %c, %c96 : i32
          %c_inside3 = spirv.ULessThan %c_column3, %K : i32
          %c_safe3 = spirv.Select %c_inside3, %c_column3, %c : i1, i32
          %c_at3 = spirv.IAdd %t_at_row, %c_safe3 : i32
          %c_ptr3 = spirv.AccessChain %x_buffer[%c0, %c_at3] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
          %c_value3 = spirv.Load "StorageBuffer" %c_ptr3 : f32
          %c_abs3 = spirv.GL.FAbs %c_value3 : f32
          %c_magnitude3 = spirv.Select %c_inside3, %c_abs3, %f0 : i1, f32
          %c_max01 = spirv.GL.FMax %c_magnitude0, %c_magnitude1 : f32
          %c_max23 = spirv.GL.FMax %c_magnitude2, %c_magnitude3 : f32
          %c_max = spirv.GL.FMax %c_max01, %c_max23 : f32
          %c_so_far = spirv.Load "Function" %local_max : f32
          %c_larger = spirv.GL.FMax %c_so_far, %c_max : f32
          spirv.Store "Function" %local_max, %c_larger : f32
          %next_c = spirv.IAdd %c, %c128 : i32
          spirv.Branch ^header(%next_c : i32)
        ^merge:
          spirv.mlir.merge
        }
        spirv.Branch ^merge
      ^merge:
        spirv.mlir.merge
      }
      %t_mine = spirv.Load "Function" %local_max : f32
      %t_largest = spirv.GroupNonUniformFMax <Subgroup> <Reduce> %t_mine : f32 -> f32
      %t_scales = spirv.FunctionCall @scale_of(%t_largest) : (f32) -> vector<2xf32>
      %t_scale = spirv.CompositeExtract %t_scales[0 : i32] : vector<2xf32>
      %t_first_lane = spirv.IEqual %lane, %c0 : i32
      spirv.mlir.selection {
        spirv.BranchConditional %t_first_lane, ^publish, ^merge
      ^publish:
        %t_ptr = spirv.AccessChain %token_scale[%t_line] : !spirv.ptr<!spirv.array<64 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
        spirv.Store "Workgroup" %t_ptr, %t_scale : f32
        spirv.Branch ^merge
      ^merge:
        spirv.mlir.merge
      }
      %next_t = spirv.IAdd %i, %c1 : i32
      spirv.Branch ^header(%next_t : i32)
    ^merge:
      spirv.mlir.merge
    }
    spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>
    // 1 / s_t of the 16 tokens this invocation stages (exact: powers of two).
    spirv.mlir.loop {
      spirv.Branch ^header(%c0 : i32)
    ^header(%j : i32):
      %more_j = spirv.ULessThan %j, %c16 : i32
      spirv.BranchConditional %more_j, ^body, ^merge
    ^body:
      %j_step = spirv.IMul %j, %c4 : i32
      %j_line = spirv.IAdd %x_first_line, %j_step : i32
      %j_ptr = spirv.AccessChain %token_scale[%j_line] : !spirv.ptr<!spirv.array<64 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
      %j_scale = spirv.Load "Workgroup" %j_ptr : f32
      %j_inverse = spirv.FDiv %f1, %j_scale : f32
      %j_slot = spirv.AccessChain %x_inverse[%j] : !spirv.ptr<!spirv.array<16 x f32>, Function>, i32 -> !spirv.ptr<f32, Function>
      spirv.Store "Function" %j_slot, %j_inverse : f32
      %next_j = spirv.IAdd %j, %c1 : i32
      spirv.Branch ^header(%next_j : i32)
    ^merge:
      spirv.mlir.merge
    }

    // One step per 32 columns of k.
    spirv.mlir.loop {
      spirv.Branch ^header(%c0 : i32)
    ^header(%k0 : i32):
      %more = spirv.ULessThan %k0, %K : i32
      spirv.BranchConditional %more, ^body, ^merge
    ^body:
      // (1) Load this invocation's 16 x elements (0 past the last token) and
      // keep their largest magnitude; convert its 8 W words to fp16 in place.
      spirv.Store "Function" %w_local_max, %f0 : f32
      spirv.mlir.loop {
        spirv.Branch ^header(%c0 : i32)
      ^header(%j : i32):
        %more_x = spirv.ULessThan %j, %c16 : i32
        spirv.BranchConditional %more_x, ^body, ^merge
      ^body:
        %line_step = spirv.IMul %j, %c4 : i32
        %line = spirv.IAdd %x_first_line, %line_step : i32
        %token = spirv.IAdd %first_token, %line : i32
        %in_range = spirv.ULessThan %token, %num_tokens : i32
        spirv.Store "Function" %value, %f0 : f32
        spirv.mlir.selection {
          spirv.BranchConditional %in_range, ^load, ^merge
        ^load:
          %row_start = spirv.IMul %token, %x_stride : i32
          %at_row = spirv.IAdd %x_base, %row_start : i32
          %at_step = spirv.IAdd %at_row, %k0 : i32
          %at = spirv.IAdd %at_step, %x_column : i32
          %x_ptr = spirv.AccessChain %x_buffer[%c0, %at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
          %loaded = spirv.Load "StorageBuffer" %x_ptr : f32
          spirv.Store "Function" %value, %loaded : f32
          spirv.Branch ^merge
        ^merge:
          spirv.mlir.merge
        }
        %v = spirv.Load "Function" %value : f32
        %slot = spirv.AccessChain %x_values[%j] : !spirv.ptr<!spirv.array<16 x f32>, Function>, i32 -> !spirv.ptr<f32, Function>
        spirv.Store "Function" %slot, %v : f32
        %next = spirv.IAdd %j, %c1 : i32
        spirv.Branch ^header(%next : i32)
      ^merge:
        spirv.mlir.merge
      }
      spirv.mlir.loop {
        spirv.Branch ^header(%c0 : i32)
      ^header(%j : i32):
        %more_w = spirv.ULessThan %j, %c8 : i32
        spirv.BranchConditional %more_w, ^body, ^merge
      ^body:
        %line_step = spirv.IMul %j, %c8 : i32
        %line = spirv.IAdd %w_first_line, %line_step : i32
        %row = spirv.IAdd %first_row, %line : i32
        %in_range = spirv.ULessThan %row, %N : i32
        spirv.Store "Function" %word, %c0 : i32
        spirv.mlir.selection {
          spirv.BranchConditional %in_range, ^load, ^merge
        ^load:
          %row_start = spirv.IMul %row, %words_per_row : i32
          %at_row = spirv.IAdd %w_base, %row_start : i32
          %step_word = spirv.ShiftRightLogical %k0, %c1 : i32, i32
          %at_step = spirv.IAdd %at_row, %step_word : i32
          %at = spirv.IAdd %at_step, %w_word : i32
          %w_ptr = spirv.AccessChain %w_buffer[%c0, %at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<i32, StorageBuffer>
          %loaded = spirv.Load "StorageBuffer" %w_ptr : i32
          spirv.Store "Function" %word, %loaded : i32
          spirv.Branch ^merge
        ^merge:
          spirv.mlir.merge
        }
        %bits = spirv.Load "Function" %word : i32
        %word_slot = spirv.AccessChain %w_words[%j] : !spirv.ptr<!spirv.array<8 x i32>, Function>, i32 -> !spirv.ptr<i32, Function>
        spirv.Store "Function" %word_slot, %bits : i32
        %low_bits = spirv.ShiftLeftLogical %bits, %c16 : i32, i32
        %high_bits = spirv.BitwiseAnd %bits, %high_half : i32
        %low = spirv.Bitcast %low_bits : i32 to f32
        %high = spirv.Bitcast %high_bits : i32 to f32
        %low_magnitude = spirv.GL.FAbs %low : f32
        %high_magnitude = spirv.GL.FAbs %high : f32
        %pair_max = spirv.GL.FMax %low_magnitude, %high_magnitude : f32
        %so_far = spirv.Load "Function" %w_local_max : f32
        %larger = spirv.GL.FMax %so_far, %pair_max : f32
        spirv.Store "Function" %w_local_max, %larger : f32
        %next = spirv.IAdd %j, %c1 : i32
        spirv.Branch ^header(%next : i32)
      ^merge:
        spirv.mlir.merge
      }
      %w_mine = spirv.Load "Function" %w_local_max : f32
      %w_sub_max = spirv.GroupNonUniformFMax <Subgroup> <Reduce> %w_mine : f32 -> f32
      %is_first_lane = spirv.IEqual %lane, %c0 : i32
      spirv.mlir.selection {
        spirv.BranchConditional %is_first_lane, ^publish, ^merge
      ^publish:
        %w_max_ptr = spirv.AccessChain %subgroup_max[%subgroup] : !spirv.ptr<!spirv.array<4 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
        spirv.Store "Workgroup" %w_max_ptr, %w_sub_max : f32
        spirv.Branch ^merge
      ^merge:
        spirv.mlir.merge
      }
      spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>

      // (2) W's tile scale s_w from its four subgroups' largest; x split into
      // hi + lo under each token's scale, W to fp16 under s_w.
      %m0_ptr = spirv.AccessChain %subgroup_max[%c0] : !spirv.ptr<!spirv.array<4 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
      %m1_ptr = spirv.AccessChain %subgroup_max[%c1] : !spirv.ptr<!spirv.array<4 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
      %m2_ptr = spirv.AccessChain %subgroup_max[%c2] : !spirv.ptr<!spirv.array<4 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
      %m3_ptr = spirv.AccessChain %subgroup_max[%c3] : !spirv.ptr<!spirv.array<4 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
      %m0 = spirv.Load "Workgroup" %m0_ptr : f32
      %m1 = spirv.Load "Workgroup" %m1_ptr : f32
      %m2 = spirv.Load "Workgroup" %m2_ptr : f32
      %m3 = spirv.Load "Workgroup" %m3_ptr : f32
      %m01 = spirv.GL.FMax %m0, %m1 : f32
      %m23 = spirv.GL.FMax %m2, %m3 : f32
      %w_largest = spirv.GL.FMax %m01, %m23 : f32
      %w_scales = spirv.FunctionCall @scale_of(%w_largest) : (f32) -> vector<2xf32>
      %scale = spirv.CompositeExtract %w_scales[0 : i32] : vector<2xf32>
      %w_inverse = spirv.CompositeExtract %w_scales[1 : i32] : vector<2xf32>
      spirv.mlir.loop {
        spirv.Branch ^header(%c0 : i32)
      ^header(%j : i32):
        %more_x = spirv.ULessThan %j, %c16 : i32
        spirv.BranchConditional %more_x, ^body, ^merge
      ^body:
        %slot = spirv.AccessChain %x_values[%j] : !spirv.ptr<!spirv.array<16 x f32>, Function>, i32 -> !spirv.ptr<f32, Function>
        %v = spirv.Load "Function" %slot : f32
        %inverse_slot = spirv.AccessChain %x_inverse[%j] : !spirv.ptr<!spirv.array<16 x f32>, Function>, i32 -> !spirv.ptr<f32, Function>
        %inverse = spirv.Load "Function" %inverse_slot : f32
        %scaled = spirv.FMul %v, %inverse : f32
        // hi: the scaled value cut to fp16's 11 significant bits with integer
        // operations (so no compiler may keep it wider), exact in fp16; lo: the
        // exact remainder, rounded to fp16.
        %scaled_bits = spirv.Bitcast %scaled : f32 to i32
        %hi_bits = spirv.BitwiseAnd %scaled_bits, %fp16_significand : i32
        %hi_wide = spirv.Bitcast %hi_bits : i32 to f32
        %hi = spirv.FConvert %hi_wide : f32 to f16
        %rest = spirv.FSub %scaled, %hi_wide : f32
        %lo = spirv.FConvert %rest : f32 to f16
        %line_step = spirv.IMul %j, %c4 : i32
        %line = spirv.IAdd %x_first_line, %line_step : i32
        %line_at = spirv.IMul %line, %c40 : i32
        %at = spirv.IAdd %line_at, %x_column : i32
        %hi_ptr = spirv.AccessChain %x_hi[%at] : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>, i32 -> !spirv.ptr<f16, Workgroup>
        spirv.Store "Workgroup" %hi_ptr, %hi : f16
        %lo_ptr = spirv.AccessChain %x_lo[%at] : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>, i32 -> !spirv.ptr<f16, Workgroup>
        spirv.Store "Workgroup" %lo_ptr, %lo : f16
        %next = spirv.IAdd %j, %c1 : i32
        spirv.Branch ^header(%next : i32)
      ^merge:
        spirv.mlir.merge
      }
      spirv.mlir.loop {
        spirv.Branch ^header(%c0 : i32)
      ^header(%j : i32):
        %more_w = spirv.ULessThan %j, %c8 : i32
        spirv.BranchConditional %more_w, ^body, ^merge
      ^body:
        %word_slot = spirv.AccessChain %w_words[%j] : !spirv.ptr<!spirv.array<8 x i32>, Function>, i32 -> !spirv.ptr<i32, Function>
        %bits = spirv.Load "Function" %word_slot : i32
        %low_bits = spirv.ShiftLeftLogical %bits, %c16 : i32, i32
        %high_bits = spirv.BitwiseAnd %bits, %high_half : i32
        %low = spirv.Bitcast %low_bits : i32 to f32
        %high = spirv.Bitcast %high_bits : i32 to f32
        %low_scaled = spirv.FMul %low, %w_inverse : f32
        %high_scaled = spirv.FMul %high, %w_inverse : f32
        %low_half = spirv.FConvert %low_scaled : f32 to f16
        %high_halfv = spirv.FConvert %high_scaled : f32 to f16
        %line_step = spirv.IMul %j, %c8 : i32
        %line = spirv.IAdd %w_first_line, %line_step : i32
        %line_at = spirv.IMul %line, %c40 : i32
        %pair = spirv.IMul %w_word, %c2 : i32
        %at_low = spirv.IAdd %line_at, %pair : i32
        %at_high = spirv.IAdd %at_low, %c1 : i32
        %low_ptr = spirv.AccessChain %w_tile[%at_low] : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>, i32 -> !spirv.ptr<f16, Workgroup>
        spirv.Store "Workgroup" %low_ptr, %low_half : f16
        %high_ptr = spirv.AccessChain %w_tile[%at_high] : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>, i32 -> !spirv.ptr<f16, Workgroup>
        spirv.Store "Workgroup" %high_ptr, %high_halfv : f16
        %next = spirv.IAdd %j, %c1 : i32
        spirv.Branch ^header(%next : i32)
      ^merge:
        spirv.mlir.merge
      }
      spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>

      // (3) step = sum over the two 16-column halves of (hi + lo) * W for each
      // accumulator, then acc += step * s.
      spirv.mlir.loop {
        spirv.Branch ^header(%c0 : i32)
      ^header(%i : i32):
        %more_i = spirv.ULessThan %i, %c4 : i32
        spirv.BranchConditional %more_i, ^body, ^merge
      ^body:
        %slot = spirv.AccessChain %step[%i] : !spirv.ptr<!spirv.array<4 x !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>>, Function>, i32 -> !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
        spirv.Store "Function" %slot, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
        %next = spirv.IAdd %i, %c1 : i32
        spirv.Branch ^header(%next : i32)
      ^merge:
        spirv.mlir.merge
      }
      spirv.mlir.loop {
        spirv.Branch ^header(%c0 : i32)
      ^header(%kk : i32):
        %more_k = spirv.ULessThan %kk, %c32 : i32
        spirv.BranchConditional %more_k, ^body, ^merge
      ^body:
        spirv.mlir.loop {
          spirv.Branch ^header(%c0 : i32)
        ^header(%i : i32):
          %more_i = spirv.ULessThan %i, %c4 : i32
          spirv.BranchConditional %more_i, ^body, ^merge
        ^body:
          %token_half = spirv.ShiftRightLogical %i, %c1 : i32, i32
          %row_half = spirv.BitwiseAnd %i, %c1 : i32
          %token_offset = spirv.IMul %token_half, %c16 : i32
          %row_offset = spirv.IMul %row_half, %c16 : i32
          %a_line = spirv.IAdd %sub_token, %token_offset : i32
          %b_line = spirv.IAdd %sub_row, %row_offset : i32
          %a_line_at = spirv.IMul %a_line, %c40 : i32
          %b_line_at = spirv.IMul %b_line, %c40 : i32
          %a_at = spirv.IAdd %a_line_at, %kk : i32
          %b_at = spirv.IAdd %b_line_at, %kk : i32
          %hi_ptr = spirv.AccessChain %x_hi[%a_at] : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>, i32 -> !spirv.ptr<f16, Workgroup>
          %lo_ptr = spirv.AccessChain %x_lo[%a_at] : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>, i32 -> !spirv.ptr<f16, Workgroup>
          %b_ptr = spirv.AccessChain %w_tile[%b_at] : !spirv.ptr<!spirv.array<2560 x f16>, Workgroup>, i32 -> !spirv.ptr<f16, Workgroup>
          %a_hi = spirv.KHR.CooperativeMatrixLoad %hi_ptr, %c40, <RowMajor> : !spirv.ptr<f16, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
          %a_lo = spirv.KHR.CooperativeMatrixLoad %lo_ptr, %c40, <RowMajor> : !spirv.ptr<f16, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
          %b = spirv.KHR.CooperativeMatrixLoad %b_ptr, %c40, <ColumnMajor> : !spirv.ptr<f16, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB>
          %slot = spirv.AccessChain %step[%i] : !spirv.ptr<!spirv.array<4 x !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>>, Function>, i32 -> !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
          %sum = spirv.Load "Function" %slot : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
          %with_hi = spirv.KHR.CooperativeMatrixMulAdd %a_hi, %b, %sum : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
          %with_lo = spirv.KHR.CooperativeMatrixMulAdd %a_lo, %b, %with_hi : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
          spirv.Store "Function" %slot, %with_lo : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
          %next = spirv.IAdd %i, %c1 : i32
          spirv.Branch ^header(%next : i32)
        ^merge:
          spirv.mlir.merge
        }
        %next_k = spirv.IAdd %kk, %c16 : i32
        spirv.Branch ^header(%next_k : i32)
      ^merge:
        spirv.mlir.merge
      }
      spirv.mlir.loop {
        spirv.Branch ^header(%c0 : i32)
      ^header(%i : i32):
        %more_i = spirv.ULessThan %i, %c4 : i32
        spirv.BranchConditional %more_i, ^body, ^merge
      ^body:
        %step_slot = spirv.AccessChain %step[%i] : !spirv.ptr<!spirv.array<4 x !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>>, Function>, i32 -> !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
        %acc_slot = spirv.AccessChain %acc[%i] : !spirv.ptr<!spirv.array<4 x !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>>, Function>, i32 -> !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
        %partial = spirv.Load "Function" %step_slot : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
        %total = spirv.Load "Function" %acc_slot : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
        %rescaled = spirv.MatrixTimesScalar %partial, %scale : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, f32
        %updated = spirv.FAdd %total, %rescaled : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
        spirv.Store "Function" %acc_slot, %updated : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
        %next = spirv.IAdd %i, %c1 : i32
        spirv.Branch ^header(%next : i32)
      ^merge:
        spirv.mlir.merge
      }
      // The next step overwrites the tiles this one read.
      spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>
      %next_k0 = spirv.IAdd %k0, %c32 : i32
      spirv.Branch ^header(%next_k0 : i32)
    ^merge:
      spirv.mlir.merge
    }

    // (4) Write out: each accumulator through this subgroup's 16 x 16 staging,
    // lanes writing neighbouring rows of y; rows past N, tokens past the chunk
    // are dropped; SOFTCAP as softcap.glsl has it.
    %staging_base = spirv.IMul %subgroup, %c256 : i32
    %staging_ptr = spirv.AccessChain %staging[%staging_base] : !spirv.ptr<!spirv.array<1024 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
    %apply_softcap = spirv.FOrdGreaterThan %softcap, %f0 : f32
    spirv.mlir.loop {
      spirv.Branch ^header(%c0 : i32)
    ^header(%i : i32):
      %more = spirv.ULessThan %i, %c4 : i32
      spirv.BranchConditional %more, ^body, ^merge
    ^body:
      %acc_slot = spirv.AccessChain %acc[%i] : !spirv.ptr<!spirv.array<4 x !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>>, Function>, i32 -> !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
      %total = spirv.Load "Function" %acc_slot : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
      spirv.KHR.CooperativeMatrixStore %staging_ptr, %total, %c16, <RowMajor> : !spirv.ptr<f32, Workgroup>, !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, i32
      spirv.ControlBarrier <Subgroup>, <Subgroup>, <AcquireRelease|WorkgroupMemory>
      %token_half = spirv.ShiftRightLogical %i, %c1 : i32, i32
      %row_half = spirv.BitwiseAnd %i, %c1 : i32
      %token_offset = spirv.IMul %token_half, %c16 : i32
      %row_offset = spirv.IMul %row_half, %c16 : i32
      %tile_token_local = spirv.IAdd %sub_token, %token_offset : i32
      %tile_row_local = spirv.IAdd %sub_row, %row_offset : i32
      %tile_token = spirv.IAdd %first_token, %tile_token_local : i32
      %tile_row = spirv.IAdd %first_row, %tile_row_local : i32
      spirv.mlir.loop {
        spirv.Branch ^header(%c0 : i32)
      ^header(%j : i32):
        %more_e = spirv.ULessThan %j, %c8 : i32
        spirv.BranchConditional %more_e, ^body, ^merge
      ^body:
        %e_step = spirv.IMul %j, %c32 : i32
        %e = spirv.IAdd %lane, %e_step : i32
        %r = spirv.ShiftRightLogical %e, %c4 : i32, i32
        %c = spirv.BitwiseAnd %e, %c15 : i32
        %token = spirv.IAdd %tile_token, %r : i32
        %row = spirv.IAdd %tile_row, %c : i32
        %token_ok = spirv.ULessThan %token, %num_tokens : i32
        %row_ok = spirv.ULessThan %row, %N : i32
        %inside = spirv.LogicalAnd %token_ok, %row_ok : i1
        spirv.mlir.selection {
          spirv.BranchConditional %inside, ^write, ^merge
        ^write:
          %s_at = spirv.IAdd %staging_base, %e : i32
          %s_ptr = spirv.AccessChain %staging[%s_at] : !spirv.ptr<!spirv.array<1024 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
          %unscaled = spirv.Load "Workgroup" %s_ptr : f32
          %token_local = spirv.IAdd %tile_token_local, %r : i32
          %ts_ptr = spirv.AccessChain %token_scale[%token_local] : !spirv.ptr<!spirv.array<64 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
          %token_s = spirv.Load "Workgroup" %ts_ptr : f32
          %v = spirv.FMul %unscaled, %token_s : f32
          %divided = spirv.FDiv %v, %softcap : f32
          %clamped = spirv.GL.FClamp %divided, %fm15, %f15 : f32
          %bent = spirv.GL.Tanh %clamped : f32
          %capped = spirv.FMul %softcap, %bent : f32
          %out = spirv.Select %apply_softcap, %capped, %v : i1, f32
          %y_row = spirv.IMul %token, %y_stride : i32
          %y_at_row = spirv.IAdd %y_base, %y_row : i32
          %y_at = spirv.IAdd %y_at_row, %row : i32
          %y_ptr = spirv.AccessChain %y_buffer[%c0, %y_at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
          spirv.Store "StorageBuffer" %y_ptr, %out : f32
          spirv.Branch ^merge
        ^merge:
          spirv.mlir.merge
        }
        %next_e = spirv.IAdd %j, %c1 : i32
        spirv.Branch ^header(%next_e : i32)
      ^merge:
        spirv.mlir.merge
      }
      // The next accumulator reuses the staging.
      spirv.ControlBarrier <Subgroup>, <Subgroup>, <AcquireRelease|WorkgroupMemory>
      %next = spirv.IAdd %i, %c1 : i32
      spirv.Branch ^header(%next : i32)
    ^merge:
      spirv.mlir.merge
    }
    spirv.Return
  }
  spirv.EntryPoint "GLCompute" @main, @x, @weight_words, @y, @pc, @workgroup_id, @invocation_index, @x_hi, @x_lo, @w_tile, @subgroup_max, @token_scale, @staging
  spirv.ExecutionMode @main "LocalSize", 128, 1, 1
}
