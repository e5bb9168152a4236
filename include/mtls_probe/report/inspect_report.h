// Printers for `inspect`, beside the probe's (report.h): they only format a finished InspectResult.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "mtls_probe/inspect/inspect.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe::inspect {

// The `--json` object. Never contains a password or key material; every string is valid UTF-8.
nlohmann::json report_json(const InspectResult& result);
// The same shape for a usage error (exit 1): verdict "usage-error", the other fields null.
nlohmann::json usage_error_json(const std::string& message, const std::string& file);

// The human report: verdict line, sections, findings with hints (100 columns; style.width is not used).
std::string report_text(const InspectResult& result, const TextStyle& style = {});

}  // namespace mtls_probe::inspect
