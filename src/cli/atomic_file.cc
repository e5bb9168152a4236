#include "atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace mtls_probe::tool {
namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Writes all of content to fd; false (errno set) on an error.
bool write_all(int fd, const std::string& content) {
  std::size_t off = 0;
  while (off < content.size()) {
    const ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::optional<std::string> AtomicFile::make_temp(int& fd, std::string& name) const {
  const auto slash = path_.rfind('/');
  const std::string dir = slash == std::string::npos ? "" : path_.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path_ : path_.substr(slash + 1);
  std::string tmpl = dir + "." + base + ".tmpXXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  fd = ::mkostemp(buf.data(), O_CLOEXEC);
  if (fd < 0) return "cannot write " + path_ + ": " + errno_text();
  name = buf.data();
  return std::nullopt;
}

std::optional<std::string> AtomicFile::open(const std::string& path) {
  open_ = false;
  path_ = path;
  if (path.empty() || path.back() == '/') return "cannot write " + path + ": not a file name";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    return "cannot write " + path + ": is a directory";
  int fd = -1;
  std::string temp;
  if (auto err = make_temp(fd, temp)) return err;
  ::close(fd);
  ::unlink(temp.c_str());
  open_ = true;
  return std::nullopt;
}

std::optional<std::string> AtomicFile::commit(const std::string& content) {
  if (!open_) return "cannot write " + path_ + ": not open";
  int fd = -1;
  std::string temp;
  if (auto err = make_temp(fd, temp)) return err;
  std::optional<std::string> err;
  // mkstemp makes the file 0600; a report is as readable as any file this user creates.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (!write_all(fd, content) || ::fchmod(fd, 0666 & ~mask) != 0 || ::fsync(fd) != 0)
    err = "cannot write " + path_ + ": " + errno_text();
  if (::close(fd) != 0 && !err) err = "cannot write " + path_ + ": " + errno_text();
  if (!err && ::rename(temp.c_str(), path_.c_str()) != 0) err = "cannot write " + path_ + ": " + errno_text();
  if (err) ::unlink(temp.c_str());
  return err;
}

}  // namespace mtls_probe::tool
