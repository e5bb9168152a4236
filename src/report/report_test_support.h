// What the printers' tests share. Only tests include this.
#pragma once

#include <string>
#include <vector>

namespace mtls_probe {

// The lines of a printed text, without their newlines.
inline std::vector<std::string> lines_of(const std::string& t) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < t.size()) {
    const std::size_t end = t.find('\n', start);
    out.push_back(t.substr(start, end - start));
    start = end == std::string::npos ? t.size() : end + 1;
  }
  return out;
}

}  // namespace mtls_probe
