// serve's HTTP/2: one nghttp2 server session per connection that negotiated h2, answering one request
// (serve answers one request per connection over HTTP/1.1 too). Blocking, like the rest of a connection's
// thread: bytes move through the connection's read/write functions (its SSL calls with their deadline).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

struct nghttp2_session;

namespace mtls_probe::serve_h2 {

struct H2Request {
  std::string method, path, authority;  // path: as :path said (origin form, with the query)
};

class H2ServerSession {
 public:
  // read: >0 bytes read, 0 the peer closed, <0 failed or timed out. write: all bytes written.
  using ReadFn = std::function<long(uint8_t*, std::size_t)>;
  using WriteFn = std::function<bool(const uint8_t*, std::size_t)>;

  H2ServerSession(ReadFn read, WriteFn write, std::size_t max_header_bytes);
  ~H2ServerSession();
  H2ServerSession(const H2ServerSession&) = delete;
  H2ServerSession& operator=(const H2ServerSession&) = delete;

  // Sends our SETTINGS and reads until the client's first request is complete (nullopt: it never came, or
  // the client broke HTTP/2; error() says which).
  std::optional<H2Request> read_request();
  // Answers the request's stream and ends the connection politely (GOAWAY NO_ERROR).
  bool respond(int status, const std::vector<std::pair<std::string, std::string>>& headers, std::string body);
  // The same with trailers after the body (gRPC's grpc-status): the last DATA frame does not end the stream,
  // a trailing HEADERS frame does.
  bool respond(int status, const std::vector<std::pair<std::string, std::string>>& headers, std::string body,
               std::vector<std::pair<std::string, std::string>> trailers);
  // Refuses the request's stream with RST_STREAM `code` (HTTP_1_1_REQUIRED, as Apache's mod_http2 does for a
  // location that needs a client certificate after the handshake), then GOAWAY.
  bool refuse(uint32_t code);
  const std::string& error() const { return error_; }

 private:
  struct Callbacks;
  bool flush();
  bool pump_until(const std::function<bool()>& done);

  ReadFn read_;
  WriteFn write_;
  std::size_t max_header_bytes_;
  nghttp2_session* session_ = nullptr;
  int32_t stream_id_ = 0;
  bool request_complete_ = false;
  bool response_done_ = false;
  std::size_t header_bytes_ = 0;
  H2Request req_;
  std::string body_;
  std::size_t body_off_ = 0;
  std::vector<std::pair<std::string, std::string>> trailers_;  // sent after the body
  std::string error_;
};

}  // namespace mtls_probe::serve_h2
