// The frame of the prefill products on cooperative-matrix units
// (matmul_bf16_coop.mlir, matmul_quant_coop.mlir): not a module of its own,
// it is expanded into theirs at their include line when Unicorn is built
// (codegen_spirv/expand_kernel_includes.cmake).
//   y[t, n] = sum_k x[t, k] * W[n, k], float x, fp16 products into fp32.
//
// Precision. The units multiply fp16 and accumulate in fp32, and fp16 has
// neither bf16's nor fp32's range (Gemma's activations exceed it). So values
// are scaled by powers of two (exact; @scale_of) into fp16's range: each
// token's row of x by a scale s_t from its largest |x| over all of K, each row
// of W by s_n from a bound on its |w| (the kernel's). x / s_t is split into
// hi + lo, two fp16 values, and the tile accumulates (hi + lo) * W', so
// y = acc * s_t * s_n. That keeps ~21 bits of every x within 2^19 of its
// token's largest (lo stays a normal fp16; units may flush subnormal inputs to
// zero): about float32's accuracy, at twice the matrix work of a plain fp16
// product. Products stay below 2^32 and their sums below 2^47, far inside fp32.
//
// Work. A workgroup is 8 subgroups of 32 invocations (the runtime chooses these
// kernels only where subgroups have 32 invocations) computing a tile of 128
// tokens x 128 rows of y: a quarter of the grid's workgroups, since the grid is
// the shader-core kernels' (64 x 64 tiles: the two are chosen between when a
// bundle is opened); the others return at once. A step of 32 columns of K
// reads 16 KiB of x (and the kernel's W) for 128 x 128 x 32 multiply-adds: half
// the cache traffic per multiply-add of 64 x 64 tiles, which bounded those
// (on an H200 the 27B widths' bf16 prefill went from 10.0 to 14.0 k tok/s).
// Half the workgroup on half the tile (4 subgroups, 128 tokens x 64 rows, two
// workgroups to a multiprocessor) was exact and much slower there: each
// invocation stages twice the x and holds 202-205 registers (482d9c9,
// reverted, bench/results/prefill-small-workgroups-h200-2026-12-04.json).
//   Order: the workgroups are renumbered so that consecutive ones take the
//   same 128 rows of W for successive token tiles: those running together
//   share W's rows through the cache, each row is read from memory about once,
//   and x (a chunk of at most a few thousand tokens) stays cached.
//   Scales: each token's largest |x| over all of K comes from a dispatch
//   before, token_maxima.comp (binding @token_maxima; once for all of a
//   product's workgroups, where each of them used to read its tile's tokens
//   of x twice, an eighth to a fifth of a quantised product's time on an H200);
//   each row's bound on |w| over all of K from row_bounds.comp, which the
//   schedule's setup program runs once when the bundle is opened (binding
//   @row_bounds; each workgroup had read its 128 rows of W, or their scales,
//   once more for them: a seventh of a bf16 product's time). Every
//   invocation keeps 1 / scale for the 4 tokens (and the rows) it stages.
//   Steps: 32 columns of K at a time. An invocation holds its share of the
//   step (4 vec4 of x: token x_line + 32 j, columns 4 x_unit ..; its units of
//   W) in registers; it stages them, scaled and converted, into shared memory,
//   then issues the next step's loads, which arrive while the units multiply
//   this step's. Shared lines are 32 + 8 halves (10 vec4), so that 8
//   consecutive lines start on different banks.
//   Single-buffered on purpose: tiles double-buffered a half-step of 16
//   columns each (46080 B), staging one half beside the other's products
//   with one barrier a half-step, were exact and slower on an H200 (the 27B
//   widths' bf16 products 22.7 -> 25.6 ms a chunk, 30.5 with each half's
//   registers refilled as soon as staged; 189b88a, reverted,
//   bench/results/prefill-double-buffer-h200-2026-12-04.json).
//   Products: subgroup g owns tokens 64 (g / 4) .. +63 and rows 32 (g % 4) ..
//   +31 of the tile as 4 x 2 accumulators of 16 x 16; per 16 columns of k it
//   loads 2 W fragments and, one token fragment at a time, its hi and lo for
//   4 multiply-adds.
//   Columns past K, tokens past the chunk and rows past N stage as zeros;
//   their outputs are not written.
//   Split-K (SPLITS > 1, the entry point @main_split): workgroup z = s of a
//   tile takes the s-th of SPLITS runs of K's steps (its scales those of the
//   whole rows), writes its partial tile, times its scales, to @partials
//   and counts itself in @counts; the last to arrive adds the partials up in
//   split order and writes y (split_k.glsl's protocol, which the tiled kernels
//   share). Only @main_split's functions use those two bindings (and
//   @split_token_maxima and @split_row_bounds, their places after them), and the
//   compiler keeps a specialisation's own entry point alone
//   (spirv_entry_point.h), so the unsplit module binds what the unsplit tiled
//   kernel binds and the split one what the split tiled kernel binds.
//
// What the including module declares before the include line (SPIR-V wants
// variables declared before their use): the bindings @x (0: vec4 x), @y (2:
// float y) and split-K's @partials (float) and @counts (i32), both Coherent,
// at the tiled kernel's binding numbers; the tokens' maxima (float), after the
// tiled kernel's bindings, as @token_maxima (unsplit) and @split_token_maxima
// (after the partials and counts: a fallback ignores trailing bindings), and
// after them the rows' bounds (float) as @row_bounds and @split_row_bounds; the
// push constant block @pc
// (MatmulPush's members first: x_base, x_token_stride, the weights' base,
// y_base, y_token_stride, num_tokens) and
// the type alias !push_ptr of its pointer, the specialisation constants @K (a
// multiple of 32), @N, @SOFTCAP (float, 0.0 = off); after it, its weights' part:
//   @w_prepare()            after the scales: keep 1 / s_n of its rows
//   @w_fetch(first_row, k0) its units of W[.., k0 .. +31] into registers
//   @w_stage()              those units, scaled by 1 / s_n and converted to
//                           fp16, into @w_tile ([row][k], 10 vec4 a row)
// and the entry points @main and @main_split (LocalSize 256, 1, 1) with their
// interfaces (@main_split's with @partials and @counts). The frame declares
// SPLITS (default 1) itself.

  spirv.GlobalVariable @workgroup_id built_in("WorkgroupId") : !spirv.ptr<vector<3xi32>, Input>
  spirv.GlobalVariable @workgroup_count built_in("NumWorkgroups") : !spirv.ptr<vector<3xi32>, Input>
  spirv.GlobalVariable @invocation_index built_in("LocalInvocationIndex") : !spirv.ptr<i32, Input>
  spirv.SpecConstant @SPLITS spec_id(8) = 1 : i32

  // A step's tiles, 128 lines (tokens; rows of W) x 10 vec4 of fp16 each.
  spirv.GlobalVariable @x_hi : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
  spirv.GlobalVariable @x_lo : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
  spirv.GlobalVariable @w_tile : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
  spirv.GlobalVariable @token_scale : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>
  spirv.GlobalVariable @row_scale : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>
  // Each subgroup's 16 x 16 fp32 output staging (256 floats at 256 g).
  spirv.GlobalVariable @staging : !spirv.ptr<!spirv.array<2048 x f32>, Workgroup>

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

  // All ones where `inside`, else zero: ANDed into a loaded unit so that one
  // outside the tensor (loaded from a clamped, valid address) counts as 0.
  spirv.func @keep_mask(%inside : i1) -> vector<4xi32> "None" {
    %all = spirv.Constant -1 : i32
    %none = spirv.Constant 0 : i32
    %word = spirv.Select %inside, %all, %none : i1, i32
    %mask = spirv.CompositeConstruct %word, %word, %word, %word : (i32, i32, i32, i32) -> vector<4xi32>
    spirv.ReturnValue %mask : vector<4xi32>
  }

  // x[token, 4 unit .. +3] (unit counts vec4s along K), zeros past the chunk or K.
  spirv.func @x_unit(%token : i32, %unit : i32) -> vector<4xf32> "None" {
    %c0 = spirv.Constant 0 : i32
    %c1 = spirv.Constant 1 : i32
    %c2 = spirv.Constant 2 : i32
    %c5 = spirv.Constant 5 : i32
    %K = spirv.mlir.referenceof @K : i32
    %pc = spirv.mlir.addressof @pc : !push_ptr
    %base_ptr = spirv.AccessChain %pc[%c0] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
    %base = spirv.Load "PushConstant" %base_ptr : i32
    %stride_ptr = spirv.AccessChain %pc[%c1] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
    %stride = spirv.Load "PushConstant" %stride_ptr : i32
    %tokens_ptr = spirv.AccessChain %pc[%c5] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
    %num_tokens = spirv.Load "PushConstant" %tokens_ptr : i32
    %units_per_row = spirv.ShiftRightLogical %K, %c2 : i32, i32
    %token_inside = spirv.ULessThan %token, %num_tokens : i32
    %unit_inside = spirv.ULessThan %unit, %units_per_row : i32
    %inside = spirv.LogicalAnd %token_inside, %unit_inside : i1
    %last_token = spirv.ISub %num_tokens, %c1 : i32
    %safe_token = spirv.Select %token_inside, %token, %last_token : i1, i32
    %safe_unit = spirv.Select %unit_inside, %unit, %c0 : i1, i32
    %base_unit = spirv.ShiftRightLogical %base, %c2 : i32, i32
    %stride_units = spirv.ShiftRightLogical %stride, %c2 : i32, i32
    %row_units = spirv.IMul %safe_token, %stride_units : i32
    %row_at = spirv.IAdd %base_unit, %row_units : i32
    %at = spirv.IAdd %row_at, %safe_unit : i32
    %buffer = spirv.mlir.addressof @x : !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xf32>, stride=16> [0]), Block>, StorageBuffer>
    %ptr = spirv.AccessChain %buffer[%c0, %at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<vector<4xf32>, stride=16> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<vector<4xf32>, StorageBuffer>
    %loaded = spirv.Load "StorageBuffer" %ptr : vector<4xf32>
    %bits = spirv.Bitcast %loaded : vector<4xf32> to vector<4xi32>
    %mask = spirv.FunctionCall @keep_mask(%inside) : (i1) -> vector<4xi32>
    %kept = spirv.BitwiseAnd %bits, %mask : vector<4xi32>
    %value = spirv.Bitcast %kept : vector<4xi32> to vector<4xf32>
    spirv.ReturnValue %value : vector<4xf32>
  }

  // 1 / scale of a token (row) the invocation stages (exact: a power of two).
  spirv.func @inverse_scale(%table : i32, %line : i32) -> f32 "None" {
    %c0 = spirv.Constant 0 : i32
    %f1 = spirv.Constant 1.0 : f32
    %tokens = spirv.mlir.addressof @token_scale : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>
    %rows = spirv.mlir.addressof @row_scale : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>
    %token_ptr = spirv.AccessChain %tokens[%line] : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
    %row_ptr = spirv.AccessChain %rows[%line] : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
    %token_s = spirv.Load "Workgroup" %token_ptr : f32
    %row_s = spirv.Load "Workgroup" %row_ptr : f32
    %is_token = spirv.IEqual %table, %c0 : i32
    %s = spirv.Select %is_token, %token_s, %row_s : i1, f32
    %inverse = spirv.FDiv %f1, %s : f32
    spirv.ReturnValue %inverse : f32
  }

  // Stage an x unit at `at` (vec4 index of the tiles): scaled by 1 / s_t and
  // split into hi (cut to fp16's 11 significant bits with integer operations,
  // so that no compiler may keep it wider; exact in fp16) and lo (the exact
  // remainder, rounded to fp16).
  spirv.func @stage_x(%slot : !spirv.ptr<vector<4xf32>, Function>, %inverse : f32, %at : i32) "None" {
    %fp16_significand = spirv.Constant dense<-8192> : vector<4xi32>
    %values = spirv.Load "Function" %slot : vector<4xf32>
    %scaled = spirv.VectorTimesScalar %values, %inverse : (vector<4xf32>, f32) -> vector<4xf32>
    %bits = spirv.Bitcast %scaled : vector<4xf32> to vector<4xi32>
    %hi_bits = spirv.BitwiseAnd %bits, %fp16_significand : vector<4xi32>
    %hi_wide = spirv.Bitcast %hi_bits : vector<4xi32> to vector<4xf32>
    %rest = spirv.FSub %scaled, %hi_wide : vector<4xf32>
    %hi = spirv.FConvert %hi_wide : vector<4xf32> to vector<4xf16>
    %lo = spirv.FConvert %rest : vector<4xf32> to vector<4xf16>
    %x_hi = spirv.mlir.addressof @x_hi : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
    %x_lo = spirv.mlir.addressof @x_lo : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
    %hi_ptr = spirv.AccessChain %x_hi[%at] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %lo_ptr = spirv.AccessChain %x_lo[%at] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    spirv.Store "Workgroup" %hi_ptr, %hi : vector<4xf16>
    spirv.Store "Workgroup" %lo_ptr, %lo : vector<4xf16>
    spirv.Return
  }

  // Fetch one of this invocation's x units of a step into its registers.
  spirv.func @fetch_x(%slot : !spirv.ptr<vector<4xf32>, Function>, %token : i32, %unit : i32) "None" {
    %values = spirv.FunctionCall @x_unit(%token, %unit) : (i32, i32) -> vector<4xf32>
    spirv.Store "Function" %slot, %values : vector<4xf32>
    spirv.Return
  }

  // The subgroup's share of the tile over one 16-column slice of the step:
  // with the fragments of tokens a_at + 16 t lines (t < 4) of both x tiles
  // and rows b_at + 16 r lines (r < 2) of w_tile (vec4 offsets; a line is 10),
  // acc_tr += (hi + lo) * W. One token fragment pair is live at a time. (Each
  // lo product right after its hi one: both hi products first, or all 8 hi
  // before the 8 lo, ran within 1.6% on an H200,
  // bench/results/prefill-mma-order-h200-2026-12-04.json.)
  spirv.func @multiply_add(
      %acc00 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
      %acc01 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
      %acc10 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
      %acc11 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
      %acc20 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
      %acc21 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
      %acc30 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
      %acc31 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
      %a_at : i32, %b_at : i32) "None" {
    %c10 = spirv.Constant 10 : i32
    %c160 = spirv.Constant 160 : i32
    %c320 = spirv.Constant 320 : i32
    %c480 = spirv.Constant 480 : i32
    %x_hi = spirv.mlir.addressof @x_hi : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
    %x_lo = spirv.mlir.addressof @x_lo : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
    %tile = spirv.mlir.addressof @w_tile : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>
    %b_at1 = spirv.IAdd %b_at, %c160 : i32
    %b0_ptr = spirv.AccessChain %tile[%b_at] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %b0 = spirv.KHR.CooperativeMatrixLoad %b0_ptr, %c10, <ColumnMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB>
    %b1_ptr = spirv.AccessChain %tile[%b_at1] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %b1 = spirv.KHR.CooperativeMatrixLoad %b1_ptr, %c10, <ColumnMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB>
    %hi0_ptr = spirv.AccessChain %x_hi[%a_at] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %hi0 = spirv.KHR.CooperativeMatrixLoad %hi0_ptr, %c10, <RowMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
    %lo0_ptr = spirv.AccessChain %x_lo[%a_at] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %lo0 = spirv.KHR.CooperativeMatrixLoad %lo0_ptr, %c10, <RowMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
    %sum00 = spirv.Load "Function" %acc00 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_hi00 = spirv.KHR.CooperativeMatrixMulAdd %hi0, %b0, %sum00 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_lo00 = spirv.KHR.CooperativeMatrixMulAdd %lo0, %b0, %with_hi00 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc00, %with_lo00 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %sum01 = spirv.Load "Function" %acc01 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_hi01 = spirv.KHR.CooperativeMatrixMulAdd %hi0, %b1, %sum01 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_lo01 = spirv.KHR.CooperativeMatrixMulAdd %lo0, %b1, %with_hi01 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc01, %with_lo01 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %a_at1 = spirv.IAdd %a_at, %c160 : i32
    %hi1_ptr = spirv.AccessChain %x_hi[%a_at1] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %hi1 = spirv.KHR.CooperativeMatrixLoad %hi1_ptr, %c10, <RowMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
    %lo1_ptr = spirv.AccessChain %x_lo[%a_at1] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %lo1 = spirv.KHR.CooperativeMatrixLoad %lo1_ptr, %c10, <RowMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
    %sum10 = spirv.Load "Function" %acc10 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_hi10 = spirv.KHR.CooperativeMatrixMulAdd %hi1, %b0, %sum10 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_lo10 = spirv.KHR.CooperativeMatrixMulAdd %lo1, %b0, %with_hi10 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc10, %with_lo10 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %sum11 = spirv.Load "Function" %acc11 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_hi11 = spirv.KHR.CooperativeMatrixMulAdd %hi1, %b1, %sum11 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_lo11 = spirv.KHR.CooperativeMatrixMulAdd %lo1, %b1, %with_hi11 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc11, %with_lo11 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %a_at2 = spirv.IAdd %a_at, %c320 : i32
    %hi2_ptr = spirv.AccessChain %x_hi[%a_at2] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %hi2 = spirv.KHR.CooperativeMatrixLoad %hi2_ptr, %c10, <RowMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
    %lo2_ptr = spirv.AccessChain %x_lo[%a_at2] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %lo2 = spirv.KHR.CooperativeMatrixLoad %lo2_ptr, %c10, <RowMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
    %sum20 = spirv.Load "Function" %acc20 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_hi20 = spirv.KHR.CooperativeMatrixMulAdd %hi2, %b0, %sum20 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_lo20 = spirv.KHR.CooperativeMatrixMulAdd %lo2, %b0, %with_hi20 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc20, %with_lo20 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %sum21 = spirv.Load "Function" %acc21 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_hi21 = spirv.KHR.CooperativeMatrixMulAdd %hi2, %b1, %sum21 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_lo21 = spirv.KHR.CooperativeMatrixMulAdd %lo2, %b1, %with_hi21 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc21, %with_lo21 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %a_at3 = spirv.IAdd %a_at, %c480 : i32
    %hi3_ptr = spirv.AccessChain %x_hi[%a_at3] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %hi3 = spirv.KHR.CooperativeMatrixLoad %hi3_ptr, %c10, <RowMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
    %lo3_ptr = spirv.AccessChain %x_lo[%a_at3] : !spirv.ptr<!spirv.array<1280 x vector<4xf16>>, Workgroup>, i32 -> !spirv.ptr<vector<4xf16>, Workgroup>
    %lo3 = spirv.KHR.CooperativeMatrixLoad %lo3_ptr, %c10, <RowMajor> : !spirv.ptr<vector<4xf16>, Workgroup>, i32 -> !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>
    %sum30 = spirv.Load "Function" %acc30 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_hi30 = spirv.KHR.CooperativeMatrixMulAdd %hi3, %b0, %sum30 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_lo30 = spirv.KHR.CooperativeMatrixMulAdd %lo3, %b0, %with_hi30 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc30, %with_lo30 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %sum31 = spirv.Load "Function" %acc31 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_hi31 = spirv.KHR.CooperativeMatrixMulAdd %hi3, %b1, %sum31 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %with_lo31 = spirv.KHR.CooperativeMatrixMulAdd %lo3, %b1, %with_hi31 : !spirv.coopmatrix<16x16xf16, Subgroup, MatrixA>, !spirv.coopmatrix<16x16xf16, Subgroup, MatrixB> -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc31, %with_lo31 : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Return
  }

  // y[token, row] = value, SOFTCAP as softcap.glsl has it; nothing where the
  // token is past the chunk or the row past N.
  spirv.func @store_y(%token : i32, %row : i32, %value : f32) "None" {
    %c0 = spirv.Constant 0 : i32
    %c3 = spirv.Constant 3 : i32
    %c4 = spirv.Constant 4 : i32
    %c5 = spirv.Constant 5 : i32
    %f0 = spirv.Constant 0.0 : f32
    %f15 = spirv.Constant 15.0 : f32
    %fm15 = spirv.Constant -15.0 : f32
    %N = spirv.mlir.referenceof @N : i32
    %softcap = spirv.mlir.referenceof @SOFTCAP : f32
    %pc = spirv.mlir.addressof @pc : !push_ptr
    %tokens_ptr = spirv.AccessChain %pc[%c5] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
    %num_tokens = spirv.Load "PushConstant" %tokens_ptr : i32
    %token_ok = spirv.ULessThan %token, %num_tokens : i32
    %row_ok = spirv.ULessThan %row, %N : i32
    %inside = spirv.LogicalAnd %token_ok, %row_ok : i1
    spirv.mlir.selection {
      spirv.BranchConditional %inside, ^write, ^merge
    ^write:
      %apply_softcap = spirv.FOrdGreaterThan %softcap, %f0 : f32
      %divided = spirv.FDiv %value, %softcap : f32
      %clamped = spirv.GL.FClamp %divided, %fm15, %f15 : f32
      %bent = spirv.GL.Tanh %clamped : f32
      %capped = spirv.FMul %softcap, %bent : f32
      %out = spirv.Select %apply_softcap, %capped, %value : i1, f32
      %y_base_ptr = spirv.AccessChain %pc[%c3] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
      %y_base = spirv.Load "PushConstant" %y_base_ptr : i32
      %y_stride_ptr = spirv.AccessChain %pc[%c4] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
      %y_stride = spirv.Load "PushConstant" %y_stride_ptr : i32
      %y_buffer = spirv.mlir.addressof @y : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
      %y_row = spirv.IMul %token, %y_stride : i32
      %y_at_row = spirv.IAdd %y_base, %y_row : i32
      %y_at = spirv.IAdd %y_at_row, %row : i32
      %y_ptr = spirv.AccessChain %y_buffer[%c0, %y_at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
      spirv.Store "StorageBuffer" %y_ptr, %out : f32
      spirv.Branch ^merge
    ^merge:
      spirv.mlir.merge
    }
    spirv.Return
  }

  // An accumulator's value at element `e` of this subgroup's staging (at
  // `staging_base`), times s_t * s_n of its token and row in the tile.
  spirv.func @scaled_staged(%staging_base : i32, %e : i32, %token_local : i32, %row_local : i32) -> f32 "None" {
    %staging = spirv.mlir.addressof @staging : !spirv.ptr<!spirv.array<2048 x f32>, Workgroup>
    %token_scale = spirv.mlir.addressof @token_scale : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>
    %row_scale = spirv.mlir.addressof @row_scale : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>
    %s_at = spirv.IAdd %staging_base, %e : i32
    %s_ptr = spirv.AccessChain %staging[%s_at] : !spirv.ptr<!spirv.array<2048 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
    %unscaled = spirv.Load "Workgroup" %s_ptr : f32
    %ts_ptr = spirv.AccessChain %token_scale[%token_local] : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
    %token_s = spirv.Load "Workgroup" %ts_ptr : f32
    %rs_ptr = spirv.AccessChain %row_scale[%row_local] : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
    %row_s = spirv.Load "Workgroup" %rs_ptr : f32
    %for_token = spirv.FMul %unscaled, %token_s : f32
    %v = spirv.FMul %for_token, %row_s : f32
    spirv.ReturnValue %v : f32
  }

  // Stage an accumulator in this subgroup's 16 x 16 staging at `staging_base`
  // (the caller reads it back: lane + 32 j, j < 8, then @staging_done).
  spirv.func @stage_accumulator(%acc : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                                %staging_base : i32) "None" {
    %c16 = spirv.Constant 16 : i32
    %staging = spirv.mlir.addressof @staging : !spirv.ptr<!spirv.array<2048 x f32>, Workgroup>
    %total = spirv.Load "Function" %acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %staging_ptr = spirv.AccessChain %staging[%staging_base] : !spirv.ptr<!spirv.array<2048 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
    spirv.KHR.CooperativeMatrixStore %staging_ptr, %total, %c16, <RowMajor> : !spirv.ptr<f32, Workgroup>, !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, i32
    spirv.ControlBarrier <Subgroup>, <Subgroup>, <AcquireRelease|WorkgroupMemory>
    spirv.Return
  }

  // After the staging's values were read: the next accumulator reuses it.
  spirv.func @staging_done() "None" {
    spirv.ControlBarrier <Subgroup>, <Subgroup>, <AcquireRelease|WorkgroupMemory>
    spirv.Return
  }

  // An accumulator of the tile (tokens token0 .., rows row0 .. within it),
  // times s_t * s_n, to y: lanes write neighbouring rows (store_y).
  spirv.func @write_out(%acc : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                        %staging_base : i32, %lane : i32, %first_token : i32, %first_row : i32,
                        %token0 : i32, %row0 : i32) "None" {
    %c0 = spirv.Constant 0 : i32
    %c1 = spirv.Constant 1 : i32
    %c4 = spirv.Constant 4 : i32
    %c8 = spirv.Constant 8 : i32
    %c15 = spirv.Constant 15 : i32
    %c32 = spirv.Constant 32 : i32
    spirv.FunctionCall @stage_accumulator(%acc, %staging_base) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32) -> ()
    spirv.mlir.loop {
      spirv.Branch ^header(%c0 : i32)
    ^header(%j : i32):
      %more = spirv.ULessThan %j, %c8 : i32
      spirv.BranchConditional %more, ^body, ^merge
    ^body:
      %e_step = spirv.IMul %j, %c32 : i32
      %e = spirv.IAdd %lane, %e_step : i32
      %r = spirv.ShiftRightLogical %e, %c4 : i32, i32
      %c = spirv.BitwiseAnd %e, %c15 : i32
      %token_local = spirv.IAdd %token0, %r : i32
      %row_local = spirv.IAdd %row0, %c : i32
      %v = spirv.FunctionCall @scaled_staged(%staging_base, %e, %token_local, %row_local) : (i32, i32, i32, i32) -> f32
      %token = spirv.IAdd %first_token, %token_local : i32
      %row = spirv.IAdd %first_row, %row_local : i32
      spirv.FunctionCall @store_y(%token, %row, %v) : (i32, i32, f32) -> ()
      %next = spirv.IAdd %j, %c1 : i32
      spirv.Branch ^header(%next : i32)
    ^merge:
      spirv.mlir.merge
    }
    spirv.FunctionCall @staging_done() : () -> ()
    spirv.Return
  }

  // Split-K: the same accumulator, times s_t * s_n, to this split's partial
  // tile at `partial_base` of @partials ([token][row], 128 x 128, all of it).
  // A twin of write_out rather than a mode of it: the unsplit entry point must
  // not use @partials at all (its pipeline has no binding for it).
  spirv.func @write_partial(%acc : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                            %staging_base : i32, %lane : i32, %partial_base : i32, %token0 : i32, %row0 : i32) "None" {
    %c0 = spirv.Constant 0 : i32
    %c1 = spirv.Constant 1 : i32
    %c4 = spirv.Constant 4 : i32
    %c7 = spirv.Constant 7 : i32
    %c8 = spirv.Constant 8 : i32
    %c15 = spirv.Constant 15 : i32
    %c32 = spirv.Constant 32 : i32
    %partials = spirv.mlir.addressof @partials : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
    spirv.FunctionCall @stage_accumulator(%acc, %staging_base) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32) -> ()
    spirv.mlir.loop {
      spirv.Branch ^header(%c0 : i32)
    ^header(%j : i32):
      %more = spirv.ULessThan %j, %c8 : i32
      spirv.BranchConditional %more, ^body, ^merge
    ^body:
      %e_step = spirv.IMul %j, %c32 : i32
      %e = spirv.IAdd %lane, %e_step : i32
      %r = spirv.ShiftRightLogical %e, %c4 : i32, i32
      %c = spirv.BitwiseAnd %e, %c15 : i32
      %token_local = spirv.IAdd %token0, %r : i32
      %row_local = spirv.IAdd %row0, %c : i32
      %v = spirv.FunctionCall @scaled_staged(%staging_base, %e, %token_local, %row_local) : (i32, i32, i32, i32) -> f32
      %line = spirv.ShiftLeftLogical %token_local, %c7 : i32, i32
      %in_tile = spirv.IAdd %line, %row_local : i32
      %p_at = spirv.IAdd %partial_base, %in_tile : i32
      %p_ptr = spirv.AccessChain %partials[%c0, %p_at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
      spirv.Store "StorageBuffer" %p_ptr, %v : f32
      %next = spirv.IAdd %j, %c1 : i32
      spirv.Branch ^header(%next : i32)
    ^merge:
      spirv.mlir.merge
    }
    spirv.FunctionCall @staging_done() : () -> ()
    spirv.Return
  }

  // Split-K, after this workgroup wrote its partial tile: counts it in, and in
  // the last split to arrive adds the tile's partials up in split order into
  // y (each invocation 64 elements, element invocation + 256 i). Every
  // invocation calls it.
  spirv.func @fold_partials(%tile : i32, %first_token : i32, %first_row : i32, %invocation : i32) "None" {
    %c0 = spirv.Constant 0 : i32
    %c1 = spirv.Constant 1 : i32
    %c7 = spirv.Constant 7 : i32
    %c14 = spirv.Constant 14 : i32
    %c64 = spirv.Constant 64 : i32
    %c127 = spirv.Constant 127 : i32
    %c256 = spirv.Constant 256 : i32
    %f0 = spirv.Constant 0.0 : f32
    %f1 = spirv.Constant 1.0 : f32
    %splits = spirv.mlir.referenceof @SPLITS : i32
    %total = spirv.Variable : !spirv.ptr<f32, Function>
    // The last-to-arrive flag lives in @staging[0]: the partial tile is written.
    %staging = spirv.mlir.addressof @staging : !spirv.ptr<!spirv.array<2048 x f32>, Workgroup>
    %last_flag = spirv.AccessChain %staging[%c0] : !spirv.ptr<!spirv.array<2048 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
    %partials = spirv.mlir.addressof @partials : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
    %counts = spirv.mlir.addressof @counts : !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>
    %count_ptr = spirv.AccessChain %counts[%c0, %tile] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<i32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<i32, StorageBuffer>
    %first = spirv.IEqual %invocation, %c0 : i32
    spirv.MemoryBarrier <Device>, <AcquireRelease|UniformMemory>
    spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>
    spirv.mlir.selection {
      spirv.BranchConditional %first, ^count, ^merge
    ^count:
      %before = spirv.AtomicIAdd <Device> <AcquireRelease|UniformMemory> %count_ptr, %c1 : !spirv.ptr<i32, StorageBuffer>
      %others = spirv.ISub %splits, %c1 : i32
      %last = spirv.IEqual %before, %others : i32
      %flag = spirv.Select %last, %f1, %f0 : i1, f32
      spirv.Store "Workgroup" %last_flag, %flag : f32
      spirv.Branch ^merge
    ^merge:
      spirv.mlir.merge
    }
    spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>
    %flag_now = spirv.Load "Workgroup" %last_flag : f32
    %is_last = spirv.FOrdNotEqual %flag_now, %f0 : f32
    spirv.mlir.selection {
      spirv.BranchConditional %is_last, ^fold, ^merge
    ^fold:
      spirv.MemoryBarrier <Device>, <AcquireRelease|UniformMemory>
      spirv.mlir.selection {
        spirv.BranchConditional %first, ^reset, ^merge
      ^reset:
        spirv.Store "StorageBuffer" %count_ptr, %c0 : i32
        spirv.Branch ^merge
      ^merge:
        spirv.mlir.merge
      }
      %tile_split = spirv.IMul %tile, %splits : i32
      spirv.mlir.loop {
        spirv.Branch ^header(%c0 : i32)
      ^header(%i : i32):
        %more = spirv.ULessThan %i, %c64 : i32
        spirv.BranchConditional %more, ^body, ^merge
      ^body:
        %e_step = spirv.IMul %i, %c256 : i32
        %e = spirv.IAdd %invocation, %e_step : i32
        spirv.Store "Function" %total, %f0 : f32
        spirv.mlir.loop {
          spirv.Branch ^header(%c0 : i32)
        ^header(%s : i32):
          %more_splits = spirv.ULessThan %s, %splits : i32
          spirv.BranchConditional %more_splits, ^body, ^merge
        ^body:
          %partial = spirv.IAdd %tile_split, %s : i32
          %partial_base = spirv.ShiftLeftLogical %partial, %c14 : i32, i32
          %p_at = spirv.IAdd %partial_base, %e : i32
          %p_ptr = spirv.AccessChain %partials[%c0, %p_at] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
          %part = spirv.Load "StorageBuffer" %p_ptr : f32
          %so_far = spirv.Load "Function" %total : f32
          %sum = spirv.FAdd %so_far, %part : f32
          spirv.Store "Function" %total, %sum : f32
          %next_s = spirv.IAdd %s, %c1 : i32
          spirv.Branch ^header(%next_s : i32)
        ^merge:
          spirv.mlir.merge
        }
        %token_local = spirv.ShiftRightLogical %e, %c7 : i32, i32
        %row_local = spirv.BitwiseAnd %e, %c127 : i32
        %token = spirv.IAdd %first_token, %token_local : i32
        %row = spirv.IAdd %first_row, %row_local : i32
        %value = spirv.Load "Function" %total : f32
        spirv.FunctionCall @store_y(%token, %row, %value) : (i32, i32, f32) -> ()
        %next = spirv.IAdd %i, %c1 : i32
        spirv.Branch ^header(%next : i32)
      ^merge:
        spirv.mlir.merge
      }
      spirv.Branch ^merge
    ^merge:
      spirv.mlir.merge
    }
    spirv.Return
  }

  // The products of the tile `linear` of the renumbered grid (see Work
  // above) over columns [k_begin, k_end) of K (whole steps), into the
  // subgroup's accumulators; the callers write them out. token_maximum: the
  // largest |x| of token first_token + this invocation's index, for the first
  // 128 invocations (@token_maximum); row_bound: the bound on |w| of row
  // first_row + this invocation's index - 128, for the last 128 (@row_bound).
  spirv.func @tile_products(%linear : i32, %token_tiles : i32, %k_begin : i32, %k_end : i32, %token_maximum : f32,
                            %row_bound : f32,
                            %acc00 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                            %acc01 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                            %acc10 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                            %acc11 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                            %acc20 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                            %acc21 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                            %acc30 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
                            %acc31 : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>) "None" {
    %c0 = spirv.Constant 0 : i32
    %c2 = spirv.Constant 2 : i32
    %c3 = spirv.Constant 3 : i32
    %c4 = spirv.Constant 4 : i32
    %c5 = spirv.Constant 5 : i32
    %c7 = spirv.Constant 7 : i32
    %c10 = spirv.Constant 10 : i32
    %c31 = spirv.Constant 31 : i32
    %c32 = spirv.Constant 32 : i32
    %c64 = spirv.Constant 64 : i32
    %c96 = spirv.Constant 96 : i32
    %c128 = spirv.Constant 128 : i32
    %f0 = spirv.Constant 0.0 : f32
    %zero_acc = spirv.CompositeConstruct %f0 : (f32) -> !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    %K = spirv.mlir.referenceof @K : i32
    %token_tile = spirv.UMod %linear, %token_tiles : i32
    %row_tile = spirv.UDiv %linear, %token_tiles : i32
    %first_token = spirv.IMul %token_tile, %c128 : i32
    %first_row = spirv.IMul %row_tile, %c128 : i32
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %subgroup = spirv.ShiftRightLogical %invocation, %c5 : i32, i32
    %lane = spirv.BitwiseAnd %invocation, %c31 : i32
    // What this invocation stages of x: tokens x_line + 32 j (j < 4) at vec4
    // x_unit of the step (its W: the kernel's @w_* functions).
    %x_line = spirv.ShiftRightLogical %invocation, %c3 : i32, i32
    %x_unit = spirv.BitwiseAnd %invocation, %c7 : i32
    %x_token0 = spirv.IAdd %first_token, %x_line : i32
    %x_token1 = spirv.IAdd %x_token0, %c32 : i32
    %x_token2 = spirv.IAdd %x_token0, %c64 : i32
    %x_token3 = spirv.IAdd %x_token0, %c96 : i32

    // Invocations 0..127 turn token i's maximum into s_t, 128..255 row i - 128's
    // bound into s_n: both found once for every workgroup of the product, by
    // token_maxima.comp and row_bounds.comp (a split's partial is unscaled
    // before the fold).
    %token_scale = spirv.mlir.addressof @token_scale : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>
    %row_scale = spirv.mlir.addressof @row_scale : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>
    %scales_tokens = spirv.ULessThan %invocation, %c128 : i32
    spirv.mlir.selection {
      spirv.BranchConditional %scales_tokens, ^token, ^row
    ^token:
      %token_scales = spirv.FunctionCall @scale_of(%token_maximum) : (f32) -> vector<2xf32>
      %s_t = spirv.CompositeExtract %token_scales[0 : i32] : vector<2xf32>
      %s_t_ptr = spirv.AccessChain %token_scale[%invocation] : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
      spirv.Store "Workgroup" %s_t_ptr, %s_t : f32
      spirv.Branch ^merge
    ^row:
      %row_local = spirv.ISub %invocation, %c128 : i32
      %row_scales = spirv.FunctionCall @scale_of(%row_bound) : (f32) -> vector<2xf32>
      %s_n = spirv.CompositeExtract %row_scales[0 : i32] : vector<2xf32>
      %s_n_ptr = spirv.AccessChain %row_scale[%row_local] : !spirv.ptr<!spirv.array<128 x f32>, Workgroup>, i32 -> !spirv.ptr<f32, Workgroup>
      spirv.Store "Workgroup" %s_n_ptr, %s_n : f32
      spirv.Branch ^merge
    ^merge:
      spirv.mlir.merge
    }
    spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>
    // 1 / scale of the tokens (and rows) this invocation stages; where they go
    // in the tiles (vec4 index: line * 10 + unit).
    spirv.FunctionCall @w_prepare() : () -> ()
    %x_line0 = spirv.IAdd %x_line, %c0 : i32
    %x_inverse0 = spirv.FunctionCall @inverse_scale(%c0, %x_line0) : (i32, i32) -> f32
    %x_line_at0 = spirv.IMul %x_line0, %c10 : i32
    %x_at0 = spirv.IAdd %x_line_at0, %x_unit : i32
    %x_line1 = spirv.IAdd %x_line, %c32 : i32
    %x_inverse1 = spirv.FunctionCall @inverse_scale(%c0, %x_line1) : (i32, i32) -> f32
    %x_line_at1 = spirv.IMul %x_line1, %c10 : i32
    %x_at1 = spirv.IAdd %x_line_at1, %x_unit : i32
    %x_line2 = spirv.IAdd %x_line, %c64 : i32
    %x_inverse2 = spirv.FunctionCall @inverse_scale(%c0, %x_line2) : (i32, i32) -> f32
    %x_line_at2 = spirv.IMul %x_line2, %c10 : i32
    %x_at2 = spirv.IAdd %x_line_at2, %x_unit : i32
    %x_line3 = spirv.IAdd %x_line, %c96 : i32
    %x_inverse3 = spirv.FunctionCall @inverse_scale(%c0, %x_line3) : (i32, i32) -> f32
    %x_line_at3 = spirv.IMul %x_line3, %c10 : i32
    %x_at3 = spirv.IAdd %x_line_at3, %x_unit : i32

    // The subgroup's share: tokens sub_token.. (64), rows sub_row.. (32) of
    // the tile; acc_tr holds its tokens + 16 t, rows + 16 r.
    %sub_token_part = spirv.ShiftRightLogical %subgroup, %c2 : i32, i32
    %sub_token = spirv.IMul %sub_token_part, %c64 : i32
    %sub_row_part = spirv.BitwiseAnd %subgroup, %c3 : i32
    %sub_row = spirv.IMul %sub_row_part, %c32 : i32
    %a_at = spirv.IMul %sub_token, %c10 : i32
    %b_at = spirv.IMul %sub_row, %c10 : i32
    spirv.Store "Function" %acc00, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc01, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc10, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc11, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc20, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc21, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc30, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>
    spirv.Store "Function" %acc31, %zero_acc : !spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>

    // The first step's units, then one step per 32 columns of K.
    %x_units0 = spirv.Variable : !spirv.ptr<vector<4xf32>, Function>
    %x_units1 = spirv.Variable : !spirv.ptr<vector<4xf32>, Function>
    %x_units2 = spirv.Variable : !spirv.ptr<vector<4xf32>, Function>
    %x_units3 = spirv.Variable : !spirv.ptr<vector<4xf32>, Function>
    %begin_x = spirv.ShiftRightLogical %k_begin, %c2 : i32, i32
    %begin_xu = spirv.IAdd %begin_x, %x_unit : i32
    spirv.FunctionCall @fetch_x(%x_units0, %x_token0, %begin_xu) : (!spirv.ptr<vector<4xf32>, Function>, i32, i32) -> ()
    spirv.FunctionCall @fetch_x(%x_units1, %x_token1, %begin_xu) : (!spirv.ptr<vector<4xf32>, Function>, i32, i32) -> ()
    spirv.FunctionCall @fetch_x(%x_units2, %x_token2, %begin_xu) : (!spirv.ptr<vector<4xf32>, Function>, i32, i32) -> ()
    spirv.FunctionCall @fetch_x(%x_units3, %x_token3, %begin_xu) : (!spirv.ptr<vector<4xf32>, Function>, i32, i32) -> ()
    spirv.FunctionCall @w_fetch(%first_row, %k_begin) : (i32, i32) -> ()
    spirv.mlir.loop {
      spirv.Branch ^header(%k_begin : i32)
    ^header(%k0 : i32):
      %more = spirv.ULessThan %k0, %k_end : i32
      spirv.BranchConditional %more, ^body, ^merge
    ^body:
      spirv.FunctionCall @stage_x(%x_units0, %x_inverse0, %x_at0) : (!spirv.ptr<vector<4xf32>, Function>, f32, i32) -> ()
      spirv.FunctionCall @stage_x(%x_units1, %x_inverse1, %x_at1) : (!spirv.ptr<vector<4xf32>, Function>, f32, i32) -> ()
      spirv.FunctionCall @stage_x(%x_units2, %x_inverse2, %x_at2) : (!spirv.ptr<vector<4xf32>, Function>, f32, i32) -> ()
      spirv.FunctionCall @stage_x(%x_units3, %x_inverse3, %x_at3) : (!spirv.ptr<vector<4xf32>, Function>, f32, i32) -> ()
      spirv.FunctionCall @w_stage() : () -> ()
      spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>
      // The next step's loads, in flight during this step's products.
      %next_k0 = spirv.IAdd %k0, %c32 : i32
      %has_next = spirv.ULessThan %next_k0, %k_end : i32
      spirv.mlir.selection {
        spirv.BranchConditional %has_next, ^fetch, ^merge
      ^fetch:
        %next_x = spirv.ShiftRightLogical %next_k0, %c2 : i32, i32
        %next_xu = spirv.IAdd %next_x, %x_unit : i32
        spirv.FunctionCall @fetch_x(%x_units0, %x_token0, %next_xu) : (!spirv.ptr<vector<4xf32>, Function>, i32, i32) -> ()
        spirv.FunctionCall @fetch_x(%x_units1, %x_token1, %next_xu) : (!spirv.ptr<vector<4xf32>, Function>, i32, i32) -> ()
        spirv.FunctionCall @fetch_x(%x_units2, %x_token2, %next_xu) : (!spirv.ptr<vector<4xf32>, Function>, i32, i32) -> ()
        spirv.FunctionCall @fetch_x(%x_units3, %x_token3, %next_xu) : (!spirv.ptr<vector<4xf32>, Function>, i32, i32) -> ()
        spirv.FunctionCall @w_fetch(%first_row, %next_k0) : (i32, i32) -> ()
        spirv.Branch ^merge
      ^merge:
        spirv.mlir.merge
      }
      // Two 16-column slices (4 vec4 each).
      spirv.FunctionCall @multiply_add(%acc00, %acc01, %acc10, %acc11, %acc20, %acc21, %acc30, %acc31, %a_at, %b_at)
          : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             i32, i32) -> ()
      %a_second = spirv.IAdd %a_at, %c4 : i32
      %b_second = spirv.IAdd %b_at, %c4 : i32
      spirv.FunctionCall @multiply_add(%acc00, %acc01, %acc10, %acc11, %acc20, %acc21, %acc30, %acc31, %a_second, %b_second)
          : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>,
             i32, i32) -> ()
      // The next step overwrites the tiles this one read.
      spirv.ControlBarrier <Workgroup>, <Workgroup>, <AcquireRelease|WorkgroupMemory>
      spirv.Branch ^header(%next_k0 : i32)
    ^merge:
      spirv.mlir.merge
    }

    spirv.Return
  }

  // This invocation's place in the tile's write-out: vector(its subgroup's
  // staging base, its lane, the subgroup's first token and first row in the
  // tile; see tile_products).
  spirv.func @subgroup_share() -> vector<4xi32> "None" {
    %c2 = spirv.Constant 2 : i32
    %c3 = spirv.Constant 3 : i32
    %c5 = spirv.Constant 5 : i32
    %c31 = spirv.Constant 31 : i32
    %c32 = spirv.Constant 32 : i32
    %c64 = spirv.Constant 64 : i32
    %c256 = spirv.Constant 256 : i32
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %subgroup = spirv.ShiftRightLogical %invocation, %c5 : i32, i32
    %lane = spirv.BitwiseAnd %invocation, %c31 : i32
    %staging_base = spirv.IMul %subgroup, %c256 : i32
    %sub_token_part = spirv.ShiftRightLogical %subgroup, %c2 : i32, i32
    %sub_token = spirv.IMul %sub_token_part, %c64 : i32
    %sub_row_part = spirv.BitwiseAnd %subgroup, %c3 : i32
    %sub_row = spirv.IMul %sub_row_part, %c32 : i32
    %share = spirv.CompositeConstruct %staging_base, %lane, %sub_token, %sub_row : (i32, i32, i32, i32) -> vector<4xi32>
    spirv.ReturnValue %share : vector<4xi32>
  }

  // The largest |x| of token first_token + this invocation's index (0 from
  // invocation 128 on and past the chunk): token_maxima.comp's, in `maxima`
  // (@token_maxima or @split_token_maxima: the entry point's own binding).
  spirv.func @token_maximum(%maxima : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, %first_token : i32) -> f32 "None" {
    %c0 = spirv.Constant 0 : i32
    %c5 = spirv.Constant 5 : i32
    %c128 = spirv.Constant 128 : i32
    %f0 = spirv.Constant 0.0 : f32
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %pc = spirv.mlir.addressof @pc : !push_ptr
    %tokens_ptr = spirv.AccessChain %pc[%c5] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
    %num_tokens = spirv.Load "PushConstant" %tokens_ptr : i32
    %token = spirv.IAdd %first_token, %invocation : i32
    %in_tile = spirv.ULessThan %invocation, %c128 : i32
    %in_chunk = spirv.ULessThan %token, %num_tokens : i32
    %inside = spirv.LogicalAnd %in_tile, %in_chunk : i1
    %safe_token = spirv.Select %inside, %token, %c0 : i1, i32
    %ptr = spirv.AccessChain %maxima[%c0, %safe_token] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
    %loaded = spirv.Load "StorageBuffer" %ptr : f32
    %maximum = spirv.Select %inside, %loaded, %f0 : i1, f32
    spirv.ReturnValue %maximum : f32
  }

  // The bound on |w| of row first_row + this invocation's index - 128 (0
  // below invocation 128 and past N): row_bounds.comp's, in `bounds`
  // (@row_bounds or @split_row_bounds: the entry point's own binding).
  spirv.func @row_bound(%bounds : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, %first_row : i32) -> f32 "None" {
    %c0 = spirv.Constant 0 : i32
    %c128 = spirv.Constant 128 : i32
    %f0 = spirv.Constant 0.0 : f32
    %N = spirv.mlir.referenceof @N : i32
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    %row_local = spirv.ISub %invocation, %c128 : i32
    %row = spirv.IAdd %first_row, %row_local : i32
    %in_tile = spirv.UGreaterThanEqual %invocation, %c128 : i32
    %in_matrix = spirv.ULessThan %row, %N : i32
    %inside = spirv.LogicalAnd %in_tile, %in_matrix : i1
    %safe_row = spirv.Select %inside, %row, %c0 : i1, i32
    %ptr = spirv.AccessChain %bounds[%c0, %safe_row] : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32, i32 -> !spirv.ptr<f32, StorageBuffer>
    %loaded = spirv.Load "StorageBuffer" %ptr : f32
    %bound = spirv.Select %inside, %loaded, %f0 : i1, f32
    spirv.ReturnValue %bound : f32
  }

  // The tile `linear` over all of K, written to y.
  spirv.func @compute_tile(%linear : i32, %token_tiles : i32) "None" {
    %c0 = spirv.Constant 0 : i32
    %c16 = spirv.Constant 16 : i32
    %c32 = spirv.Constant 32 : i32
    %c48 = spirv.Constant 48 : i32
    %c128 = spirv.Constant 128 : i32
    %acc00 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc01 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc10 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc11 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc20 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc21 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc30 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc31 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %K = spirv.mlir.referenceof @K : i32
    %token_tile = spirv.UMod %linear, %token_tiles : i32
    %row_tile = spirv.UDiv %linear, %token_tiles : i32
    %first_token = spirv.IMul %token_tile, %c128 : i32
    %first_row = spirv.IMul %row_tile, %c128 : i32
    %maxima = spirv.mlir.addressof @token_maxima : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
    %token_maximum = spirv.FunctionCall @token_maximum(%maxima, %first_token) : (!spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32) -> f32
    %bounds = spirv.mlir.addressof @row_bounds : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
    %row_bound = spirv.FunctionCall @row_bound(%bounds, %first_row) : (!spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32) -> f32
    spirv.FunctionCall @tile_products(%linear, %token_tiles, %c0, %K, %token_maximum, %row_bound, %acc00, %acc01, %acc10, %acc11, %acc20, %acc21, %acc30, %acc31)
        : (i32, i32, i32, i32, f32, f32, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>) -> ()
    %share = spirv.FunctionCall @subgroup_share() : () -> vector<4xi32>
    %staging_base = spirv.CompositeExtract %share[0 : i32] : vector<4xi32>
    %lane = spirv.CompositeExtract %share[1 : i32] : vector<4xi32>
    %sub_token = spirv.CompositeExtract %share[2 : i32] : vector<4xi32>
    %sub_row = spirv.CompositeExtract %share[3 : i32] : vector<4xi32>
    %sub_row1 = spirv.IAdd %sub_row, %c16 : i32
    %sub_token1 = spirv.IAdd %sub_token, %c16 : i32
    %sub_token2 = spirv.IAdd %sub_token, %c32 : i32
    %sub_token3 = spirv.IAdd %sub_token, %c48 : i32
    spirv.FunctionCall @write_out(%acc00, %staging_base, %lane, %first_token, %first_row, %sub_token, %sub_row) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_out(%acc01, %staging_base, %lane, %first_token, %first_row, %sub_token, %sub_row1) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_out(%acc10, %staging_base, %lane, %first_token, %first_row, %sub_token1, %sub_row) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_out(%acc11, %staging_base, %lane, %first_token, %first_row, %sub_token1, %sub_row1) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_out(%acc20, %staging_base, %lane, %first_token, %first_row, %sub_token2, %sub_row) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_out(%acc21, %staging_base, %lane, %first_token, %first_row, %sub_token2, %sub_row1) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_out(%acc30, %staging_base, %lane, %first_token, %first_row, %sub_token3, %sub_row) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_out(%acc31, %staging_base, %lane, %first_token, %first_row, %sub_token3, %sub_row1) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32, i32) -> ()
    spirv.Return
  }

  // Split-K: split `split`'s run of K's steps of the tile `linear` (split_k.glsl's
  // splitColumns), written to its partial tile, then the fold.
  spirv.func @compute_split_tile(%linear : i32, %token_tiles : i32, %split : i32) "None" {
    %c1 = spirv.Constant 1 : i32
    %c5 = spirv.Constant 5 : i32
    %c14 = spirv.Constant 14 : i32
    %c16 = spirv.Constant 16 : i32
    %c31 = spirv.Constant 31 : i32
    %c32 = spirv.Constant 32 : i32
    %c48 = spirv.Constant 48 : i32
    %c128 = spirv.Constant 128 : i32
    %acc00 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc01 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc10 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc11 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc20 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc21 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc30 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %acc31 = spirv.Variable : !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>
    %K = spirv.mlir.referenceof @K : i32
    %splits = spirv.mlir.referenceof @SPLITS : i32
    %steps_up = spirv.IAdd %K, %c31 : i32
    %steps = spirv.ShiftRightLogical %steps_up, %c5 : i32, i32
    %splits_less = spirv.ISub %splits, %c1 : i32
    %per_split_up = spirv.IAdd %steps, %splits_less : i32
    %steps_per_split = spirv.UDiv %per_split_up, %splits : i32
    %split_steps = spirv.IMul %split, %steps_per_split : i32
    %split_columns = spirv.ShiftLeftLogical %split_steps, %c5 : i32, i32
    %k_begin = spirv.GL.UMin %split_columns, %K : i32
    %run_columns = spirv.ShiftLeftLogical %steps_per_split, %c5 : i32, i32
    %run_end = spirv.IAdd %k_begin, %run_columns : i32
    %k_end = spirv.GL.UMin %run_end, %K : i32
    %token_tile = spirv.UMod %linear, %token_tiles : i32
    %row_tile = spirv.UDiv %linear, %token_tiles : i32
    %first_token = spirv.IMul %token_tile, %c128 : i32
    %first_row = spirv.IMul %row_tile, %c128 : i32
    %maxima = spirv.mlir.addressof @split_token_maxima : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
    %token_maximum = spirv.FunctionCall @token_maximum(%maxima, %first_token) : (!spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32) -> f32
    %bounds = spirv.mlir.addressof @split_row_bounds : !spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>
    %row_bound = spirv.FunctionCall @row_bound(%bounds, %first_row) : (!spirv.ptr<!spirv.struct<(!spirv.rtarray<f32, stride=4> [0]), Block>, StorageBuffer>, i32) -> f32
    spirv.FunctionCall @tile_products(%linear, %token_tiles, %k_begin, %k_end, %token_maximum, %row_bound, %acc00, %acc01, %acc10, %acc11, %acc20, %acc21, %acc30, %acc31)
        : (i32, i32, i32, i32, f32, f32, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, !spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>) -> ()
    %tile_split = spirv.IMul %linear, %splits : i32
    %partial = spirv.IAdd %tile_split, %split : i32
    %partial_base = spirv.ShiftLeftLogical %partial, %c14 : i32, i32
    %share = spirv.FunctionCall @subgroup_share() : () -> vector<4xi32>
    %staging_base = spirv.CompositeExtract %share[0 : i32] : vector<4xi32>
    %lane = spirv.CompositeExtract %share[1 : i32] : vector<4xi32>
    %sub_token = spirv.CompositeExtract %share[2 : i32] : vector<4xi32>
    %sub_row = spirv.CompositeExtract %share[3 : i32] : vector<4xi32>
    %sub_row1 = spirv.IAdd %sub_row, %c16 : i32
    %sub_token1 = spirv.IAdd %sub_token, %c16 : i32
    %sub_token2 = spirv.IAdd %sub_token, %c32 : i32
    %sub_token3 = spirv.IAdd %sub_token, %c48 : i32
    spirv.FunctionCall @write_partial(%acc00, %staging_base, %lane, %partial_base, %sub_token, %sub_row) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_partial(%acc01, %staging_base, %lane, %partial_base, %sub_token, %sub_row1) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_partial(%acc10, %staging_base, %lane, %partial_base, %sub_token1, %sub_row) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_partial(%acc11, %staging_base, %lane, %partial_base, %sub_token1, %sub_row1) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_partial(%acc20, %staging_base, %lane, %partial_base, %sub_token2, %sub_row) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_partial(%acc21, %staging_base, %lane, %partial_base, %sub_token2, %sub_row1) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_partial(%acc30, %staging_base, %lane, %partial_base, %sub_token3, %sub_row) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32) -> ()
    spirv.FunctionCall @write_partial(%acc31, %staging_base, %lane, %partial_base, %sub_token3, %sub_row1) : (!spirv.ptr<!spirv.coopmatrix<16x16xf32, Subgroup, MatrixAcc>, Function>, i32, i32, i32, i32, i32) -> ()
    %index_ptr = spirv.mlir.addressof @invocation_index : !spirv.ptr<i32, Input>
    %invocation = spirv.Load "Input" %index_ptr : i32
    spirv.FunctionCall @fold_partials(%linear, %first_token, %first_row, %invocation) : (i32, i32, i32, i32) -> ()
    spirv.Return
  }

  // This workgroup's tile in the renumbered grid: vector(linear, the token
  // tiles, whether it computes one: 1 or 0; a quarter of the grid does).
  spirv.func @workgroup_tile() -> vector<3xi32> "None" {
    %c0 = spirv.Constant 0 : i32
    %c1 = spirv.Constant 1 : i32
    %c7 = spirv.Constant 7 : i32
    %c127 = spirv.Constant 127 : i32
    %c5 = spirv.Constant 5 : i32
    %N = spirv.mlir.referenceof @N : i32
    %pc = spirv.mlir.addressof @pc : !push_ptr
    %tokens_ptr = spirv.AccessChain %pc[%c5] : !push_ptr, i32 -> !spirv.ptr<i32, PushConstant>
    %num_tokens = spirv.Load "PushConstant" %tokens_ptr : i32
    %wg_ptr = spirv.mlir.addressof @workgroup_id : !spirv.ptr<vector<3xi32>, Input>
    %wg = spirv.Load "Input" %wg_ptr : vector<3xi32>
    %count_ptr = spirv.mlir.addressof @workgroup_count : !spirv.ptr<vector<3xi32>, Input>
    %count = spirv.Load "Input" %count_ptr : vector<3xi32>
    %wg_x = spirv.CompositeExtract %wg[0 : i32] : vector<3xi32>
    %wg_y = spirv.CompositeExtract %wg[1 : i32] : vector<3xi32>
    %count_x = spirv.CompositeExtract %count[0 : i32] : vector<3xi32>
    %linear_row = spirv.IMul %wg_y, %count_x : i32
    %linear = spirv.IAdd %linear_row, %wg_x : i32
    %tokens_up = spirv.IAdd %num_tokens, %c127 : i32
    %token_tiles = spirv.ShiftRightLogical %tokens_up, %c7 : i32, i32
    %rows_up = spirv.IAdd %N, %c127 : i32
    %row_tiles = spirv.ShiftRightLogical %rows_up, %c7 : i32, i32
    %tiles = spirv.IMul %token_tiles, %row_tiles : i32
    %computes = spirv.ULessThan %linear, %tiles : i32
    %computes_word = spirv.Select %computes, %c1, %c0 : i1, i32
    %tile = spirv.CompositeConstruct %linear, %token_tiles, %computes_word : (i32, i32, i32) -> vector<3xi32>
    spirv.ReturnValue %tile : vector<3xi32>
  }

  // The unsplit product's entry point (SPLITS not set).
  spirv.func @main() "None" {
    %c0 = spirv.Constant 0 : i32
    %tile = spirv.FunctionCall @workgroup_tile() : () -> vector<3xi32>
    %linear = spirv.CompositeExtract %tile[0 : i32] : vector<3xi32>
    %token_tiles = spirv.CompositeExtract %tile[1 : i32] : vector<3xi32>
    %computes_word = spirv.CompositeExtract %tile[2 : i32] : vector<3xi32>
    %computes = spirv.INotEqual %computes_word, %c0 : i32
    spirv.mlir.selection {
      spirv.BranchConditional %computes, ^tile, ^merge
    ^tile:
      spirv.FunctionCall @compute_tile(%linear, %token_tiles) : (i32, i32) -> ()
      spirv.Branch ^merge
    ^merge:
      spirv.mlir.merge
    }
    spirv.Return
  }

  // Split-K's entry point (SPLITS set): workgroup z is the split. Only this
  // one uses @partials and @counts, so the unsplit entry point's pipeline
  // needs no bindings for them (the compiler keeps one entry point a module).
  spirv.func @main_split() "None" {
    %c0 = spirv.Constant 0 : i32
    %tile = spirv.FunctionCall @workgroup_tile() : () -> vector<3xi32>
    %linear = spirv.CompositeExtract %tile[0 : i32] : vector<3xi32>
    %token_tiles = spirv.CompositeExtract %tile[1 : i32] : vector<3xi32>
    %computes_word = spirv.CompositeExtract %tile[2 : i32] : vector<3xi32>
    %computes = spirv.INotEqual %computes_word, %c0 : i32
    %wg_ptr = spirv.mlir.addressof @workgroup_id : !spirv.ptr<vector<3xi32>, Input>
    %wg = spirv.Load "Input" %wg_ptr : vector<3xi32>
    %split = spirv.CompositeExtract %wg[2 : i32] : vector<3xi32>
    spirv.mlir.selection {
      spirv.BranchConditional %computes, ^tile, ^merge
    ^tile:
      spirv.FunctionCall @compute_split_tile(%linear, %token_tiles, %split) : (i32, i32, i32) -> ()
      spirv.Branch ^merge
    ^merge:
      spirv.mlir.merge
    }
    spirv.Return
  }
