// The HTTP CONNECT tunnel through a proxy: the request we send and a bounded reader of the proxy's answer.
// Pure byte handling, so the engine's tunnel phase and its tests share it and the tests need no proxy.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtls_probe/engine/http.h"

namespace mtls_probe {

// Proxy credentials for Basic authentication (--proxy-user, or the proxy URL's userinfo). The password is
// a secret: it only ever goes into the Proxy-Authorization header.
struct ProxyCredentials {
  std::string user;
  std::string password;
};

// "CONNECT host:port HTTP/1.1\r\nHost: host:port\r\nUser-Agent: mtls-probe/V\r\n
//  Proxy-Connection: Keep-Alive\r\n[Proxy-Authorization: Basic ...\r\n]\r\n". `authority` is the origin's
// "host:port" ("[v6]:port" for IPv6); the port is always written, as curl does.
std::string build_connect_request(std::string_view authority, const std::optional<ProxyCredentials>& creds);

// Reads the proxy's answer to CONNECT up to the end of its head (status line and headers, at most
// limits.max_header_bytes / max_headers). Bytes after the head are not the proxy's: on a 2xx they belong to
// the tunnel, so feed() says how many it consumed; on anything else the head is what matters and the rest
// (a 407 page) is ignored.
class ConnectResponseReader {
 public:
  enum class State { need_more, complete, error };
  explicit ConnectResponseReader(HttpLimits limits = {});

  // Consumes bytes up to the end of the head; `consumed` says how many of `bytes` were taken.
  State feed(std::string_view bytes, std::size_t& consumed);
  // The proxy closed before the head was complete.
  State finish();

  State state() const { return state_; }
  bool any_bytes() const { return seen_ > 0; }
  std::optional<int> status() const { return parser_.status(); }
  const std::string& reason() const { return parser_.reason(); }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return parser_.headers(); }
  const std::string& error() const { return error_; }

 private:
  HttpLimits limits_;
  HttpResponseParser parser_;
  State state_ = State::need_more;
  std::size_t seen_ = 0;
  int line_end_ = 0;  // how much of "\r\n\r\n" (or "\n\n") the last bytes matched
  std::string error_;
};

// The authentication schemes of every `header` (Proxy-Authenticate; WWW-Authenticate for a proxy that answers
// 401, as tinyproxy does for wrong credentials), in order, without duplicates ("Basic", "Negotiate", "NTLM",
// "Digest"), for the hint. Parameters (realm=...) are dropped.
std::vector<std::string> proxy_auth_schemes(const std::vector<std::pair<std::string, std::string>>& headers,
                                            std::string_view header = "proxy-authenticate");

}  // namespace mtls_probe
