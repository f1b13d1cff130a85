#include "compiler/checkpoint.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "compiler/json_file.h"
#include "runtime/error.h"

namespace unicorn {
namespace {

using nlohmann::json;

constexpr const char* kSingleFileName = "model.safetensors";
constexpr const char* kIndexFileName = "model.safetensors.index.json";

// Text-decoder key prefixes, most specific first (every one of them also starts
// with "model." or is empty, so order decides).
constexpr const char* kTextPrefixes[] = {"model.language_model.", "language_model.model.", "model.", ""};
// Parts of Gemma3ForConditionalGeneration the text decoder does not use.
constexpr const char* kSkippedPrefixes[] = {"vision_tower.", "multi_modal_projector.", "model.vision_tower.",
                                            "model.multi_modal_projector."};
constexpr const char* kLmHeadKeys[] = {"lm_head.weight", "language_model.lm_head.weight"};

bool startsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

std::string shapeText(const std::vector<std::uint64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

// One tensor the config says must exist, with a note on where its shape comes from.
struct ExpectedTensor {
  std::vector<std::uint64_t> shape;
  std::string meaning;
};

std::map<std::string, ExpectedTensor> expectedTextTensors(const ModelConfig& c, std::uint64_t vocab_rows) {
  const std::uint64_t hidden = c.hidden_size;
  const std::uint64_t q_width = std::uint64_t{c.num_attention_heads} * c.head_dim;
  const std::uint64_t kv_width = std::uint64_t{c.num_key_value_heads} * c.head_dim;
  const std::uint64_t ffn = c.intermediate_size;
  std::map<std::string, ExpectedTensor> expected;
  expected["embed_tokens.weight"] = {{vocab_rows, hidden}, "vocab_size x hidden_size"};
  expected["norm.weight"] = {{hidden}, "hidden_size"};
  for (std::uint32_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string layer = "layers." + std::to_string(i) + ".";
    for (const char* norm : {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                             "post_feedforward_layernorm"}) {
      expected[layer + norm + ".weight"] = {{hidden}, "hidden_size"};
    }
    expected[layer + "self_attn.q_proj.weight"] = {{q_width, hidden},
                                                   "num_attention_heads*head_dim x hidden_size"};
    expected[layer + "self_attn.k_proj.weight"] = {{kv_width, hidden},
                                                   "num_key_value_heads*head_dim x hidden_size"};
    expected[layer + "self_attn.v_proj.weight"] = {{kv_width, hidden},
                                                   "num_key_value_heads*head_dim x hidden_size"};
    expected[layer + "self_attn.o_proj.weight"] = {{hidden, q_width},
                                                   "hidden_size x num_attention_heads*head_dim"};
    expected[layer + "self_attn.q_norm.weight"] = {{c.head_dim}, "head_dim"};
    expected[layer + "self_attn.k_norm.weight"] = {{c.head_dim}, "head_dim"};
    expected[layer + "mlp.gate_proj.weight"] = {{ffn, hidden}, "intermediate_size x hidden_size"};
    expected[layer + "mlp.up_proj.weight"] = {{ffn, hidden}, "intermediate_size x hidden_size"};
    expected[layer + "mlp.down_proj.weight"] = {{hidden, ffn}, "hidden_size x intermediate_size"};
  }
  return expected;
}

bool isFloatDType(SafetensorsDType dtype) {
  return dtype == SafetensorsDType::kF32 || dtype == SafetensorsDType::kF16 || dtype == SafetensorsDType::kBF16;
}

// A stored tensor before classification, with the file it came from.
struct StoredTensor {
  std::string file_name;
  const SafetensorsEntry* entry;
};

// Shard file name -> keys the index says it holds.
std::map<std::string, std::set<std::string>> readWeightMap(const std::filesystem::path& index_path) {
  const json index = readJsonFile(index_path);
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object()) {
    failInvalidInput(index_path.string() + ": weight_map: expected an object mapping tensor names to shard files");
  }
  std::map<std::string, std::set<std::string>> keys_per_shard;
  for (const auto& [key, file] : index["weight_map"].items()) {
    if (!file.is_string()) {
      failInvalidInput(index_path.string() + ": weight_map.\"" + key + "\": expected a file name, got " + file.dump());
    }
    const std::string& name = file.get_ref<const std::string&>();
    // Shards sit beside the index; a path would let a checkpoint read any file.
    if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
      failInvalidInput(index_path.string() + ": weight_map.\"" + key + "\": \"" + name +
                       "\" is not a file name in the checkpoint directory");
    }
    keys_per_shard[name].insert(key);
  }
  if (keys_per_shard.empty()) failInvalidInput(index_path.string() + ": weight_map is empty");
  return keys_per_shard;
}

}  // namespace

Checkpoint Checkpoint::open(const std::filesystem::path& model_dir) {
  Checkpoint checkpoint;
  checkpoint.directory_ = model_dir;
  checkpoint.config_ = readModelConfig(model_dir);
  ModelConfig& config = checkpoint.config_;

  // Which files hold the weights; transformers looks for the single file first.
  std::error_code ec;
  std::vector<SafetensorsFile> files;
  std::vector<std::string> file_names;
  const std::filesystem::path single_path = model_dir / kSingleFileName;
  const std::filesystem::path index_path = model_dir / kIndexFileName;
  if (std::filesystem::exists(single_path, ec)) {
    files.push_back(SafetensorsFile::open(single_path));
    file_names.push_back(kSingleFileName);
  } else if (std::filesystem::exists(index_path, ec)) {
    const std::map<std::string, std::set<std::string>> keys_per_shard = readWeightMap(index_path);
    // A missing shard first: it explains any key mismatch in the others.
    for (const auto& [shard_name, keys] : keys_per_shard) {
      if (!std::filesystem::exists(model_dir / shard_name, ec)) {
        failInvalidInput((model_dir / shard_name).string() + ": shard named by " + kIndexFileName + " (for \"" +
                         *keys.begin() + "\") does not exist");
      }
    }
    for (const auto& [shard_name, keys] : keys_per_shard) {
      const std::filesystem::path shard_path = model_dir / shard_name;
      SafetensorsFile shard = SafetensorsFile::open(shard_path);
      std::set<std::string> stored;
      for (const SafetensorsEntry& entry : shard.entries()) {
        if (!keys.count(entry.key)) {
          failInvalidInput(shard_path.string() + ": tensor \"" + entry.key + "\" is not assigned to this shard by " +
                           kIndexFileName);
        }
        stored.insert(entry.key);
      }
      for (const std::string& key : keys) {
        if (!stored.count(key)) {
          failInvalidInput(shard_path.string() + ": tensor \"" + key + "\", listed for this shard in " +
                           kIndexFileName + ", is missing");
        }
      }
      files.push_back(std::move(shard));
      file_names.push_back(shard_name);
    }
  } else {
    failInvalidInput(model_dir.string() + ": no " + kSingleFileName + " or " + kIndexFileName + " found");
  }

  // Sort every stored key into: skipped (vision), LM head, or text decoder tensor.
  std::map<std::string, StoredTensor> text_tensors;  // canonical name -> stored
  std::vector<StoredTensor> lm_heads;
  const std::string* prefix_key = nullptr;  // the first text key, which fixes the layout
  for (std::size_t f = 0; f < files.size(); ++f) {
    for (const SafetensorsEntry& entry : files[f].entries()) {
      const std::string where = (model_dir / file_names[f]).string() + ": tensor \"" + entry.key + "\"";
      if (std::any_of(std::begin(kSkippedPrefixes), std::end(kSkippedPrefixes),
                      [&](const char* p) { return startsWith(entry.key, p); })) {
        continue;
      }
      if (std::any_of(std::begin(kLmHeadKeys), std::end(kLmHeadKeys),
                      [&](const char* k) { return entry.key == k; })) {
        lm_heads.push_back({file_names[f], &entry});
        continue;
      }
      std::string prefix;
      for (const char* candidate : kTextPrefixes) {
        if (startsWith(entry.key, candidate)) {
          prefix = candidate;
          break;
        }
      }
      if (prefix_key == nullptr) {
        checkpoint.key_prefix_ = prefix;
        prefix_key = &entry.key;
      } else if (prefix != checkpoint.key_prefix_) {
        failInvalidInput(where + " does not share the key layout of \"" + *prefix_key + "\" (prefix \"" +
                         checkpoint.key_prefix_ + "\")");
      }
      const std::string canonical = entry.key.substr(prefix.size());
      if (!text_tensors.emplace(canonical, StoredTensor{file_names[f], &entry}).second) {
        failInvalidInput(where + " is stored twice (also in " + text_tensors[canonical].file_name + ")");
      }
    }
  }

  // The embedding fixes vocab_size when the config leaves it out.
  auto embedding = text_tensors.find("embed_tokens.weight");
  if (embedding == text_tensors.end()) {
    failInvalidInput(model_dir.string() + ": no embedding tensor \"" + checkpoint.key_prefix_ +
                     "embed_tokens.weight\" in the checkpoint");
  }
  std::uint64_t vocab_rows = config.vocab_size;
  if (!config.vocab_size_explicit && !embedding->second.entry->shape.empty()) {
    vocab_rows = embedding->second.entry->shape[0];
    if (vocab_rows == 0 || vocab_rows > std::numeric_limits<std::uint32_t>::max()) {
      failInvalidInput((model_dir / embedding->second.file_name).string() + ": tensor \"" +
                       embedding->second.entry->key + "\": " + std::to_string(vocab_rows) +
                       " rows is not a usable vocabulary size");
    }
    config.vocab_size = static_cast<std::uint32_t>(vocab_rows);
  }

  const std::map<std::string, ExpectedTensor> expected = expectedTextTensors(config, vocab_rows);
  for (const auto& [canonical, stored] : text_tensors) {
    const SafetensorsEntry& entry = *stored.entry;
    const std::string where = (model_dir / stored.file_name).string() + ": tensor \"" + entry.key + "\"";
    auto wanted = expected.find(canonical);
    if (wanted == expected.end()) {
      failInvalidInput(where + " is not part of a Gemma 3 text decoder with " +
                       std::to_string(config.num_hidden_layers) + " layers");
    }
    if (!isFloatDType(entry.dtype)) {
      failInvalidInput(where + ": dtype " + dtypeName(entry.dtype) + ", expected F32, F16 or BF16");
    }
    if (entry.shape != wanted->second.shape) {
      failInvalidInput(where + ": shape " + shapeText(entry.shape) + ", expected " +
                       shapeText(wanted->second.shape) + " (" + wanted->second.meaning + " from config.json)");
    }
    checkpoint.tensors_.push_back(CheckpointTensor{canonical, entry.key, stored.file_name, entry.dtype, entry.shape,
                                                   entry.bytes, entry.file_offset});
  }
  for (const auto& [canonical, wanted] : expected) {
    if (!text_tensors.count(canonical)) {
      failInvalidInput(model_dir.string() + ": tensor \"" + checkpoint.key_prefix_ + canonical +
                       "\" is missing from the checkpoint");
    }
  }

  // The LM head: tied (the usual Gemma 3 case) or stored.
  if (lm_heads.size() > 1) {
    failInvalidInput(model_dir.string() + ": both \"" + lm_heads[0].entry->key + "\" and \"" +
                     lm_heads[1].entry->key + "\" are stored; expected at most one LM head");
  }
  const CheckpointTensor& embed = *std::find_if(checkpoint.tensors_.begin(), checkpoint.tensors_.end(),
                                                [](const CheckpointTensor& t) {
                                                  return t.canonical_name == "embed_tokens.weight";
                                                });
  if (lm_heads.empty()) {
    if (!config.tie_word_embeddings) {
      failInvalidInput(model_dir.string() + ": tie_word_embeddings is false but no lm_head.weight is stored");
    }
  } else {
    const SafetensorsEntry& head = *lm_heads[0].entry;
    const std::string where = (model_dir / lm_heads[0].file_name).string() + ": tensor \"" + head.key + "\"";
    if (!isFloatDType(head.dtype)) {
      failInvalidInput(where + ": dtype " + dtypeName(head.dtype) + ", expected F32, F16 or BF16");
    }
    if (head.shape != embed.shape) {
      failInvalidInput(where + ": shape " + shapeText(head.shape) + ", expected " + shapeText(embed.shape) +
                       " (the embedding's)");
    }
    if (config.tie_word_embeddings) {
      // transformers would overwrite one with the other; accept only a faithful copy.
      if (head.dtype != embed.dtype || head.bytes.size() != embed.bytes.size() ||
          std::memcmp(head.bytes.data(), embed.bytes.data(), embed.bytes.size()) != 0) {
        failInvalidInput(where + " differs from the embedding, but tie_word_embeddings is true");
      }
      checkpoint.tied_lm_head_key_ = head.key;
    } else {
      checkpoint.tensors_.push_back(CheckpointTensor{"lm_head.weight", head.key, lm_heads[0].file_name, head.dtype,
                                                     head.shape, head.bytes, head.file_offset});
    }
  }

  std::sort(checkpoint.tensors_.begin(), checkpoint.tensors_.end(),
            [](const CheckpointTensor& a, const CheckpointTensor& b) { return a.canonical_name < b.canonical_name; });
  // The spans stay valid: moving a MappedFile moves ownership, not the mapping.
  for (SafetensorsFile& file : files) checkpoint.files_.push_back(std::move(file.mapping()));
  return checkpoint;
}

bool Checkpoint::hasTensor(const std::string& canonical_name) const {
  return std::any_of(tensors_.begin(), tensors_.end(),
                     [&](const CheckpointTensor& t) { return t.canonical_name == canonical_name; });
}

const CheckpointTensor& Checkpoint::tensor(const std::string& canonical_name) const {
  auto it = std::lower_bound(tensors_.begin(), tensors_.end(), canonical_name,
                             [](const CheckpointTensor& t, const std::string& name) {
                               return t.canonical_name < name;
                             });
  if (it == tensors_.end() || it->canonical_name != canonical_name) {
    failInvalidInput(directory_.string() + ": no tensor \"" + canonical_name + "\" in the checkpoint");
  }
  return *it;
}

}  // namespace unicorn
