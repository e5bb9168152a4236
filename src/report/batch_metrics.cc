#include "mtls_probe/report/batch_metrics.h"

#include <fmt/format.h>

#include <functional>

#include "mtls_probe/report/report.h"

namespace mtls_probe {
namespace {

std::string number(double v) {
  return fmt::format("{:.6f}", v);
}

struct Family {
  const char* name;
  const char* help;
};

}  // namespace

std::string prometheus_label_value(std::string_view raw) {
  const std::string s = sanitize_utf8(raw);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

MetricsTarget metrics_target(const batch::BatchResult& r) {
  MetricsTarget m;
  const ProbeFacts& f = r.result.facts;
  m.target = r.line.name.empty() ? (f.url.empty() ? r.line.url : f.url) : r.line.name;
  m.line = r.line.line;
  m.verdict = std::string(verdict_name(r.result.diagnosis.verdict));
  m.success = r.result.diagnosis.verdict == Verdict::ok;
  m.met = r.met;
  m.exit_code = exit_code(r.result.diagnosis.verdict);
  auto secs = [](const std::optional<double>& ms) -> std::optional<double> {
    if (!ms) return std::nullopt;
    return *ms / 1000.0;
  };
  m.dns = secs(f.dns_ms);
  m.connect = secs(f.connect_ms);
  m.tls = secs(f.tls_ms);
  m.http = secs(f.ttfb_ms);
  m.total = secs(f.total_ms);
  if (f.server_cert) m.server_not_after = f.server_cert->not_after_epoch;
  if (f.client_cert && !f.no_cert) m.client_not_after = f.client_cert->not_after_epoch;
  return m;
}

std::string render_metrics(const std::vector<MetricsTarget>& targets) {
  std::string out;
  auto labels = [](const MetricsTarget& t, bool verdict, std::string_view extra = {}) {
    std::string l = fmt::format("target=\"{}\",line=\"{}\"", prometheus_label_value(t.target), t.line);
    if (verdict) l += fmt::format(",verdict=\"{}\"", prometheus_label_value(t.verdict));
    if (!extra.empty()) l += fmt::format(",{}", extra);
    return l;
  };
  auto family = [&](const Family& fam, const std::function<void(const MetricsTarget&)>& samples) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n", fam.name, fam.help, fam.name);
    for (const auto& t : targets) samples(t);
  };
  auto sample = [&](const char* name, const std::string& l, const std::string& value) {
    out += fmt::format("{}{{{}}} {}\n", name, l, value);
  };

  family(
      {"mtls_probe_success", "Whether the probe's verdict was ok (1) or not (0)."},
      [&](const MetricsTarget& t) { sample("mtls_probe_success", labels(t, true), t.success ? "1" : "0"); });
  family({"mtls_probe_expectation_met", "Whether the verdict was one of the target's expected verdicts."},
         [&](const MetricsTarget& t) {
           sample("mtls_probe_expectation_met", labels(t, false), t.met ? "1" : "0");
         });
  family({"mtls_probe_exit_code", "The exit code a single probe of the target would return (its verdict's)."},
         [&](const MetricsTarget& t) {
           sample("mtls_probe_exit_code", labels(t, true), std::to_string(t.exit_code));
         });
  family({"mtls_probe_phase_duration_seconds", "Duration of each phase the probe reached, in seconds."},
         [&](const MetricsTarget& t) {
           const std::pair<const char*, const std::optional<double>*> phases[] = {{"dns", &t.dns},
                                                                                  {"connect", &t.connect},
                                                                                  {"tls", &t.tls},
                                                                                  {"http", &t.http},
                                                                                  {"total", &t.total}};
           for (const auto& [phase, v] : phases) {
             if (*v)
               sample("mtls_probe_phase_duration_seconds",
                      labels(t, false, fmt::format("phase=\"{}\"", phase)), number(**v));
           }
         });
  family({"mtls_probe_server_cert_expiry_timestamp_seconds",
          "The server certificate's notAfter, in seconds since the Unix epoch."},
         [&](const MetricsTarget& t) {
           if (t.server_not_after)
             sample("mtls_probe_server_cert_expiry_timestamp_seconds", labels(t, false),
                    std::to_string(*t.server_not_after));
         });
  family({"mtls_probe_client_cert_expiry_timestamp_seconds",
          "The notAfter of the client certificate in use, in seconds since the Unix epoch."},
         [&](const MetricsTarget& t) {
           if (t.client_not_after)
             sample("mtls_probe_client_cert_expiry_timestamp_seconds", labels(t, false),
                    std::to_string(*t.client_not_after));
         });
  return out;
}

}  // namespace mtls_probe
