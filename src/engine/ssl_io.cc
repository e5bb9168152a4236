// What a non-blocking OpenSSL call's result means for the probe: shared by the handshake and both HTTP
// exchanges, so a reset, an EOF without close_notify and an alert read the same whichever one saw them.
#include <openssl/err.h>

#include <cerrno>
#include <cstring>

#include "mtls_probe/engine/http_exchange.h"
#include "mtls_probe/engine/tls_session.h"

namespace mtls_probe {

SslIo classify_ssl_result(SSL* ssl, int rc, ProbeFacts& f) {
  switch (SSL_get_error(ssl, rc)) {
    case SSL_ERROR_NONE: return SslIo::done;
    case SSL_ERROR_WANT_READ: return SslIo::want_read;
    case SSL_ERROR_WANT_WRITE: return SslIo::want_write;
    case SSL_ERROR_ZERO_RETURN: return SslIo::eof;
    case SSL_ERROR_SYSCALL: {
      const int e = errno;
      if (ERR_peek_error() != 0) {
        record_tls_failure(f);
        return SslIo::failed;
      }
      if (e == ECONNRESET || e == EPIPE) return SslIo::reset;
      if (e == 0) return SslIo::eof;  // EOF without close_notify
      f.tls_error = std::strerror(e);
      return SslIo::failed;
    }
    default: record_tls_failure(f); return SslIo::failed;
  }
}

SslIo ssl_write_all(SSL* ssl, std::string_view data, std::size_t& off, ProbeFacts& f) {
  while (off < data.size()) {
    ERR_clear_error();
    const int rc = SSL_write(ssl, data.data() + off, static_cast<int>(data.size() - off));
    if (rc > 0) {
      off += static_cast<std::size_t>(rc);
      continue;
    }
    const SslIo io = classify_ssl_result(ssl, rc, f);
    if (io == SslIo::want_read || io == SslIo::want_write) return io;
    if (io == SslIo::reset) f.reset_after_request = true;
    return SslIo::failed;
  }
  return SslIo::done;
}

SslIo SslExchangeIo::read(std::span<std::uint8_t> buf, std::size_t& n, ProbeFacts& f) {
  n = 0;
  ERR_clear_error();
  const int rc = SSL_read(ssl_, buf.data(), static_cast<int>(buf.size()));
  if (rc > 0) {
    n = static_cast<std::size_t>(rc);
    return SslIo::done;
  }
  return classify_ssl_result(ssl_, rc, f);
}

}  // namespace mtls_probe
