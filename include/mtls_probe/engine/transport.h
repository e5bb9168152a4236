// The byte stream TLS runs over, owned by the engine: a TCP socket today; a proxy tunnel (the socket after
// CONNECT, or TLS to an HTTPS proxy) later, without changing the TLS phase. OpenSSL reaches it through a
// BIO of our own (make_transport_bio), so no write can raise SIGPIPE whatever the process's signal state.
#pragma once

#include <sys/types.h>

#include <cstddef>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/engine/net.h"

namespace mtls_probe {

class Transport {
 public:
  virtual ~Transport() = default;
  // > 0: bytes moved; 0: end of stream (read); -1: errno says why (EAGAIN / EWOULDBLOCK: try later).
  virtual ssize_t read(char* buf, std::size_t len) = 0;
  virtual ssize_t write(const char* buf, std::size_t len) = 0;
  // The descriptor to poll while the stream would block.
  virtual int poll_fd() const = 0;
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

// A BIO that reads and writes through transport (not owned: it must outlive the BIO). Retry flags are
// set on EAGAIN, so SSL_get_error says WANT_READ / WANT_WRITE; errno is left as the transport set it.
UniqueBio make_transport_bio(Transport& transport);

}  // namespace mtls_probe
