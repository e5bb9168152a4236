// The targets file of `mtls-probe batch`: one target per line, a URL then optional key=value words.
// Engine-independent: it only checks each line's syntax (URL, keys, verdict names, numbers); what a line's
// values mean for a probe is decided by the front end, which merges them over the run's global options.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/base/result.h"
#include "mtls_probe/diagnosis/verdict.h"

namespace mtls_probe::batch {

// What one line sets on top of the global options (nullopt / empty: the global value applies).
struct TargetOverrides {
  std::optional<std::string> p12, cert, key, cacert, servername, method, tls_min, tls_max;
  bool no_cert = false;
  std::vector<std::string> resolve;  // HOST:PORT:ADDR[,ADDR], each checked
  std::optional<double> max_time, connect_timeout;
  bool operator==(const TargetOverrides&) const = default;
};

struct TargetLine {
  int line = 0;           // 1-based line number in the file
  std::size_t index = 0;  // 0-based count of target lines (comments and blank lines not counted)
  std::string url;        // as written
  std::string name;       // name=LABEL ("" when none)
  std::vector<Verdict> expected{Verdict::ok};  // expect=V[,V...]
  TargetOverrides overrides;
  std::optional<std::string> error;  // malformed line: what is wrong (a usage-error result of its own)
  // The label of this target in output and trace: its name, else its URL.
  std::string label() const { return name.empty() ? url : name; }
};

// Every target line of text ('#' comments and blank lines skipped; CRLF tolerated). A malformed line is
// returned with error set; parsing goes on with the next line.
std::vector<TargetLine> parse_targets(std::string_view text);

// Whether a verdict is one of the expected ones.
bool expectation_met(const std::vector<Verdict>& expected, Verdict got);

// --shard K/N (1 <= K <= N): runs the target lines whose index mod N is K-1.
struct Shard {
  std::size_t k = 1, n = 1;
  bool contains(std::size_t index) const { return index % n == k - 1; }
};
Expected<Shard> parse_shard(std::string_view text);

}  // namespace mtls_probe::batch
