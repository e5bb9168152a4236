// Laying out terminal text: colours, display width, word wrap, the width of the terminal. Shared by the
// probe report and inspect.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mtls_probe::text {

inline constexpr std::string_view kGreen = "\x1b[32m";
inline constexpr std::string_view kRed = "\x1b[31m";
inline constexpr std::string_view kYellow = "\x1b[33m";
inline constexpr std::string_view kBold = "\x1b[1m";
inline constexpr std::string_view kReset = "\x1b[0m";

// Report width when stdout is not a terminal (and the most it may be then), and the narrowest we lay out.
inline constexpr std::size_t kDefaultWidth = 80;
inline constexpr std::size_t kMinWidth = 30;

// The width to lay the report out in: COLUMNS when it is a positive number, else the terminal's columns
// (tty_columns, from TIOCGWINSZ; nullopt when unknown), else kDefaultWidth; at most kDefaultWidth when
// stdout is not a terminal, never below kMinWidth.
std::size_t choose_width(const char* columns_env, std::optional<std::size_t> tty_columns, bool is_tty);
// choose_width() for a file descriptor (stdout): reads COLUMNS, isatty() and TIOCGWINSZ.
std::size_t output_width(int fd);

// Display width in code points of valid UTF-8 (wide CJK glyphs are not special-cased). Our own colour
// sequences take no room; escaped network text never contains ESC.
std::size_t display_width(std::string_view s);

// A space that wrap() never breaks at and prints as ' ' (escaped text never contains this control byte).
inline constexpr char kNoBreakSpace = '\x1f';
// s with every space made a kNoBreakSpace: one unbreakable word for wrap() (an RFC 4514 DN, "CN=Test CA").
std::string no_break(std::string_view s);
// text with the spaces inside every occurrence of each phrase (DNs named in a sentence) made unbreakable.
std::string keep_together(std::string_view text, const std::vector<std::string>& phrases);

// Greedy word wrap at spaces: the first line at most first_width wide, the others rest_width; spacing inside
// a line is kept, a word longer than the line (a fingerprint, a long DN) stays whole on a line of its own.
// Never returns no line. kNoBreakSpace comes out as ' '.
std::vector<std::string> wrap(std::string_view text, std::size_t first_width, std::size_t rest_width);

// What is left of total columns after used, never less than a short word's room (narrow terminals).
std::size_t room(std::size_t total, std::size_t used);
// text wrapped to line_width columns: the first line after first_prefix, the others after indent spaces;
// every line ends in '\n'.
std::string indent_wrapped(std::string_view text, std::string_view first_prefix, std::size_t indent,
                           std::size_t line_width);

}  // namespace mtls_probe::text
