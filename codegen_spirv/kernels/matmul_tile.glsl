// The frame of the tiled prefill products (matmul_bf16.comp, matmul_quant.comp):
//   y[t, n] = sum_k x[t, k] * W[n, k], float32 accumulation.
// A workgroup of 16 x 16 invocations computes a 64 (tokens) x 64 (rows) tile of
// y, stepping through K 32 columns at a time: each step's slices of x and W are
// staged in shared memory K-major, [k][four tokens or rows as a vec4], so that
// an invocation, owning four adjacent tokens x four adjacent rows, reads one
// vec4 of each per k for its 16 multiply-adds. Global loads are whole vec4 /
// uvec4 units, and the next step's are issued before this step's products, so
// they arrive while the products run (the loads wait in registers).
//
// Split-K (SPLITS > 1, split_k.glsl): workgroup z = s of a tile takes the s-th
// of SPLITS runs of K's steps and the last to finish folds the partial tiles
// into y, for products whose tiles alone are too few to fill a large GPU.
//
// The kernel including this defines, before it: the bindings x4 (vec4 x) and y
// (float), PARTIALS_BINDING (that of split_k.glsl's partials; the counts take
// the next), the push constant block pc (x_base, x_token_stride, y_base,
// y_token_stride, num_tokens), and its weights' part of a step:
//   void fetchWeights(uint first_row, uint k0)  this invocation's share of
//        W[first_row .. +63][k0 .. +31] into registers (zeros past N and K)
//   void stageWeights()  that share, as floats, into w_tile
// Needs K, N (rows of this dispatch), SOFTCAP, SPLITS (default 1); x_base and
// x_token_stride multiples of 4 and K of 8 (the schedule guarantees it).
// Dispatch: (ceil(N / 64), ceil(num_tokens / 64), SPLITS).
#include "softcap.glsl"

layout(local_size_x = 16, local_size_y = 16) in;

const uint kTile = 64;      // tokens and rows of a workgroup's tile
const uint kTileK = 32;     // K per step
const uint kThreads = 256;

// [k][j] holds tokens (rows) 4j .. 4j+3 of the tile at column k of the step.
shared vec4 x_tile[kTileK][kTile / 4];
shared vec4 w_tile[kTileK][kTile / 4];

// Split-K's flag: a word of x_tile, whose last step has been read by then.
#define SPLIT_FLAG x_tile[0][0].x
#include "split_k.glsl"

// A step's x is 64 tokens x 8 vec4s: invocation e loads token e % 64, columns
// 4 * (e / 64) .. +3, and again for e + 256, so that neighbouring invocations
// store neighbouring words of x_tile (no bank conflicts).
vec4 x_fetched[2];

void fetchInputs(uint first_token, uint k0) {
  for (uint r = 0u; r < 2u; ++r) {
    uint e = gl_LocalInvocationIndex + r * kThreads;
    uint token = first_token + e % kTile, k = k0 + 4u * (e / kTile);
    x_fetched[r] = token < pc.num_tokens && k < uint(K) ? x4[(pc.x_base + token * pc.x_token_stride + k) / 4u] : vec4(0.0);
  }
}

void stageInputs() {
  for (uint r = 0u; r < 2u; ++r) {
    uint e = gl_LocalInvocationIndex + r * kThreads;
    uint m = e % kTile, k = 4u * (e / kTile);
    for (uint c = 0u; c < 4u; ++c) x_tile[k + c][m / 4u][m % 4u] = x_fetched[r][c];
  }
}

void fetchWeights(uint first_row, uint k0);
void stageWeights();

void main() {
  uint first_row = gl_WorkGroupID.x * kTile;
  uint first_token = gl_WorkGroupID.y * kTile;
  uint column = gl_LocalInvocationID.x;  // rows 4 * column .. +3 of the tile
  uint line = gl_LocalInvocationID.y;    // tokens 4 * line .. +3
  uint k_begin, k_end;
  splitColumns(gl_WorkGroupID.z, kTileK, k_begin, k_end);

  vec4 sums[4];  // sums[i][c]: token 4 * line + i, row 4 * column + c
  for (uint i = 0u; i < 4u; ++i) sums[i] = vec4(0.0);
  fetchInputs(first_token, k_begin);
  fetchWeights(first_row, k_begin);
  for (uint k0 = k_begin; k0 < k_end; k0 += kTileK) {
    barrier();  // the step before has read its tiles
    stageInputs();
    stageWeights();
    barrier();
    if (k0 + kTileK < k_end) {
      fetchInputs(first_token, k0 + kTileK);
      fetchWeights(first_row, k0 + kTileK);
    }
    for (uint k = 0u; k < kTileK; ++k) {
      vec4 xs = x_tile[k][line];
      vec4 ws = w_tile[k][column];
      sums[0] += xs.x * ws;
      sums[1] += xs.y * ws;
      sums[2] += xs.z * ws;
      sums[3] += xs.w * ws;
    }
  }

#if SPLITS > 1
  {
    // This split's partial tile, [token][row] of the tile, then the last
    // split's fold (the partials in split order: the same sums on every run).
    uint tile = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    for (uint i = 0u; i < 4u; ++i) {
      for (uint c = 0u; c < 4u; ++c) {
        storePartial(tile, gl_WorkGroupID.z, kTile * kTile, (4u * line + i) * kTile + 4u * column + c, sums[i][c]);
      }
    }
    if (!isLastSplit(tile)) return;
    for (uint i = 0u; i < 4u; ++i) {
      for (uint c = 0u; c < 4u; ++c) {
        sums[i][c] = foldedPartials(tile, kTile * kTile, (4u * line + i) * kTile + 4u * column + c);
      }
    }
  }
#endif
  for (uint i = 0u; i < 4u; ++i) {
    uint token = first_token + 4u * line + i;
    if (token >= pc.num_tokens) break;
    for (uint c = 0u; c < 4u; ++c) {
      uint row = first_row + 4u * column + c;
      if (row >= uint(N)) break;
      float total = sums[i][c];
      if (SOFTCAP > 0.0) total = softcap(total, SOFTCAP);
      y[pc.y_base + token * pc.y_token_stride + row] = total;
    }
  }
}
