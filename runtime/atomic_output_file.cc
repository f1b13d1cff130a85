#include "runtime/atomic_output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/error.h"

namespace unicorn {
namespace {

// The temporary file being written, for the signal handler. One output at a time
// is all the compiler needs; the handler only unlinks (async-signal-safe).
char g_pending_temporary[4096];
std::atomic<bool> g_pending{false};

void removePendingAndReraise(int signal_number) {
  if (g_pending.load()) ::unlink(g_pending_temporary);
  std::signal(signal_number, SIG_DFL);
  std::raise(signal_number);
}

void setPending(const std::filesystem::path& temporary) {
  const std::string& text = temporary.native();
  if (text.size() >= sizeof(g_pending_temporary)) return;  // too long to track; rename/unlink still apply
  std::memcpy(g_pending_temporary, text.c_str(), text.size() + 1);
  g_pending.store(true);
  std::signal(SIGINT, removePendingAndReraise);
  std::signal(SIGTERM, removePendingAndReraise);
}

void clearPending() { g_pending.store(false); }

}  // namespace

AtomicOutputFile::AtomicOutputFile(std::filesystem::path destination) : destination_(std::move(destination)) {
  std::string pattern = destination_.string() + ".partial-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  fd_ = ::mkstemp(name.data());
  if (fd_ < 0) {
    throw Error(ExitCode::kInvalidInput,
                destination_.string() + ": cannot create output file: " + std::strerror(errno));
  }
  temporary_ = name.data();
  setPending(temporary_);
}

AtomicOutputFile::~AtomicOutputFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temporary_.c_str());
    clearPending();
  }
}

void AtomicOutputFile::fail(const char* what) const {
  throw Error(ExitCode::kInvalidInput, destination_.string() + ": " + what + ": " + std::strerror(errno));
}

void AtomicOutputFile::writeAt(std::uint64_t offset, std::span<const std::byte> bytes) {
  const std::byte* data = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    ssize_t written = ::pwrite(fd_, data, left, static_cast<off_t>(offset));
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("cannot write");
    }
    data += written;
    offset += static_cast<std::uint64_t>(written);
    left -= static_cast<std::size_t>(written);
  }
  if (offset > size_) size_ = offset;
}

void AtomicOutputFile::append(std::span<const std::byte> bytes) { writeAt(size_, bytes); }

void AtomicOutputFile::padTo(std::uint64_t size) {
  static const std::byte kZeros[64 * 1024] = {};
  while (size_ < size) {
    std::uint64_t chunk = std::min<std::uint64_t>(size - size_, sizeof(kZeros));
    append({kZeros, static_cast<std::size_t>(chunk)});
  }
}

void AtomicOutputFile::commit() {
  // mkstemp creates 0600; give the bundle the mode a plain create would have.
  mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd_, 0666 & ~mask) != 0) fail("cannot set permissions");
  if (::fsync(fd_) != 0) fail("cannot flush to disk");
  if (::close(fd_) != 0) {
    fd_ = -1;
    ::unlink(temporary_.c_str());
    clearPending();
    fail("cannot close");
  }
  fd_ = -1;
  if (::rename(temporary_.c_str(), destination_.c_str()) != 0) {
    int err = errno;
    ::unlink(temporary_.c_str());
    clearPending();
    errno = err;
    fail("cannot rename into place");
  }
  clearPending();
}

}  // namespace unicorn
