#include "runtime/tokenizer.h"

#include <algorithm>
#include <limits>

#include "runtime/error.h"
#include "runtime/text_replace.h"
#include "runtime/utf8.h"

namespace unicorn {

namespace {

[[noreturn]] void failTable(const std::string& field, const std::string& problem) {
  failInvalidInput("bundle tokenizer: " + field + ": " + problem);
}

bool isPowerOfTwo(std::size_t n) { return n != 0 && (n & (n - 1)) == 0; }

// Offsets into a byte blob: n+1 entries, starting at 0, non-decreasing, ending at the blob's size.
void checkOffsets(const flatbuffers::Vector<std::uint32_t>* offsets, std::size_t blob_size, const std::string& field) {
  if (!offsets || offsets->size() == 0) failTable(field, "missing");
  if (offsets->Get(0) != 0) failTable(field, "first offset is " + std::to_string(offsets->Get(0)) + ", expected 0");
  for (flatbuffers::uoffset_t i = 1; i < offsets->size(); ++i) {
    if (offsets->Get(i) < offsets->Get(i - 1)) {
      failTable(field, "offset " + std::to_string(i) + " decreases (" + std::to_string(offsets->Get(i - 1)) + " -> " +
                           std::to_string(offsets->Get(i)) + ")");
    }
  }
  if (offsets->Get(offsets->size() - 1) != blob_size) {
    failTable(field, "last offset is " + std::to_string(offsets->Get(offsets->size() - 1)) + ", expected the byte count " +
                         std::to_string(blob_size));
  }
}

void checkIdsInRange(const flatbuffers::Vector<std::int32_t>* ids, std::int64_t limit, bool allow_minus_one,
                     const std::string& field) {
  if (!ids) return;
  for (flatbuffers::uoffset_t i = 0; i < ids->size(); ++i) {
    const std::int32_t id = ids->Get(i);
    if ((id == -1 && allow_minus_one) || (id >= 0 && id < limit)) continue;
    failTable(field, "entry " + std::to_string(i) + " is " + std::to_string(id) + ", outside [0, " + std::to_string(limit) + ")");
  }
}

void checkReplacements(const flatbuffers::Vector<flatbuffers::Offset<fb::Replacement>>* replacements,
                       const std::string& field) {
  if (!replacements) return;
  for (flatbuffers::uoffset_t i = 0; i < replacements->size(); ++i) {
    const fb::Replacement* replacement = replacements->Get(i);
    // An empty pattern would match everywhere and never advance.
    if (!replacement->pattern() || replacement->pattern()->size() == 0) {
      failTable(field, "replacement " + std::to_string(i) + " has an empty pattern");
    }
  }
}

std::string_view asView(const flatbuffers::String* s) { return s ? std::string_view(s->data(), s->size()) : std::string_view(); }

std::string applyReplacements(std::string_view text,
                              const flatbuffers::Vector<flatbuffers::Offset<fb::Replacement>>* replacements) {
  std::string result(text);
  if (!replacements) return result;
  for (const fb::Replacement* replacement : *replacements) {
    result = replaceAll(result, asView(replacement->pattern()), asView(replacement->content()));
  }
  return result;
}

// tokenizers' ByteFallback decoder: a token of exactly 6 bytes "<0x..>" whose two
// inner characters parse as a u8 in base 16 (Rust's from_str_radix, which also
// takes a '+' sign before a single digit).
bool parseByteToken(std::string_view text, unsigned char& byte) {
  if (text.size() != 6 || text.substr(0, 3) != "<0x" || text[5] != '>') return false;
  const auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (text[3] == '+') {
    if (hex(text[4]) < 0) return false;
    byte = static_cast<unsigned char>(hex(text[4]));
    return true;
  }
  if (hex(text[3]) < 0 || hex(text[4]) < 0) return false;
  byte = static_cast<unsigned char>(hex(text[3]) * 16 + hex(text[4]));
  return true;
}

}  // namespace

Tokenizer::Tokenizer(const fb::Tokenizer& table) : table_(table) {
  validate();
  bpe_.emplace(table_);
  raw_splitter_.emplace(table_.raw_added_matcher(), table_.added_tokens());
  normalized_splitter_.emplace(table_.normalized_added_matcher(), table_.added_tokens());
}

void Tokenizer::validate() {
  const auto* bytes = table_.piece_bytes();
  const auto* offsets = table_.piece_offsets();
  if (!bytes) failTable("piece_bytes", "missing");
  checkOffsets(offsets, bytes->size(), "piece_offsets");
  const std::size_t vocab = offsets->size() - 1;
  if (vocab > static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max())) {
    failTable("piece_offsets", "vocabulary of " + std::to_string(vocab) + " tokens does not fit int32 ids");
  }
  vocab_size_ = vocab;
  const std::int64_t vocab_limit = static_cast<std::int64_t>(vocab);

  const auto* kinds = table_.kinds();
  if (!kinds || kinds->size() != vocab) {
    failTable("kinds", "has " + std::to_string(kinds ? kinds->size() : 0) + " entries, expected " + std::to_string(vocab));
  }
  for (flatbuffers::uoffset_t i = 0; i < kinds->size(); ++i) {
    if (kinds->Get(i) > fb::TokenKind::MAX) failTable("kinds", "entry " + std::to_string(i) + " is not a token kind");
  }

  const std::int64_t model_vocab = table_.model_vocab_size();
  if (model_vocab > vocab_limit) {
    failTable("model_vocab_size", std::to_string(model_vocab) + " exceeds the vocabulary size " + std::to_string(vocab));
  }
  const auto* piece_slots = table_.piece_hash_slots();
  if (!piece_slots || !isPowerOfTwo(piece_slots->size())) failTable("piece_hash_slots", "size is not a power of two");
  checkIdsInRange(piece_slots, model_vocab, true, "piece_hash_slots");

  const auto* merges = table_.merges();
  if (!merges) failTable("merges", "missing");
  for (flatbuffers::uoffset_t i = 0; i < merges->size(); ++i) {
    const fb::Merge* merge = merges->Get(i);
    for (const std::int32_t id : {merge->left(), merge->right(), merge->result()}) {
      if (id < 0 || id >= model_vocab) {
        failTable("merges", "merge " + std::to_string(i) + " names id " + std::to_string(id) + ", outside the model vocabulary [0, " +
                                std::to_string(model_vocab) + ")");
      }
    }
  }
  const auto* merge_slots = table_.merge_hash_slots();
  if (!merge_slots || !isPowerOfTwo(merge_slots->size())) failTable("merge_hash_slots", "size is not a power of two");
  checkIdsInRange(merge_slots, merges->size(), true, "merge_hash_slots");

  const auto* byte_ids = table_.byte_fallback_ids();
  if (byte_ids && byte_ids->size() != 0 && byte_ids->size() != 256) {
    failTable("byte_fallback_ids", "has " + std::to_string(byte_ids->size()) + " entries, expected 0 or 256");
  }
  checkIdsInRange(byte_ids, model_vocab, true, "byte_fallback_ids");

  const auto checkSpecialId = [&](std::int32_t id, std::int64_t limit, const char* field) {
    if (id != -1 && (id < 0 || id >= limit)) {
      failTable(field, std::to_string(id) + " is outside [0, " + std::to_string(limit) + ")");
    }
  };
  checkSpecialId(table_.unk_id(), model_vocab, "unk_id");
  checkSpecialId(table_.bos_id(), vocab_limit, "bos_id");
  checkSpecialId(table_.eos_id(), vocab_limit, "eos_id");
  checkSpecialId(table_.pad_id(), vocab_limit, "pad_id");

  if (const auto* added = table_.added_tokens()) {
    for (flatbuffers::uoffset_t i = 0; i < added->size(); ++i) {
      const std::int32_t id = added->Get(i)->id();
      if (id < 0 || id >= vocab_limit) failTable("added_tokens", "entry " + std::to_string(i) + " has id " + std::to_string(id) + ", outside the vocabulary");
      if (i > 0 && added->Get(i - 1)->id() >= id) failTable("added_tokens", "ids are not strictly increasing at entry " + std::to_string(i));
    }
  }
  for (const auto& [matcher, field] : {std::pair{table_.raw_added_matcher(), "raw_added_matcher"},
                                       std::pair{table_.normalized_added_matcher(), "normalized_added_matcher"}}) {
    if (!matcher) continue;
    if (!matcher->pattern_bytes() || !matcher->ids()) failTable(field, "missing patterns or ids");
    checkOffsets(matcher->pattern_offsets(), matcher->pattern_bytes()->size(), std::string(field) + ".pattern_offsets");
    if (matcher->pattern_offsets()->size() != matcher->ids()->size() + 1) {
      failTable(field, "has " + std::to_string(matcher->ids()->size()) + " ids but " +
                           std::to_string(matcher->pattern_offsets()->size() - 1) + " patterns");
    }
    checkIdsInRange(matcher->ids(), vocab_limit, false, std::string(field) + ".ids");
    // Matching narrows ranges by binary search: patterns must be non-empty, unique and sorted.
    const auto* pattern_offsets = matcher->pattern_offsets();
    const char* base = reinterpret_cast<const char*>(matcher->pattern_bytes()->data());
    std::string_view previous;
    for (flatbuffers::uoffset_t i = 0; i + 1 < pattern_offsets->size(); ++i) {
      const std::string_view current(base + pattern_offsets->Get(i), pattern_offsets->Get(i + 1) - pattern_offsets->Get(i));
      if (current.empty()) failTable(field, "pattern " + std::to_string(i) + " is empty");
      if (i > 0 && !(previous < current)) failTable(field, "patterns are not strictly sorted at " + std::to_string(i));
      previous = current;
    }
  }

  checkReplacements(table_.normalizer_replacements(), "normalizer_replacements");
  checkReplacements(table_.decoder_replacements(), "decoder_replacements");
  if (table_.decoder_strip_leading() > 0) {
    const std::string_view content = asView(table_.decoder_strip_content());
    if (content.empty() || utf8::nextUnit(content, 0).length != content.size() || !utf8::isValid(content)) {
      failTable("decoder_strip_content", "must be exactly one UTF-8 character when decoder_strip_leading > 0");
    }
  }
}

std::string Tokenizer::normalize(std::string_view text) const {
  return applyReplacements(text, table_.normalizer_replacements());
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<std::int32_t> ids;
  ids.reserve(text.size() / 3 + 1);
  for (const TextSegment& raw : raw_splitter_->split(text)) {
    if (raw.added_id >= 0) {
      ids.push_back(raw.added_id);
      continue;
    }
    const std::string normalized = normalize(text.substr(raw.begin, raw.end - raw.begin));
    if (normalized_splitter_->empty()) {
      bpe_->encodeWord(normalized, ids);
      continue;
    }
    for (const TextSegment& part : normalized_splitter_->split(normalized)) {
      if (part.added_id >= 0) {
        ids.push_back(part.added_id);
      } else {
        bpe_->encodeWord(std::string_view(normalized).substr(part.begin, part.end - part.begin), ids);
      }
    }
  }
  return ids;
}

std::string_view Tokenizer::piece(std::int32_t id) const {
  if (!inRange(id)) {
    failInvalidInput("token id " + std::to_string(id) + " is outside the vocabulary [0, " + std::to_string(vocab_size_) + ")");
  }
  const auto* offsets = table_.piece_offsets();
  const std::uint32_t begin = offsets->Get(id), end = offsets->Get(id + 1);
  return {reinterpret_cast<const char*>(table_.piece_bytes()->data()) + begin, end - begin};
}

fb::TokenKind Tokenizer::kind(std::int32_t id) const {
  piece(id);  // range check with its error message
  return table_.kinds()->Get(id);
}

std::optional<std::int32_t> Tokenizer::pieceToId(std::string_view text) const {
  const std::int32_t model_id = bpe_->lookupPiece(text);
  if (model_id >= 0) return model_id;
  // Added tokens beyond the model vocabulary are few (Gemma 3: one); scan them.
  if (const auto* added = table_.added_tokens()) {
    for (const fb::AddedToken* token : *added) {
      if (token->id() >= static_cast<std::int32_t>(table_.model_vocab_size()) && piece(token->id()) == text) return token->id();
    }
  }
  return std::nullopt;
}

std::string_view Tokenizer::decoderStripContent() const { return asView(table_.decoder_strip_content()); }

std::optional<Tokenizer::DecodedToken> Tokenizer::decodeToken(std::int32_t id, bool skip_special) const {
  if (!inRange(id)) return std::nullopt;
  if (skip_special && table_.kinds()->Get(id) == fb::TokenKind::Control) return std::nullopt;
  DecodedToken token;
  token.text = applyReplacements(piece(id), table_.decoder_replacements());
  if (table_.decoder_byte_fallback() && parseByteToken(token.text, token.byte)) {
    token.is_byte = true;
    token.text.clear();
  }
  return token;
}

namespace {

// A run of byte-fallback bytes becomes text only as a whole: valid UTF-8 as is,
// anything else one U+FFFD per byte (tokenizers' ByteFallback decoder).
void flushByteRun(std::string& run, std::string& out) {
  if (run.empty()) return;
  if (utf8::isValid(run)) {
    out += run;
  } else {
    for (std::size_t i = 0; i < run.size(); ++i) out += utf8::kReplacementCharacter;
  }
  run.clear();
}

}  // namespace

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skip_special) const {
  std::string out, byte_run;
  for (const std::int32_t id : ids) {
    const std::optional<DecodedToken> token = decodeToken(id, skip_special);
    if (!token) continue;
    if (token->is_byte) {
      byte_run.push_back(static_cast<char>(token->byte));
      continue;
    }
    flushByteRun(byte_run, out);
    out += token->text;
  }
  flushByteRun(byte_run, out);
  const std::string_view strip = decoderStripContent();
  std::size_t cut = 0;
  for (std::uint32_t i = 0; i < decoderStripLeading() && out.compare(cut, strip.size(), strip) == 0; ++i) cut += strip.size();
  return out.substr(cut);
}

}  // namespace unicorn
