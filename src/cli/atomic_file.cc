#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

namespace mtls_probe::tool {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

}  // namespace

AtomicFile::~AtomicFile() {
  discard();
}

AtomicFile::AtomicFile(AtomicFile&& o) noexcept
    : path_(std::move(o.path_)), temp_(std::move(o.temp_)), fd_(std::exchange(o.fd_, -1)) {}

AtomicFile& AtomicFile::operator=(AtomicFile&& o) noexcept {
  if (this != &o) {
    discard();
    path_ = std::move(o.path_);
    temp_ = std::move(o.temp_);
    fd_ = std::exchange(o.fd_, -1);
  }
  return *this;
}

void AtomicFile::discard() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temp_.c_str());
  fd_ = -1;
}

std::optional<std::string> AtomicFile::open(const std::string& path) {
  discard();
  path_ = path;
  if (path.empty() || path.back() == '/') return "cannot write " + path + ": not a file name";
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return "cannot write " + path + ": is a directory";
  std::string tmpl = dir + "." + base + ".tmpXXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  const int fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return "cannot write " + path + ": " + errno_text();
  fd_ = fd;
  temp_ = buf.data();
  return std::nullopt;
}

std::optional<std::string> AtomicFile::commit(const std::string& content) {
  if (fd_ < 0) return "cannot write " + path_ + ": not open";
  std::optional<std::string> err;
  std::size_t off = 0;
  while (!err && off < content.size()) {
    const ssize_t n = ::write(fd_, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = "cannot write " + path_ + ": " + errno_text();
    } else {
      off += static_cast<std::size_t>(n);
    }
  }
  // mkstemp makes the file 0600; a report is as readable as any file this user creates.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (!err && ::fchmod(fd_, 0666 & ~mask) != 0) err = "cannot write " + path_ + ": " + errno_text();
  if (!err && ::fsync(fd_) != 0) err = "cannot write " + path_ + ": " + errno_text();
  if (err) {
    discard();
    return err;
  }
  ::close(fd_);
  fd_ = -1;
  if (::rename(temp_.c_str(), path_.c_str()) != 0) {
    err = "cannot write " + path_ + ": " + errno_text();
    ::unlink(temp_.c_str());
  }
  return err;
}

}  // namespace mtls_probe::tool
