// Printers: they only format a finished ProbeResult (text for a terminal, JSON for CI).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "mtls_probe/diagnosis/diagnosis.h"

namespace mtls_probe {

struct TextStyle {
  bool color = false;  // ANSI colour: only on a TTY and never with NO_COLOR (decided by the caller)
  // Columns to fit in: the front end passes text::output_width(STDOUT_FILENO) (the terminal's, COLUMNS, or
  // at most 80 into a pipe). A line is longer only when it is one unbreakable word (a long DN, a URL).
  std::size_t width = 100;
  bool include_headers = false;  // -i / -I: every response header and trailer, in order, in the HTTP section
};

// The human report: verdict line first, then evidence per phase (DNS, TCP, TLS, CLIENT, HTTP), then hints.
std::string render_text(const ProbeResult& result, const TextStyle& style = {});

// The contract's JSON object (fields not reached are null). Never contains a password or key.
// Every string in it is valid UTF-8, so dump() cannot throw whatever error handler the caller picks.
nlohmann::json to_json(const ProbeResult& result);

// Helpers shared by the printers (and usable by the front end for anything that came from the network).
// Valid UTF-8: every invalid sequence (maximal subpart) becomes U+FFFD.
std::string sanitize_utf8(std::string_view s);
// Valid UTF-8 that is safe on a terminal: C0/C1 controls and DEL become \t \n \r \xNN / \u{NNNN}, and
// bidirectional overrides become \u{NNNN}. Never contains an ESC byte.
std::string escape_terminal(std::string_view s);

}  // namespace mtls_probe
