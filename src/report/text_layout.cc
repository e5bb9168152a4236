#include "mtls_probe/report/text_layout.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

namespace mtls_probe::text {

namespace {

std::optional<std::size_t> positive_number(const char* s) {
  if (s == nullptr || *s == '\0') return std::nullopt;
  std::size_t n = 0;
  const char* end = s + std::strlen(s);
  const auto [p, ec] = std::from_chars(s, end, n);
  if (ec != std::errc() || p != end || n == 0) return std::nullopt;
  return n;
}

void restore_spaces(std::string& line) {
  std::replace(line.begin(), line.end(), kNoBreakSpace, ' ');
}

}  // namespace

std::size_t choose_width(const char* columns_env, std::optional<std::size_t> tty_columns, bool is_tty) {
  std::size_t width = kDefaultWidth;
  if (auto columns = positive_number(columns_env)) {
    width = *columns;
  } else if (is_tty && tty_columns && *tty_columns > 0) {
    width = *tty_columns;
  }
  if (!is_tty) width = std::min(width, kDefaultWidth);
  return std::max(width, kMinWidth);
}

std::size_t output_width(int fd) {
  const bool tty = ::isatty(fd) == 1;
  std::optional<std::size_t> columns;
  winsize ws{};
  if (tty && ::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) columns = ws.ws_col;
  return choose_width(std::getenv("COLUMNS"), columns, tty);
}

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

std::string no_break(std::string_view s) {
  std::string out(s);
  std::replace(out.begin(), out.end(), ' ', kNoBreakSpace);
  return out;
}

std::string keep_together(std::string_view text, const std::vector<std::string>& phrases) {
  std::string out(text);
  for (const auto& phrase : phrases) {
    if (phrase.find(' ') == std::string::npos) continue;  // one word already
    const std::string glued = no_break(phrase);
    for (std::size_t at = out.find(phrase); at != std::string::npos;
         at = out.find(phrase, at + glued.size())) {
      out.replace(at, phrase.size(), glued);
    }
  }
  return out;
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
  for (auto& l : lines) restore_spaces(l);
  return lines;
}

std::size_t room(std::size_t total, std::size_t used) {
  return total > used + 10 ? total - used : 10;
}

std::string indent_wrapped(std::string_view text, std::string_view first_prefix, std::size_t indent,
                           std::size_t line_width) {
  const std::vector<std::string> lines =
      wrap(text, room(line_width, display_width(first_prefix)), room(line_width, indent));
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += i == 0 ? std::string(first_prefix) : std::string(indent, ' ');
    out += lines[i];
    out += '\n';
  }
  return out;
}

}  // namespace mtls_probe::text
