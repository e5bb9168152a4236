// Shared helpers for the libFuzzer targets: an invariant check that crashes loudly (so libFuzzer keeps the
// input as a crash artifact) with a message saying which invariant broke.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(cond)                                                                     \
  do {                                                                                       \
    if (!(cond)) {                                                                           \
      std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                          \
    }                                                                                        \
  } while (0)

namespace mtls_probe_fuzz {

inline bool has_byte(std::string_view s, char c) {
  return s.find(c) != std::string_view::npos;
}

// No CR, LF, NUL, space or other C0 control / DEL: what may go on an HTTP request line unescaped.
inline bool printable_no_space(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace mtls_probe_fuzz
