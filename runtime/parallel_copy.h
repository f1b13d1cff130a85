// Copying large host ranges on several cores. One core's memcpy moves about
// 5-6 GB/s, less than a PCIe 4/5 link takes and far less than the shared
// memory of an integrated GPU; and for a freshly mapped bundle the copying
// thread also takes every page fault of its source. Making weights resident
// (runtime/gpu/residency.h) is such a copy, and the one long step between
// opening a bundle and its first token. (An H200 machine's 16 cores copied a
// page-cached bundle at 6.2 GB/s on 1 thread, 36 on 8, 47 on 16:
// bench/upload_bench, bench/results.)
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace unicorn {

// memcpy over threads that it keeps for every copy it is given: a staged
// upload copies tens of MiB at a time, thousands of times, and starting the
// threads for each would cost a good part of each copy. Copies run one at a
// time; copy() returns when every byte is there.
class ParallelCopier {
 public:
  // `threads` (0: as many as the machine has, at most 16) copy, the calling
  // thread among them; the others start with the first copy large enough to
  // share, so a copier given only small copies costs no threads.
  explicit ParallelCopier(unsigned threads = 0);
  ParallelCopier(const ParallelCopier&) = delete;
  ParallelCopier& operator=(const ParallelCopier&) = delete;
  ~ParallelCopier();

  // memcpy(destination, source, bytes), each thread taking at least a few MiB:
  // small copies stay on the calling thread. The ranges must not overlap.
  void copy(std::byte* destination, const std::byte* source, std::size_t bytes);
  unsigned threads() const { return threads_; }

 private:
  struct Job {
    std::byte* destination = nullptr;
    const std::byte* source = nullptr;
    std::size_t bytes = 0, slice = 0;
  };
  void startHelpers();
  void help(unsigned index);
  static void copySlice(const Job& job, unsigned index);

  unsigned threads_;  // lowered where the system gives fewer
  std::mutex mutex_;
  std::condition_variable job_posted_, job_done_;
  Job job_;
  std::uint64_t generation_ = 0;  // counts posted jobs; helpers wait for the next
  unsigned unfinished_ = 0;       // helpers still copying the current job
  bool stopping_ = false;
  std::vector<std::thread> helpers_;
};

// A one-off copy: ParallelCopier(threads).copy(...), its threads started for this copy alone.
void parallelCopy(std::byte* destination, const std::byte* source, std::size_t bytes, unsigned threads = 0);

}  // namespace unicorn
