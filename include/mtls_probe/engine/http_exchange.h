// One HTTP exchange (request out, response in) over the probe's TLS connection, as a step function the
// probe's state machine calls until it would block. Two implementations, chosen by the ALPN the server
// picked: HTTP/1.1 (our own bounded parser) and HTTP/2 (an nghttp2 client session). Both record into the
// same http facts with the same caps (HttpLimits) and the same deadline, so diagnosis does not care which
// ran.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/engine/options.h"
#include "mtls_probe/engine/pollable.h"
#include "mtls_probe/engine/probe_log.h"

namespace mtls_probe {

// What a non-blocking SSL_read / SSL_write / SSL_connect result means. failed has recorded the TLS error
// (and any alert) in the facts already.
enum class SslIo { done, want_read, want_write, eof, reset, failed };
SslIo classify_ssl_result(SSL* ssl, int rc, ProbeFacts& f);
// SSL_write of data from off on, until all of it is written (done), it would block (want_read /
// want_write) or it failed (failed; a reset is recorded as reset_after_request, since the server may
// already have sent its verdict as an alert that the read will find). Advances off by what was written.
SslIo ssl_write_all(SSL* ssl, std::string_view data, std::size_t& off, ProbeFacts& f);

// The byte stream under an exchange: the probe's SSL connection in production (SslExchangeIo), scripted
// server bytes in the fuzz targets (tests/fuzz), so they drive the real exchange. Results read as SslIo.
class ExchangeIo {
 public:
  virtual ~ExchangeIo() = default;
  // Up to buf.size() bytes into buf: done with n > 0 bytes read, else what stopped the read (n == 0).
  virtual SslIo read(std::span<std::uint8_t> buf, std::size_t& n, ProbeFacts& f) = 0;
  // As ssl_write_all: data from off on, advancing off by what was written.
  virtual SslIo write_all(std::string_view data, std::size_t& off, ProbeFacts& f) = 0;
};

// SSL_read / ssl_write_all on the probe's connection.
class SslExchangeIo final : public ExchangeIo {
 public:
  explicit SslExchangeIo(SSL* ssl) : ssl_(ssl) {}
  SslIo read(std::span<std::uint8_t> buf, std::size_t& n, ProbeFacts& f) override;
  SslIo write_all(std::string_view data, std::size_t& off, ProbeFacts& f) override {
    return ssl_write_all(ssl_, data, off, f);
  }

 private:
  SSL* ssl_;
};

// What an exchange is given: the established connection, where to record, and the probe's total deadline.
struct ExchangeContext {
  SSL* ssl = nullptr;
  ProbeFacts* facts = nullptr;
  const ProbeLog* log = nullptr;
  const TargetOptions* target = nullptr;
  Clock::time_point deadline{};  // max-time: reading stops here (timed_out)
  HttpLimits limits{};
  ExchangeIo* io = nullptr;  // null: SslExchangeIo on ssl (the fuzz targets bring their own)
};

class HttpExchange {
 public:
  enum class Status { want_read, want_write, done, timed_out };
  virtual ~HttpExchange() = default;

  // Writes and reads until the exchange would block or is over.
  virtual Status step() = 0;
  // The request has gone out (or could not, and the rest is reading what the server says about it).
  virtual bool request_sent() const = 0;
  // Records the response (and traces it); called once, after done / timed_out or at the deadline.
  virtual void finish() = 0;
};

std::unique_ptr<HttpExchange> make_http1_exchange(const ExchangeContext& ctx);
std::unique_ptr<HttpExchange> make_http2_exchange(const ExchangeContext& ctx);

// RFC 9113 section 7's name of an HTTP/2 error code ("PROTOCOL_ERROR", "HTTP_1_1_REQUIRED"), or
// "UNKNOWN_ERROR_0x..." for a code the RFC does not define.
std::string h2_error_name(std::uint32_t code);

}  // namespace mtls_probe
