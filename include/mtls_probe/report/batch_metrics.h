// `mtls-probe batch --metrics FILE`: the Prometheus text exposition format (version 0.0.4), for
// node_exporter's textfile collector, named after blackbox_exporter's probe_* metrics. Each family once
// (# HELP, # TYPE, then a sample per target); labels target (name or redacted URL) and line, plus verdict
// on mtls_probe_success and mtls_probe_exit_code. Pure: facts in, text out.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/batch/runner.h"

namespace mtls_probe {

// What the metrics need of one result.
struct MetricsTarget {
  std::string target;  // the target's name, else its redacted URL
  int line = 0;
  std::string verdict;
  bool success = false;  // verdict ok
  bool met = false;
  int exit_code = 0;
  // Seconds per phase reached: dns, connect, tls, http (request sent to the first response byte), total.
  std::optional<double> dns, connect, tls, http, total;
  std::optional<long long> server_not_after, client_not_after;  // epoch seconds, where known
};
MetricsTarget metrics_target(const batch::BatchResult& r);

// Every family, in a fixed order, each with its # HELP and # TYPE lines once (with no targets, only those).
std::string render_metrics(const std::vector<MetricsTarget>& targets);

// A label value's escaping: backslash, double quote and newline as \\, \" and \n (valid UTF-8 first).
std::string prometheus_label_value(std::string_view s);

}  // namespace mtls_probe
