#include "mtls_probe/identity/pkcs11_uri.h"

#include "mtls_probe/base/ascii.h"

namespace mtls_probe {
namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t at = s.find(sep);
    out.push_back(s.substr(0, at));
    if (at == std::string_view::npos) return out;
    s.remove_prefix(at + 1);
  }
}

// RFC 3986 percent-decoding; nullopt on a broken escape.
std::optional<std::string> pct_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    const int hi = hex_value(s[i + 1]);
    const int lo = hex_value(s[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool starts_with_scheme(std::string_view text) {
  constexpr std::string_view kScheme = "pkcs11:";
  if (text.size() < kScheme.size()) return false;
  return ascii_lowered(text.substr(0, kScheme.size())) == kScheme;
}

}  // namespace

bool is_pkcs11_uri(std::string_view text) {
  return starts_with_scheme(text);
}

Expected<Pkcs11Uri, std::string> parse_pkcs11_uri(std::string_view text) {
  if (!starts_with_scheme(text))
    return Unexpected{std::string("not a PKCS#11 URI (it must begin with pkcs11:)")};
  text.remove_prefix(7);
  const size_t q = text.find('?');
  const std::string_view path = text.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view{} : text.substr(q + 1);
  Pkcs11Uri uri;
  auto assign = [&](std::string_view name, std::string_view raw,
                    bool in_query) -> std::optional<std::string> {
    if (name == "pin-value") {  // checked before decoding: its value is never quoted back
      uri.has_pin_value = true;
      return std::nullopt;
    }
    auto value = pct_decode(raw);
    if (!value) return "bad percent-encoding in the PKCS#11 URI attribute '" + std::string(name) + "'";
    std::optional<std::string>* slot = nullptr;
    if (!in_query) {
      if (name == "token")
        slot = &uri.token;
      else if (name == "manufacturer")
        slot = &uri.manufacturer;
      else if (name == "serial")
        slot = &uri.serial;
      else if (name == "model")
        slot = &uri.model;
      else if (name == "slot-id")
        slot = &uri.slot_id;
      else if (name == "object")
        slot = &uri.object;
      else if (name == "id")
        slot = &uri.id;
      else if (name == "type")
        slot = &uri.type;
    } else {
      if (name == "module-path")
        slot = &uri.module_path;
      else if (name == "module-name")
        slot = &uri.module_name;
      else if (name == "pin-source")
        slot = &uri.pin_source;
    }
    if (slot == nullptr) {
      uri.ignored.emplace_back(name);
      return std::nullopt;
    }
    if (slot->has_value()) return "the PKCS#11 URI gives '" + std::string(name) + "' twice";
    *slot = std::move(*value);
    return std::nullopt;
  };
  auto parse_part = [&](std::string_view part, char sep, bool in_query) -> std::optional<std::string> {
    if (part.empty()) return std::nullopt;
    for (std::string_view attr : split(part, sep)) {
      if (attr.empty()) continue;
      const size_t eq = attr.find('=');
      if (eq == std::string_view::npos || eq == 0)
        return "malformed PKCS#11 URI attribute '" + std::string(attr.substr(0, eq)) + "' (want name=value)";
      if (auto err = assign(attr.substr(0, eq), attr.substr(eq + 1), in_query)) return err;
    }
    return std::nullopt;
  };
  if (auto err = parse_part(path, ';', false)) return Unexpected{std::move(*err)};
  if (auto err = parse_part(query, '&', true)) return Unexpected{std::move(*err)};
  if (uri.type && *uri.type != "cert" && *uri.type != "private" && *uri.type != "public" &&
      *uri.type != "secret-key" && *uri.type != "data")
    return Unexpected{"unknown PKCS#11 URI type '" + *uri.type +
                      "' (cert, private, public, secret-key, data)"};
  if (uri.slot_id &&
      (uri.slot_id->empty() || uri.slot_id->find_first_not_of("0123456789") != std::string::npos))
    return Unexpected{std::string("the PKCS#11 URI's slot-id must be a decimal number")};
  return uri;
}

std::string redact_pkcs11_uri(std::string_view text) {
  const size_t q = text.find('?');
  if (q == std::string_view::npos) return std::string(text);
  std::string out(text.substr(0, q));
  std::string kept;
  for (std::string_view attr : split(text.substr(q + 1), '&')) {
    if (attr.empty() || attr.substr(0, attr.find('=')) == "pin-value") continue;
    kept += (kept.empty() ? "" : "&") + std::string(attr);
  }
  return kept.empty() ? out : out + "?" + kept;
}

std::string pkcs11_uri_with_type(std::string_view text, std::string_view type) {
  std::string_view path = text.substr(0, text.find('?'));
  path.remove_prefix(std::min<size_t>(7, path.size()));
  std::string out = "pkcs11:";
  for (std::string_view attr : split(path, ';')) {
    if (attr.empty() || attr.substr(0, attr.find('=')) == "type") continue;
    out += std::string(attr) + ";";
  }
  return out + "type=" + std::string(type);
}

std::string pkcs11_id_hex(std::string_view id) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : id) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

}  // namespace mtls_probe
