// A bound on each row's |w| over all of its K columns: what the products on
// cooperative-matrix units scale each row of W by into fp16's range
// (matmul_coop_frame.mlir). The weights being constant, the schedule's setup
// program runs this once when the bundle is opened, for every row slice such
// a product reads; every workgroup had found its tile's 128 rows' bounds
// itself, reading them once more (a seventh of a bf16 product's time on an
// H200).
//
// QUANT_BITS 0: bf16 rows, the bound their largest magnitude. 8 / 4
// (Q8Block32 / Q4Block32): the row's largest |scale| times the largest
// magnitude a quant takes (128 / 8), from its K / 32 bf16 scales alone; a
// bound, as every dequantised weight is scale * quant.
//
// Bindings: 0 what the bound is read from (bf16: the rows, as matmul_bf16
// binds them; quantised: the scales, as matmul_quant binds its binding 3),
// 1 the bounds (row r's at element r).
// Defines: K (a multiple of 8; of 32 quantised), QUANT_BITS, WG_SIZE (a
// multiple of 8: 8 rows a workgroup, WG_SIZE / 8 invocations a row).
// Dispatch: (ceil(rows / 8), 1, 1).
#version 450

layout(local_size_x = WG_SIZE) in;

#if QUANT_BITS == 0
layout(std430, set = 0, binding = 0) readonly buffer Rows { uvec4 units[]; };
#else
layout(std430, set = 0, binding = 0) readonly buffer Scales { uint scale_words[]; };
#endif
layout(std430, set = 0, binding = 1) writeonly buffer Bounds { float bounds[]; };

layout(push_constant) uniform RowBoundsPush {
  uint source_base;  // bf16: words to row 0's first element pair (a multiple of 4); else bf16 elements to its first scale
  uint rows;
} pc;

const uint kRowsPerWorkgroup = 8u;
const uint kLanes = uint(WG_SIZE) / kRowsPerWorkgroup;  // invocations a row

shared float row_partials[WG_SIZE];

float bf16Magnitude(uint bits) { return abs(uintBitsToFloat(bits << 16)); }

// This invocation's share of its row's bound: every kLanes-th element.
float laneBound(uint row, uint lane) {
  float largest = 0.0;
#if QUANT_BITS == 0
  const uint kUnitsPerRow = uint(K) / 8u;  // 8 bf16 a unit
  uint first_unit = pc.source_base / 4u + row * kUnitsPerRow;
  for (uint u = lane; u < kUnitsPerRow; u += kLanes) {
    uvec4 words = units[first_unit + u];
    for (uint i = 0u; i < 4u; ++i) {
      largest = max(largest, max(bf16Magnitude(words[i] & 0xffffu), bf16Magnitude(words[i] >> 16)));
    }
  }
#else
  const uint kBlocksPerRow = uint(K) / 32u;
  uint first_scale = pc.source_base + row * kBlocksPerRow;
  for (uint b = lane; b < kBlocksPerRow; b += kLanes) {
    uint element = first_scale + b;
    uint word = scale_words[element / 2u];
    largest = max(largest, bf16Magnitude(element % 2u == 0u ? word & 0xffffu : word >> 16));
  }
  largest *= QUANT_BITS == 8 ? 128.0 : 8.0;
#endif
  return largest;
}

void main() {
  uint local_row = gl_LocalInvocationID.x / kLanes, lane = gl_LocalInvocationID.x % kLanes;
  uint row = gl_WorkGroupID.x * kRowsPerWorkgroup + local_row;
  row_partials[gl_LocalInvocationID.x] = row < pc.rows ? laneBound(row, lane) : 0.0;
  barrier();
  // Each row's lanes folded pairwise (a maximum: in any order, the same value).
  for (uint stride = kLanes / 2u; stride > 0u; stride /= 2u) {
    if (lane < stride) {
      row_partials[gl_LocalInvocationID.x] = max(row_partials[gl_LocalInvocationID.x],
                                                 row_partials[gl_LocalInvocationID.x + stride]);
    }
    barrier();
  }
  if (lane == 0u && row < pc.rows) bounds[row] = row_partials[gl_LocalInvocationID.x];
}
