#include "compiler/tokenizer_import.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "runtime/error.h"
#include "compiler/json_file.h"
#include "runtime/text_replace.h"
#include "runtime/tokenizer_hash.h"
#include "runtime/utf8.h"

namespace unicorn {

namespace {

using Json = nlohmann::json;

// Error messages name the file and the JSON field: "tokenizer.json: model.type: ...".
class JsonFile {
 public:
  explicit JsonFile(const std::filesystem::path& path) : name_(path.string()) {
    root_ = readJsonFile(path);
    if (!root_.is_object()) failInvalidInput(name_ + ": top level is not a JSON object");
  }

  const Json& root() const { return root_; }

  [[noreturn]] void fail(const std::string& field, const std::string& problem) const {
    failInvalidInput(name_ + ": " + field + ": " + problem);
  }

  // obj[key] when present and not null.
  const Json* optional(const Json& obj, const char* key) const {
    const auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
  }
  const Json& required(const Json& obj, const char* key, const std::string& field) const {
    const Json* value = optional(obj, key);
    if (!value) fail(field, "missing");
    return *value;
  }
  std::string string(const Json& obj, const char* key, const std::string& field) const {
    const Json& value = required(obj, key, field);
    if (!value.is_string()) fail(field, "expected a string, found " + std::string(value.type_name()));
    return value.get<std::string>();
  }
  bool boolean(const Json& obj, const char* key, const std::string& field, bool fallback) const {
    const Json* value = optional(obj, key);
    if (!value) return fallback;
    if (!value->is_boolean()) fail(field, "expected true or false, found " + std::string(value->type_name()));
    return value->get<bool>();
  }

 private:
  std::string name_;
  Json root_;
};

using Replacements = std::vector<std::pair<std::string, std::string>>;

std::string applyAll(std::string text, const Replacements& replacements) {
  for (const auto& [pattern, content] : replacements) text = replaceAll(text, pattern, content);
  return text;
}

// tokenizers' Replace with a String pattern (a Regex pattern is not supported).
std::pair<std::string, std::string> parseReplace(const JsonFile& file, const Json& step, const std::string& field) {
  const Json& pattern = file.required(step, "pattern", field + ".pattern");
  if (!pattern.is_object() || !pattern.contains("String")) {
    file.fail(field + ".pattern", "only {\"String\": ...} patterns are supported (Regex patterns are not)");
  }
  if (!pattern["String"].is_string() || pattern["String"].get<std::string>().empty()) {
    file.fail(field + ".pattern.String", "expected a non-empty string");
  }
  return {pattern["String"].get<std::string>(), file.string(step, "content", field + ".content")};
}

std::string typeOf(const JsonFile& file, const Json& step, const std::string& field) {
  if (!step.is_object()) file.fail(field, "expected an object");
  return file.string(step, "type", field + ".type");
}

Replacements parseNormalizer(const JsonFile& file) {
  Replacements replacements;
  const Json* normalizer = file.optional(file.root(), "normalizer");
  if (!normalizer) return replacements;
  const std::string type = typeOf(file, *normalizer, "normalizer");
  if (type == "Replace") {
    replacements.push_back(parseReplace(file, *normalizer, "normalizer"));
  } else if (type == "Sequence") {
    const Json& steps = file.required(*normalizer, "normalizers", "normalizer.normalizers");
    if (!steps.is_array()) file.fail("normalizer.normalizers", "expected an array");
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const std::string field = "normalizer.normalizers[" + std::to_string(i) + "]";
      const std::string step_type = typeOf(file, steps[i], field);
      if (step_type != "Replace") file.fail(field + ".type", "\"" + step_type + "\" is not supported (only Replace)");
      replacements.push_back(parseReplace(file, steps[i], field));
    }
  } else {
    file.fail("normalizer.type", "\"" + type + "\" is not supported (only Replace or a Sequence of Replace)");
  }
  return replacements;
}

// The only pre-tokenizer accepted is Gemma's Split on " ", and only when the
// normaliser has replaced every space beforehand: then it never splits and each
// segment is one BPE word, which is what the runtime does.
void checkPreTokenizer(const JsonFile& file, const Replacements& normalizer) {
  const Json* pre = file.optional(file.root(), "pre_tokenizer");
  if (!pre) return;
  const std::string type = typeOf(file, *pre, "pre_tokenizer");
  if (type != "Split") file.fail("pre_tokenizer.type", "\"" + type + "\" is not supported (only Split on \" \" after a normaliser that replaces spaces)");
  const Json& pattern = file.required(*pre, "pattern", "pre_tokenizer.pattern");
  if (!pattern.is_object() || !pattern.contains("String") || pattern["String"] != " ") {
    file.fail("pre_tokenizer.pattern", "only the String pattern \" \" is supported");
  }
  if (file.boolean(*pre, "invert", "pre_tokenizer.invert", false)) file.fail("pre_tokenizer.invert", "true is not supported");
  const bool spaces_replaced = std::any_of(normalizer.begin(), normalizer.end(), [](const auto& r) { return r.first == " "; });
  const bool spaces_reintroduced =
      std::any_of(normalizer.begin(), normalizer.end(), [](const auto& r) { return r.second.find(' ') != std::string::npos; });
  if (!spaces_replaced || spaces_reintroduced) {
    file.fail("pre_tokenizer", "Split on \" \" is only supported after a normaliser that replaces every space");
  }
}

struct DecoderSpec {
  Replacements replacements;
  bool byte_fallback = false;
  std::string strip_content;
  std::uint32_t strip_leading = 0;
};

// Accepted shape: Replace* -> ByteFallback? -> Fuse? -> Strip(start only)? after Fuse.
// Replace steps then act on single tokens and Strip on the whole text, which is
// what both the batch and the streaming decoder implement.
DecoderSpec parseDecoder(const JsonFile& file) {
  const Json* decoder = file.optional(file.root(), "decoder");
  if (!decoder) file.fail("decoder", "missing (a decoder is needed to turn ids back into text)");
  std::vector<std::pair<const Json*, std::string>> steps;
  if (typeOf(file, *decoder, "decoder") == "Sequence") {
    const Json& list = file.required(*decoder, "decoders", "decoder.decoders");
    if (!list.is_array()) file.fail("decoder.decoders", "expected an array");
    for (std::size_t i = 0; i < list.size(); ++i) steps.push_back({&list[i], "decoder.decoders[" + std::to_string(i) + "]"});
  } else {
    steps.push_back({decoder, "decoder"});
  }
  DecoderSpec spec;
  bool fused = false, stripped = false;
  for (const auto& [step, field] : steps) {
    const std::string type = typeOf(file, *step, field);
    if (stripped) file.fail(field + ".type", "\"" + type + "\" after Strip is not supported");
    if (type == "Replace") {
      if (spec.byte_fallback || fused) file.fail(field, "Replace after ByteFallback or Fuse is not supported");
      spec.replacements.push_back(parseReplace(file, *step, field));
    } else if (type == "ByteFallback") {
      if (spec.byte_fallback || fused) file.fail(field, "ByteFallback twice or after Fuse is not supported");
      spec.byte_fallback = true;
    } else if (type == "Fuse") {
      fused = true;
    } else if (type == "Strip") {
      if (!fused) file.fail(field, "Strip is only supported after Fuse (acting on the whole text)");
      spec.strip_content = file.string(*step, "content", field + ".content");
      if (spec.strip_content.empty() || !utf8::isValid(spec.strip_content) ||
          utf8::nextUnit(spec.strip_content, 0).length != spec.strip_content.size()) {
        file.fail(field + ".content", "expected exactly one character");
      }
      const Json& start = file.required(*step, "start", field + ".start");
      const Json& stop = file.required(*step, "stop", field + ".stop");
      if (!start.is_number_unsigned() || start.get<std::uint64_t>() > 1000) file.fail(field + ".start", "expected a small unsigned integer");
      if (!stop.is_number_integer() || stop.get<std::int64_t>() != 0) file.fail(field + ".stop", "only 0 is supported");
      spec.strip_leading = start.get<std::uint32_t>();
      stripped = true;
    } else {
      file.fail(field + ".type", "\"" + type + "\" is not supported (only Replace, ByteFallback, Fuse, Strip)");
    }
  }
  return spec;
}

struct AddedTokenSpec {
  std::int32_t id;
  std::string content;
  fb::AddedTokenFlag flags;
};

std::int32_t parseId(const JsonFile& file, const Json& value, const std::string& field) {
  if (!value.is_number_integer() || value.get<std::int64_t>() < 0 || value.get<std::int64_t>() >= INT32_MAX) {
    file.fail(field, "expected a token id in [0, 2^31-1)");
  }
  return static_cast<std::int32_t>(value.get<std::int64_t>());
}

flatbuffers::Offset<fb::AddedTokenMatcher> buildMatcher(flatbuffers::FlatBufferBuilder& builder, const JsonFile& file,
                                                        std::vector<std::pair<std::string, std::int32_t>> patterns) {
  std::sort(patterns.begin(), patterns.end());
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint32_t> offsets{0};
  std::vector<std::int32_t> ids;
  for (std::size_t i = 0; i < patterns.size(); ++i) {
    const auto& [pattern, id] = patterns[i];
    if (pattern.empty()) file.fail("added_tokens", "token " + std::to_string(id) + " has empty content (after normalisation)");
    if (i > 0 && patterns[i - 1].first == pattern) {
      file.fail("added_tokens", "tokens " + std::to_string(patterns[i - 1].second) + " and " + std::to_string(id) + " match the same text");
    }
    bytes.insert(bytes.end(), pattern.begin(), pattern.end());
    offsets.push_back(static_cast<std::uint32_t>(bytes.size()));
    ids.push_back(id);
  }
  return fb::CreateAddedTokenMatcher(builder, builder.CreateVector(bytes), builder.CreateVector(offsets), builder.CreateVector(ids));
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::Replacement>>> buildReplacements(
    flatbuffers::FlatBufferBuilder& builder, const Replacements& replacements) {
  std::vector<flatbuffers::Offset<fb::Replacement>> entries;
  for (const auto& [pattern, content] : replacements) {
    entries.push_back(fb::CreateReplacement(builder, builder.CreateString(pattern), builder.CreateString(content)));
  }
  return builder.CreateVector(entries);
}

// bos_token / eos_token / pad_token in tokenizer_config.json: a string, an
// AddedToken-like object with "content", or absent/null (-> -1).
std::int32_t specialTokenId(const JsonFile& config, const char* key,
                            const std::unordered_map<std::string, std::int32_t>& added_ids,
                            const std::unordered_map<std::string, std::int32_t>& model_ids) {
  const Json* value = config.optional(config.root(), key);
  if (!value) return -1;
  std::string name;
  if (value->is_string()) {
    name = value->get<std::string>();
  } else if (value->is_object()) {
    name = config.string(*value, "content", std::string(key) + ".content");
  } else {
    config.fail(key, "expected a string or an object with \"content\"");
  }
  if (const auto it = added_ids.find(name); it != added_ids.end()) return it->second;
  if (const auto it = model_ids.find(name); it != model_ids.end()) return it->second;
  config.fail(key, "\"" + name + "\" is not a token of tokenizer.json");
}

}  // namespace

flatbuffers::Offset<fb::Tokenizer> importTokenizer(flatbuffers::FlatBufferBuilder& builder,
                                                   const std::filesystem::path& model_dir) {
  const JsonFile file(model_dir / "tokenizer.json");
  const JsonFile config(model_dir / "tokenizer_config.json");
  const Json& root = file.root();

  if (file.optional(root, "truncation")) file.fail("truncation", "is set; truncating encodings is not supported");

  // --- the BPE model
  const Json& model = file.required(root, "model", "model");
  if (!model.is_object()) file.fail("model", "expected an object");
  const std::string model_type = file.string(model, "type", "model.type");
  if (model_type != "BPE") file.fail("model.type", "\"" + model_type + "\" is not supported (only BPE)");
  if (const Json* dropout = file.optional(model, "dropout"); dropout && !(dropout->is_number() && dropout->get<double>() == 0.0)) {
    file.fail("model.dropout", "BPE dropout is not supported");
  }
  for (const char* affix : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    const Json* value = file.optional(model, affix);
    if (value && !(value->is_string() && value->get<std::string>().empty())) {
      file.fail(std::string("model.") + affix, "is set; only null is supported");
    }
  }

  const Json& vocab = file.required(model, "vocab", "model.vocab");
  if (!vocab.is_object()) file.fail("model.vocab", "expected an object of piece -> id");
  const std::size_t model_vocab_size = vocab.size();
  std::vector<std::string> pieces(model_vocab_size);
  std::vector<bool> assigned(model_vocab_size, false);
  std::unordered_map<std::string, std::int32_t> model_ids;
  model_ids.reserve(model_vocab_size * 2);
  for (const auto& [piece, id_json] : vocab.items()) {
    const std::int32_t id = parseId(file, id_json, "model.vocab[\"" + piece + "\"]");
    if (static_cast<std::size_t>(id) >= model_vocab_size || assigned[id]) {
      file.fail("model.vocab", "ids must be 0.." + std::to_string(model_vocab_size - 1) + " each once; id " + std::to_string(id) +
                                   " is out of range or repeated");
    }
    assigned[id] = true;
    pieces[id] = piece;
    model_ids.emplace(piece, id);
  }

  const auto modelId = [&](const std::string& piece, const std::string& field) {
    const auto it = model_ids.find(piece);
    if (it == model_ids.end()) file.fail(field, "\"" + piece + "\" is not in model.vocab");
    return it->second;
  };

  // Merges: ["a", "b"] pairs (tokenizers >= 0.20) or "a b" strings (older files).
  const Json& merges_json = file.required(model, "merges", "model.merges");
  if (!merges_json.is_array()) file.fail("model.merges", "expected an array");
  std::vector<fb::Merge> merges;
  merges.reserve(merges_json.size());
  std::unordered_map<std::uint64_t, std::int32_t> merge_index;  // pair -> last rank listing it (tokenizers keeps the last)
  merge_index.reserve(merges_json.size() * 2);
  for (std::size_t rank = 0; rank < merges_json.size(); ++rank) {
    const Json& entry = merges_json[rank];
    const std::string field = "model.merges[" + std::to_string(rank) + "]";
    std::string left, right;
    if (entry.is_array() && entry.size() == 2 && entry[0].is_string() && entry[1].is_string()) {
      left = entry[0].get<std::string>();
      right = entry[1].get<std::string>();
    } else if (entry.is_string()) {
      const std::string text = entry.get<std::string>();
      const std::size_t space = text.find(' ');
      if (space == std::string::npos || text.find(' ', space + 1) != std::string::npos) file.fail(field, "expected \"left right\"");
      left = text.substr(0, space);
      right = text.substr(space + 1);
    } else {
      file.fail(field, "expected a [left, right] pair of strings");
    }
    const fb::Merge merge(modelId(left, field), modelId(right, field), modelId(left + right, field));
    merges.push_back(merge);
    const std::uint64_t key = (static_cast<std::uint64_t>(merge.left()) << 32) | static_cast<std::uint32_t>(merge.right());
    merge_index[key] = static_cast<std::int32_t>(rank);
  }
  if (merges.size() >= static_cast<std::size_t>(INT32_MAX)) file.fail("model.merges", "too many merges");

  const bool byte_fallback = file.boolean(model, "byte_fallback", "model.byte_fallback", false);
  std::vector<std::int32_t> byte_fallback_ids;
  if (byte_fallback) {
    for (int byte = 0; byte < 256; ++byte) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", byte);
      const auto it = model_ids.find(name);
      byte_fallback_ids.push_back(it == model_ids.end() ? -1 : it->second);
    }
  }
  std::int32_t unk_id = -1;
  if (file.optional(model, "unk_token")) unk_id = modelId(file.string(model, "unk_token", "model.unk_token"), "model.unk_token");

  // --- added tokens
  std::vector<AddedTokenSpec> added;
  if (const Json* list = file.optional(root, "added_tokens")) {
    if (!list->is_array()) file.fail("added_tokens", "expected an array");
    for (std::size_t i = 0; i < list->size(); ++i) {
      const Json& token = (*list)[i];
      const std::string field = "added_tokens[" + std::to_string(i) + "]";
      if (!token.is_object()) file.fail(field, "expected an object");
      AddedTokenSpec spec{parseId(file, file.required(token, "id", field + ".id"), field + ".id"),
                          file.string(token, "content", field + ".content"), fb::AddedTokenFlag::NONE};
      const bool special = file.boolean(token, "special", field + ".special", false);
      if (file.boolean(token, "single_word", field + ".single_word", false)) file.fail(field + ".single_word", "true is not supported");
      if (file.boolean(token, "lstrip", field + ".lstrip", false)) spec.flags |= fb::AddedTokenFlag::Lstrip;
      if (file.boolean(token, "rstrip", field + ".rstrip", false)) spec.flags |= fb::AddedTokenFlag::Rstrip;
      if (file.boolean(token, "normalized", field + ".normalized", !special)) spec.flags |= fb::AddedTokenFlag::Normalized;
      if (special) spec.flags |= fb::AddedTokenFlag::Special;
      if (spec.content.empty()) file.fail(field + ".content", "is empty");
      added.push_back(std::move(spec));
    }
  }
  std::sort(added.begin(), added.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
  std::size_t vocab_size = model_vocab_size;
  for (const AddedTokenSpec& token : added) vocab_size = std::max(vocab_size, static_cast<std::size_t>(token.id) + 1);
  pieces.resize(vocab_size);
  assigned.resize(vocab_size, false);
  std::unordered_map<std::string, std::int32_t> added_ids;
  for (std::size_t i = 0; i < added.size(); ++i) {
    const AddedTokenSpec& token = added[i];
    if (i > 0 && added[i - 1].id == token.id) file.fail("added_tokens", "id " + std::to_string(token.id) + " appears twice");
    if (static_cast<std::size_t>(token.id) < model_vocab_size) {
      if (pieces[token.id] != token.content) {
        file.fail("added_tokens", "token " + std::to_string(token.id) + " \"" + token.content + "\" differs from model.vocab's \"" +
                                      pieces[token.id] + "\" for that id");
      }
    } else {
      pieces[token.id] = token.content;
      assigned[token.id] = true;
    }
    if (!added_ids.emplace(token.content, token.id).second) file.fail("added_tokens", "content \"" + token.content + "\" appears twice");
  }
  for (std::size_t id = model_vocab_size; id < vocab_size; ++id) {
    if (!assigned[id]) file.fail("added_tokens", "no token has id " + std::to_string(id) + " (ids must be contiguous)");
  }

  // --- normaliser, pre-tokenizer, decoder
  const Replacements normalizer = parseNormalizer(file);
  checkPreTokenizer(file, normalizer);
  const DecoderSpec decoder = parseDecoder(file);

  // --- token kinds
  std::vector<fb::TokenKind> kinds(vocab_size, fb::TokenKind::Normal);
  for (const std::int32_t id : byte_fallback_ids) {
    if (id >= 0) kinds[id] = fb::TokenKind::Byte;
  }
  if (unk_id >= 0) kinds[unk_id] = fb::TokenKind::Unknown;
  std::vector<std::pair<std::string, std::int32_t>> raw_patterns, normalized_patterns;
  std::vector<fb::AddedToken> added_table;
  for (const AddedTokenSpec& token : added) {
    const bool special = (token.flags & fb::AddedTokenFlag::Special) != fb::AddedTokenFlag::NONE;
    kinds[token.id] = special ? fb::TokenKind::Control : fb::TokenKind::UserDefined;
    added_table.emplace_back(token.id, token.flags);
    if ((token.flags & fb::AddedTokenFlag::Normalized) != fb::AddedTokenFlag::NONE) {
      normalized_patterns.emplace_back(applyAll(token.content, normalizer), token.id);
    } else {
      raw_patterns.emplace_back(token.content, token.id);
    }
  }

  // --- hash tables (runtime/tokenizer_hash.h), filled in id / rank order: deterministic
  std::vector<std::int32_t> piece_slots(tokenizerHashTableSize(model_vocab_size), -1);
  for (std::size_t id = 0; id < model_vocab_size; ++id) {
    std::size_t slot = tokenizerPieceHash(pieces[id]) & (piece_slots.size() - 1);
    while (piece_slots[slot] >= 0) slot = (slot + 1) & (piece_slots.size() - 1);
    piece_slots[slot] = static_cast<std::int32_t>(id);
  }
  std::vector<std::int32_t> merge_slots(tokenizerHashTableSize(merge_index.size()), -1);
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const fb::Merge& merge = merges[rank];
    const std::uint64_t key = (static_cast<std::uint64_t>(merge.left()) << 32) | static_cast<std::uint32_t>(merge.right());
    if (merge_index.at(key) != static_cast<std::int32_t>(rank)) continue;  // a later rank lists the same pair
    std::size_t slot = tokenizerPairHash(merge.left(), merge.right()) & (merge_slots.size() - 1);
    while (merge_slots[slot] >= 0) slot = (slot + 1) & (merge_slots.size() - 1);
    merge_slots[slot] = static_cast<std::int32_t>(rank);
  }

  // --- the table
  std::vector<std::uint8_t> piece_bytes;
  std::vector<std::uint32_t> piece_offsets{0};
  for (const std::string& piece : pieces) {
    piece_bytes.insert(piece_bytes.end(), piece.begin(), piece.end());
    if (piece_bytes.size() > UINT32_MAX) file.fail("model.vocab", "pieces exceed 4 GiB");
    piece_offsets.push_back(static_cast<std::uint32_t>(piece_bytes.size()));
  }
  const std::int32_t bos_id = specialTokenId(config, "bos_token", added_ids, model_ids);
  const std::int32_t eos_id = specialTokenId(config, "eos_token", added_ids, model_ids);
  const std::int32_t pad_id = specialTokenId(config, "pad_token", added_ids, model_ids);

  const auto piece_bytes_offset = builder.CreateVector(piece_bytes);
  const auto piece_offsets_offset = builder.CreateVector(piece_offsets);
  const auto kinds_offset = builder.CreateVector(reinterpret_cast<const std::uint8_t*>(kinds.data()), kinds.size());
  const auto piece_slots_offset = builder.CreateVector(piece_slots);
  const auto merges_offset = builder.CreateVectorOfStructs(merges);
  const auto merge_slots_offset = builder.CreateVector(merge_slots);
  const auto byte_ids_offset = builder.CreateVector(byte_fallback_ids);
  const auto added_offset = builder.CreateVectorOfStructs(added_table);
  const auto raw_matcher_offset = buildMatcher(builder, file, raw_patterns);
  const auto normalized_matcher_offset = buildMatcher(builder, file, normalized_patterns);
  const auto normalizer_offset = buildReplacements(builder, normalizer);
  const auto decoder_offset = buildReplacements(builder, decoder.replacements);
  const auto strip_offset = builder.CreateString(decoder.strip_content);

  fb::TokenizerBuilder table(builder);
  table.add_piece_bytes(piece_bytes_offset);
  table.add_piece_offsets(piece_offsets_offset);
  table.add_kinds(flatbuffers::Offset<flatbuffers::Vector<fb::TokenKind>>(kinds_offset.o));
  table.add_model_vocab_size(static_cast<std::uint32_t>(model_vocab_size));
  table.add_piece_hash_slots(piece_slots_offset);
  table.add_merges(merges_offset);
  table.add_merge_hash_slots(merge_slots_offset);
  table.add_ignore_merges(file.boolean(model, "ignore_merges", "model.ignore_merges", false));
  table.add_byte_fallback_ids(byte_ids_offset);
  table.add_unk_id(unk_id);
  table.add_fuse_unk(file.boolean(model, "fuse_unk", "model.fuse_unk", false));
  table.add_added_tokens(added_offset);
  table.add_raw_added_matcher(raw_matcher_offset);
  table.add_normalized_added_matcher(normalized_matcher_offset);
  table.add_normalizer_replacements(normalizer_offset);
  table.add_decoder_replacements(decoder_offset);
  table.add_decoder_byte_fallback(decoder.byte_fallback);
  table.add_decoder_strip_content(strip_offset);
  table.add_decoder_strip_leading(decoder.strip_leading);
  table.add_bos_id(bos_id);
  table.add_eos_id(eos_id);
  table.add_pad_id(pad_id);
  return table.Finish();
}

}  // namespace unicorn

namespace unicorn {

flatbuffers::DetachedBuffer importTokenizerBuffer(const std::filesystem::path& model_dir) {
  flatbuffers::FlatBufferBuilder builder(1 << 20);
  builder.Finish(importTokenizer(builder, model_dir));
  flatbuffers::Verifier verifier(builder.GetBufferPointer(), builder.GetSize());
  if (!verifier.VerifyBuffer<fb::Tokenizer>(nullptr)) {
    failInvalidInput((model_dir / "tokenizer.json").string() + ": the imported tokenizer table does not verify");
  }
  return builder.Release();
}

}  // namespace unicorn
