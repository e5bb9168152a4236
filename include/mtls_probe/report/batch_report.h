// Printers of `mtls-probe batch`: a JSON Lines object per target (the probe's contract object plus line,
// name, expected, met) and the text table (a row per target as it finishes, the failures again with their
// summary and first hint, a summary line).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/batch/runner.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {

// to_json(result) plus "line", "name" (null when none), "expected" (array of verdicts), "met",
// "expiry_warning" (null, or {"certificate": "server"|"client", "not_after", "days_left"}).
nlohmann::json batch_json(const batch::BatchResult& r);

// One row: label, verdict, expected, met (✓/✗), TLS version, total ms, and the --warn-days note
// ("⚠ server certificate expires in 12 days"). label_width pads the label.
std::string batch_row(const batch::BatchResult& r, const TextStyle& style, std::size_t label_width);

// "server certificate expires in 12 days" / "client certificate expired 3 days ago"
std::string expiry_note(const batch::ExpiryWarning& w);

// A target for the list after the table: an unmet one ("label (line N): verdict, expected X" + summary +
// first hint, and its expiry note), or a met one with an expiry warning (listed apart, with the note).
struct BatchFailure {
  std::string label;
  int line = 0;
  bool met = false;
  std::string verdict, expected, summary, hint;
  std::string expiry;  // expiry_note and the date, "" when no warning
};
BatchFailure batch_failure(const batch::BatchResult& r);
std::string render_batch_failures(const std::vector<BatchFailure>& failures, const TextStyle& style);

// "412 targets: 409 met, 3 unmet, in 2.3 s"; with warned (--warn-days):
// "412 targets: 409 met, 3 unmet, 2 certificate warnings, in 2.3 s"
std::string batch_summary(std::size_t total, std::size_t met, double seconds,
                          std::optional<std::size_t> warned = std::nullopt);

// The live progress line (stderr, redrawn with \r): "37/412 done, 12.3/s, ETA 31s". No newline.
std::string batch_progress(std::size_t done, std::size_t total, double seconds);

// "ok" / "client-cert-required,client-cert-rejected"
std::string expected_text(const std::vector<Verdict>& expected);

}  // namespace mtls_probe
