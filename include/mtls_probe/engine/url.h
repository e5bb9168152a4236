// Parsing of outside input on the command line: the URL, --resolve and -H.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "mtls_probe/engine/options.h"
#include "mtls_probe/base/result.h"

namespace mtls_probe {

struct Url {
  std::string host;  // lower-cased name, or the IPv6 literal without brackets, or IPv4 literal
  uint16_t port = 443;
  std::string target = "/";  // path + "?query", never empty, no fragment; sent as the request target
  bool host_is_ip = false;   // IPv4 or IPv6 literal: no SNI, IP name check
  bool host_is_ipv6 = false;
  std::string authority() const;  // Host header value: "host", "host:8443", "[::1]:8443"
};

// Only https:// is probed (scheme case-insensitive); userinfo is refused; port 1-65535; default 443.
Expected<Url> parse_url(const std::string& text);

// The URL as it may be shown (report, JSON, logs): the userinfo of "scheme://user:password@host" becomes
// "***". A URL that parses has no userinfo and comes back as it is; one that does not parse is redacted
// textually (up to the '@' before the host, or the last '@' when the authority is mangled), so a
// password is never shown even in a malformed URL.
std::string redact_url(std::string_view url);

// The same for free text that may contain URLs (an error message, a request line): every
// "scheme://...@" inside a whitespace- or quote-delimited word is redacted.
std::string redact_urls_in_text(std::string_view text);

// --resolve HOST:PORT:ADDR[,ADDR...] as curl (ADDR may be [v6]); refuses a bad port or address.
Expected<ResolveOverride> parse_resolve(const std::string& text);

// -H 'Name: value': a valid token name, no CR/LF anywhere. Returns {name, value} with value trimmed.
Expected<std::pair<std::string, std::string>> parse_header_option(const std::string& text);

// RFC 7230 token (1*tchar): header names and request methods (-X).
bool is_http_token(std::string_view text);

}  // namespace mtls_probe
