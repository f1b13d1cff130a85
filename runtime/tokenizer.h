// The runtime tokenizer: Hugging Face `tokenizers` semantics of the checkpoint's
// tokenizer.json, read from the bundle's flat tables (schemas/tokenizer.fbs).
//
//   encode: added tokens are found in the raw text (leftmost-longest), the rest is
//           normalised, matched again against normalised added tokens, then each
//           remaining segment is one BPE word (runtime/bpe.h). No BOS is added.
//   decode: per token the decoder's replacements ("▁" -> " "), byte-fallback runs
//           reassembled into UTF-8 (an invalid run -> one U+FFFD per byte), leading
//           strip. Ids outside the vocabulary are skipped, as tokenizers does (the
//           model's embedding may have more rows than the tokenizer has tokens).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "runtime/added_token_splitter.h"
#include "runtime/bpe.h"
#include "schemas/tokenizer_generated.h"

namespace unicorn {

class Tokenizer {
 public:
  // `table` must have passed the flatbuffers Verifier (its buffer outlives this
  // object). Semantic invariants are checked here: any violation is
  // Error(kInvalidInput) naming the field, so no later call can misbehave.
  explicit Tokenizer(const fb::Tokenizer& table);

  std::vector<std::int32_t> encode(std::string_view text) const;
  std::string decode(std::span<const std::int32_t> ids, bool skip_special) const;

  std::int32_t bosId() const { return table_.bos_id(); }  // -1 when the checkpoint names none
  std::int32_t eosId() const { return table_.eos_id(); }
  std::int32_t padId() const { return table_.pad_id(); }
  std::int32_t unkId() const { return table_.unk_id(); }
  std::size_t vocabSize() const { return vocab_size_; }

  // The id whose text is `piece` (added tokens included), if any.
  std::optional<std::int32_t> pieceToId(std::string_view piece) const;
  // The stored text of token `id`; Error(kInvalidInput) when out of range.
  std::string_view piece(std::int32_t id) const;
  fb::TokenKind kind(std::int32_t id) const;

  // One token as the decoder sees it, for decode() and TokenStreamDecoder.
  struct DecodedToken {
    bool is_byte = false;  // a byte-fallback byte: `byte` is valid, `text` empty
    unsigned char byte = 0;
    std::string text;
  };
  // Nothing when the token contributes no text (unknown id, or skipped special).
  std::optional<DecodedToken> decodeToken(std::int32_t id, bool skip_special) const;
  // How many leading copies of `decoderStripContent()` the decoder removes.
  std::uint32_t decoderStripLeading() const { return table_.decoder_strip_leading(); }
  std::string_view decoderStripContent() const;

 private:
  void validate();
  std::string normalize(std::string_view text) const;
  bool inRange(std::int32_t id) const { return id >= 0 && static_cast<std::size_t>(id) < vocab_size_; }

  const fb::Tokenizer& table_;
  std::size_t vocab_size_ = 0;
  std::optional<BpeModel> bpe_;
  std::optional<AddedTokenSplitter> raw_splitter_;
  std::optional<AddedTokenSplitter> normalized_splitter_;
};

}  // namespace unicorn
