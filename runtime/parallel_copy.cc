#include "runtime/parallel_copy.h"

#include <algorithm>
#include <cstring>
#include <system_error>
#include <thread>
#include <vector>

namespace unicorn {
namespace {

// Below this per thread, starting a thread costs more than it saves.
constexpr std::size_t kMinBytesPerThread = std::size_t(4) << 20;
// Past this, more threads only contend for the memory bus.
constexpr unsigned kMaxThreads = 8;

}  // namespace

void parallelCopy(std::byte* destination, const std::byte* source, std::size_t bytes, unsigned threads) {
  if (bytes == 0) return;  // an empty span's pointers may be null, which memcpy must not see
  if (threads == 0) threads = std::clamp(std::thread::hardware_concurrency(), 1u, kMaxThreads);
  threads = static_cast<unsigned>(std::min<std::size_t>(threads, std::max<std::size_t>(bytes / kMinBytesPerThread, 1)));
  if (threads <= 1) {
    std::memcpy(destination, source, bytes);
    return;
  }
  // Slices in whole 4 KiB steps: page-aligned ranges stay whole pages per thread.
  constexpr std::size_t kPage = 4096;
  const std::size_t slice = (bytes / threads + kPage - 1) / kPage * kPage;
  std::vector<std::jthread> helpers;
  helpers.reserve(threads - 1);
  for (unsigned i = 1; i < threads && i * slice < bytes; ++i) {
    const std::size_t begin = i * slice, end = std::min(bytes, begin + slice);
    try {
      helpers.emplace_back([=] { std::memcpy(destination + begin, source + begin, end - begin); });
    } catch (const std::system_error&) {
      // No thread to be had: this thread copies the rest itself.
      std::memcpy(destination + begin, source + begin, bytes - begin);
      break;
    }
  }
  std::memcpy(destination, source, std::min(bytes, slice));
}  // the helpers join here

}  // namespace unicorn
