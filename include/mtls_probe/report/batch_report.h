// Printers of `mtls-probe batch`: a JSON Lines object per target (the probe's contract object plus line,
// name, expected, met) and the text table (a row per target as it finishes, the failures again with their
// summary and first hint, a summary line).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mtls_probe/batch/runner.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {

// to_json(result) plus "line", "name" (null when none), "expected" (array of verdicts), "met".
nlohmann::json batch_json(const batch::BatchResult& r);

// One row: label, verdict, expected, met (✓/✗), TLS version, total ms. label_width pads the label.
std::string batch_row(const batch::BatchResult& r, const TextStyle& style, std::size_t label_width);

// A failure, for the list after the table: "label (line N): verdict, expected X" + summary + first hint.
struct BatchFailure {
  std::string label;
  int line = 0;
  std::string verdict, expected, summary, hint;
};
BatchFailure batch_failure(const batch::BatchResult& r);
std::string render_batch_failures(const std::vector<BatchFailure>& failures, const TextStyle& style);

// "412 targets: 409 met, 3 unmet, in 2.3 s"
std::string batch_summary(std::size_t total, std::size_t met, double seconds);

// "ok" / "client-cert-required,client-cert-rejected"
std::string expected_text(const std::vector<Verdict>& expected);

}  // namespace mtls_probe
