// ASCII-only case handling for protocol text (header names, host names, schemes): never the locale's.
#pragma once

#include <algorithm>
#include <string_view>

namespace mtls_probe {

constexpr char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

constexpr bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return ascii_lower(x) == ascii_lower(y); });
}

// Whether needle occurs in haystack, ASCII case-insensitively.
inline bool contains_ci(std::string_view haystack, std::string_view needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                     [](char x, char y) { return ascii_lower(x) == ascii_lower(y); }) != haystack.end();
}

}  // namespace mtls_probe
