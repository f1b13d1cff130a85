#include "runtime/parallel_copy.h"

#include <algorithm>
#include <cstring>
#include <system_error>

namespace unicorn {
namespace {

// Below this per thread, handing a slice over costs more than it saves.
constexpr std::size_t kMinBytesPerThread = std::size_t(4) << 20;
// bench/upload_bench on a 16-core host still gained from 8 to 16 threads (36 -> 47 GB/s).
constexpr unsigned kMaxThreads = 16;
// Slices in whole 4 KiB steps: page-aligned ranges stay whole pages per thread.
constexpr std::size_t kPage = 4096;

unsigned threadCount(unsigned requested) {
  return requested ? requested : std::clamp(std::thread::hardware_concurrency(), 1u, kMaxThreads);
}

}  // namespace

ParallelCopier::ParallelCopier(unsigned threads) : threads_(threadCount(threads)) {}

void ParallelCopier::startHelpers() {
  helpers_.reserve(threads_ - 1);
  for (unsigned i = 1; i < threads_; ++i) {
    try {
      helpers_.emplace_back([this, i] { help(i); });
    } catch (const std::system_error&) {
      break;  // no more threads to be had: those started (and this one) do the copies
    }
  }
  threads_ = static_cast<unsigned>(helpers_.size()) + 1;
}

ParallelCopier::~ParallelCopier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  job_posted_.notify_all();
  for (std::thread& helper : helpers_) helper.join();
}

void ParallelCopier::copySlice(const Job& job, unsigned index) {
  const std::size_t begin = std::size_t(index) * job.slice;
  if (begin >= job.bytes) return;
  std::memcpy(job.destination + begin, job.source + begin, std::min(job.slice, job.bytes - begin));
}

void ParallelCopier::help(unsigned index) {
  std::uint64_t seen = 0;
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mutex_);
      job_posted_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      job = job_;
    }
    copySlice(job, index);
    std::lock_guard lock(mutex_);
    if (--unfinished_ == 0) job_done_.notify_one();
  }
}

void ParallelCopier::copy(std::byte* destination, const std::byte* source, std::size_t bytes) {
  if (bytes == 0) return;  // an empty span's pointers may be null, which memcpy must not see
  const std::size_t useful = std::max<std::size_t>(bytes / kMinBytesPerThread, 1);
  if (useful > 1 && threads_ > 1 && helpers_.empty()) startHelpers();
  const std::size_t parts = std::min<std::size_t>(threads_, useful);  // threads_ as started
  if (parts == 1) {
    std::memcpy(destination, source, bytes);
    return;
  }
  const Job job{destination, source, bytes, (bytes / parts + kPage - 1) / kPage * kPage};
  {
    std::lock_guard lock(mutex_);
    job_ = job;
    // Every helper wakes for a job; those past the last slice find nothing to copy.
    unfinished_ = static_cast<unsigned>(helpers_.size());
    ++generation_;
  }
  job_posted_.notify_all();
  copySlice(job, 0);
  std::unique_lock lock(mutex_);
  job_done_.wait(lock, [&] { return unfinished_ == 0; });
}

void parallelCopy(std::byte* destination, const std::byte* source, std::size_t bytes, unsigned threads) {
  ParallelCopier(threads).copy(destination, source, bytes);
}

}  // namespace unicorn
