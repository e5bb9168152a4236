// Parsing of outside input on the command line: the URL, --resolve and -H.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/options.h"

namespace mtls_probe {

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

// "host", "host:port", "[v6]:port" (as in a URL's authority, no userinfo): the same host rules as
// parse_url (lower-cased, punycode only, dotted-quad IPv4). `what` names the input in messages.
struct HostPort {
  std::string host;  // IPv6 without brackets
  bool is_ip = false;
  bool is_ipv6 = false;
  std::optional<uint16_t> port;  // nullopt: none given (or "host:")
};
Expected<HostPort> parse_host_port(std::string_view authority, std::string_view what);

// --resolve HOST:PORT:ADDR[,ADDR...] as curl (ADDR may be [v6]); refuses a bad port or address.
Expected<ResolveOverride> parse_resolve(const std::string& text);

// --connect-to HOST1:PORT1:HOST2:PORT2 as curl: any part may be empty ("::h2:" is valid), an IPv6 host in
// brackets. Refuses a bad host or port, or a wrong number of parts.
Expected<ConnectToRule> parse_connect_to(const std::string& text);

// Where a connection for host:port goes under the first matching rule (nullopt: none matches).
std::optional<std::pair<std::string, uint16_t>> apply_connect_to(const std::vector<ConnectToRule>& rules,
                                                                 const std::string& host, uint16_t port);

// -H 'Name: value': a valid token name, no CR/LF anywhere. Returns {name, value} with value trimmed.
Expected<std::pair<std::string, std::string>> parse_header_option(const std::string& text);
// The same as the request header to send: "Name:" (empty after a colon) removes a default header.
Expected<RequestHeader> parse_request_header(const std::string& text);

// RFC 7230 token (1*tchar): header names and request methods (-X).
bool is_http_token(std::string_view text);

}  // namespace mtls_probe
