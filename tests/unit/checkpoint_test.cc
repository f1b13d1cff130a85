// The checkpoint reader: config.json in both forms and with omitted defaults,
// strict safetensors parsing, key layouts, sharding and tensor validation. Every
// input is built here, in a fresh temporary directory, so each test shows exactly
// what it feeds the reader.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compiler/checkpoint.h"
#include "compiler/model_config.h"
#include "compiler/safetensors_file.h"
#include "runtime/error.h"

namespace unicorn {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// ---------------------------------------------------------------------------
// Helpers: temporary directories, a safetensors writer, a tiny valid model.

class TempDir {
 public:
  TempDir() {
    std::random_device random;
    path_ = fs::temp_directory_path() / ("unicorn-ckpt-test-" + std::to_string(random()) + std::to_string(random()));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

void writeFile(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

struct TensorSpec {
  std::string key;
  std::string dtype = "BF16";
  std::vector<std::uint64_t> shape;
  std::uint8_t fill = 0;  // every data byte of the tensor
};

std::size_t bytesPerElement(const std::string& dtype) {
  if (dtype == "F32" || dtype == "I32") return 4;
  if (dtype == "F64" || dtype == "I64") return 8;
  if (dtype == "U8" || dtype == "I8" || dtype == "BOOL") return 1;
  return 2;
}

// A well-formed safetensors file holding `tensors` back to back in the given order.
std::string safetensorsBytes(const std::vector<TensorSpec>& tensors) {
  json header = json::object();
  header["__metadata__"] = {{"format", "pt"}};
  std::string data;
  for (const TensorSpec& t : tensors) {
    std::uint64_t count = 1;
    for (std::uint64_t d : t.shape) count *= d;
    const std::size_t begin = data.size();
    data.append(count * bytesPerElement(t.dtype), static_cast<char>(t.fill));
    header[t.key] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  std::string header_text = header.dump();
  while (header_text.size() % 8 != 0) header_text += ' ';
  std::string bytes(8, '\0');
  std::uint64_t length = header_text.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return bytes + header_text + data;
}

// A raw file: 8-byte length of `header_text`, the text, then `data`.
std::string rawSafetensors(const std::string& header_text, const std::string& data) {
  std::string bytes(8, '\0');
  std::uint64_t length = header_text.size();
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return bytes + header_text + data;
}

std::vector<SafetensorsEntry> parseBytes(const std::string& bytes) {
  return SafetensorsFile::parse({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}, "test.safetensors");
}

// Runs `body` and returns the message of the unicorn::Error it must throw.
template <typename Body>
std::string errorOf(Body body) {
  try {
    body();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInvalidInput);
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << "error spans lines: " << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected a unicorn::Error";
  return "";
}

// A tiny Gemma3ForCausalLM: 2 layers (layer 1 global with pattern 2), hidden 8,
// 2 heads, 1 kv head, head_dim 4, intermediate 16, vocab 16.
json tinyTextConfig() {
  return {{"architectures", {"Gemma3ForCausalLM"}},
          {"model_type", "gemma3_text"},
          {"vocab_size", 16},
          {"hidden_size", 8},
          {"intermediate_size", 16},
          {"num_hidden_layers", 2},
          {"num_attention_heads", 2},
          {"num_key_value_heads", 1},
          {"head_dim", 4},
          {"query_pre_attn_scalar", 6},
          {"sliding_window", 4},
          {"sliding_window_pattern", 2}};
}

std::vector<TensorSpec> tinyTextTensors(const std::string& prefix, const std::string& dtype = "BF16") {
  std::vector<TensorSpec> t;
  t.push_back({prefix + "embed_tokens.weight", dtype, {16, 8}, 1});
  t.push_back({prefix + "norm.weight", dtype, {8}});
  for (int i = 0; i < 2; ++i) {
    const std::string l = prefix + "layers." + std::to_string(i) + ".";
    for (const char* norm : {"input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                             "post_feedforward_layernorm"}) {
      t.push_back({l + norm + ".weight", dtype, {8}});
    }
    t.push_back({l + "self_attn.q_proj.weight", dtype, {8, 8}});
    t.push_back({l + "self_attn.k_proj.weight", dtype, {4, 8}});
    t.push_back({l + "self_attn.v_proj.weight", dtype, {4, 8}});
    t.push_back({l + "self_attn.o_proj.weight", dtype, {8, 8}});
    t.push_back({l + "self_attn.q_norm.weight", dtype, {4}});
    t.push_back({l + "self_attn.k_norm.weight", dtype, {4}});
    t.push_back({l + "mlp.gate_proj.weight", dtype, {16, 8}});
    t.push_back({l + "mlp.up_proj.weight", dtype, {16, 8}});
    t.push_back({l + "mlp.down_proj.weight", dtype, {8, 16}});
  }
  return t;
}

void writeConfig(const fs::path& dir, const json& config) { writeFile(dir / "config.json", config.dump(2)); }

// ---------------------------------------------------------------------------
// config.json

TEST(ModelConfigTest, HubFormTextOnly) {
  TempDir dir;
  json config = tinyTextConfig();
  config["num_hidden_layers"] = 7;
  config["sliding_window_pattern"] = 6;
  config["rope_theta"] = 500000.0;
  config["rope_local_base_freq"] = 20000;
  config["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 4.0}};
  config["eos_token_id"] = {1, 106};
  writeConfig(dir.path(), config);
  ModelConfig c = readModelConfig(dir.path());
  EXPECT_EQ(c.architecture, "Gemma3ForCausalLM");
  EXPECT_FALSE(c.multimodal);
  EXPECT_EQ(c.hidden_size, 8u);
  EXPECT_EQ(c.num_hidden_layers, 7u);
  EXPECT_FLOAT_EQ(c.query_pre_attn_scalar, 6.0f);
  EXPECT_DOUBLE_EQ(c.rope_global_base, 500000.0);
  EXPECT_DOUBLE_EQ(c.rope_global_linear_factor, 4.0);
  EXPECT_DOUBLE_EQ(c.rope_local_base, 20000.0);
  // (i+1) % 6 == 0 is global: only layer 5 of 0..6.
  EXPECT_EQ(c.layer_is_sliding, (std::vector<bool>{true, true, true, true, true, false, true}));
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int32_t>{1, 106}));
  EXPECT_TRUE(c.vocab_size_explicit);
}

TEST(ModelConfigTest, LegacyRopeScalingTypeKey) {
  TempDir dir;
  json config = tinyTextConfig();
  config["rope_scaling"] = {{"type", "linear"}, {"factor", 8}};
  writeConfig(dir.path(), config);
  EXPECT_DOUBLE_EQ(readModelConfig(dir.path()).rope_global_linear_factor, 8.0);
}

TEST(ModelConfigTest, OmittedKeysTakeGemma3TextConfigDefaults) {
  TempDir dir;
  writeConfig(dir.path(), {{"architectures", {"Gemma3ForCausalLM"}}, {"model_type", "gemma3_text"}});
  ModelConfig c = readModelConfig(dir.path());
  EXPECT_EQ(c.vocab_size, 262208u);
  EXPECT_FALSE(c.vocab_size_explicit);
  EXPECT_EQ(c.hidden_size, 2304u);
  EXPECT_EQ(c.intermediate_size, 9216u);
  EXPECT_EQ(c.num_hidden_layers, 26u);
  EXPECT_EQ(c.num_attention_heads, 8u);
  EXPECT_EQ(c.num_key_value_heads, 4u);
  EXPECT_EQ(c.head_dim, 256u);
  EXPECT_FLOAT_EQ(c.query_pre_attn_scalar, 256.0f);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-6f);
  EXPECT_EQ(c.sliding_window, 4096u);
  EXPECT_EQ(c.max_position_embeddings, 131072u);
  EXPECT_DOUBLE_EQ(c.rope_global_base, 1e6);
  EXPECT_DOUBLE_EQ(c.rope_global_linear_factor, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_local_base, 1e4);
  EXPECT_EQ(c.hidden_activation, "gelu_pytorch_tanh");
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.final_logit_softcapping, 0.0f);
  EXPECT_EQ(c.attn_logit_softcapping, 0.0f);
  EXPECT_EQ(c.bos_token_id, 2);
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int32_t>{1}));
  ASSERT_EQ(c.layer_is_sliding.size(), 26u);
  for (std::size_t i = 0; i < 26; ++i) EXPECT_EQ(c.layer_is_sliding[i], (i + 1) % 6 != 0) << "layer " << i;
}

TEST(ModelConfigTest, NewerFormNestedUnderTextConfig) {
  TempDir dir;
  json text = {{"model_type", "gemma3_text"},
               {"hidden_size", 64},
               {"num_hidden_layers", 3},
               {"layer_types", {"full_attention", "sliding_attention", "full_attention"}},
               {"rope_parameters",
                {{"full_attention", {{"rope_type", "linear"}, {"factor", 8.0}, {"rope_theta", 2e6}}},
                 {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 5e3}}}}},
               {"final_logit_softcapping", nullptr}};
  writeConfig(dir.path(), {{"architectures", {"Gemma3ForConditionalGeneration"}},
                           {"model_type", "gemma3"},
                           {"text_config", text},
                           {"vision_config", {{"hidden_size", 16}}},
                           {"eos_token_id", 1}});
  writeFile(dir.path() / "generation_config.json", R"({"eos_token_id": [1, 106], "bos_token_id": 2})");
  ModelConfig c = readModelConfig(dir.path());
  EXPECT_EQ(c.architecture, "Gemma3ForConditionalGeneration");
  EXPECT_TRUE(c.multimodal);
  EXPECT_EQ(c.hidden_size, 64u);
  EXPECT_EQ(c.layer_is_sliding, (std::vector<bool>{false, true, false}));
  EXPECT_DOUBLE_EQ(c.rope_global_base, 2e6);
  EXPECT_DOUBLE_EQ(c.rope_global_linear_factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope_local_base, 5e3);
  EXPECT_EQ(c.final_logit_softcapping, 0.0f);
  EXPECT_EQ(c.eos_token_ids, (std::vector<std::int32_t>{1, 106}));  // config + generation_config, deduplicated
}

TEST(ModelConfigTest, RopeParametersMissingThetaFallsBackToLegacyKeys) {
  TempDir dir;
  json config = tinyTextConfig();
  config["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}}}};
  config["rope_theta"] = 3e5;
  config["rope_local_base_freq"] = 7e3;
  writeConfig(dir.path(), config);
  ModelConfig c = readModelConfig(dir.path());
  EXPECT_DOUBLE_EQ(c.rope_global_base, 3e5);
  EXPECT_DOUBLE_EQ(c.rope_global_linear_factor, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_local_base, 7e3);
}

TEST(ModelConfigTest, LayerTypesWinOverSlidingWindowPattern) {
  TempDir dir;
  json config = tinyTextConfig();
  config["layer_types"] = {"sliding_attention", "sliding_attention"};
  writeConfig(dir.path(), config);  // pattern 2 would make layer 1 global
  EXPECT_EQ(readModelConfig(dir.path()).layer_is_sliding, (std::vector<bool>{true, true}));
}

struct BadConfigCase {
  const char* name;
  json config;  // applied over tinyTextConfig() key by key
  const char* expected_fragment;
};

class BadConfigTest : public testing::TestWithParam<BadConfigCase> {};

TEST_P(BadConfigTest, FailsNamingTheKey) {
  TempDir dir;
  json config = tinyTextConfig();
  for (const auto& [key, value] : GetParam().config.items()) config[key] = value;
  writeConfig(dir.path(), config);
  std::string message = errorOf([&] { readModelConfig(dir.path()); });
  EXPECT_NE(message.find("config.json"), std::string::npos) << message;
  EXPECT_NE(message.find(GetParam().expected_fragment), std::string::npos) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfigTest,
    testing::Values(
        BadConfigCase{"Llama", {{"architectures", {"LlamaForCausalLM"}}}, "LlamaForCausalLM"},
        BadConfigCase{"Gemma2ModelType", {{"model_type", "gemma2"}}, "gemma2"},
        BadConfigCase{"NegativeHidden", {{"hidden_size", -8}}, "hidden_size"},
        BadConfigCase{"FractionalLayers", {{"num_hidden_layers", 2.5}}, "num_hidden_layers"},
        BadConfigCase{"StringHeads", {{"num_attention_heads", "2"}}, "num_attention_heads"},
        BadConfigCase{"KvHeadsNotDividing", {{"num_attention_heads", 3}, {"num_key_value_heads", 2}},
                      "num_key_value_heads"},
        BadConfigCase{"OddHeadDim", {{"head_dim", 5}}, "head_dim"},
        BadConfigCase{"YarnRope", {{"rope_scaling", {{"rope_type", "yarn"}, {"factor", 2}}}}, "yarn"},
        BadConfigCase{"LinearWithoutFactor", {{"rope_scaling", {{"rope_type", "linear"}}}}, "factor"},
        BadConfigCase{"LayerTypesWrongLength", {{"layer_types", {"full_attention"}}}, "layer_types"},
        BadConfigCase{"LayerTypesUnknown", {{"layer_types", {"full_attention", "chunked_attention"}}},
                      "chunked_attention"},
        BadConfigCase{"RopeParametersFlat", {{"rope_parameters", {{"rope_type", "default"}}}}, "rope_parameters"},
        BadConfigCase{"ZeroEps", {{"rms_norm_eps", 0}}, "rms_norm_eps"},
        BadConfigCase{"Activation", {{"hidden_activation", "relu"}}, "hidden_activation"},
        BadConfigCase{"EosString", {{"eos_token_id", "1"}}, "eos_token_id"},
        BadConfigCase{"ZeroPattern", {{"sliding_window_pattern", 0}}, "sliding_window_pattern"}),
    [](const testing::TestParamInfo<BadConfigCase>& info) { return info.param.name; });

TEST(ModelConfigTest, NestedErrorsNameTheFullPath) {
  TempDir dir;
  writeConfig(dir.path(), {{"architectures", {"Gemma3ForConditionalGeneration"}},
                           {"text_config", {{"rope_scaling", {{"rope_type", "linear"}, {"factor", -1}}}}}});
  std::string message = errorOf([&] { readModelConfig(dir.path()); });
  EXPECT_NE(message.find("text_config.rope_scaling.factor"), std::string::npos) << message;
}

TEST(ModelConfigTest, MissingDirectoryConfigAndNonJson) {
  TempDir dir;
  EXPECT_NE(errorOf([&] { readModelConfig(dir.path() / "absent"); }).find("absent"), std::string::npos);
  EXPECT_NE(errorOf([&] { readModelConfig(dir.path()); }).find("config.json"), std::string::npos);
  writeFile(dir.path() / "config.json", "{\"architectures\": [\"Gemma3ForCausalLM\"],");
  std::string message = errorOf([&] { readModelConfig(dir.path()); });
  EXPECT_NE(message.find("config.json: not valid JSON"), std::string::npos) << message;
}

TEST(ModelConfigTest, BrokenGenerationConfigIsAnError) {
  TempDir dir;
  writeConfig(dir.path(), tinyTextConfig());
  writeFile(dir.path() / "generation_config.json", "{\"eos_token_id\": [1, -5]}");
  EXPECT_NE(errorOf([&] { readModelConfig(dir.path()); }).find("generation_config.json: eos_token_id"),
            std::string::npos);
}

// ---------------------------------------------------------------------------
// safetensors parsing

TEST(SafetensorsTest, ParsesDtypesShapesAndSpans) {
  std::string bytes = safetensorsBytes({{"a", "F32", {2, 3}, 7}, {"b", "BF16", {4}, 9}, {"scalar", "I64", {}, 1}});
  std::vector<SafetensorsEntry> entries = parseBytes(bytes);
  ASSERT_EQ(entries.size(), 3u);
  std::map<std::string, const SafetensorsEntry*> by_key;
  for (const auto& e : entries) by_key[e.key] = &e;
  EXPECT_EQ(by_key["a"]->dtype, SafetensorsDType::kF32);
  EXPECT_EQ(by_key["a"]->shape, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(by_key["a"]->bytes.size(), 24u);
  EXPECT_EQ(static_cast<int>(by_key["a"]->bytes[0]), 7);
  EXPECT_EQ(by_key["b"]->bytes.size(), 8u);
  EXPECT_EQ(static_cast<int>(by_key["b"]->bytes[7]), 9);
  EXPECT_TRUE(by_key["scalar"]->shape.empty());
  EXPECT_EQ(by_key["scalar"]->bytes.size(), 8u);
  EXPECT_STREQ(dtypeName(SafetensorsDType::kBF16), "BF16");
  EXPECT_EQ(elementSize(SafetensorsDType::kF64), 8u);
}

TEST(SafetensorsTest, EmptyHeaderAndZeroSizedTensorsAreValid) {
  EXPECT_TRUE(parseBytes(rawSafetensors("{}", "")).empty());
  EXPECT_EQ(parseBytes(safetensorsBytes({{"empty", "F32", {0, 5}}})).size(), 1u);
}

TEST(SafetensorsTest, EveryTruncationIsACleanError) {
  const std::string bytes = safetensorsBytes({{"a", "F32", {2, 3}}, {"b", "F16", {4}}});
  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    std::string message = errorOf([&] { parseBytes(bytes.substr(0, cut)); });
    EXPECT_NE(message.find("test.safetensors"), std::string::npos) << "cut at " << cut << ": " << message;
  }
}

struct BadSafetensorsCase {
  const char* name;
  std::string bytes;
  const char* expected_fragment;
};

class BadSafetensorsTest : public testing::TestWithParam<BadSafetensorsCase> {};

TEST_P(BadSafetensorsTest, FailsWithOneLine) {
  std::string message = errorOf([&] { parseBytes(GetParam().bytes); });
  EXPECT_NE(message.find(GetParam().expected_fragment), std::string::npos) << message;
}

std::string lengthPrefix(std::uint64_t length) {
  std::string bytes(8, '\0');
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  return bytes;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadSafetensorsTest,
    testing::Values(
        BadSafetensorsCase{"HugeHeaderLength", lengthPrefix(~0ull) + "{}", "header length"},
        BadSafetensorsCase{"NotJson", rawSafetensors("{\"a\": [", ""), "not valid JSON"},
        BadSafetensorsCase{"NotAnObject", rawSafetensors("[1, 2]", ""), "start with '{'"},
        BadSafetensorsCase{"DuplicateKey",
                           rawSafetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                                          R"("a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})",
                                          "xy"),
                           "\"a\" twice"},
        BadSafetensorsCase{"DuplicateFieldInEntry",
                           rawSafetensors(R"({"a":{"dtype":"U8","dtype":"F32","shape":[1],"data_offsets":[0,1]}})",
                                          "x"),
                           "\"dtype\" twice"},
        BadSafetensorsCase{"UnknownDtype",
                           rawSafetensors(R"({"a":{"dtype":"Q4","shape":[1],"data_offsets":[0,1]}})", "x"),
                           "unsupported dtype \"Q4\""},
        BadSafetensorsCase{"NegativeShape",
                           rawSafetensors(R"({"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,1]}})", "x"),
                           "shape"},
        BadSafetensorsCase{"FractionalShape",
                           rawSafetensors(R"({"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}})", "x"),
                           "shape"},
        BadSafetensorsCase{"ShapeOverflow",
                           rawSafetensors(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],)"
                                          R"("data_offsets":[0,1]}})",
                                          "x"),
                           "2^64"},
        BadSafetensorsCase{"SizeMismatch",
                           rawSafetensors(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", "abcd"),
                           "needs 8"},
        BadSafetensorsCase{"OffsetsPastEnd",
                           rawSafetensors(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", "ab"),
                           "past the 2 data bytes"},
        BadSafetensorsCase{"HugeOffsets",
                           rawSafetensors(R"({"a":{"dtype":"U8","shape":[1],)"
                                          R"("data_offsets":[18446744073709551615,18446744073709551615]}})",
                                          "a"),
                           "past the"},
        BadSafetensorsCase{"EndBeforeBegin",
                           rawSafetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[2,1]}})", "abc"),
                           "end before begin"},
        BadSafetensorsCase{"Overlap",
                           rawSafetensors(R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                                          R"("b":{"dtype":"U8","shape":[2],"data_offsets":[1,3]}})",
                                          "abc"),
                           "overlaps"},
        BadSafetensorsCase{"Gap", rawSafetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", "ab"),
                           "unused data bytes"},
        BadSafetensorsCase{"TrailingBytes",
                           rawSafetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "abc"),
                           "after the last tensor"},
        BadSafetensorsCase{"MissingOffsets", rawSafetensors(R"({"a":{"dtype":"U8","shape":[1]}})", "a"),
                           "data_offsets"},
        BadSafetensorsCase{"ThreeOffsets",
                           rawSafetensors(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1,1]}})", "a"),
                           "[begin, end]"},
        BadSafetensorsCase{"EntryNotObject", rawSafetensors(R"({"a":5})", ""), "expected a JSON object"},
        BadSafetensorsCase{"MetadataNotObject", rawSafetensors(R"({"__metadata__":5})", ""), "__metadata__"}),
    [](const testing::TestParamInfo<BadSafetensorsCase>& info) { return info.param.name; });

// ---------------------------------------------------------------------------
// Checkpoint directories

class CheckpointTest : public testing::Test {
 protected:
  void SetUp() override { writeConfig(dir.path(), tinyTextConfig()); }
  void writeSingle(const std::vector<TensorSpec>& tensors) {
    writeFile(dir.path() / "model.safetensors", safetensorsBytes(tensors));
  }
  std::string openError() {
    return errorOf([&] { Checkpoint::open(dir.path()); });
  }
  TempDir dir;
};

TEST_F(CheckpointTest, TextOnlyLayoutOpens) {
  writeSingle(tinyTextTensors("model."));
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.keyPrefix(), "model.");
  EXPECT_EQ(checkpoint.tensors().size(), 2u + 2u * 13u);
  EXPECT_TRUE(std::is_sorted(checkpoint.tensors().begin(), checkpoint.tensors().end(),
                             [](const auto& a, const auto& b) { return a.canonical_name < b.canonical_name; }));
  const CheckpointTensor& embed = checkpoint.tensor("embed_tokens.weight");
  EXPECT_EQ(embed.source_key, "model.embed_tokens.weight");
  EXPECT_EQ(embed.source_file, "model.safetensors");
  EXPECT_EQ(embed.shape, (std::vector<std::uint64_t>{16, 8}));
  EXPECT_EQ(embed.bytes.size(), 16u * 8u * 2u);
  EXPECT_EQ(static_cast<int>(embed.bytes[0]), 1);  // the span points at the tensor's own bytes
  EXPECT_TRUE(checkpoint.hasTensor("layers.1.mlp.down_proj.weight"));
  EXPECT_FALSE(checkpoint.hasTensor("lm_head.weight"));
  EXPECT_TRUE(checkpoint.tiedLmHeadKey().empty());
  EXPECT_THROW(checkpoint.tensor("layers.2.mlp.down_proj.weight"), Error);
}

TEST_F(CheckpointTest, MultimodalLayoutsSkipVisionTensors) {
  json config = {{"architectures", {"Gemma3ForConditionalGeneration"}}, {"model_type", "gemma3"},
                 {"text_config", tinyTextConfig()}};
  config["text_config"].erase("architectures");
  writeConfig(dir.path(), config);
  struct Layout {
    std::string text_prefix;
    std::string vision_prefix;
  };
  for (const Layout& layout : {Layout{"language_model.model.", ""}, Layout{"model.language_model.", "model."},
                               Layout{"", ""}}) {
    std::vector<TensorSpec> tensors = tinyTextTensors(layout.text_prefix);
    tensors.push_back({layout.vision_prefix + "vision_tower.vision_model.post_layernorm.weight", "F32", {4}});
    tensors.push_back({layout.vision_prefix + "multi_modal_projector.mm_input_projection_weight", "F32", {4, 8}});
    writeSingle(tensors);
    Checkpoint checkpoint = Checkpoint::open(dir.path());
    EXPECT_TRUE(checkpoint.config().multimodal);
    EXPECT_EQ(checkpoint.keyPrefix(), layout.text_prefix);
    EXPECT_EQ(checkpoint.tensors().size(), 2u + 2u * 13u) << "prefix " << layout.text_prefix;
    EXPECT_EQ(checkpoint.tensor("norm.weight").source_key, layout.text_prefix + "norm.weight");
  }
}

TEST_F(CheckpointTest, ShardedCheckpointOpens) {
  std::vector<TensorSpec> all = tinyTextTensors("model.", "F32");
  std::vector<TensorSpec> first(all.begin(), all.begin() + 10), second(all.begin() + 10, all.end());
  writeFile(dir.path() / "model-00001-of-00002.safetensors", safetensorsBytes(first));
  writeFile(dir.path() / "model-00002-of-00002.safetensors", safetensorsBytes(second));
  json map = json::object();
  for (const auto& t : first) map[t.key] = "model-00001-of-00002.safetensors";
  for (const auto& t : second) map[t.key] = "model-00002-of-00002.safetensors";
  writeFile(dir.path() / "model.safetensors.index.json",
            json{{"metadata", json::object()}, {"weight_map", map}}.dump());
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(checkpoint.tensors().size(), all.size());
  EXPECT_EQ(checkpoint.tensor(all.back().key.substr(6)).source_file, "model-00002-of-00002.safetensors");
  EXPECT_EQ(checkpoint.tensor("embed_tokens.weight").dtype, SafetensorsDType::kF32);

  // A key the index puts in a shard that lacks it.
  map["model.layers.9.extra.weight"] = "model-00001-of-00002.safetensors";
  writeFile(dir.path() / "model.safetensors.index.json", json{{"weight_map", map}}.dump());
  std::string message = openError();
  EXPECT_NE(message.find("model-00001-of-00002.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("model.layers.9.extra.weight"), std::string::npos) << message;

  // A shard that does not exist.
  map.erase("model.layers.9.extra.weight");
  map["model.norm.weight"] = "model-00003-of-00003.safetensors";
  writeFile(dir.path() / "model.safetensors.index.json", json{{"weight_map", map}}.dump());
  message = openError();
  EXPECT_NE(message.find("model-00003-of-00003.safetensors"), std::string::npos) << message;
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;

  // A shard path that leaves the directory.
  map["model.norm.weight"] = "../model.safetensors";
  writeFile(dir.path() / "model.safetensors.index.json", json{{"weight_map", map}}.dump());
  EXPECT_NE(openError().find("not a file name"), std::string::npos);
}

TEST_F(CheckpointTest, NoWeightsAtAll) { EXPECT_NE(openError().find("no model.safetensors"), std::string::npos); }

TEST_F(CheckpointTest, WrongShapeNamesKeyAndBothShapes) {
  std::vector<TensorSpec> tensors = tinyTextTensors("model.");
  for (auto& t : tensors) {
    if (t.key == "model.layers.1.self_attn.k_proj.weight") t.shape = {8, 8};
  }
  writeSingle(tensors);
  std::string message = openError();
  EXPECT_NE(message.find("model.layers.1.self_attn.k_proj.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("[8, 8], expected [4, 8]"), std::string::npos) << message;
}

TEST_F(CheckpointTest, NonFloatDtypeIsRefused) {
  std::vector<TensorSpec> tensors = tinyTextTensors("model.");
  tensors[3].dtype = "I16";
  writeSingle(tensors);
  std::string message = openError();
  EXPECT_NE(message.find("dtype I16"), std::string::npos) << message;
  EXPECT_NE(message.find(tensors[3].key), std::string::npos) << message;
}

TEST_F(CheckpointTest, MissingTensorIsNamed) {
  std::vector<TensorSpec> tensors = tinyTextTensors("model.");
  std::erase_if(tensors, [](const TensorSpec& t) { return t.key == "model.layers.0.self_attn.q_norm.weight"; });
  writeSingle(tensors);
  std::string message = openError();
  EXPECT_NE(message.find("model.layers.0.self_attn.q_norm.weight\" is missing"), std::string::npos) << message;
}

TEST_F(CheckpointTest, ExtraLayerIsUnexpected) {
  std::vector<TensorSpec> tensors = tinyTextTensors("model.");
  tensors.push_back({"model.layers.2.input_layernorm.weight", "BF16", {8}});
  writeSingle(tensors);
  EXPECT_NE(openError().find("model.layers.2.input_layernorm.weight\" is not part of"), std::string::npos);
}

TEST_F(CheckpointTest, MixedLayoutsAreRefused) {
  std::vector<TensorSpec> tensors = tinyTextTensors("model.");
  tensors[5].key = "language_model." + tensors[5].key;
  writeSingle(tensors);
  EXPECT_NE(openError().find("key layout"), std::string::npos);
}

TEST_F(CheckpointTest, VocabSizeFromEmbeddingWhenOmitted) {
  json config = tinyTextConfig();
  config.erase("vocab_size");
  writeConfig(dir.path(), config);
  std::vector<TensorSpec> tensors = tinyTextTensors("model.");
  tensors[0].shape = {24, 8};  // padded, like 4B+'s 262208 rows
  writeSingle(tensors);
  EXPECT_EQ(Checkpoint::open(dir.path()).config().vocab_size, 24u);

  // A stated vocab_size must match the embedding.
  writeConfig(dir.path(), tinyTextConfig());
  std::string message = openError();
  EXPECT_NE(message.find("[24, 8], expected [16, 8]"), std::string::npos) << message;
}

TEST_F(CheckpointTest, TiedLmHeadMustEqualTheEmbedding) {
  std::vector<TensorSpec> tensors = tinyTextTensors("model.");
  tensors.push_back({"lm_head.weight", "BF16", {16, 8}, 1});  // same bytes as the embedding
  writeSingle(tensors);
  {
    Checkpoint checkpoint = Checkpoint::open(dir.path());
    EXPECT_EQ(checkpoint.tiedLmHeadKey(), "lm_head.weight");
    EXPECT_FALSE(checkpoint.hasTensor("lm_head.weight"));
  }
  tensors.back().fill = 2;
  writeSingle(tensors);
  EXPECT_NE(openError().find("differs from the embedding"), std::string::npos);
  tensors.back().shape = {16, 4};
  writeSingle(tensors);
  EXPECT_NE(openError().find("lm_head.weight\": shape [16, 4]"), std::string::npos);
}

TEST_F(CheckpointTest, UntiedLmHeadIsListed) {
  json config = tinyTextConfig();
  config["tie_word_embeddings"] = false;
  writeConfig(dir.path(), config);
  std::vector<TensorSpec> tensors = tinyTextTensors("model.");
  writeSingle(tensors);
  EXPECT_NE(openError().find("no lm_head.weight"), std::string::npos);
  tensors.push_back({"lm_head.weight", "BF16", {16, 8}, 3});
  writeSingle(tensors);
  Checkpoint checkpoint = Checkpoint::open(dir.path());
  EXPECT_EQ(static_cast<int>(checkpoint.tensor("lm_head.weight").bytes[0]), 3);
}

TEST_F(CheckpointTest, CorruptSafetensorsNamesTheFile) {
  std::string bytes = safetensorsBytes(tinyTextTensors("model."));
  writeFile(dir.path() / "model.safetensors", bytes.substr(0, bytes.size() - 1));
  std::string message = openError();
  EXPECT_NE(message.find("model.safetensors"), std::string::npos) << message;
}

}  // namespace
}  // namespace unicorn
