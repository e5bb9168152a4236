#include "mtls_probe/engine/transport.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/engine/net.h"

namespace mtls_probe {

ssize_t SocketTransport::read(char* buf, std::size_t len) {
  ssize_t n;
  do {
    n = ::recv(fd_.get(), buf, len, MSG_DONTWAIT);  // never blocks, whatever the fd's flags
  } while (n < 0 && errno == EINTR);
  return n;
}

ssize_t SocketTransport::write(const char* buf, std::size_t len) {
  ssize_t n;
  do {
    n = ::send(fd_.get(), buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);  // a closed peer: EPIPE, not a signal
  } while (n < 0 && errno == EINTR);
  return n;
}

ssize_t TlsTransport::read(char* buf, std::size_t len) {
  ERR_clear_error();
  const int n = static_cast<int>(std::min<std::size_t>(len, INT_MAX));
  return result(SSL_read(ssl_.get(), buf, n), true);
}

ssize_t TlsTransport::write(const char* buf, std::size_t len) {
  ERR_clear_error();
  const int n = static_cast<int>(std::min<std::size_t>(len, INT_MAX));
  return result(SSL_write(ssl_.get(), buf, n), false);
}

ssize_t TlsTransport::result(int rc, bool reading) {
  if (rc > 0) {
    inner_wants_ = 0;
    return rc;
  }
  switch (SSL_get_error(ssl_.get(), rc)) {
    case SSL_ERROR_WANT_READ:
      inner_wants_ = POLLIN;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_WANT_WRITE:
      inner_wants_ = POLLOUT;
      errno = EAGAIN;
      return -1;
    case SSL_ERROR_ZERO_RETURN: return 0;  // the proxy's close_notify: the tunnel's end of stream
    case SSL_ERROR_SYSCALL:
      if (reading && ERR_peek_error() == 0 && errno == 0) return 0;  // a bare close
      if (errno == 0) errno = ECONNRESET;
      capture_error();
      return -1;
    default:
      capture_error();
      errno = ECONNRESET;  // a TLS error on the proxy's connection ends the tunnel
      return -1;
  }
}

void TlsTransport::capture_error() {
  const int saved = errno;
  failed_ = true;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    if (const int code = received_alert_code(e); code != 0) error_.alert = code;
    std::array<char, 256> buf{};
    ERR_error_string_n(e, buf.data(), buf.size());
    if (!error_.text.empty()) error_.text += "; ";
    error_.text += buf.data();
  }
  if (error_.text.empty())
    error_.text = saved != 0 ? std::strerror(saved) : "the proxy's TLS connection failed";
  errno = saved;
}

short TlsTransport::poll_events(short wanted) const {
  return static_cast<short>(wanted | inner_wants_);
}

namespace {

Transport* transport_of(BIO* bio) {
  return static_cast<Transport*>(BIO_get_data(bio));
}

int bio_write(BIO* bio, const char* buf, int len) {
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  const ssize_t n = transport_of(bio)->write(buf, static_cast<std::size_t>(len));
  if (n < 0 && would_block(errno)) BIO_set_retry_write(bio);
  return static_cast<int>(n);
}

int bio_read(BIO* bio, char* buf, int len) {
  BIO_clear_retry_flags(bio);
  if (len <= 0) return 0;
  const ssize_t n = transport_of(bio)->read(buf, static_cast<std::size_t>(len));
  if (n < 0 && would_block(errno)) BIO_set_retry_read(bio);
  if (n == 0) BIO_set_flags(bio, BIO_FLAGS_IN_EOF);  // BIO_eof: how OpenSSL tells a close from an error
  return static_cast<int>(n);
}

long bio_ctrl(BIO* bio, int cmd, long /*num*/, void* /*ptr*/) {
  switch (cmd) {
    case BIO_CTRL_FLUSH: return 1;  // writes go straight to the transport: nothing is buffered here
    case BIO_CTRL_EOF: return BIO_test_flags(bio, BIO_FLAGS_IN_EOF) != 0 ? 1 : 0;
    default: return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

// The method table is constant after its one initialisation (thread-safe, as function-local statics are):
// shared by every BIO, holding no state of any probe.
const BIO_METHOD* transport_method() {
  static const std::unique_ptr<BIO_METHOD, decltype(&BIO_meth_free)> method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mtls-probe transport");
    if (m != nullptr) {
      BIO_meth_set_write(m, bio_write);
      BIO_meth_set_read(m, bio_read);
      BIO_meth_set_ctrl(m, bio_ctrl);
      BIO_meth_set_create(m, bio_create);
    }
    return std::unique_ptr<BIO_METHOD, decltype(&BIO_meth_free)>(m, BIO_meth_free);
  }();
  return method.get();
}

}  // namespace

UniqueBio make_transport_bio(Transport& transport) {
  const BIO_METHOD* method = transport_method();
  if (method == nullptr) return nullptr;
  UniqueBio bio(BIO_new(method));
  if (bio) BIO_set_data(bio.get(), &transport);
  return bio;
}

}  // namespace mtls_probe
