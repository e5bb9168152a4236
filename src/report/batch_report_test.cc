// The batch printers: the JSON Lines object is the probe's plus line/name/expected/met; the table row, the
// failures list and the summary line.
#include "mtls_probe/report/batch_report.h"

#include <gtest/gtest.h>

namespace mtls_probe {
namespace {

batch::TargetLine line(int n, std::string name, std::vector<Verdict> expected) {
  batch::TargetLine t;
  t.line = n;
  t.url = "https://127.0.0.1:8443/";
  t.name = std::move(name);
  t.expected = std::move(expected);
  return t;
}

ProbeResult usage_result(const std::string& message) {
  ProbeResult r;
  r.facts.url = "https://127.0.0.1:8443/";
  r.facts.usage_error = message;
  r.diagnosis = diagnose(r.facts);
  return r;
}

TEST(BatchReport, JsonIsTheProbeObjectPlusBatchFields) {
  const auto t = line(7, "api", {Verdict::client_cert_required, Verdict::client_cert_rejected});
  const batch::BatchResult r{t, usage_result("targets file line 7: unknown key 'x'"), false};
  const auto j = batch_json(r);
  auto probe = to_json(r.result);
  for (const auto& [key, value] : probe.items()) EXPECT_EQ(j.at(key), value) << key;
  EXPECT_EQ(j.at("line"), 7);
  EXPECT_EQ(j.at("name"), "api");
  EXPECT_EQ(j.at("expected"), nlohmann::json::array({"client-cert-required", "client-cert-rejected"}));
  EXPECT_EQ(j.at("met"), false);
  EXPECT_EQ(j.at("verdict"), "usage-error");
  EXPECT_EQ(j.at("exit_code"), 1);
}

TEST(BatchReport, JsonNameIsNullWithoutOne) {
  const auto t = line(1, "", {Verdict::ok});
  const batch::BatchResult r{t, usage_result("x"), false};
  EXPECT_TRUE(batch_json(r).at("name").is_null());
}

TEST(BatchReport, RowHasLabelVerdictExpectedMarkVersionAndTime) {
  const auto t = line(3, "", {Verdict::ok});
  ProbeResult ok;
  ok.facts.url = t.url;
  ok.facts.tls_version = "TLSv1.3";
  ok.facts.total_ms = 12.4;
  batch::BatchResult r{t, ok, true};
  const std::string row = batch_row(r, TextStyle{}, 30);
  EXPECT_EQ(row.rfind("✓ https://127.0.0.1:8443/", 0), 0u) << row;
  EXPECT_NE(row.find(" ok "), std::string::npos);
  EXPECT_NE(row.find("TLSv1.3"), std::string::npos);
  EXPECT_NE(row.find("12 ms"), std::string::npos);
  EXPECT_EQ(row.find('\033'), std::string::npos);  // no colour unless asked for
  r.met = false;
  EXPECT_EQ(batch_row(r, TextStyle{}, 30).rfind("✗ ", 0), 0u);
  EXPECT_NE(batch_row(r, TextStyle{true, 100}, 30).find("\033[31m"), std::string::npos);
}

TEST(BatchReport, LabelFromTheNetworkOrFileIsEscapedForTheTerminal) {
  const auto t = line(3, "evil\033[2J", {Verdict::ok});
  const batch::BatchResult r{t, usage_result("x"), false};
  EXPECT_EQ(batch_row(r, TextStyle{}, 10).find('\033'), std::string::npos);
  EXPECT_EQ(batch_failure(r).label.find('\033'), std::string::npos);
}

TEST(BatchReport, FailuresListSummaryAndFirstHint) {
  const auto t = line(9, "api", {Verdict::ok});
  const batch::BatchResult r{t, usage_result("targets file line 9: unknown key 'colour'"), false};
  const std::string text = render_batch_failures({batch_failure(r)}, TextStyle{false, 80});
  EXPECT_NE(text.find("✗ api (line 9): usage-error, expected ok"), std::string::npos) << text;
  EXPECT_NE(text.find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(text.find("hint: "), std::string::npos);
  EXPECT_EQ(render_batch_failures({}, TextStyle{}), "");
}

TEST(BatchReport, SummaryLine) {
  EXPECT_EQ(batch_summary(412, 409, 2.34), "412 targets: 409 met, 3 unmet, in 2.3 s\n");
  EXPECT_EQ(batch_summary(1, 1, 0.04), "1 target: 1 met, 0 unmet, in 0.0 s\n");
  EXPECT_EQ(batch_summary(0, 0, 0), "0 targets: 0 met, 0 unmet, in 0.0 s\n");
}

TEST(BatchReport, ExpectedText) {
  EXPECT_EQ(expected_text({Verdict::ok}), "ok");
  EXPECT_EQ(expected_text({Verdict::timeout, Verdict::dns_failure}), "timeout,dns-failure");
}

}  // namespace
}  // namespace mtls_probe
