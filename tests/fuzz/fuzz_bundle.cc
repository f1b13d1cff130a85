// Fuzzes the bundle verifier (BundleView::verify), the gate every bundle passes
// before the runtime reads a byte of it. Two modes, chosen by the first byte:
//   even: the rest is a whole bundle file — exercises the preamble and framing checks;
//   odd:  the rest is a flatbuffer header, wrapped in a valid preamble (correct sizes
//         and checksum) and a small weights area — gets past the framing so the
//         flatbuffers Verifier and the semantic checks behind it are explored.
// The only acceptable outcomes are success or unicorn::Error; anything else
// (a crash, a sanitizer report, another exception) is a finding.
#include <xxhash.h>

#include <cstring>
#include <vector>

#include "runtime/bundle_view.h"
#include "runtime/error.h"
#include "schemas/schema_hash.h"

namespace {

std::vector<std::byte> wrapHeader(const std::uint8_t* header, std::size_t size) {
  using namespace unicorn;
  BundlePreamble p{};
  p.magic = kBundleMagic;
  p.format_version = kBundleFormatVersion;
  p.schema_hash = kBundleSchemaHash;
  p.header_offset = sizeof(BundlePreamble);
  p.header_size = size;
  p.header_xxh64 = XXH64(header, size, 0);
  p.weights_offset = alignUp(p.header_offset + size, kSegmentAlignment);
  p.file_size = p.weights_offset + 2 * kSegmentAlignment;
  std::vector<std::byte> file(p.file_size);
  std::memcpy(file.data(), &p, sizeof(p));
  std::memcpy(file.data() + p.header_offset, header, size);
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::vector<std::byte> file;
  if (data[0] & 1) {
    file = wrapHeader(data + 1, size - 1);
  } else {
    file.resize(size - 1);
    if (size > 1) std::memcpy(file.data(), data + 1, size - 1);
  }
  // Copy into an aligned buffer, as a mapping would be: the verifier may assume 8-byte alignment.
  std::vector<std::uint64_t> aligned((file.size() + 7) / 8);
  if (!file.empty()) std::memcpy(aligned.data(), file.data(), file.size());
  try {
    unicorn::BundleView::verify(std::as_bytes(std::span(aligned)).first(file.size()), "fuzz.ubundle",
                                unicorn::VerifyLevel::kFull);
  } catch (const unicorn::Error&) {
  }
  return 0;
}
