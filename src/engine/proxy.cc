// Which proxy a probe goes through: curl's rules (lib/proxy.c) for the proxy URL, the environment and the
// no-proxy list, so a probe takes the same path as the curl command it stands in for.
#include "mtls_probe/engine/proxy.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>

#include "mtls_probe/base/ascii.h"
#include <array>
#include <cstdlib>
#include <cstring>

#include "mtls_probe/engine/url.h"

namespace mtls_probe {
namespace {

// RFC 3986 percent-decoding of userinfo; a stray '%' stays as it is (curl does the same).
std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

// The scheme of "scheme://rest", lower-cased, or "" when the text has none.
std::string scheme_of(std::string_view text) {
  const std::size_t sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0) return "";
  std::string scheme(text.substr(0, sep));
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), ascii_lower);
  return scheme;
}

enum class AddressKind { name, ipv4, ipv6 };

AddressKind address_kind(const std::string& host) {
  std::array<unsigned char, 16> buf{};
  if (inet_pton(AF_INET, host.c_str(), buf.data()) == 1) return AddressKind::ipv4;
  if (inet_pton(AF_INET6, host.c_str(), buf.data()) == 1) return AddressKind::ipv6;
  return AddressKind::name;
}

// "example.com" / ".example.com" (trailing dot ignored) against a host name (trailing dot removed).
bool name_entry_matches(std::string_view entry, std::string_view name) {
  if (!entry.empty() && entry.back() == '.') entry.remove_suffix(1);
  if (!entry.empty() && entry.front() == '.') entry.remove_prefix(1);
  if (entry.empty()) return false;
  if (entry.size() == name.size()) return iequals(entry, name);
  if (entry.size() > name.size()) return false;
  const std::size_t at = name.size() - entry.size();
  return name[at - 1] == '.' && iequals(entry, name.substr(at));
}

// "10.0.0.0/8", "::1", "fd00::/8" against an address of the same family.
bool ip_entry_matches(std::string_view entry, const std::string& host, AddressKind kind) {
  std::string network(entry);
  unsigned bits = kind == AddressKind::ipv4 ? 32 : 128;
  if (const auto slash = network.find('/'); slash != std::string::npos) {
    const std::string digits = network.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    bits = static_cast<unsigned>(std::stoul(digits));
    network.resize(slash);
  }
  const int family = kind == AddressKind::ipv4 ? AF_INET : AF_INET6;
  const unsigned width = kind == AddressKind::ipv4 ? 32 : 128;
  if (bits > width) return false;
  std::array<unsigned char, 16> a{};
  std::array<unsigned char, 16> n{};
  if (inet_pton(family, host.c_str(), a.data()) != 1 || inet_pton(family, network.c_str(), n.data()) != 1)
    return false;
  const unsigned whole = bits / 8;
  const unsigned rest = bits % 8;
  if (std::memcmp(a.data(), n.data(), whole) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<unsigned char>(0xff << (8 - rest));
  return ((a[whole] ^ n[whole]) & mask) == 0;
}

}  // namespace

std::string ProxySpec::authority() const {
  const std::string h = host_is_ipv6 ? "[" + host + "]" : host;
  return h + ":" + std::to_string(port);
}

std::string ProxySpec::display() const {
  return std::string(scheme == Scheme::https ? "https://" : "http://") + authority();
}

Expected<ProxySpec> parse_proxy_url(std::string_view text) {
  if (text.size() > 2048) return fail("the proxy URL is too long (at most 2048 bytes)");
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return fail("the proxy URL contains a space or a control character");
  }
  ProxySpec spec;
  std::string_view rest = text;
  const std::string scheme = scheme_of(text);
  if (!scheme.empty()) {
    if (scheme == "https") {
      spec.scheme = ProxySpec::Scheme::https;
      spec.port = 443;
    } else if (scheme.rfind("socks", 0) == 0) {
      return fail(fmt::format("{}:// proxies are not supported: use an http:// or https:// proxy", scheme));
    } else if (scheme != "http") {
      return fail(
          fmt::format("unsupported proxy scheme '{}://': use http:// or https://", scheme.substr(0, 16)));
    }
    rest.remove_prefix(scheme.size() + 3);
  }
  // Userinfo ends at the last '@' before the path: a password may itself contain '@' unencoded.
  const std::size_t path_at = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_at);
  const std::string_view tail = path_at == std::string_view::npos ? "" : rest.substr(path_at);
  // "user:pa/ss@host": a '/', '?' or '#' in the password ends the authority early; say so without
  // quoting any of it.
  if (tail.find('@') != std::string_view::npos)
    return fail("the proxy URL's credentials contain '/', '?' or '#': percent-encode them (%2F, %3F, %23)");
  if (!tail.empty() && tail != "/")
    return fail("the proxy URL must not have a path, query or fragment (write [http://]HOST:PORT)");
  if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = authority.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    spec.user = percent_decode(userinfo.substr(0, colon));
    if (colon != std::string_view::npos) spec.password = percent_decode(userinfo.substr(colon + 1));
    authority.remove_prefix(at + 1);
  }
  if (authority.empty()) return fail("the proxy URL has no host (write [http://]HOST:PORT)");
  auto hp = parse_host_port(authority, "the proxy URL");
  if (!hp) return Unexpected{hp.error()};
  spec.host = std::move(hp->host);
  spec.host_is_ipv6 = hp->is_ipv6;
  if (hp->port) spec.port = *hp->port;
  return spec;
}

bool no_proxy_matches(std::string_view host, std::string_view list) {
  if (host.empty() || list.empty()) return false;
  if (list == "*") return true;
  std::string name(host);
  const AddressKind kind = address_kind(name);
  if (kind == AddressKind::name && name.size() > 1 && name.back() == '.') name.pop_back();
  std::size_t i = 0;
  while (i < list.size()) {
    while (i < list.size() && (is_blank(list[i]) || list[i] == ',')) ++i;
    const std::size_t start = i;
    while (i < list.size() && !is_blank(list[i]) && list[i] != ',') ++i;
    const std::string_view entry = list.substr(start, i - start);
    if (entry.empty()) continue;
    const bool match =
        kind == AddressKind::name ? name_entry_matches(entry, name) : ip_entry_matches(entry, name, kind);
    if (match) return true;
  }
  return false;
}

Expected<ProxyDecision> decide_proxy(const ProxyRequest& request, std::string_view host,
                                     const EnvLookup& env) {
  ProxyDecision decision;
  std::optional<std::string> list = request.no_proxy;
  std::string list_source = "--noproxy";
  for (const char* name : {"no_proxy", "NO_PROXY"}) {
    if (list) break;
    list = env(name);
    list_source = name;
  }
  std::optional<std::string> text;
  if (request.proxy) {
    if (request.proxy->empty()) return decision;  // -x "": no proxy, and the environment is not read
    text = request.proxy;
    decision.source = "--proxy";
  } else {
    for (const char* name : {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"}) {
      if (auto value = env(name); value && !value->empty()) {
        text = std::move(value);
        decision.source = name;
        break;
      }
    }
  }
  if (!text) return decision;
  if (list && no_proxy_matches(host, *list)) {
    decision.bypassed = true;
    decision.bypass_source = list_source;
    return decision;
  }
  auto spec = parse_proxy_url(*text);
  if (!spec) return fail(fmt::format("{}: {}", decision.source, spec.error().message));
  decision.proxy = std::move(*spec);
  return decision;
}

EnvLookup process_environment() {
  return [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read once, before any thread
    if (value == nullptr || *value == '\0') return std::nullopt;
    return std::string(value);
  };
}

}  // namespace mtls_probe
