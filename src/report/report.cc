// String hygiene shared by the printers: everything from the network is untrusted bytes.
#include "mtls_probe/report/report.h"

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace mtls_probe {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

struct Decoded {
  char32_t cp = 0;
  std::size_t len = 1;  // bytes consumed (the maximal subpart when invalid)
  bool valid = false;
};

// Decodes one UTF-8 sequence at s[i] following RFC 3629 (no overlongs, no surrogates, <= U+10FFFF).
Decoded decode_one(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  if (b0 < 0x80) return {b0, 1, true};
  std::size_t need = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  char32_t cp = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1;
    cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2;
    cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no UTF-16 surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3;
    cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;  // <= U+10FFFF
  } else {
    return {0, 1, false};
  }
  std::size_t len = 1;
  for (std::size_t k = 0; k < need; ++k) {
    if (i + len >= s.size()) return {0, len, false};
    const auto b = static_cast<unsigned char>(s[i + len]);
    const unsigned char min = k == 0 ? lo : 0x80;
    const unsigned char max = k == 0 ? hi : 0xBF;
    if (b < min || b > max) return {0, len, false};
    cp = (cp << 6) | (b & 0x3F);
    ++len;
  }
  return {cp, len, true};
}

bool is_bidi_control(char32_t cp) {
  return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E || cp == 0x200F ||
         cp == 0x061C;
}

}  // namespace

std::string sanitize_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const Decoded d = decode_one(s, i);
    if (d.valid) {
      out.append(s.substr(i, d.len));
    } else {
      out.append(kReplacement);
    }
    i += d.len;
  }
  return out;
}

std::string escape_terminal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const Decoded d = decode_one(s, i);
    if (!d.valid) {
      out.append(kReplacement);
    } else if (d.cp == '\t') {
      out.append("\\t");
    } else if (d.cp == '\n') {
      out.append("\\n");
    } else if (d.cp == '\r') {
      out.append("\\r");
    } else if (d.cp < 0x20 || d.cp == 0x7F) {
      out.append(fmt::format("\\x{:02x}", static_cast<unsigned>(d.cp)));
    } else if ((d.cp >= 0x80 && d.cp <= 0x9F) || is_bidi_control(d.cp)) {
      out.append(fmt::format("\\u{{{:04x}}}", static_cast<unsigned>(d.cp)));
    } else {
      out.append(s.substr(i, d.len));
    }
    i += d.len;
  }
  return out;
}

}  // namespace mtls_probe
