// Reads a checkpoint's tokenizer.json (+ tokenizer_config.json for the bos/eos/pad
// names) and writes the bundle's Tokenizer table (schemas/tokenizer.fbs): flat
// arrays and precomputed hash tables, so the runtime loads it without parsing.
//
// Supported: what Gemma 3 and its fine-tunes use — a BPE model (byte fallback,
// unk, ignore_merges), added tokens (lstrip/rstrip/normalized/special), a
// normaliser of string Replace steps, the Split-on-" " pre-tokenizer when the
// normaliser has already replaced every space, and a decoder Sequence of
// Replace / ByteFallback / Fuse / Strip (leading). Anything else is
// Error(kInvalidInput) naming the file and the field.
#pragma once

#include <filesystem>

#include <flatbuffers/flatbuffers.h>

#include "schemas/tokenizer_generated.h"

namespace unicorn {

flatbuffers::Offset<fb::Tokenizer> importTokenizer(flatbuffers::FlatBufferBuilder& builder,
                                                   const std::filesystem::path& model_dir);

}  // namespace unicorn

namespace unicorn {

// The same table as a standalone flatbuffer (root: Tokenizer), already run through
// the flatbuffers Verifier: what tests, benchmarks and fuzzers load instead of a bundle.
flatbuffers::DetachedBuffer importTokenizerBuffer(const std::filesystem::path& model_dir);

}  // namespace unicorn
