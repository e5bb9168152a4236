#include "mtls_probe/identity/secret_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "mtls_probe/base/ossl.h"

namespace mtls_probe {

void SecretBytes::append(const char* p, std::size_t n) {
  if (data_.size() + n > data_.capacity()) {
    std::vector<char> bigger;
    bigger.reserve(std::max(data_.capacity() * 2, data_.size() + n));
    bigger.assign(data_.begin(), data_.end());
    wipe();
    data_.swap(bigger);  // the old, wiped storage is freed with `bigger`
  }
  data_.insert(data_.end(), p, p + n);
}

void SecretBytes::wipe() {
  if (!data_.empty()) OPENSSL_cleanse(data_.data(), data_.size());
  data_.clear();
}

namespace {

using Clock = std::chrono::steady_clock;

// (Not "failure": identity.cc has one, and a unity build may put both files in one batch.)
IdentityFailure read_failure(IdentityProblem problem, std::string message) {
  return IdentityFailure{problem, std::move(message), drain_openssl_errors()};
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Waits until fd is readable; false when `deadline` passed first.
bool wait_readable(int fd, Clock::time_point deadline) {
  for (;;) {
    // Rounded up: a deadline 0.4 ms away is still a wait, not "passed".
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return true;  // let read() report the error
  }
}

}  // namespace

Expected<SecretBytes, IdentityFailure> read_secret_file(const std::string& path, const char* what,
                                                        std::size_t limit, std::chrono::milliseconds wait) {
  // O_NONBLOCK: opening a FIFO that has no writer would otherwise block forever.
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (fd.get() < 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Unexpected{
          read_failure(IdentityProblem::file_missing, fmt::format("{} '{}' does not exist", what, path))};
    }
    return Unexpected{read_failure(IdentityProblem::file_unreadable,
                              fmt::format("cannot read {} '{}': {}", what, path, std::strerror(err)))};
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Unexpected{read_failure(IdentityProblem::file_unreadable,
                              fmt::format("{} '{}' is a directory, not a file", what, path))};
  }
  const bool regular = S_ISREG(st.st_mode);
  const auto deadline = Clock::now() + wait;
  // Read in chunks rather than trusting st_size, so pipes (--p12 <(vault read ...)) work too.
  SecretBytes out;
  std::array<char, 4096> chunk{};
  auto fail = [&](IdentityProblem problem, std::string message) {
    OPENSSL_cleanse(chunk.data(), chunk.size());
    return Unexpected{read_failure(problem, std::move(message))};
  };
  for (;;) {
    if (!regular && !wait_readable(fd.get(), deadline)) {
      return fail(
          IdentityProblem::file_unreadable,
          fmt::format("{} '{}' is not a regular file and delivered no data within {} s (a FIFO with no "
                      "writer?)",
                      what, path, wait.count() / 1000.0));
    }
    const ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      const int err = errno;
      return fail(IdentityProblem::file_unreadable,
                  fmt::format("cannot read {} '{}': {}", what, path, std::strerror(err)));
    }
    if (n == 0) break;
    if (out.size() + static_cast<std::size_t>(n) > limit) {
      return fail(IdentityProblem::not_recognised,
                  fmt::format("{} '{}' is larger than {} bytes; not an identity file", what, path, limit));
    }
    out.append(chunk.data(), static_cast<std::size_t>(n));
  }
  OPENSSL_cleanse(chunk.data(), chunk.size());
  return out;
}

}  // namespace mtls_probe
