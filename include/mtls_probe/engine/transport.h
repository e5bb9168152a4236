// The byte stream TLS runs over, owned by the engine: a TCP socket today; a proxy tunnel (the socket after
// CONNECT, or TLS to an HTTPS proxy) later, without changing the TLS phase. OpenSSL reaches it through a
// BIO of our own (make_transport_bio), so no write can raise SIGPIPE whatever the process's signal state.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <string>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/engine/net.h"

namespace mtls_probe {

// What ended a layered transport (TLS to a proxy): the alert the proxy sent, if any, and OpenSSL's reason.
// Kept here, off the error queue, so the TLS to the server above never reads the proxy's alert as its own.
struct TransportError {
  int alert = 0;  // 0: none
  std::string text;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // > 0: bytes moved; 0: end of stream (read); -1: errno says why (EAGAIN / EWOULDBLOCK: try later).
  virtual ssize_t read(char* buf, std::size_t len) = 0;
  virtual ssize_t write(const char* buf, std::size_t len) = 0;
  // The descriptor to poll while the stream would block.
  virtual int poll_fd() const = 0;
  // The poll events for poll_fd() when the caller waits for `wanted` (POLLIN / POLLOUT): a layered
  // stream (TLS to a proxy) may itself need the other direction first.
  virtual short poll_events(short wanted) const { return wanted; }
  // Why the stream failed, when it is a layer of its own (nullptr: a socket: errno said it all).
  virtual const TransportError* error() const { return nullptr; }
};

// A connected non-blocking TCP socket: recv, and send with MSG_NOSIGNAL.
class SocketTransport final : public Transport {
 public:
  explicit SocketTransport(UniqueFd fd) : fd_(std::move(fd)) {}
  ssize_t read(char* buf, std::size_t len) override;
  ssize_t write(const char* buf, std::size_t len) override;
  int poll_fd() const override { return fd_.get(); }

 private:
  UniqueFd fd_;
};

// A TLS connection (to an HTTPS proxy) over another transport, carrying the bytes of the TLS connection to
// the server inside it: SSL_read / SSL_write of `ssl`, whose BIO is a transport BIO over `inner`. would-block
// comes back as -1 with errno EAGAIN; poll_events() then adds the direction the inner TLS waits for.
class TlsTransport final : public Transport {
 public:
  TlsTransport(std::unique_ptr<Transport> inner, UniqueSsl ssl)
      : inner_(std::move(inner)), ssl_(std::move(ssl)) {}
  ssize_t read(char* buf, std::size_t len) override;
  ssize_t write(const char* buf, std::size_t len) override;
  int poll_fd() const override { return inner_->poll_fd(); }
  short poll_events(short wanted) const override;
  const TransportError* error() const override { return failed_ ? &error_ : nullptr; }

 private:
  ssize_t result(int rc, bool reading);
  void capture_error();
  bool failed_ = false;
  TransportError error_;
  std::unique_ptr<Transport> inner_;  // outlives ssl_'s BIO: declared first, destroyed last
  UniqueSsl ssl_;
  short inner_wants_ = 0;  // POLLIN / POLLOUT the inner TLS asked for the last time it would block
};

// A BIO that reads and writes through transport (not owned: it must outlive the BIO). Retry flags are
// set on EAGAIN, so SSL_get_error says WANT_READ / WANT_WRITE; errno is left as the transport set it.
UniqueBio make_transport_bio(Transport& transport);

}  // namespace mtls_probe
