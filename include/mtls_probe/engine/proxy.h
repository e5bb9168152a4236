// Which proxy a probe goes through, decided as curl decides it: the proxy URL's syntax, the environment
// variables and their precedence, and the no-proxy list. Pure functions over strings (the environment is a
// lookup the caller passes in), so every rule is unit-tested without a process environment or a socket.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "mtls_probe/base/result.h"

namespace mtls_probe {

// A parsed proxy URL: [http://|https://][user[:password]@]host[:port][/]. The credentials are
// percent-decoded (as curl: "%40" is '@', "%3a" is ':'); the password is a secret and is never part of
// display().
struct ProxySpec {
  enum class Scheme { http, https };
  Scheme scheme = Scheme::http;
  std::string host;  // lower-cased name, or the IPv6 literal without brackets, or an IPv4 literal
  bool host_is_ipv6 = false;
  std::uint16_t port = 1080;  // curl's defaults: 1080 for http://, 443 for https://
  std::optional<std::string> user;
  std::optional<std::string> password;

  // "http://proxy.corp:3128": scheme, host and port; never credentials.
  std::string display() const;
  // "proxy.corp:3128" / "[::1]:3128": what a connect log line names.
  std::string authority() const;
};

// Refuses: an empty host, a scheme other than http/https (socks*: "not supported"), a bad port, a path
// other than "/", a query or fragment, and any byte below 0x21. The error message never repeats a
// password that was in the text.
Expected<ProxySpec> parse_proxy_url(std::string_view text);

// curl's no-proxy match: `list` is comma- (and blank-) separated; "*" alone matches every host; a name
// entry matches the host itself or any name below it ("example.com" and ".example.com" both match
// "example.com" and "www.example.com", never "notexample.com"), case-insensitively, trailing dots
// ignored; an IP entry (IPv6 without brackets) matches the same address, or with "/bits" its CIDR range.
// Names never match IP addresses and back: "localhost" does not cover 127.0.0.1.
bool no_proxy_matches(std::string_view host, std::string_view list);

// Reads one environment variable; nullopt when unset. (An empty value counts as unset: curl ignores it
// too.)
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;

// What the command line said about proxies. nullopt: not given. An empty --proxy ("") turns proxies off
// and stops the environment from being read, as in curl; an empty --noproxy ("") proxies every host even
// when no_proxy is set.
struct ProxyRequest {
  std::optional<std::string> proxy;     // -x / --proxy
  std::optional<std::string> no_proxy;  // --noproxy
};

// The decision, with where each part came from, so -v and the report can say why a proxy was (not) used.
struct ProxyDecision {
  std::optional<ProxySpec> proxy;  // nullopt: connect directly
  std::string source;              // "--proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", ""
  bool bypassed = false;           // a proxy was configured, but the host is in the no-proxy list
  std::string bypass_source;       // "--noproxy", "no_proxy", "NO_PROXY" when bypassed
};

// curl's order for an https:// URL: the no-proxy list first (--noproxy, else no_proxy, else NO_PROXY);
// then --proxy; then https_proxy, HTTPS_PROXY, all_proxy, ALL_PROXY. An unparsable proxy URL is an error
// naming its source (a usage error, as curl's exit 5).
Expected<ProxyDecision> decide_proxy(const ProxyRequest& request, std::string_view host,
                                     const EnvLookup& env);

// The process environment as an EnvLookup (getenv; empty values are unset).
EnvLookup process_environment();

}  // namespace mtls_probe
