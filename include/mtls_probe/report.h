// Printers: they only format a finished ProbeResult (text for a terminal, JSON for CI).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "mtls_probe/diagnosis.h"

namespace mtls_probe {

struct TextStyle {
  bool color = false;  // ANSI colour: only on a TTY and never with NO_COLOR (decided by the caller)
};

// The human report: verdict line first, then evidence per phase (DNS, TCP, TLS, CLIENT, HTTP), then hints.
std::string render_text(const ProbeResult& result, const TextStyle& style = {});

// The contract's JSON object (fields not reached are null). Never contains a password or key.
nlohmann::json to_json(const ProbeResult& result);

}  // namespace mtls_probe
