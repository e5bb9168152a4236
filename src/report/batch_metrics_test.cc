// The metrics printer: every line is valid Prometheus text exposition format, each family's HELP and TYPE
// come once and before its samples, label values are escaped, phases appear only when reached.
#include "report/report_test_support.h"
#include "mtls_probe/report/batch_metrics.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace mtls_probe {
namespace {

// The exposition format, line by line (prometheus/docs exposition_formats.md).
const std::regex kHelp(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* ([^\\\n]|\\[\\n])*$)");
const std::regex kType(R"(^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$)");
const std::regex kSample(
    R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\[\\"n])*")*,?\})? )"
    R"(([-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?|[-+]?Inf|NaN)( -?[0-9]+)?$)");

std::vector<MetricsTarget> sample() {
  MetricsTarget ok;
  ok.target = "orders";
  ok.line = 2;
  ok.verdict = "ok";
  ok.success = ok.met = true;
  ok.dns = 0.001;
  ok.connect = 0.002;
  ok.tls = 0.0105;
  ok.http = 0.004;
  ok.total = 0.02;
  ok.server_not_after = 1893456000;
  ok.client_not_after = 1800000000;
  MetricsTarget bad;
  bad.target = "https://a.example/\"quoted\"\\back\nslash";
  bad.line = 9;
  bad.verdict = "dns-failure";
  bad.exit_code = 3;
  bad.dns = 0.5;
  bad.total = 0.5;
  return {ok, bad};
}

TEST(Metrics, LabelValueEscaping) {
  EXPECT_EQ(prometheus_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(prometheus_label_value("plain https://x/"), "plain https://x/");
  EXPECT_EQ(prometheus_label_value("bad\xff"), "bad\xEF\xBF\xBD");
}

TEST(Metrics, EveryLineIsExpositionFormat) {
  const std::string text = render_metrics(sample());
  ASSERT_FALSE(text.empty());
  EXPECT_EQ(text.back(), '\n');
  for (const auto& l : lines_of(text)) {
    EXPECT_TRUE(std::regex_match(l, kHelp) || std::regex_match(l, kType) || std::regex_match(l, kSample))
        << l;
  }
}

TEST(Metrics, EachFamilyOnceAndItsSamplesTogether) {
  const auto lines = lines_of(render_metrics(sample()));
  std::map<std::string, int> help, type;
  std::set<std::string> done;
  std::string current;
  for (const auto& l : lines) {
    if (l.rfind("# HELP ", 0) == 0) {
      const std::string name = l.substr(7, l.find(' ', 7) - 7);
      ++help[name];
      if (!current.empty()) done.insert(current);
      current = name;
      EXPECT_FALSE(done.count(name)) << name;
    } else if (l.rfind("# TYPE ", 0) == 0) {
      const std::string name = l.substr(7, l.find(' ', 7) - 7);
      ++type[name];
      EXPECT_EQ(name, current);
      EXPECT_EQ(l, "# TYPE " + name + " gauge");
    } else {
      const std::string name = l.substr(0, l.find('{'));
      EXPECT_EQ(name, current) << l;
    }
  }
  for (const char* f :
       {"mtls_probe_success", "mtls_probe_expectation_met", "mtls_probe_exit_code",
        "mtls_probe_phase_duration_seconds", "mtls_probe_server_cert_expiry_timestamp_seconds",
        "mtls_probe_client_cert_expiry_timestamp_seconds"}) {
    EXPECT_EQ(help[f], 1) << f;
    EXPECT_EQ(type[f], 1) << f;
  }
}

TEST(Metrics, ValuesAndLabels) {
  const std::string text = render_metrics(sample());
  const std::string bad = R"(target="https://a.example/\"quoted\"\\back\nslash",line="9")";
  for (const std::string& want : std::vector<std::string>{
           R"(mtls_probe_success{target="orders",line="2",verdict="ok"} 1)",
           R"(mtls_probe_expectation_met{target="orders",line="2"} 1)",
           R"(mtls_probe_exit_code{target="orders",line="2",verdict="ok"} 0)",
           R"(mtls_probe_phase_duration_seconds{target="orders",line="2",phase="tls"} 0.010500)",
           R"(mtls_probe_phase_duration_seconds{target="orders",line="2",phase="http"} 0.004000)",
           R"(mtls_probe_server_cert_expiry_timestamp_seconds{target="orders",line="2"} 1893456000)",
           R"(mtls_probe_client_cert_expiry_timestamp_seconds{target="orders",line="2"} 1800000000)",
           "mtls_probe_success{" + bad + R"(,verdict="dns-failure"} 0)",
           "mtls_probe_expectation_met{" + bad + "} 0",
           "mtls_probe_exit_code{" + bad + R"(,verdict="dns-failure"} 3)",
           "mtls_probe_phase_duration_seconds{" + bad + R"(,phase="dns"} 0.500000)",
       }) {
    EXPECT_NE(text.find(want + "\n"), std::string::npos) << want << "\n" << text;
  }
  // Phases not reached and certificates not seen have no sample.
  for (const std::string absent : {"phase=\"connect\"}", "phase=\"tls\"}"}) {
    EXPECT_EQ(text.find(bad + "," + absent), std::string::npos);
  }
  EXPECT_EQ(text.find("mtls_probe_server_cert_expiry_timestamp_seconds{" + bad), std::string::npos);
  // With no targets: the HELP and TYPE lines only.
  for (const auto& l : lines_of(render_metrics({}))) EXPECT_EQ(l[0], '#');
}

}  // namespace
}  // namespace mtls_probe
