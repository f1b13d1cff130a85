// A Hugging Face Gemma 3 checkpoint directory, opened for reading without copying
// tensor bytes: every safetensors file is memory-mapped and tensors are spans
// into those maps.
//
// Accepted: model.safetensors, or model-0000N-of-0000M.safetensors with
// model.safetensors.index.json; key layouts "model.*" (Gemma3ForCausalLM),
// "language_model.model.*", "model.language_model.*" and bare "layers.*" (the
// text model inside Gemma3ForConditionalGeneration, depending on the saving
// transformers version). Vision tower and multimodal projector are skipped.
// Every text tensor's dtype (F32, F16 or BF16) and shape is checked against the
// config; missing, duplicate or unexpected text tensors are errors.
//
// The LM head: Gemma 3 ties it to the embedding. A stored "lm_head.weight" (or
// "language_model.lm_head.weight") is checked for shape; when the config ties the
// weights it must hold the same bytes as the embedding (it is then not listed in
// tensors(), tiedLmHeadKey() names it); when the config unties them it is required
// and listed as "lm_head.weight".
//
// vocab_size: when config.json states it, the embedding must have exactly that many
// rows; when omitted (4B+ hub configs), config().vocab_size is the embedding's rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "compiler/model_config.h"
#include "compiler/safetensors_file.h"
#include "runtime/mapped_file.h"

namespace unicorn {

// A text-decoder tensor under its canonical name: the key with the layout prefix
// removed, e.g. "embed_tokens.weight", "layers.3.mlp.gate_proj.weight", "norm.weight".
struct CheckpointTensor {
  std::string canonical_name;
  std::string source_key;     // the key as stored, for error messages
  std::string source_file;    // file name within the checkpoint directory
  SafetensorsDType dtype;
  std::vector<std::uint64_t> shape;
  std::span<const std::byte> bytes;  // into the mapped file
  std::uint64_t file_offset;         // of bytes[0] within source_file
};

class Checkpoint {
 public:
  // Opens and validates everything; throws Error(kInvalidInput) with one line
  // naming the file and key on any problem.
  static Checkpoint open(const std::filesystem::path& model_dir);

  const ModelConfig& config() const { return config_; }
  // Sorted by canonical name.
  const std::vector<CheckpointTensor>& tensors() const { return tensors_; }
  const CheckpointTensor& tensor(const std::string& canonical_name) const;  // throws if absent
  bool hasTensor(const std::string& canonical_name) const;
  const std::filesystem::path& directory() const { return directory_; }
  // The key prefix the text tensors were stored under: "model.", "language_model.model.",
  // "model.language_model." or "" (bare).
  const std::string& keyPrefix() const { return key_prefix_; }
  // The stored LM head key that was verified equal to the tied embedding; empty if none was stored.
  const std::string& tiedLmHeadKey() const { return tied_lm_head_key_; }

 private:
  std::filesystem::path directory_;
  ModelConfig config_;
  std::vector<MappedFile> files_;  // keeps the maps that tensors point into alive
  std::vector<CheckpointTensor> tensors_;
  std::string key_prefix_;
  std::string tied_lm_head_key_;
};

}  // namespace unicorn
