// The byte-exact framing of a .ubundle around its flatbuffer header.
//
//   offset 0   BundlePreamble (64 bytes, little-endian)
//   offset 64  flatbuffer Header (schemas/bundle.fbs), header_size bytes
//   ...        zero padding
//   weights_offset (64 KiB aligned): weight segments, each 64 KiB aligned, zero padded
//   file_size  end of file
//
// The preamble is read before anything else: it catches a file that is not a
// bundle, a bundle of another format version or schema, and truncation (by the
// recorded file size), before the flatbuffer verifier ever sees a byte.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace unicorn {

// Bump on any change a reader can observe (preamble or schema semantics).
// 2: block-quantised weights (QuantScheme Q8Block32/Q4Block32, DType I8/I4).
// 3: the execution schedule (schemas/schedule.fbs: kernels, buffers, prefill/decode dispatches).
// 4: a block-quantised segment ends on a 32-bit word.
// 5: activations in one arena planned by liveness (Schedule.logits_offset).
// 6: a kernel module names the subgroup size it needs and its fallback (cooperative-matrix prefill).
// 7: a kernel module's bindings may be arrays (KernelModule.array_sizes: the embedding's row slices).
// 8: a decode step reads its token id from the step before's input (BufferKind PreviousStepInput),
//    a setup program runs once when the bundle is opened (Schedule.setup), and a dispatch can
//    serve the cooperative-matrix kernels alone (Dispatch.for_matrix_units).
inline constexpr std::uint32_t kBundleFormatVersion = 8;
inline constexpr std::array<char, 8> kBundleMagic = {'U', 'N', 'I', 'C', 'O', 'R', 'N', '\x1a'};
inline constexpr std::uint64_t kSegmentAlignment = 64 * 1024;

struct BundlePreamble {
  std::array<char, 8> magic;
  std::uint32_t format_version;
  std::uint32_t schema_hash;     // kBundleSchemaHash of the writer
  std::uint64_t file_size;       // total bytes; a shorter file is truncated
  std::uint64_t header_offset;   // where the flatbuffer starts (64)
  std::uint64_t header_size;     // its exact length
  std::uint64_t header_xxh64;    // XXH64 (seed 0) of the header bytes
  std::uint64_t weights_offset;  // first weight segment; 64 KiB aligned
  std::uint64_t reserved;        // zero
};
static_assert(sizeof(BundlePreamble) == 64, "the preamble is 64 bytes on disk");

constexpr std::uint64_t alignUp(std::uint64_t value, std::uint64_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace unicorn
