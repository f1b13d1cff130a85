#include "runtime/bpe.h"

#include <queue>

#include "runtime/tokenizer_hash.h"
#include "runtime/utf8.h"

namespace unicorn {

BpeModel::BpeModel(const fb::Tokenizer& table)
    : table_(table),
      has_byte_fallback_(table.byte_fallback_ids() && table.byte_fallback_ids()->size() == 256) {
  for (int c = 0; c < 128; ++c) {
    const char ch = static_cast<char>(c);
    ascii_ids_[c] = lookupPiece(std::string_view(&ch, 1));
  }
}

std::string_view BpeModel::piece(std::int32_t id) const {
  const auto* offsets = table_.piece_offsets();
  const std::uint32_t begin = offsets->Get(id), end = offsets->Get(id + 1);
  return {reinterpret_cast<const char*>(table_.piece_bytes()->data()) + begin, end - begin};
}

std::int32_t BpeModel::lookupPiece(std::string_view text) const {
  const auto* slots = table_.piece_hash_slots();
  const std::size_t mask = slots->size() - 1;
  std::size_t slot = tokenizerPieceHash(text) & mask;
  // Bounded by the table size so that even a table without an empty slot ends.
  for (std::size_t probes = 0; probes < slots->size(); ++probes) {
    const std::int32_t id = slots->Get(static_cast<flatbuffers::uoffset_t>(slot));
    if (id < 0) return -1;
    if (piece(id) == text) return id;
    slot = (slot + 1) & mask;
  }
  return -1;
}

bool BpeModel::findMerge(std::int32_t left, std::int32_t right, MergeRule& rule) const {
  const auto* slots = table_.merge_hash_slots();
  const auto* merges = table_.merges();
  const std::size_t mask = slots->size() - 1;
  std::size_t slot = tokenizerPairHash(left, right) & mask;
  for (std::size_t probes = 0; probes < slots->size(); ++probes) {
    const std::int32_t index = slots->Get(static_cast<flatbuffers::uoffset_t>(slot));
    if (index < 0) return false;
    const fb::Merge* merge = merges->Get(static_cast<flatbuffers::uoffset_t>(index));
    if (merge->left() == left && merge->right() == right) {
      rule = {index, merge->result()};
      return true;
    }
    slot = (slot + 1) & mask;
  }
  return false;
}

// tokenizers' BPE::merge_word: one symbol per character found in the vocabulary,
// its bytes' tokens when it is not, else (no byte fallback) the unk token. Mirrors
// its order exactly, including that a pending unk is emitted after byte-fallback
// tokens that follow it (only reachable when some "<0xXX>" pieces are missing).
void BpeModel::initialSymbols(std::string_view word, std::vector<std::int32_t>& ids) const {
  const std::int32_t unk_id = table_.unk_id();
  bool unk_pending = false;
  const auto* byte_ids = table_.byte_fallback_ids();
  for (std::size_t pos = 0; pos < word.size();) {
    const utf8::Unit unit = utf8::nextUnit(word, pos);
    const std::string_view character = word.substr(pos, unit.length);
    pos += unit.length;
    std::int32_t id = -1;
    if (unit.valid) {
      id = unit.length == 1 ? ascii_ids_[static_cast<unsigned char>(character[0])] : lookupPiece(character);
    }
    if (id >= 0) {
      if (unk_pending) ids.push_back(unk_id);
      unk_pending = false;
      ids.push_back(id);
      continue;
    }
    if (has_byte_fallback_) {
      bool all_bytes_known = true;
      for (const char c : character) all_bytes_known &= byte_ids->Get(static_cast<unsigned char>(c)) >= 0;
      if (all_bytes_known) {
        for (const char c : character) ids.push_back(byte_ids->Get(static_cast<unsigned char>(c)));
        continue;
      }
    }
    if (unk_id >= 0) {
      if (unk_pending && !table_.fuse_unk()) ids.push_back(unk_id);
      unk_pending = true;
    }
  }
  if (unk_pending) ids.push_back(unk_id);
}

// tokenizers' Word::merge_all: candidates ordered by (rank, position); a popped
// candidate is stale when its left symbol was absorbed or its pair no longer
// yields the same result, and is then dropped.
void BpeModel::applyMerges(std::vector<std::int32_t>& ids) const {
  const std::int32_t count = static_cast<std::int32_t>(ids.size());
  if (count < 2) return;
  std::vector<std::int32_t> prev(count), next(count);
  std::vector<bool> alive(count, true);
  for (std::int32_t i = 0; i < count; ++i) {
    prev[i] = i - 1;
    next[i] = i + 1 < count ? i + 1 : -1;
  }

  struct Candidate {
    std::int32_t rank;
    std::int32_t position;
    std::int32_t result;
    bool operator>(const Candidate& other) const {
      return rank != other.rank ? rank > other.rank : position > other.position;
    }
  };
  std::vector<Candidate> storage;
  storage.reserve(count);
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue(
      std::greater<Candidate>(), std::move(storage));
  MergeRule rule;
  for (std::int32_t i = 0; i + 1 < count; ++i) {
    if (findMerge(ids[i], ids[i + 1], rule)) queue.push({rule.rank, i, rule.result});
  }

  while (!queue.empty()) {
    const Candidate top = queue.top();
    queue.pop();
    const std::int32_t left = top.position;
    if (!alive[left] || next[left] < 0) continue;
    const std::int32_t right = next[left];
    if (!findMerge(ids[left], ids[right], rule) || rule.result != top.result) continue;

    ids[left] = top.result;
    alive[right] = false;
    next[left] = next[right];
    if (next[right] >= 0) prev[next[right]] = left;

    if (prev[left] >= 0 && findMerge(ids[prev[left]], ids[left], rule)) {
      queue.push({rule.rank, prev[left], rule.result});
    }
    if (next[left] >= 0 && findMerge(ids[left], ids[next[left]], rule)) {
      queue.push({rule.rank, left, rule.result});
    }
  }

  std::size_t kept = 0;
  for (std::int32_t i = 0; i < count; ++i) {
    if (alive[i]) ids[kept++] = ids[i];
  }
  ids.resize(kept);
}

void BpeModel::encodeWord(std::string_view word, std::vector<std::int32_t>& out) const {
  if (word.empty()) return;
  if (table_.ignore_merges()) {
    const std::int32_t whole = lookupPiece(word);
    if (whole >= 0) {
      out.push_back(whole);
      return;
    }
  }
  std::vector<std::int32_t> ids;
  ids.reserve(word.size());
  initialSymbols(word, ids);
  applyMerges(ids);
  out.insert(out.end(), ids.begin(), ids.end());
}

}  // namespace unicorn
