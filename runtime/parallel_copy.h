// Copying large host ranges on several cores. One core's memcpy moves about
// 5-10 GB/s, less than a PCIe 4/5 link takes and far less than the shared
// memory of an integrated GPU; and for a freshly mapped bundle the copying
// thread also takes every page fault of its source. Making weights resident
// (runtime/gpu/residency.h) is such a copy, and the one long step between
// opening a bundle and its first token.
#pragma once

#include <cstddef>

namespace unicorn {

// memcpy(destination, source, bytes) over up to `threads` threads (0: as many
// as the machine has, at most 8), each taking at least a few MiB: small copies
// stay on the calling thread. The ranges must not overlap.
void parallelCopy(std::byte* destination, const std::byte* source, std::size_t bytes, unsigned threads = 0);

}  // namespace unicorn
