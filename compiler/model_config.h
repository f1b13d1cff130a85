// The Gemma 3 text decoder's configuration, resolved from a checkpoint's
// config.json in either of the forms users have (see DESIGN.md "Input"):
//  - the hub form: rope_theta, rope_local_base_freq, rope_scaling, sliding_window_pattern;
//  - the newer form: layer_types, rope_parameters;
//  - text-only Gemma3ForCausalLM at top level, or Gemma3ForConditionalGeneration
//    with the text config nested under "text_config".
// Keys that transformers omits because they equal Gemma3TextConfig's defaults are
// filled with those defaults, so every field here is always meaningful.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace unicorn {

struct ModelConfig {
  std::string architecture;  // top-level "architectures"[0], e.g. "Gemma3ForCausalLM"
  bool multimodal = false;   // Gemma3ForConditionalGeneration: text config nested, vision skipped

  // Embedding rows. When config.json states vocab_size, Checkpoint::open requires the
  // embedding to have exactly that many rows (transformers would refuse the weights
  // otherwise); when it is omitted, Checkpoint::open takes it from the embedding
  // (4B+ checkpoints pad it to 262208 and their configs often omit it).
  std::uint32_t vocab_size = 262208;
  bool vocab_size_explicit = false;  // config.json named vocab_size
  std::uint32_t hidden_size = 2304;
  std::uint32_t intermediate_size = 9216;
  std::uint32_t num_hidden_layers = 26;
  std::uint32_t num_attention_heads = 8;
  std::uint32_t num_key_value_heads = 4;
  std::uint32_t head_dim = 256;
  float query_pre_attn_scalar = 256;
  float rms_norm_eps = 1e-6f;
  std::uint32_t sliding_window = 4096;
  std::uint32_t max_position_embeddings = 131072;
  double rope_global_base = 1'000'000.0;
  double rope_global_linear_factor = 1.0;  // rope_scaling {"rope_type":"linear","factor":F}; 1 = none
  double rope_local_base = 10'000.0;      // sliding layers never scale (other rope types are refused)
  std::vector<bool> layer_is_sliding;      // size num_hidden_layers
  float final_logit_softcapping = 0;       // 0 = none (config null)
  float attn_logit_softcapping = 0;        // 0 = none
  std::string hidden_activation = "gelu_pytorch_tanh";
  bool tie_word_embeddings = true;
  std::int32_t bos_token_id = 2;
  std::vector<std::int32_t> eos_token_ids = {1};  // config eos + generation_config eos, deduplicated
  std::int32_t pad_token_id = 0;
};

// Reads `model_dir`/config.json (and generation_config.json if present, for extra
// eos ids). Throws Error(kInvalidInput) naming the file and key on anything it
// cannot honour: not JSON, unknown architecture or model_type, a wrong-typed or
// out-of-range value, an unsupported rope type, layer_types of the wrong length.
ModelConfig readModelConfig(const std::filesystem::path& model_dir);

}  // namespace unicorn
