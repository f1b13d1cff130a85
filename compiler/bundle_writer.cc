#include "compiler/bundle_writer.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>

#include "runtime/atomic_output_file.h"
#include "compiler/bf16_conversion.h"
#include "compiler/quantize.h"
#include "compiler/tokenizer_import.h"
#include "runtime/error.h"
#include "schemas/bundle_format.h"
#include "schemas/bundle_generated.h"
#include "schemas/schema_hash.h"
#include "schemas/tensor_layout.h"

namespace unicorn {
namespace {

constexpr const char* kProducer = "unicorn-compile 0.1";
// Tensors are converted (or quantised) and hashed in slices of about this many
// elements, so peak memory stays bounded whatever the model size.
constexpr std::size_t kConversionChunkElements = 4u << 20;

std::uint64_t elementCount(const std::vector<std::uint64_t>& shape) {
  std::uint64_t count = 1;
  for (std::uint64_t dim : shape) count *= dim;  // the checkpoint reader bounded these by the file size
  return count;
}

flatbuffers::Offset<fb::TextModelConfig> buildModelConfig(flatbuffers::FlatBufferBuilder& fbb,
                                                          const ModelConfig& config) {
  std::vector<uint8_t> sliding(config.layer_is_sliding.begin(), config.layer_is_sliding.end());
  auto architecture = fbb.CreateString(config.architecture);
  auto layer_is_sliding = fbb.CreateVector(sliding);  // flatbuffers stores [bool] as bytes
  auto activation = fbb.CreateString(config.hidden_activation);
  auto eos = fbb.CreateVector(config.eos_token_ids);
  fb::TextModelConfigBuilder b(fbb);
  b.add_source_architecture(architecture);
  b.add_vocab_size(config.vocab_size);
  b.add_hidden_size(config.hidden_size);
  b.add_intermediate_size(config.intermediate_size);
  b.add_num_hidden_layers(config.num_hidden_layers);
  b.add_num_attention_heads(config.num_attention_heads);
  b.add_num_key_value_heads(config.num_key_value_heads);
  b.add_head_dim(config.head_dim);
  b.add_query_pre_attn_scalar(config.query_pre_attn_scalar);
  b.add_rms_norm_eps(config.rms_norm_eps);
  b.add_sliding_window(config.sliding_window);
  b.add_max_position_embeddings(config.max_position_embeddings);
  b.add_rope_global_base(config.rope_global_base);
  b.add_rope_global_linear_factor(config.rope_global_linear_factor);
  b.add_rope_local_base(config.rope_local_base);
  b.add_layer_is_sliding(layer_is_sliding);
  b.add_final_logit_softcapping(config.final_logit_softcapping);
  b.add_attn_logit_softcapping(config.attn_logit_softcapping);
  b.add_hidden_activation(activation);
  b.add_bos_token_id(config.bos_token_id);
  b.add_eos_token_ids(eos);
  b.add_pad_token_id(config.pad_token_id);
  return b.Finish();
}

// Where each tensor goes in the file: consecutive 64 KiB-aligned segments.
struct SegmentPlan {
  std::uint64_t weights_offset = 0;
  std::vector<std::uint64_t> offsets;
  std::uint64_t file_size = 0;
};

SegmentPlan planSegments(std::uint64_t header_end, const std::vector<std::uint64_t>& sizes) {
  SegmentPlan plan;
  plan.weights_offset = alignUp(header_end, kSegmentAlignment);
  std::uint64_t cursor = plan.weights_offset;
  for (std::uint64_t size : sizes) {
    plan.offsets.push_back(cursor);
    cursor = alignUp(cursor + size, kSegmentAlignment);
  }
  plan.file_size = cursor;
  return plan;
}

// Appends a tensor's segment to the file while hashing exactly the bytes appended.
class SegmentWriter {
 public:
  explicit SegmentWriter(AtomicOutputFile& out) : out_(out), start_(out.size()), hash_(XXH64_createState(), XXH64_freeState) {
    XXH64_reset(hash_.get(), 0);
  }
  void append(std::span<const std::byte> bytes) {
    XXH64_update(hash_.get(), bytes.data(), bytes.size());
    out_.append(bytes);
  }
  // Zero bytes up to `segment_offset` from the segment's start.
  void padTo(std::uint64_t segment_offset) {
    static const std::byte kZeros[4096] = {};
    while (out_.size() - start_ < segment_offset) {
      append({kZeros, static_cast<std::size_t>(std::min<std::uint64_t>(segment_offset - (out_.size() - start_), sizeof(kZeros)))});
    }
  }
  std::uint64_t digest() const { return XXH64_digest(hash_.get()); }

 private:
  AtomicOutputFile& out_;
  std::uint64_t start_;
  std::unique_ptr<XXH64_state_t, decltype(&XXH64_freeState)> hash_;
};

// Streams one tensor into the file as bf16 (a stack: its parts' rows in turn),
// returning the XXH64 of the bytes written.
std::uint64_t writeTensorAsBF16(AtomicOutputFile& out, const BundleTensor& entry) {
  SegmentWriter segment(out);
  for (const CheckpointTensor* tensor : entry.sources) {
    const std::size_t source_element_size = elementSize(tensor->dtype);
    const std::uint64_t count = elementCount(tensor->shape);
    std::vector<std::uint16_t> chunk(std::min<std::uint64_t>(count, kConversionChunkElements));
    for (std::uint64_t first = 0; first < count; first += chunk.size()) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), count - first));
      convertToBF16(tensor->dtype, tensor->bytes.subspan(first * source_element_size, n * source_element_size),
                    std::span<std::uint16_t>(chunk.data(), n));
      segment.append(std::as_bytes(std::span<const std::uint16_t>(chunk.data(), n)));
    }
  }
  return segment.digest();
}

// Streams one [N, K] matrix into the file block-quantised (layout: schemas/bundle.fbs,
// QuantScheme), quantising each slice of rows on `threads` threads; returns the XXH64
// of the segment. A stack's parts give their rows in turn (each row is quantised on
// its own, so a stacked row is the row its part would have stored). The quants
// stream out slice by slice; the scales follow all of them in the segment, so they
// wait in memory until the end: K/16 bytes per row, 1/16 of the tensor's bf16 size
// (88 MiB for the largest Gemma 3 tensor, the 27B embedding).
std::uint64_t writeTensorBlockQuantised(AtomicOutputFile& out, const BundleTensor& entry, unsigned threads) {
  const fb::QuantScheme scheme = entry.scheme.quant;
  const BlockQuantLayout layout = *blockQuantLayout(scheme, entry.shape[0], entry.shape[1]);  // chooseWeightScheme checked K
  const std::uint64_t rows_per_slice = std::max<std::uint64_t>(1, kConversionChunkElements / layout.row_elements);
  SegmentWriter segment(out);
  std::vector<std::byte> quants(std::min(layout.rows, rows_per_slice) * layout.quant_row_bytes);
  std::vector<std::uint16_t> scales(layout.rows * layout.blocks_per_row);
  std::uint64_t stack_row = 0;  // the first row of this part in the stack
  for (const CheckpointTensor* tensor : entry.sources) {
    const std::uint64_t source_row_bytes = layout.row_elements * elementSize(tensor->dtype);
    const std::uint64_t rows = tensor->shape[0];
    for (std::uint64_t first = 0; first < rows; first += rows_per_slice) {
      const std::uint64_t n = std::min(rows_per_slice, rows - first);
      std::span<std::byte> slice_quants(quants.data(), n * layout.quant_row_bytes);
      std::optional<std::uint64_t> bad_row = quantizeRows(
          scheme, tensor->dtype, tensor->bytes.subspan(first * source_row_bytes, n * source_row_bytes),
          layout.row_elements, slice_quants,
          std::span(scales).subspan((stack_row + first) * layout.blocks_per_row, n * layout.blocks_per_row), threads);
      if (bad_row) {
        failInvalidInput(tensor->source_file + ": tensor '" + tensor->source_key + "' row " +
                         std::to_string(first + *bad_row) +
                         " holds a NaN or infinity, which cannot be quantised; use --weights bf16");
      }
      segment.append(slice_quants);
    }
    stack_row += rows;
  }
  segment.padTo(layout.scales_offset);
  segment.append(std::as_bytes(std::span<const std::uint16_t>(scales)));
  segment.padTo(layout.total_bytes);
  return segment.digest();
}

}  // namespace

void writeBundle(const BundleContents& contents, const std::filesystem::path& out_path,
                 const WriteProgress& progress) {
  const Checkpoint& checkpoint = *contents.checkpoint;
  const std::vector<BundleTensor>& tensors = contents.tensors;

  // 1. The header, with every scalar present (ForceDefaults) so that filling in
  //    offsets and checksums later changes values, never the header's size.
  flatbuffers::FlatBufferBuilder fbb(1 << 20);
  fbb.ForceDefaults(true);
  auto tokenizer = importTokenizer(fbb, checkpoint.directory());
  auto model = buildModelConfig(fbb, checkpoint.config());
  std::vector<std::uint64_t> stored_sizes;
  std::vector<flatbuffers::Offset<fb::Tensor>> tensor_table;
  for (const BundleTensor& tensor : tensors) {
    stored_sizes.push_back(tensor.stored_bytes);
    tensor_table.push_back(fb::CreateTensor(fbb, fbb.CreateString(tensor.name), tensor.scheme.dtype,
                                            tensor.scheme.quant, fbb.CreateVector(tensor.shape), /*offset=*/0,
                                            tensor.stored_bytes, /*xxh64=*/0));
  }
  std::vector<flatbuffers::Offset<flatbuffers::String>> devices;
  for (const std::string& device : contents.required_devices) devices.push_back(fbb.CreateString(device));
  auto header = fb::CreateHeader(fbb, fbb.CreateString(kProducer), model, tokenizer,
                                 fbb.CreateString(contents.chat_template), fbb.CreateVector(devices),
                                 fbb.CreateVector(tensor_table),
                                 contents.schedule ? serializeSchedule(fbb, *contents.schedule) : 0);
  fb::FinishHeaderBuffer(fbb, header);
  std::span<std::byte> header_bytes(reinterpret_cast<std::byte*>(fbb.GetBufferPointer()), fbb.GetSize());

  // 2. Where every segment goes, now that the header's size is known.
  const std::uint64_t header_offset = sizeof(BundlePreamble);
  SegmentPlan plan = planSegments(header_offset + header_bytes.size(), stored_sizes);
  auto* mutable_tensors = fb::GetMutableHeader(header_bytes.data())->mutable_tensors();
  for (std::size_t i = 0; i < tensors.size(); ++i) mutable_tensors->GetMutableObject(i)->mutate_offset(plan.offsets[i]);

  // 3. Weights, streamed tensor by tensor; the header is rewritten once their
  //    checksums are known.
  AtomicOutputFile out(out_path);
  out.padTo(plan.weights_offset);
  std::uint64_t bytes_done = 0, bytes_total = 0;
  for (std::uint64_t size : stored_sizes) bytes_total += size;
  const unsigned threads = contents.threads ? contents.threads : std::max(1u, std::thread::hardware_concurrency());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    out.padTo(plan.offsets[i]);
    const std::uint64_t checksum = tensors[i].scheme.quant == fb::QuantScheme::None
                                       ? writeTensorAsBF16(out, tensors[i])
                                       : writeTensorBlockQuantised(out, tensors[i], threads);
    mutable_tensors->GetMutableObject(i)->mutate_xxh64(checksum);
    bytes_done += stored_sizes[i];
    if (progress) progress(i + 1, tensors.size(), bytes_done, bytes_total);
  }
  out.padTo(plan.file_size);
  out.writeAt(header_offset, header_bytes);

  BundlePreamble preamble{};
  preamble.magic = kBundleMagic;
  preamble.format_version = kBundleFormatVersion;
  preamble.schema_hash = kBundleSchemaHash;
  preamble.file_size = plan.file_size;
  preamble.header_offset = header_offset;
  preamble.header_size = header_bytes.size();
  preamble.header_xxh64 = XXH64(header_bytes.data(), header_bytes.size(), 0);
  preamble.weights_offset = plan.weights_offset;
  out.writeAt(0, std::as_bytes(std::span(&preamble, 1)));
  out.commit();
}

}  // namespace unicorn
