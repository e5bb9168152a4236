#include "mtls_probe/text_layout.h"

namespace mtls_probe::text {

std::size_t display_width(std::string_view s) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\x1b') {
      while (i < s.size() && s[i] != 'm') ++i;
      continue;
    }
    n += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
  }
  return n;
}

std::vector<std::string> wrap(std::string_view text, std::size_t first_width, std::size_t rest_width) {
  std::vector<std::string> lines;
  std::string line;
  std::size_t limit = first_width;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t word_start = text.find_first_not_of(' ', pos);
    if (word_start == std::string_view::npos) break;
    const std::string_view gap = text.substr(pos, word_start - pos);
    std::size_t end = text.find(' ', word_start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view word = text.substr(word_start, end - word_start);
    pos = end;
    if (!line.empty() && display_width(line) + display_width(gap) + display_width(word) > limit) {
      lines.push_back(std::move(line));
      line.clear();
      limit = rest_width;
    }
    if (!line.empty()) line += gap;
    line += word;
  }
  if (!line.empty() || lines.empty()) lines.push_back(std::move(line));
  return lines;
}

}  // namespace mtls_probe::text
