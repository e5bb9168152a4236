// SSLKEYLOGFILE (NSS key log format), as curl writes it: append-only, one line per secret.
#include "mtls_probe/engine/key_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace mtls_probe {
namespace {

// Where an SSL_CTX keeps its key log (OpenSSL's per-CTX user data; the index is registered once).
int keylog_index() {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

void on_keylog_line(const SSL* ssl, const char* line) {
  auto* log = static_cast<KeyLogFile*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keylog_index()));
  if (log != nullptr) log->write(line);
}

}  // namespace

Expected<std::unique_ptr<KeyLogFile>> KeyLogFile::open(const std::string& path) {
  auto out = std::unique_ptr<KeyLogFile>(new KeyLogFile());
  out->fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
  if (out->fd_ < 0)
    return Unexpected{
        Error{"SSLKEYLOGFILE: cannot open '" + path + "' for appending: " + std::strerror(errno), ""}};
  return out;
}

KeyLogFile::~KeyLogFile() {
  if (fd_ >= 0) ::close(fd_);
}

void KeyLogFile::write(const char* line) {
  std::string text(line);
  text += '\n';
  const std::lock_guard<std::mutex> lock(mutex_);
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(fd_, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // a full disk loses key lines, never the probe
    off += static_cast<std::size_t>(n);
  }
}

void KeyLogFile::attach(SSL_CTX* ctx) {
  SSL_CTX_set_ex_data(ctx, keylog_index(), this);
  SSL_CTX_set_keylog_callback(ctx, on_keylog_line);
}

}  // namespace mtls_probe
