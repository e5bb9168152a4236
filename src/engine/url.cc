// Parsing of outside input on the command line: the URL, --resolve and -H.
//
// Everything here is strict on purpose: a probe must send exactly what the user meant, and a typo has to
// surface as a usage error before any connection is opened. Messages never echo URL credentials.
#include "mtls_probe/base/ascii.h"
#include "mtls_probe/engine/url.h"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string_view>

namespace mtls_probe {
namespace {

constexpr std::size_t kMaxUrlLength = 8 * 1024;
constexpr std::size_t kMaxHostLength = 253;  // DNS name, without a trailing dot
constexpr std::size_t kMaxLabelLength = 63;

bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_ctl_or_space(unsigned char c) {
  return c <= 0x20 || c == 0x7f;
}

// A short, printable rendering of untrusted text for an error message.
std::string quote(std::string_view s, std::size_t max = 64) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < max; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '\\' || c == '\'') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

std::string describe_char(unsigned char c) {
  if (c == ' ') return "a space";
  if (c == '\t') return "a tab";
  if (c == '\r' || c == '\n') return "a line break";
  if (c < 0x20 || c == 0x7f) return fmt::format("control character 0x{:02x}", c);
  if (c >= 0x80) return fmt::format("non-ASCII byte 0x{:02x}", c);
  return fmt::format("'{}'", static_cast<char>(c));
}

bool is_ipv4_literal(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool is_ipv6_literal(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

// Port: digits only, 1-65535. Empty text is the caller's business.
Expected<uint16_t> parse_port(std::string_view text, std::string_view what) {
  if (text.empty()) return fail(fmt::format("empty port in {}", what));
  unsigned long value = 0;
  for (char c : text) {
    if (!is_digit(c))
      return fail(fmt::format("invalid port '{}' in {}: digits only (1-65535)", quote(text), what));
    value = value * 10 + static_cast<unsigned long>(c - '0');
    if (value > 65535) break;
  }
  if (value == 0 || value > 65535) {
    return fail(fmt::format("port {} out of range in {}: use 1-65535", quote(text, 16), what));
  }
  return static_cast<uint16_t>(value);
}

struct Host {
  std::string name;  // lower-cased; IPv6 without brackets (with "%zone" when given)
  bool is_ip = false;
  bool is_ipv6 = false;
};

// An IPv6 literal as written between brackets, with an optional RFC 6874 zone ("%25eth0"; a bare
// "%eth0" is accepted as curl does).
Expected<Host> parse_ipv6_literal(std::string_view inside, std::string_view what) {
  std::string_view addr = inside;
  std::string zone;
  if (auto pct = inside.find('%'); pct != std::string_view::npos) {
    addr = inside.substr(0, pct);
    std::string_view z = inside.substr(pct + 1);
    if (z.substr(0, 2) == "25") z.remove_prefix(2);  // RFC 6874 "%25"
    if (z.empty()) return fail(fmt::format("empty IPv6 zone id in {}", what));
    for (char c : z) {
      if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' || c == '~')) {
        return fail(fmt::format("invalid IPv6 zone id '{}' in {}", quote(z), what));
      }
    }
    zone = std::string(z);
  }
  std::string a = ascii_lowered(addr);
  if (a.empty() || !is_ipv6_literal(a)) {
    return fail(fmt::format("invalid IPv6 address '[{}]' in {}", quote(inside), what));
  }
  Host h;
  h.name = zone.empty() ? a : a + "%" + zone;
  h.is_ip = true;
  h.is_ipv6 = true;
  return h;
}

// A host name or IPv4 literal (no brackets). Lower-cases; letters, digits, '-', '.', '_'; a trailing dot
// is fine. A name that looks numeric must be a valid dotted-quad IPv4 address (no "127.1", "0x7f.1").
Expected<Host> parse_host_name(std::string_view text, std::string_view what) {
  if (text.empty()) return fail(fmt::format("empty host name in {}", what));
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_alpha(ch) || is_digit(ch) || ch == '-' || ch == '.' || ch == '_') continue;
    if (c >= 0x80) {
      return fail(
          fmt::format("host name '{}' in {} is not ASCII: use its punycode (xn--) form", quote(text), what));
    }
    if (ch == ':')
      return fail(fmt::format("an IPv6 address in {} must be in brackets: [{}]", what, quote(text)));
    return fail(
        fmt::format("invalid character {} in host name '{}' in {}", describe_char(c), quote(text), what));
  }
  Host h;
  h.name = ascii_lowered(text);

  std::string_view name = h.name;
  if (name.size() > 1 && name.back() == '.') name.remove_suffix(1);
  if (name == ".") return fail(fmt::format("invalid host name '.' in {}", what));
  if (name.size() > kMaxHostLength) {
    return fail(fmt::format("host name in {} is too long ({} characters, at most {})", what, name.size(),
                            kMaxHostLength));
  }
  // Labels: none empty, none too long.
  std::size_t start = 0;
  std::string_view last_label;
  while (true) {
    std::size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty()) return fail(fmt::format("empty label in host name '{}' in {}", quote(text), what));
    if (label.size() > kMaxLabelLength) {
      return fail(fmt::format("label longer than {} characters in host name in {}", kMaxLabelLength, what));
    }
    last_label = label;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  // Numeric-looking names are IPv4 literals or errors (resolvers would read "127.1" as 127.0.0.1).
  bool numeric_last = std::all_of(last_label.begin(), last_label.end(), is_digit) ||
                      (last_label.size() > 2 && last_label.substr(0, 2) == "0x" &&
                       std::all_of(last_label.begin() + 2, last_label.end(), is_hex));
  if (numeric_last) {
    if (!is_ipv4_literal(h.name)) {
      return fail(
          fmt::format("invalid IPv4 address '{}' in {}: use dotted-quad form a.b.c.d", quote(text), what));
    }
    h.is_ip = true;
  }
  return h;
}

bool is_tchar(char c) {
  if (is_alpha(c) || is_digit(c)) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~': return true;
    default: return false;
  }
}

}  // namespace

bool is_http_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), is_tchar);
}

std::string Url::authority() const {
  std::string out;
  if (host_is_ipv6) {
    // The zone id is local to this machine: it is not sent in Host (as curl and browsers do).
    out = "[" + host.substr(0, host.find('%')) + "]";
  } else {
    out = host;
  }
  if (port != 443) out += ":" + std::to_string(port);
  return out;
}

Expected<HostPort> parse_host_port(std::string_view authority, std::string_view what) {
  if (authority.empty()) return fail(fmt::format("empty host in {}", what));
  HostPort out;
  std::string_view port_text;
  bool has_port = false;
  Host host;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail(fmt::format("unterminated '[' in {}", what));
    auto h = parse_ipv6_literal(authority.substr(1, close - 1), what);
    if (!h) return Unexpected{h.error()};
    host = std::move(*h);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail(fmt::format("unexpected '{}' after the IPv6 address in {}", quote(after, 32), what));
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.find(':');
    if (colon != std::string_view::npos) {
      has_port = true;
      port_text = authority.substr(colon + 1);
      if (port_text.find(':') != std::string_view::npos)
        return fail(fmt::format("an IPv6 address in {} must be in brackets: [{}]", what, quote(authority)));
    }
    auto h = parse_host_name(authority.substr(0, colon), what);
    if (!h) return Unexpected{h.error()};
    host = std::move(*h);
  }
  if (has_port && !port_text.empty()) {
    auto p = parse_port(port_text, what);
    if (!p) return Unexpected{p.error()};
    out.port = *p;
  }
  out.host = std::move(host.name);
  out.is_ip = host.is_ip;
  out.is_ipv6 = host.is_ipv6;
  return out;
}

Expected<Url> parse_url(const std::string& text) {
  if (text.empty()) return fail("empty URL: give an https:// URL to probe");
  if (text.size() > kMaxUrlLength) {
    return fail(fmt::format("URL is too long ({} bytes, at most {})", text.size(), kMaxUrlLength));
  }
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_ctl_or_space(c)) {
      return fail(fmt::format("URL contains {}: encode it (%20 for a space) or quote the argument properly",
                              describe_char(c)));
    }
  }

  // Scheme.
  std::string_view rest = text;
  std::size_t sep = rest.find("://");
  bool scheme_ok = sep != std::string_view::npos && sep > 0 && is_alpha(rest[0]) &&
                   std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(sep), [](char c) {
                     return is_alpha(c) || is_digit(c) || c == '+' || c == '-' || c == '.';
                   });
  if (!scheme_ok) {
    // "https:/host", "https:host": a scheme with a mangled "//".
    std::string_view head = rest.substr(0, rest.find(':'));
    if (head.size() < rest.size() && (ascii_lowered(head) == "https" || ascii_lowered(head) == "http")) {
      if (ascii_lowered(head) == "http")
        return fail(fmt::format("only https:// URLs are probed (got '{}')", head));
      return fail("malformed URL: the scheme must be followed by '//' (write https://HOST/...)");
    }
    // Any '@' may be the end of a password (one with '/' in it ends the authority early): not echoed.
    if (rest.find('@') == std::string_view::npos && text.size() <= 200) {
      return fail(fmt::format("URL has no scheme: only https:// URLs are probed (did you mean 'https://{}'?)",
                              text.substr(0, 200)));
    }
    return fail("URL has no scheme: only https:// URLs are probed (write https://HOST/...)");
  }
  std::string scheme = ascii_lowered(rest.substr(0, sep));
  if (scheme != "https") {
    return fail(fmt::format("only https:// URLs are probed (got '{}')", quote(rest.substr(0, sep), 32)));
  }
  rest.remove_prefix(sep + 3);

  // Authority, then path / query / fragment.
  std::size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  std::string_view tail = auth_end == std::string_view::npos ? std::string_view{} : rest.substr(auth_end);

  if (authority.find('@') != std::string_view::npos) {
    return fail(
        "credentials in the URL (user@host) are not supported: remove them; authenticate with a client "
        "certificate, or send -H 'Authorization: ...'");
  }
  if (authority.empty()) return fail("URL has an empty host: write https://HOST/...");

  Url url;
  std::string_view port_text;
  bool has_port = false;
  Host host;
  if (authority.front() == '[') {
    std::size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unterminated '[' in the URL's IPv6 address");
    std::string_view inside = authority.substr(1, close - 1);
    if (!inside.empty() && (inside[0] == 'v' || inside[0] == 'V')) {
      return fail("IPvFuture addresses ([v...]) are not supported");
    }
    auto h = parse_ipv6_literal(inside, "the URL");
    if (!h) return Unexpected{h.error()};
    host = std::move(*h);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        return fail(fmt::format("unexpected '{}' after the IPv6 address in the URL", quote(after, 32)));
      }
      has_port = true;
      port_text = after.substr(1);
    }
  } else {
    std::size_t colon = authority.find(':');
    std::string_view name = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      has_port = true;
      // "user:pa/ss@host": a password with '/', '?' or '#' ends the authority early. Its first part would
      // be read as the port: say what it is without quoting any of it.
      if (tail.find('@') != std::string_view::npos &&
          !std::all_of(port_text.begin(), port_text.end(), is_digit)) {
        return fail(
            "credentials in the URL (user:password@host) are not supported: remove them; authenticate "
            "with a client certificate, or send -H 'Authorization: ...'");
      }
      if (port_text.find(':') != std::string_view::npos) {
        return fail(
            fmt::format("an IPv6 address in a URL must be in brackets: https://[{}]/", quote(authority)));
      }
    }
    if (name.empty()) return fail("URL has an empty host: write https://HOST/...");
    auto h = parse_host_name(name, "the URL");
    if (!h) return Unexpected{h.error()};
    host = std::move(*h);
  }
  if (has_port && !port_text.empty()) {  // "host:" means the default port (RFC 3986)
    auto p = parse_port(port_text, "the URL");
    if (!p) return Unexpected{p.error()};
    url.port = *p;
  }
  url.host = std::move(host.name);
  url.host_is_ip = host.is_ip;
  url.host_is_ipv6 = host.is_ipv6;

  // Target: path + query, fragment dropped; bytes outside ASCII are percent-encoded.
  tail = tail.substr(0, tail.find('#'));
  std::string target;
  if (tail.empty() || tail.front() != '/') target = "/";
  for (char ch : tail) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 0x80) {
      target += fmt::format("%{:02X}", c);
    } else {
      target += ch;
    }
  }
  url.target = std::move(target);
  return url;
}

namespace {

// One word that may hold a URL with userinfo: replaces what lies between "://" (or the start) and the '@'
// before the host by "***". When the authority holds no '@' (a password with '/' ends it early), the last
// '@' of the word is taken: more is hidden than needed rather than part of a password shown.
std::string redact_word(std::string_view w) {
  std::size_t start = w.find("://");
  start = start == std::string_view::npos ? 0 : start + 3;
  const std::size_t auth_end = std::min(w.find_first_of("/?#", start), w.size());
  std::size_t at = w.substr(0, auth_end).rfind('@');
  if (at == std::string_view::npos || at < start) at = w.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(w);
  return fmt::format("{}***{}", w.substr(0, start), w.substr(at));
}

bool is_word_end(char c) {
  return is_ctl_or_space(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '`';
}

}  // namespace

std::string redact_url(std::string_view url) {
  if (parse_url(std::string(url))) return std::string(url);  // userinfo is refused: nothing to hide
  return redact_word(url);
}

std::string redact_urls_in_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (is_word_end(text[i])) {
      out += text[i++];
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && !is_word_end(text[end])) ++end;
    std::string_view word = text.substr(i, end - i);
    out += word.find("://") == std::string_view::npos ? std::string(word) : redact_url(word);
    i = end;
  }
  return out;
}

Expected<ResolveOverride> parse_resolve(const std::string& text) {
  constexpr std::string_view what = "--resolve";
  constexpr std::string_view form = "expected --resolve HOST:PORT:ADDRESS[,ADDRESS...]";
  if (text.size() > kMaxUrlLength) return fail("--resolve argument is too long");
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_ctl_or_space(c)) return fail(fmt::format("--resolve argument contains {}", describe_char(c)));
  }
  std::string_view rest = text;
  if (!rest.empty() && rest.front() == '-') {
    return fail("--resolve -HOST:PORT (removing an entry) is not supported: just leave it out");
  }
  if (!rest.empty() && rest.front() == '+') rest.remove_prefix(1);  // curl's "+": entry times out; same here

  ResolveOverride out;
  // HOST
  std::string_view host_text;
  if (!rest.empty() && rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return fail(fmt::format("unterminated '[' in --resolve; {}", form));
    auto h = parse_ipv6_literal(rest.substr(1, close - 1), what);
    if (!h) return Unexpected{h.error()};
    out.host = std::move(h->name);
    rest.remove_prefix(close + 1);
    if (rest.empty() || rest.front() != ':') return fail(fmt::format("missing port in --resolve; {}", form));
    rest.remove_prefix(1);
  } else {
    std::size_t colon = rest.find(':');
    if (colon == std::string_view::npos) return fail(fmt::format("missing port in --resolve; {}", form));
    host_text = rest.substr(0, colon);
    if (host_text.empty()) return fail(fmt::format("empty host in --resolve; {}", form));
    if (host_text == "*") {  // curl's wildcard: any host on that port
      out.host = "*";
    } else {
      auto h = parse_host_name(host_text, what);
      if (!h) return Unexpected{h.error()};
      out.host = std::move(h->name);
    }
    rest.remove_prefix(colon + 1);
  }
  // PORT
  std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return fail(fmt::format("missing address in --resolve; {}", form));
  auto port = parse_port(rest.substr(0, colon), what);
  if (!port) return Unexpected{port.error()};
  out.port = *port;
  rest.remove_prefix(colon + 1);
  // ADDRESS[,ADDRESS...]
  if (rest.empty()) return fail(fmt::format("missing address in --resolve; {}", form));
  while (true) {
    std::size_t comma = rest.find(',');
    std::string_view a = rest.substr(0, comma);
    if (a.empty()) return fail(fmt::format("empty address in --resolve; {}", form));
    std::string addr;
    if (a.front() == '[') {
      if (a.size() < 2 || a.back() != ']')
        return fail(fmt::format("unterminated '[' in --resolve address '{}'", quote(a)));
      addr = ascii_lowered(a.substr(1, a.size() - 2));
      if (!is_ipv6_literal(addr))
        return fail(fmt::format("invalid IPv6 address '{}' in --resolve", quote(a)));
    } else {
      addr = ascii_lowered(a);
      if (!is_ipv4_literal(addr) && !is_ipv6_literal(addr)) {
        return fail(fmt::format("invalid address '{}' in --resolve: give an IPv4 or IPv6 address, not a name",
                                quote(a)));
      }
    }
    if (out.addresses.size() >= 64) return fail("too many addresses in --resolve (at most 64)");
    out.addresses.push_back(std::move(addr));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

namespace {

// One HOST part of --connect-to: "" (any / keep), a name, an IPv4 literal or "[v6]"; the rest after it.
Expected<std::string> connect_to_host(std::string_view& rest) {
  constexpr std::string_view what = "--connect-to";
  std::string_view text;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return fail("unterminated '[' in --connect-to");
    auto h = parse_ipv6_literal(rest.substr(1, close - 1), what);
    if (!h) return Unexpected{h.error()};
    rest.remove_prefix(close + 1);
    return h->name;
  }
  const std::size_t colon = rest.find(':');
  text = rest.substr(0, colon);
  rest.remove_prefix(text.size());
  if (text.empty()) return std::string();
  auto h = parse_host_name(text, what);
  if (!h) return Unexpected{h.error()};
  return h->name;
}

Expected<uint16_t> connect_to_port(std::string_view text) {
  if (text.empty()) return uint16_t{0};
  return parse_port(text, "--connect-to");
}

}  // namespace

Expected<ConnectToRule> parse_connect_to(const std::string& text) {
  constexpr std::string_view form = "expected --connect-to HOST1:PORT1:HOST2:PORT2 (any part may be empty)";
  if (text.size() > kMaxUrlLength) return fail("--connect-to argument is too long");
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_ctl_or_space(c)) return fail(fmt::format("--connect-to argument contains {}", describe_char(c)));
  }
  ConnectToRule rule;
  std::string_view rest = text;
  auto take_colon = [&]() {
    if (rest.empty() || rest.front() != ':') return false;
    rest.remove_prefix(1);
    return true;
  };
  auto host1 = connect_to_host(rest);
  if (!host1) return Unexpected{host1.error()};
  if (!take_colon()) return fail(fmt::format("missing port in --connect-to; {}", form));
  const std::size_t colon = rest.find(':');
  if (colon == std::string_view::npos) return fail(fmt::format("missing HOST2 in --connect-to; {}", form));
  auto port1 = connect_to_port(rest.substr(0, colon));
  if (!port1) return Unexpected{port1.error()};
  rest.remove_prefix(colon + 1);
  auto host2 = connect_to_host(rest);
  if (!host2) return Unexpected{host2.error()};
  if (!take_colon()) return fail(fmt::format("missing PORT2 in --connect-to; {}", form));
  if (rest.find(':') != std::string_view::npos)
    return fail(fmt::format("too many ':' in --connect-to; {}", form));
  auto port2 = connect_to_port(rest);
  if (!port2) return Unexpected{port2.error()};
  rule.host1 = std::move(*host1);
  rule.port1 = *port1;
  rule.host2 = std::move(*host2);
  rule.port2 = *port2;
  return rule;
}

std::optional<std::pair<std::string, uint16_t>> apply_connect_to(const std::vector<ConnectToRule>& rules,
                                                                 const std::string& host, uint16_t port) {
  for (const auto& r : rules) {
    if ((!r.host1.empty() && r.host1 != host) || (r.port1 != 0 && r.port1 != port)) continue;
    return std::pair<std::string, uint16_t>{r.host2.empty() ? host : r.host2, r.port2 == 0 ? port : r.port2};
  }
  return std::nullopt;
}

Expected<std::pair<std::string, std::string>> parse_header_option(const std::string& text) {
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '\r' || c == '\n' || c == '\0') {
      return fail(fmt::format("header '{}' contains {}: refused (it would inject extra header lines)",
                              quote(text), c == '\0' ? std::string("a NUL byte") : describe_char(c)));
    }
  }
  auto is_ows = [](char c) { return c == ' ' || c == '\t'; };
  std::size_t colon = text.find(':');
  std::string_view name;
  std::string_view value;
  if (colon == std::string::npos) {
    // curl's "Name;" form: send the header with an empty value.
    std::string_view t = text;
    while (!t.empty() && is_ows(t.back())) t.remove_suffix(1);
    if (t.empty() || t.back() != ';') {
      return fail(fmt::format("invalid header '{}': expected -H 'Name: value'", quote(text)));
    }
    name = t.substr(0, t.size() - 1);
  } else {
    name = std::string_view(text).substr(0, colon);
    value = std::string_view(text).substr(colon + 1);
  }
  if (name.empty()) return fail(fmt::format("invalid header '{}': empty header name", quote(text)));
  if (!is_http_token(name)) {
    return fail(fmt::format("invalid header name '{}': letters, digits and !#$%&'*+-.^_`|~ only, no spaces",
                            quote(name)));
  }
  while (!value.empty() && is_ows(value.front())) value.remove_prefix(1);
  while (!value.empty() && is_ows(value.back())) value.remove_suffix(1);
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      return fail(fmt::format("header '{}' contains {}: refused", quote(name), describe_char(c)));
    }
  }
  return std::pair<std::string, std::string>{std::string(name), std::string(value)};
}

Expected<RequestHeader> parse_request_header(const std::string& text) {
  auto parsed = parse_header_option(text);
  if (!parsed) return Unexpected{parsed.error()};
  RequestHeader h{std::move(parsed->first), std::move(parsed->second), true};
  // curl: "Name:" removes an internal header and sends nothing; "Name;" sends it with an empty value.
  if (h.value.empty() && text.find(':') != std::string::npos) h.send = false;
  return h;
}

}  // namespace mtls_probe
