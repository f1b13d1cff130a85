// Which dispatches of a program need a memory barrier before them (the
// schedule pass's rule): one that reads what an earlier dispatch wrote (read
// after write), or writes what an earlier one read or wrote (write after read,
// write after write), unless a barrier recorded in between orders the two.
// Vulkan's compute-to-compute memory barrier orders everything recorded
// before it against everything after.
//
// Two refinements keep the rule exact without being unsafe:
//  - The runtime leaves out a dispatch whose condition does not hold for the
//    run, and its barrier with it. A barrier therefore orders a later dispatch
//    only when it is recorded whenever that dispatch is: when the later one's
//    condition implies the barrier's (`implies`, e.g. every run's condition
//    implies "always").
//  - Dispatches of one group (the row slices of a matrix, the products of a
//    fused linear) write disjoint elements of one range; they are checked
//    against what came before the group, not against each other.
//
// Plain C++ over byte ranges and integer conditions, testable without MLIR.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace unicorn {

class DispatchHazards {
 public:
  struct Range {
    std::string buffer;  // the buffer's symbol
    std::uint64_t begin = 0, end = 0;
    bool overlaps(const Range& other) const {
      return buffer == other.buffer && begin < other.end && other.begin < end;
    }
  };

  // implies(a, b): whenever a dispatch of condition a is recorded, so is one of b.
  explicit DispatchHazards(std::function<bool(int, int)> implies) : implies_(std::move(implies)) {}

  // Whether a dispatch of condition `when` reading `reads` and writing `writes`
  // needs a barrier first.
  bool needsBarrier(const std::vector<Range>& reads, const std::vector<Range>& writes, int when) const {
    std::size_t ordered_before = 0;  // accesses of dispatches before this index are ordered by a barrier
    for (const Barrier& barrier : barriers_) {
      if (implies_(when, barrier.when)) ordered_before = std::max(ordered_before, barrier.dispatch);
    }
    for (const Access& earlier : accesses_) {
      if (earlier.dispatch < ordered_before || (in_group_ && earlier.dispatch >= group_start_)) continue;
      for (const Range& r : reads) {
        if (earlier.write && earlier.range.overlaps(r)) return true;
      }
      for (const Range& w : writes) {
        if (earlier.range.overlaps(w)) return true;
      }
    }
    return false;
  }

  // Records the dispatch just emitted, `barrier` whether it got one.
  void record(const std::vector<Range>& reads, const std::vector<Range>& writes, int when, bool barrier) {
    if (barrier) barriers_.push_back({dispatches_, when});
    for (const Range& r : reads) accesses_.push_back({r, false, dispatches_});
    for (const Range& w : writes) accesses_.push_back({w, true, dispatches_});
    ++dispatches_;
  }

  void beginGroup() {
    in_group_ = true;
    group_start_ = dispatches_;
  }
  void endGroup() { in_group_ = false; }

 private:
  struct Access {
    Range range;
    bool write;
    std::size_t dispatch;
  };
  struct Barrier {
    std::size_t dispatch;  // the barrier comes right before this dispatch
    int when;
  };

  std::function<bool(int, int)> implies_;
  std::vector<Access> accesses_;
  std::vector<Barrier> barriers_;
  std::size_t dispatches_ = 0, group_start_ = 0;
  bool in_group_ = false;
};

}  // namespace unicorn
