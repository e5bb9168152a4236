// Laying out terminal text: colours, display width, word wrap. Shared by the probe report and inspect.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace mtls_probe::text {

inline constexpr std::string_view kGreen = "\x1b[32m";
inline constexpr std::string_view kRed = "\x1b[31m";
inline constexpr std::string_view kYellow = "\x1b[33m";
inline constexpr std::string_view kBold = "\x1b[1m";
inline constexpr std::string_view kReset = "\x1b[0m";

// Display width in code points of valid UTF-8 (wide CJK glyphs are not special-cased). Our own colour
// sequences take no room; escaped network text never contains ESC.
std::size_t display_width(std::string_view s);

// Greedy word wrap at spaces: the first line at most first_width wide, the others rest_width; spacing inside
// a line is kept, a word longer than the line (a fingerprint) stays whole. Never returns no line.
std::vector<std::string> wrap(std::string_view text, std::size_t first_width, std::size_t rest_width);

}  // namespace mtls_probe::text
