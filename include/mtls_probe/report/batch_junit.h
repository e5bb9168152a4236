// `mtls-probe batch --junit FILE`: JUnit XML for CI test reports (GitLab, Jenkins, GitHub actions). One
// <testsuite name="mtls-probe batch"> in a <testsuites> root, one <testcase> per target (name = the target's
// name or URL, classname "mtls-probe.batch", time in seconds), a <failure> for an unmet one (message = the
// one-sentence summary, text = expected and verdict, the evidence per phase and the hints) and the
// --warn-days note as a <system-out> and properties. Pure: facts in, text out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/batch/runner.h"

namespace mtls_probe {

// What the XML needs of one result (kept per target until the run ends: the report text only when unmet).
struct JunitCase {
  std::string name;  // the target's name, else its (redacted) URL
  std::string url;   // redacted
  int line = 0;
  double seconds = 0;  // the probe's total time (0 when it did not run)
  bool met = false;
  std::string verdict, expected;
  int exit_code = 0;
  std::string summary;  // the failure's message
  std::string details;  // the failure's text: expected/verdict, the evidence per phase, the hints
  std::optional<batch::ExpiryWarning> expiry;
};
JunitCase junit_case(const batch::BatchResult& r);

struct JunitRun {
  double seconds = 0;     // the run's wall time
  std::string timestamp;  // ISO 8601 start of the run ("" to leave the attribute out)
};

// The whole document, UTF-8, ending in a newline.
std::string render_junit(const std::vector<JunitCase>& cases, const JunitRun& run);

// XML 1.0 character data (attribute = true: for an attribute value in double quotes): & < > " ' escaped,
// invalid UTF-8 replaced by U+FFFD, C0 controls (but tab, newline and carriage return), DEL and C1 controls
// written as \xNN / \u{NNNN}, U+FFFE/U+FFFF replaced by U+FFFD; in an attribute tab, newline and carriage
// return become character references so that attribute-value normalisation keeps them.
std::string xml_escape(std::string_view s, bool attribute);

}  // namespace mtls_probe
