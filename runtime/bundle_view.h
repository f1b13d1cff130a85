// A .ubundle mapped into memory and verified before anything else touches it.
//
// Verification order (DESIGN.md "The bundle"): preamble (magic, format version,
// schema hash) and recorded file size (catches truncation) -> header checksum ->
// flatbuffers Verifier over exactly the header span -> model config invariants ->
// every tensor's offset/size with overflow-safe arithmetic, alignment, size for
// its dtype x quant scheme x shape (schemas/tensor_layout.h), overlap, and with
// VerifyLevel::kFull every weight segment's checksum -> required devices -> the execution schedule (runtime/schedule_check.h).
// Every failure is one Error(kInvalidInput) line naming the bundle, the field,
// and expected vs actual.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "runtime/mapped_file.h"
#include "schemas/bundle_format.h"
#include "schemas/bundle_generated.h"

namespace unicorn {

enum class VerifyLevel {
  kStructure,  // everything but the weight checksums: cheap, done on every open
  kFull,       // also hash every weight segment (--verify)
};

class BundleView {
 public:
  static BundleView open(const std::filesystem::path& path, VerifyLevel level = VerifyLevel::kStructure);

  // Verifies `bytes` as a complete bundle; `name` is used in messages. This is the
  // fuzz target's entry point and what open() runs on the mapped file.
  static void verify(std::span<const std::byte> bytes, const std::string& name, VerifyLevel level);

  const BundlePreamble& preamble() const { return preamble_; }
  const fb::Header& header() const { return *header_; }
  std::uint64_t fileSize() const { return file_.size(); }
  const std::filesystem::path& path() const { return file_.path(); }

  // The stored bytes of a tensor of this bundle's header (verified to lie in the file).
  std::span<const std::byte> tensorBytes(const fb::Tensor& tensor) const;
  // Looks a tensor up by canonical name; nullptr if absent.
  const fb::Tensor* findTensor(const std::string& name) const;

 private:
  MappedFile file_;
  BundlePreamble preamble_{};
  const fb::Header* header_ = nullptr;
};

const char* dtypeName(fb::DType dtype);              // "bf16", "i8", ...
const char* quantSchemeName(fb::QuantScheme scheme);  // "none", "q8_block32", "q4_block32"
// Byte sizes per (dtype, scheme, shape): schemas/tensor_layout.h.

}  // namespace unicorn
