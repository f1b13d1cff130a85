#include "compiler/model_config.h"

#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

#include "compiler/json_file.h"
#include "runtime/error.h"

namespace unicorn {
namespace {

using nlohmann::json;

// Gemma3TextConfig's defaults for the keys a resolved ModelConfig needs but that
// are not already the struct's member initialisers (transformers omits keys equal
// to these when it saves a config).
constexpr std::uint32_t kDefaultSlidingWindowPattern = 6;
constexpr double kDefaultGlobalRopeTheta = 1'000'000.0;
constexpr double kDefaultLocalRopeTheta = 10'000.0;

// A value as it appears in the file, shortened so an error stays one readable line.
std::string shortDump(const json& value) {
  std::string text = value.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

// Typed access to the keys of one JSON object. Every error names the file and the
// key's full dotted path ("text_config.rope_scaling.factor") and shows what was found.
// A key that is absent or null reads as its fallback: transformers treats a null
// the same as an omitted key for every field read here.
class ConfigObject {
 public:
  ConfigObject(const json& object, std::string file, std::string path)
      : object_(object), file_(std::move(file)), path_(std::move(path)) {
    if (!object_.is_object()) fail("", "expected a JSON object, got " + shortDump(object_));
  }

  bool has(const std::string& key) const { return object_.contains(key) && !object_.at(key).is_null(); }
  const json& raw(const std::string& key) const { return object_.at(key); }
  std::string keyPath(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }
  ConfigObject child(const std::string& key) const { return ConfigObject(object_.at(key), file_, keyPath(key)); }
  const std::string& file() const { return file_; }

  [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
    std::string where = key.empty() ? path_ : keyPath(key);
    failInvalidInput(file_ + ": " + (where.empty() ? "" : where + ": ") + problem);
  }

  std::uint32_t positiveUint32(const std::string& key, std::uint32_t fallback) const {
    if (!has(key)) return fallback;
    const json& value = raw(key);
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() == 0 ||
        value.get<std::uint64_t>() > std::numeric_limits<std::uint32_t>::max()) {
      fail(key, "expected a positive integer below 2^32, got " + shortDump(value));
    }
    return static_cast<std::uint32_t>(value.get<std::uint64_t>());
  }

  std::int32_t tokenId(const std::string& key, std::int32_t fallback) const {
    if (!has(key)) return fallback;
    return tokenIdValue(key, raw(key));
  }

  std::int32_t tokenIdValue(const std::string& key, const json& value) const {
    if (!value.is_number_unsigned() || value.get<std::uint64_t>() > std::numeric_limits<std::int32_t>::max()) {
      fail(key, "expected a token id (a non-negative integer), got " + shortDump(value));
    }
    return static_cast<std::int32_t>(value.get<std::uint64_t>());
  }

  // Finite and > 0: thetas, eps, scalars, factors.
  double positiveNumber(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const json& value = raw(key);
    if (!value.is_number() || !std::isfinite(value.get<double>()) || value.get<double>() <= 0) {
      fail(key, "expected a positive number, got " + shortDump(value));
    }
    return value.get<double>();
  }

  bool boolean(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!raw(key).is_boolean()) fail(key, "expected true or false, got " + shortDump(raw(key)));
    return raw(key).get<bool>();
  }

  std::string string(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!raw(key).is_string()) fail(key, "expected a string, got " + shortDump(raw(key)));
    return raw(key).get<std::string>();
  }

  // eos_token_id is an int or a list of ints in both config.json and generation_config.json.
  void appendTokenIds(const std::string& key, std::vector<std::int32_t>& ids) const {
    if (!has(key)) return;
    const json& value = raw(key);
    if (value.is_array()) {
      for (const json& id : value) ids.push_back(tokenIdValue(key, id));
    } else {
      ids.push_back(tokenIdValue(key, value));
    }
  }

 private:
  const json& object_;
  std::string file_;
  std::string path_;
};

struct RopeSetting {
  std::string type = "default";
  double theta = 0;  // 0 = not stated; filled from the legacy keys or the default
  double linear_factor = 1.0;
};

// Applies one rope dictionary (a rope_scaling value or one entry of rope_parameters)
// on top of `setting`, the way transformers' dict.update merges them.
void mergeRopeDictionary(const ConfigObject& rope, RopeSetting& setting) {
  // "type" is the pre-4.45 spelling of "rope_type"; both occur on the hub.
  if (rope.has("rope_type")) {
    setting.type = rope.string("rope_type", "default");
  } else if (rope.has("type")) {
    setting.type = rope.string("type", "default");
  }
  if (setting.type != "default" && setting.type != "linear") {
    rope.fail("rope_type", "unsupported rope type '" + setting.type + "' (Gemma 3 uses 'default' or 'linear')");
  }
  if (rope.has("rope_theta")) setting.theta = rope.positiveNumber("rope_theta", 0);
  if (setting.type == "linear") {
    if (!rope.has("factor")) rope.fail("factor", "rope type 'linear' needs a factor");
    setting.linear_factor = rope.positiveNumber("factor", 1.0);
  } else {
    setting.linear_factor = 1.0;
  }
}

// Resolves the RoPE of global ("full_attention") and sliding layers from either
// form, following transformers 5's Gemma3TextConfig.convert_rope_params_to_dict:
// rope_parameters is keyed by layer type; a legacy rope_scaling updates the
// full-attention entry; rope_theta and rope_local_base_freq fill a missing theta.
void resolveRope(const ConfigObject& text, ModelConfig& config) {
  RopeSetting global;
  RopeSetting local;
  if (text.has("rope_parameters")) {
    ConfigObject parameters = text.child("rope_parameters");
    const json& raw = text.raw("rope_parameters");
    for (const auto& [layer_type, value] : raw.items()) {
      if (layer_type != "full_attention" && layer_type != "sliding_attention") {
        parameters.fail(layer_type,
                        "expected rope parameters keyed by layer type ('full_attention', 'sliding_attention')");
      }
      if (value.is_null()) continue;
      mergeRopeDictionary(parameters.child(layer_type), layer_type == "full_attention" ? global : local);
    }
  }
  if (text.has("rope_scaling")) mergeRopeDictionary(text.child("rope_scaling"), global);
  if (global.theta == 0) global.theta = text.positiveNumber("rope_theta", kDefaultGlobalRopeTheta);
  if (local.theta == 0) local.theta = text.positiveNumber("rope_local_base_freq", kDefaultLocalRopeTheta);
  if (local.type != "default") {
    // No Gemma 3 checkpoint scales its sliding layers; ModelConfig has no field for it,
    // so refuse rather than silently run them unscaled.
    text.fail("rope_parameters.sliding_attention.rope_type",
              "unsupported rope type '" + local.type + "' on sliding layers (expected 'default')");
  }
  config.rope_global_base = global.theta;
  config.rope_global_linear_factor = global.linear_factor;
  config.rope_local_base = local.theta;
}

void resolveLayerTypes(const ConfigObject& text, ModelConfig& config) {
  const std::uint32_t layers = config.num_hidden_layers;
  config.layer_is_sliding.assign(layers, true);
  if (text.has("layer_types")) {
    const json& types = text.raw("layer_types");
    if (!types.is_array() || types.size() != layers) {
      text.fail("layer_types", "expected a list of " + std::to_string(layers) +
                                   " entries (num_hidden_layers), got " + shortDump(types));
    }
    for (std::uint32_t i = 0; i < layers; ++i) {
      const json& type = types[i];
      if (type == "sliding_attention") {
        config.layer_is_sliding[i] = true;
      } else if (type == "full_attention") {
        config.layer_is_sliding[i] = false;
      } else {
        text.fail("layer_types[" + std::to_string(i) + "]",
                  "expected \"sliding_attention\" or \"full_attention\", got " + shortDump(type));
      }
    }
    return;
  }
  // The hub form: every pattern-th layer (1-based) is global.
  const std::uint32_t pattern = text.positiveUint32("sliding_window_pattern", kDefaultSlidingWindowPattern);
  for (std::uint32_t i = 0; i < layers; ++i) config.layer_is_sliding[i] = (i + 1) % pattern != 0;
}

// Fills the text decoder's fields from `text` (the top level of a Gemma3ForCausalLM
// config or the text_config of a Gemma3ForConditionalGeneration one).
void readTextConfig(const ConfigObject& text, ModelConfig& config) {
  if (text.has("model_type") && text.string("model_type", "") != "gemma3_text") {
    text.fail("model_type", "expected \"gemma3_text\", got " + shortDump(text.raw("model_type")));
  }
  config.vocab_size_explicit = text.has("vocab_size");
  config.vocab_size = text.positiveUint32("vocab_size", config.vocab_size);
  config.hidden_size = text.positiveUint32("hidden_size", config.hidden_size);
  config.intermediate_size = text.positiveUint32("intermediate_size", config.intermediate_size);
  config.num_hidden_layers = text.positiveUint32("num_hidden_layers", config.num_hidden_layers);
  config.num_attention_heads = text.positiveUint32("num_attention_heads", config.num_attention_heads);
  config.num_key_value_heads = text.positiveUint32("num_key_value_heads", config.num_key_value_heads);
  config.head_dim = text.positiveUint32("head_dim", config.head_dim);
  config.query_pre_attn_scalar =
      static_cast<float>(text.positiveNumber("query_pre_attn_scalar", config.query_pre_attn_scalar));
  config.rms_norm_eps = static_cast<float>(text.positiveNumber("rms_norm_eps", config.rms_norm_eps));
  config.sliding_window = text.positiveUint32("sliding_window", config.sliding_window);
  config.max_position_embeddings = text.positiveUint32("max_position_embeddings", config.max_position_embeddings);
  config.final_logit_softcapping =
      static_cast<float>(text.positiveNumber("final_logit_softcapping", config.final_logit_softcapping));
  config.attn_logit_softcapping =
      static_cast<float>(text.positiveNumber("attn_logit_softcapping", config.attn_logit_softcapping));
  config.hidden_activation = text.string("hidden_activation", config.hidden_activation);
  config.tie_word_embeddings = text.boolean("tie_word_embeddings", config.tie_word_embeddings);
  config.bos_token_id = text.tokenId("bos_token_id", config.bos_token_id);
  config.pad_token_id = text.tokenId("pad_token_id", config.pad_token_id);

  if (config.num_attention_heads % config.num_key_value_heads != 0) {
    text.fail("num_key_value_heads", "expected a divisor of num_attention_heads " +
                                         std::to_string(config.num_attention_heads) + ", got " +
                                         std::to_string(config.num_key_value_heads));
  }
  if (config.head_dim % 2 != 0) {
    text.fail("head_dim", "expected an even number (RoPE rotates pairs), got " + std::to_string(config.head_dim));
  }
  if (config.hidden_activation != "gelu_pytorch_tanh") {
    text.fail("hidden_activation", "expected \"gelu_pytorch_tanh\", got \"" + config.hidden_activation + "\"");
  }
  if (text.boolean("attention_bias", false)) text.fail("attention_bias", "attention biases are not supported");
  if (text.boolean("use_bidirectional_attention", false)) {
    text.fail("use_bidirectional_attention", "bidirectional (embedding) models are not supported");
  }
  resolveLayerTypes(text, config);
  resolveRope(text, config);
}

void appendUnique(std::vector<std::int32_t>& into, const std::vector<std::int32_t>& ids) {
  for (std::int32_t id : ids) {
    bool seen = false;
    for (std::int32_t have : into) seen = seen || have == id;
    if (!seen) into.push_back(id);
  }
}

}  // namespace

ModelConfig readModelConfig(const std::filesystem::path& model_dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(model_dir, ec)) {
    failInvalidInput(model_dir.string() + ": not a directory (expected a Hugging Face checkpoint directory)");
  }
  const std::filesystem::path config_path = model_dir / "config.json";
  const json root_json = readJsonFile(config_path);
  const ConfigObject root(root_json, config_path.string(), "");

  ModelConfig config;
  std::string model_type = root.string("model_type", "");
  if (root.has("architectures")) {
    const json& architectures = root.raw("architectures");
    if (!architectures.is_array() || architectures.empty() || !architectures[0].is_string()) {
      root.fail("architectures", "expected a non-empty list of class names, got " + shortDump(architectures));
    }
    config.architecture = architectures[0].get<std::string>();
  } else if (model_type == "gemma3_text") {
    config.architecture = "Gemma3ForCausalLM";  // what AutoModelForCausalLM builds for it
  } else if (model_type == "gemma3") {
    config.architecture = "Gemma3ForConditionalGeneration";
  } else {
    root.fail("architectures", "missing, and model_type " + shortDump(root_json.value("model_type", json())) +
                                   " does not name a Gemma 3 model");
  }

  if (config.architecture == "Gemma3ForCausalLM") {
    if (!model_type.empty() && model_type != "gemma3_text") {
      root.fail("model_type", "expected \"gemma3_text\" for Gemma3ForCausalLM, got \"" + model_type + "\"");
    }
    readTextConfig(root, config);
  } else if (config.architecture == "Gemma3ForConditionalGeneration") {
    if (!model_type.empty() && model_type != "gemma3") {
      root.fail("model_type", "expected \"gemma3\" for Gemma3ForConditionalGeneration, got \"" + model_type + "\"");
    }
    config.multimodal = true;
    // Gemma3Config builds a default Gemma3TextConfig when text_config is absent.
    const json empty_text = json::object();
    const json& text_json = root.has("text_config") ? root.raw("text_config") : empty_text;
    readTextConfig(ConfigObject(text_json, config_path.string(), "text_config"), config);
    // Newer transformers keep tie_word_embeddings on the outer config.
    config.tie_word_embeddings = root.boolean("tie_word_embeddings", config.tie_word_embeddings);
  } else {
    root.fail("architectures", "unsupported architecture \"" + config.architecture +
                                   "\" (expected Gemma3ForCausalLM or Gemma3ForConditionalGeneration)");
  }

  // eos ids: the text config's, the outer config's (multimodal), then generation_config.json's.
  std::vector<std::int32_t> eos;
  if (config.multimodal && root.has("text_config")) {
    ConfigObject(root.raw("text_config"), config_path.string(), "text_config").appendTokenIds("eos_token_id", eos);
  }
  root.appendTokenIds("eos_token_id", eos);
  const std::filesystem::path generation_path = model_dir / "generation_config.json";
  if (std::filesystem::exists(generation_path, ec)) {
    const json generation_json = readJsonFile(generation_path);
    ConfigObject(generation_json, generation_path.string(), "").appendTokenIds("eos_token_id", eos);
  }
  if (!eos.empty()) {
    config.eos_token_ids.clear();
    appendUnique(config.eos_token_ids, eos);
  }
  return config;
}

}  // namespace unicorn
