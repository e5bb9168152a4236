// parse_url on arbitrary bytes. Invariants for an accepted URL: the Host header value (authority()) and
// the request target carry no CR/LF/space/control byte, the port is 1-65535, the target starts with '/',
// and the URL made of authority()+target parses back to the same host (zone id aside), port and target.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/engine/url.h"

using namespace mtls_probe;
using mtls_probe_fuzz::printable_no_space;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto url = parse_url(text);
  if (!url) {
    FUZZ_CHECK(!url.error().message.empty());
    return 0;
  }
  const Url& u = *url;
  FUZZ_CHECK(u.port > 0);
  FUZZ_CHECK(!u.host.empty());
  FUZZ_CHECK(!u.target.empty() && u.target.front() == '/');
  FUZZ_CHECK(printable_no_space(u.target));
  FUZZ_CHECK(u.target.find('#') == std::string::npos);
  for (char c : u.target) FUZZ_CHECK(static_cast<unsigned char>(c) < 0x80);
  const std::string authority = u.authority();
  FUZZ_CHECK(printable_no_space(authority));
  FUZZ_CHECK(u.host_is_ip || !u.host_is_ipv6);
  if (!u.host_is_ipv6) FUZZ_CHECK(printable_no_space(u.host));

  // What build_request sends must be exactly this target and authority (no fallback to "/").
  HttpOptions opts;
  std::string request = build_request(opts, authority, u.target);
  FUZZ_CHECK(request.rfind("GET " + u.target + " HTTP/1.1\r\nHost: " + authority + "\r\n", 0) == 0);

  // Round trip through the Host header form. Percent-encoding non-ASCII bytes may grow the target past
  // parse_url's 8 KiB limit for URLs: then the rebuilt URL is (rightly) refused as too long.
  const std::string rebuilt = "https://" + authority + u.target;
  auto again = parse_url(rebuilt);
  if (rebuilt.size() > 8 * 1024) {
    FUZZ_CHECK(!again.has_value());
    return 0;
  }
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->port == u.port);
  FUZZ_CHECK(again->target == u.target);
  FUZZ_CHECK(again->host == u.host.substr(0, u.host.find('%')));
  FUZZ_CHECK(again->host_is_ip == u.host_is_ip);
  FUZZ_CHECK(again->host_is_ipv6 == u.host_is_ipv6);
  FUZZ_CHECK(again->authority() == authority);
  return 0;
}
