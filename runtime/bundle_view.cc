#include "runtime/bundle_view.h"

#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <vector>

#include "runtime/error.h"
#include "runtime/schedule_check.h"
#include "schemas/schema_hash.h"
#include "schemas/tensor_layout.h"

static_assert(std::endian::native == std::endian::little, "bundles are little-endian; so is every supported host");

namespace unicorn {
namespace {

// flatbuffers 2.0.8 asserts on buffers of 2 GiB or more: such a header is rejected before the Verifier.
constexpr std::uint64_t kMaxHeaderSize = FLATBUFFERS_MAX_BUFFER_SIZE - 1;
constexpr std::uint32_t kMaxLayers = 1024;
constexpr std::uint32_t kMaxDimension = 1u << 24;

std::string hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof(text), "%08" PRIx32, value);
  return text;
}

std::string shapeText(const std::vector<std::uint64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// `offset + size` stays inside a file of `file_size` bytes, without overflow.
bool spanFits(std::uint64_t offset, std::uint64_t size, std::uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

class BundleChecker {
 public:
  BundleChecker(std::span<const std::byte> bytes, std::string name) : bytes_(bytes), name_(std::move(name)) {}

  [[noreturn]] void fail(const std::string& message) const { failInvalidInput(name_ + ": " + message); }

  BundlePreamble checkPreamble() const {
    const std::uint64_t actual_size = bytes_.size();
    if (actual_size < sizeof(BundlePreamble)) {
      fail("not a Unicorn bundle: " + std::to_string(actual_size) + " bytes, shorter than the 64-byte preamble");
    }
    BundlePreamble p;
    std::memcpy(&p, bytes_.data(), sizeof(p));
    if (p.magic != kBundleMagic) fail("not a Unicorn bundle (bad magic bytes)");
    if (p.format_version != kBundleFormatVersion) {
      fail("bundle format " + std::to_string(p.format_version) + ", this runtime reads " +
           std::to_string(kBundleFormatVersion) + ": recompile it with a matching unicorn-compile");
    }
    if (p.schema_hash != kBundleSchemaHash) {
      fail("bundle schema " + hex32(p.schema_hash) + ", this runtime's schema " + hex32(kBundleSchemaHash) +
           " (both format " + std::to_string(kBundleFormatVersion) +
           "): built from different schemas; recompile it with a matching unicorn-compile");
    }
    if (p.file_size != actual_size) {
      fail(actual_size < p.file_size
               ? "truncated: " + std::to_string(actual_size) + " bytes, the preamble records " +
                     std::to_string(p.file_size)
               : std::to_string(actual_size) + " bytes, the preamble records " + std::to_string(p.file_size) +
                     " (data appended after the bundle)");
    }
    if (p.header_offset < sizeof(BundlePreamble) || p.header_offset % 8 != 0 ||
        !spanFits(p.header_offset, p.header_size, actual_size)) {
      fail("header span [" + std::to_string(p.header_offset) + ", +" + std::to_string(p.header_size) +
           ") does not lie after the preamble inside the file");
    }
    if (p.header_size == 0 || p.header_size > kMaxHeaderSize) {
      fail("header size " + std::to_string(p.header_size) + " outside 1.." + std::to_string(kMaxHeaderSize));
    }
    if (p.weights_offset % kSegmentAlignment != 0 || p.weights_offset < p.header_offset + p.header_size ||
        p.weights_offset > actual_size) {
      fail("weights offset " + std::to_string(p.weights_offset) +
           " is not a 64 KiB boundary between the header's end and the file's end");
    }
    if (p.reserved != 0) fail("reserved preamble field is " + std::to_string(p.reserved) + ", expected 0");
    return p;
  }

  const fb::Header* checkHeader(const BundlePreamble& p) const {
    const std::byte* start = bytes_.data() + p.header_offset;
    std::uint64_t checksum = XXH64(start, p.header_size, 0);
    if (checksum != p.header_xxh64) fail("header checksum mismatch (the header is corrupt)");
    flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(start), p.header_size);
    if (!fb::VerifyHeaderBuffer(verifier)) fail("header is not a valid flatbuffer of the bundle schema");
    const fb::Header* header = fb::GetHeader(start);
    if (!header->model()) fail("header has no model config");
    if (!header->tokenizer()) fail("header has no tokenizer");
    if (!header->tensors()) fail("header has no tensor table");
    if (!header->required_devices()) fail("header has no required_devices list");
    return header;
  }

  void checkModelConfig(const fb::TextModelConfig& m) const {
    auto require_dimension = [&](const char* field, std::uint32_t value) {
      if (value == 0 || value > kMaxDimension) {
        fail("model." + std::string(field) + " is " + std::to_string(value) + ", expected 1.." +
             std::to_string(kMaxDimension));
      }
    };
    require_dimension("vocab_size", m.vocab_size());
    require_dimension("hidden_size", m.hidden_size());
    require_dimension("intermediate_size", m.intermediate_size());
    require_dimension("num_attention_heads", m.num_attention_heads());
    require_dimension("num_key_value_heads", m.num_key_value_heads());
    require_dimension("head_dim", m.head_dim());
    if (m.num_hidden_layers() == 0 || m.num_hidden_layers() > kMaxLayers) {
      fail("model.num_hidden_layers is " + std::to_string(m.num_hidden_layers()) + ", expected 1.." +
           std::to_string(kMaxLayers));
    }
    if (m.num_attention_heads() % m.num_key_value_heads() != 0) {
      fail("model.num_attention_heads " + std::to_string(m.num_attention_heads()) +
           " is not a multiple of num_key_value_heads " + std::to_string(m.num_key_value_heads()));
    }
    std::uint32_t sliding_entries = m.layer_is_sliding() ? m.layer_is_sliding()->size() : 0;
    if (sliding_entries != m.num_hidden_layers()) {
      fail("model.layer_is_sliding has " + std::to_string(sliding_entries) + " entries, expected " +
           std::to_string(m.num_hidden_layers()));
    }
  }

  void checkTensors(const BundlePreamble& p, const fb::Header& header, VerifyLevel level) const {
    struct Placed {
      std::uint64_t offset, size;
      const fb::Tensor* tensor;
    };
    std::vector<Placed> placed;
    const flatbuffers::String* previous_name = nullptr;
    for (const fb::Tensor* t : *header.tensors()) {
      if (!t->name()) fail("a tensor has no name");
      const std::string name = t->name()->str();
      if (previous_name && !(previous_name->str() < name)) {
        fail("tensor table is not sorted by unique names at '" + name + "'");
      }
      previous_name = t->name();
      if (t->dtype() < fb::DType::MIN || t->dtype() > fb::DType::MAX) {
        fail("tensor '" + name + "': unknown dtype " + std::to_string(static_cast<int>(t->dtype())));
      }
      if (t->quant() < fb::QuantScheme::MIN || t->quant() > fb::QuantScheme::MAX) {
        fail("tensor '" + name + "': unknown quantisation scheme " + std::to_string(static_cast<int>(t->quant())));
      }
      if (!t->shape() || t->shape()->size() == 0 || t->shape()->size() > 8) {
        fail("tensor '" + name + "': shape must have 1 to 8 dimensions");
      }
      std::uint64_t count = 1;
      const std::vector<std::uint64_t> shape(t->shape()->begin(), t->shape()->end());
      for (std::uint64_t dim : shape) {
        if (dim == 0 || count > UINT64_MAX / dim) fail("tensor '" + name + "': shape has a zero or overflowing dimension");
        count *= dim;
      }
      const std::string format = std::string(dtypeName(t->dtype())) + " " + quantSchemeName(t->quant()) + " " +
                                 shapeText(shape);
      const StoredTensorSize expected = storedTensorSize(t->dtype(), t->quant(), shape);
      if (expected.problem) fail("tensor '" + name + "' (" + format + "): " + expected.problem);
      if (t->size() != expected.bytes) {
        fail("tensor '" + name + "': size " + std::to_string(t->size()) + " bytes, expected " +
             std::to_string(expected.bytes) + " for " + format);
      }
      if (t->offset() % kSegmentAlignment != 0 || t->offset() < p.weights_offset ||
          !spanFits(t->offset(), t->size(), bytes_.size())) {
        fail("tensor '" + name + "': segment [" + std::to_string(t->offset()) + ", +" + std::to_string(t->size()) +
             ") is not a 64 KiB-aligned span inside the weights area [" + std::to_string(p.weights_offset) + ", " +
             std::to_string(bytes_.size()) + ")");
      }
      placed.push_back({t->offset(), t->size(), t});
    }
    std::sort(placed.begin(), placed.end(), [](const Placed& a, const Placed& b) { return a.offset < b.offset; });
    for (std::size_t i = 1; i < placed.size(); ++i) {
      if (placed[i - 1].offset + placed[i - 1].size > placed[i].offset) {
        fail("tensors '" + placed[i - 1].tensor->name()->str() + "' and '" + placed[i].tensor->name()->str() +
             "' overlap");
      }
    }
    if (level == VerifyLevel::kFull) {
      for (const Placed& s : placed) {
        if (XXH64(bytes_.data() + s.offset, s.size, 0) != s.tensor->xxh64()) {
          fail("tensor '" + s.tensor->name()->str() + "': checksum mismatch (its weight bytes are corrupt)");
        }
      }
    }
  }

  void checkDevices(const fb::Header& header) const {
    for (const flatbuffers::String* device : *header.required_devices()) {
      if (!device || (device->str() != "igpu" && device->str() != "npu")) {
        fail("required device '" + (device ? device->str() : std::string()) + "' is unknown (known: igpu, npu)");
      }
    }
  }

 private:
  std::span<const std::byte> bytes_;
  std::string name_;
};

}  // namespace

const char* dtypeName(fb::DType dtype) {
  switch (dtype) {
    case fb::DType::F32: return "f32";
    case fb::DType::F16: return "f16";
    case fb::DType::BF16: return "bf16";
    case fb::DType::I8: return "i8";
    case fb::DType::I4: return "i4";
  }
  return "unknown";
}

const char* quantSchemeName(fb::QuantScheme scheme) {
  switch (scheme) {
    case fb::QuantScheme::None: return "none";
    case fb::QuantScheme::Q8Block32: return "q8_block32";
    case fb::QuantScheme::Q4Block32: return "q4_block32";
  }
  return "unknown";
}

void BundleView::verify(std::span<const std::byte> bytes, const std::string& name, VerifyLevel level) {
  BundleChecker checker(bytes, name);
  BundlePreamble preamble = checker.checkPreamble();
  const fb::Header* header = checker.checkHeader(preamble);
  checker.checkModelConfig(*header->model());
  checker.checkTensors(preamble, *header, level);
  checker.checkDevices(*header);
  checkSchedule(*header, name);
}

BundleView BundleView::open(const std::filesystem::path& path, VerifyLevel level) {
  BundleView view;
  view.file_ = MappedFile::open(path);
  verify(view.file_.bytes(), path.string(), level);
  std::memcpy(&view.preamble_, view.file_.data(), sizeof(BundlePreamble));
  view.header_ = fb::GetHeader(view.file_.data() + view.preamble_.header_offset);
  return view;
}

std::span<const std::byte> BundleView::tensorBytes(const fb::Tensor& tensor) const {
  return file_.bytes().subspan(tensor.offset(), tensor.size());
}

const fb::Tensor* BundleView::findTensor(const std::string& name) const {
  return header_->tensors()->LookupByKey(name.c_str());
}

}  // namespace unicorn
