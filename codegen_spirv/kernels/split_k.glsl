// Split-K for the tiled prefill products (matmul_tile.glsl; the
// cooperative-matrix frame, matmul_coop_frame.mlir, follows the same protocol
// in its main_split entry point): a product with too few output tiles to keep
// a large GPU busy (Gemma 3 1B's down projection: 36 tiles of 128 x 128 for an
// H200's 132 SMs) runs SPLITS workgroups a tile, workgroup z = s taking the
// s-th of SPLITS equal runs of K's steps (the last runs may be shorter, or
// empty). Each writes its partial tile, then counts itself in; the last to
// arrive adds the partials up in split order (so a rerun gives the same bits,
// whichever arrived last) and writes y, and sets the count back to 0 for the
// next dispatch (attention_shares.glsl's last-block pattern: the partials
// reach it through `coherent` memory, a buffer memory barrier before each
// count and after the last).
//
// Bindings (with SPLITS > 1 only) PARTIALS_BINDING the partials, from element
// 0: (tile * SPLITS + s) * tile_elements + element; PARTIALS_BINDING + 1 the
// counts, one uint per tile from element 0, zero before the first dispatch
// (the runtime zero-fills activation buffers) and after every one.
// Needs K, SPLITS (default 1) and, with SPLITS > 1, SPLIT_FLAG: a float in
// shared memory that the kernel no longer reads once its products are done
// (the tiled kernels' tiles fill the 16 KiB Vulkan guarantees: no room for a
// flag of its own).
#ifndef SPLITS
#define SPLITS 1
#endif

#if SPLITS > 1
layout(std430, set = 0, binding = PARTIALS_BINDING) coherent buffer Partials { float partials[]; };
layout(std430, set = 0, binding = PARTIALS_BINDING + 1) coherent buffer Counts { uint counts[]; };
#endif

// Columns [begin, end) of K that split `split` takes, in whole steps of
// `step` columns.
void splitColumns(uint split, uint step, out uint begin, out uint end) {
  uint steps = (uint(K) + step - 1u) / step;
  uint steps_per_split = (steps + uint(SPLITS) - 1u) / uint(SPLITS);
  begin = min(split * steps_per_split * step, uint(K));
  end = min(begin + steps_per_split * step, uint(K));
}

#if SPLITS > 1
// Where split `split`'s partial of the tile's element lies.
uint partialIndex(uint tile, uint split, uint tile_elements, uint element) {
  return (tile * uint(SPLITS) + split) * tile_elements + element;
}

void storePartial(uint tile, uint split, uint tile_elements, uint element, float value) {
  partials[partialIndex(tile, split, tile_elements, element)] = value;
}

// After this workgroup's storePartial calls: whether it is the tile's last
// split to arrive (uniform over the workgroup). Every invocation calls it.
bool isLastSplit(uint tile) {
  memoryBarrierBuffer();
  barrier();  // also: every invocation is done with SPLIT_FLAG's old use
  if (gl_LocalInvocationIndex == 0u) SPLIT_FLAG = atomicAdd(counts[tile], 1u) == uint(SPLITS) - 1u ? 1.0 : 0.0;
  barrier();
  if (SPLIT_FLAG == 0.0) return false;
  memoryBarrierBuffer();
  if (gl_LocalInvocationIndex == 0u) counts[tile] = 0u;
  return true;
}

// The tile's element summed over its splits, in split order.
float foldedPartials(uint tile, uint tile_elements, uint element) {
  float total = 0.0;
  for (uint s = 0u; s < uint(SPLITS); ++s) total += partials[partialIndex(tile, s, tile_elements, element)];
  return total;
}
#endif
