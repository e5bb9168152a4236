#include "body_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mtls_probe/engine/net.h"

namespace mtls_probe::tool {
namespace {

// Writes straight to the descriptor: nothing is buffered here, so memory does not grow with the body.
class FdBodySink final : public BodySink {
 public:
  FdBodySink(std::string name, UniqueFd owned, int fd)
      : name_(std::move(name)), owned_(std::move(owned)), fd_(fd) {}

  bool write(std::string_view bytes) override {
    while (!bytes.empty()) {
      const ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = n < 0 ? std::strerror(errno) : "nothing written";
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }
  std::string error() const override { return error_; }
  std::string name() const override { return name_; }

 private:
  std::string name_;
  UniqueFd owned_;  // the file's descriptor (none for stdout, which stays open)
  int fd_;
  std::string error_;
};

}  // namespace

Expected<std::shared_ptr<BodySink>, std::string> open_body_file(const std::string& name) {
  if (name == "-")
    return std::shared_ptr<BodySink>(std::make_shared<FdBodySink>(name, UniqueFd(), STDOUT_FILENO));
  UniqueFd fd(::open(name.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666));
  if (!fd) return Unexpected("-o: cannot open " + name + " for writing: " + std::strerror(errno));
  const int raw = fd.get();
  return std::shared_ptr<BodySink>(std::make_shared<FdBodySink>(name, std::move(fd), raw));
}

}  // namespace mtls_probe::tool
