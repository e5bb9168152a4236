// The batch printers: the JSON Lines object is the probe's plus line/name/expected/met; the table row, the
// failures list and the summary line.
#include "mtls_probe/report/batch_report.h"

#include <gtest/gtest.h>

#include <limits>

#include "mtls_probe/report/batch_junit.h"
#include "mtls_probe/report/batch_metrics.h"

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
  const batch::BatchResult r{t, usage_result("targets file line 7: unknown key 'x'"), false, std::nullopt};
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
  const batch::BatchResult r{t, usage_result("x"), false, std::nullopt};
  EXPECT_TRUE(batch_json(r).at("name").is_null());
}

TEST(BatchReport, RowHasLabelVerdictExpectedMarkVersionAndTime) {
  const auto t = line(3, "", {Verdict::ok});
  ProbeResult ok;
  ok.facts.url = t.url;
  ok.facts.tls_version = "TLSv1.3";
  ok.facts.total_ms = 12.4;
  batch::BatchResult r{t, ok, true, std::nullopt};
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
  const batch::BatchResult r{t, usage_result("x"), false, std::nullopt};
  EXPECT_EQ(batch_row(r, TextStyle{}, 10).find('\033'), std::string::npos);
  EXPECT_EQ(batch_failure(r).label.find('\033'), std::string::npos);
}

TEST(BatchReport, FailuresListSummaryAndFirstHint) {
  const auto t = line(9, "api", {Verdict::ok});
  const batch::BatchResult r{t, usage_result("targets file line 9: unknown key 'colour'"), false,
                             std::nullopt};
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

CertificateSummary cert(long days_left, std::string not_after = "2027-01-02T03:04:05Z") {
  CertificateSummary c;
  c.subject = "CN=x";
  c.not_after = std::move(not_after);
  c.not_after_epoch = 1798859045;
  c.days_left = days_left;
  c.expired = days_left < 0;
  return c;
}

TEST(BatchExpiry, WarningOnlyWithinTheDaysAndForTheCertificateInUse) {
  ProbeFacts f;
  EXPECT_FALSE(batch::expiry_warning(f, 30));
  f.server_cert = cert(40);
  EXPECT_FALSE(batch::expiry_warning(f, std::nullopt));
  EXPECT_FALSE(batch::expiry_warning(f, 30));
  EXPECT_FALSE(batch::expiry_warning(f, 40));  // 40 whole days left: not within 40
  auto w = batch::expiry_warning(f, 41);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->certificate, Side::server);
  EXPECT_EQ(w->days_left, 40);
  EXPECT_EQ(w->not_after, "2027-01-02T03:04:05Z");
  f.client_cert = cert(-3);  // expired: warned whatever N
  w = batch::expiry_warning(f, 0);
  ASSERT_TRUE(w);
  EXPECT_EQ(w->certificate, Side::client);
  EXPECT_EQ(w->days_left, -3);
  f.no_cert = true;  // --no-cert: the client certificate is not in use
  EXPECT_FALSE(batch::expiry_warning(f, 0));
  f.no_cert = false;
  f.server_cert = cert(-10);  // both: the one that expires first
  EXPECT_EQ(batch::expiry_warning(f, 30)->certificate, Side::server);
}

TEST(BatchExpiry, NoteJsonRowFailuresAndSummary) {
  EXPECT_EQ(expiry_note({Side::server, "d", 12}), "server certificate expires in 12 days");
  EXPECT_EQ(expiry_note({Side::client, "d", 1}), "client certificate expires in 1 day");
  EXPECT_EQ(expiry_note({Side::server, "d", 0}), "server certificate expires within a day");
  EXPECT_EQ(expiry_note({Side::client, "d", -3}), "client certificate expired 3 days ago");
  EXPECT_EQ(expiry_note({Side::client, "d", std::numeric_limits<long>::min()}).find('-'), std::string::npos);

  const auto t = line(4, "soon", {Verdict::ok});
  ProbeResult ok;
  ok.facts.url = t.url;
  batch::BatchResult r{t, ok, true, batch::ExpiryWarning{Side::server, "2027-01-02T03:04:05Z", 12}};
  const auto j = batch_json(r);
  EXPECT_EQ(
      j.at("expiry_warning"),
      nlohmann::json({{"certificate", "server"}, {"not_after", "2027-01-02T03:04:05Z"}, {"days_left", 12}}));
  const batch::BatchResult plain{t, ok, true, std::nullopt};
  EXPECT_TRUE(batch_json(plain).at("expiry_warning").is_null());

  EXPECT_NE(batch_row(r, TextStyle{}, 10).find("⚠ server certificate expires in 12 days\n"),
            std::string::npos);
  EXPECT_EQ(batch_row(plain, TextStyle{}, 10).find("⚠"), std::string::npos);

  // A met target with a warning is listed apart; an unmet one carries its note.
  const auto t2 = line(6, "broken", {Verdict::ok});
  batch::BatchResult unmet{t2, usage_result("x"), false,
                           batch::ExpiryWarning{Side::client, "2026-01-01", -3}};
  const std::string text =
      render_batch_failures({batch_failure(r), batch_failure(unmet)}, TextStyle{false, 100});
  EXPECT_NE(text.find("\n1 unmet:\n✗ broken (line 6)"), std::string::npos) << text;
  EXPECT_NE(text.find("    ⚠ client certificate expired 3 days ago (not after 2026-01-01)\n"),
            std::string::npos)
      << text;
  EXPECT_NE(
      text.find("\n1 met with a certificate warning:\n⚠ soon (line 4): server certificate expires in 12 "
                "days (not after 2027-01-02T03:04:05Z)\n"),
      std::string::npos)
      << text;
  EXPECT_EQ(render_batch_failures({batch_failure(r)}, TextStyle{}).find("unmet"), std::string::npos);

  EXPECT_EQ(batch_summary(3, 2, 1.0, 2), "3 targets: 2 met, 1 unmet, 2 certificate warnings, in 1.0 s\n");
  EXPECT_EQ(batch_summary(3, 3, 1.0, 1), "3 targets: 3 met, 0 unmet, 1 certificate warning, in 1.0 s\n");
}

TEST(BatchReport, ProgressLine) {
  EXPECT_EQ(batch_progress(0, 412, 0.5), "0/412 done");
  EXPECT_EQ(batch_progress(10, 100, 2.0), "10/100 done, 5.0/s, ETA 18s");
  EXPECT_EQ(batch_progress(1, 1000, 1.0), "1/1000 done, 1.0/s, ETA 16m39s");
  EXPECT_EQ(batch_progress(1, 10000, 1.0), "1/10000 done, 1.0/s, ETA 2h46m");
  EXPECT_EQ(batch_progress(100, 100, 4.0), "100/100 done, 25.0/s");
  EXPECT_EQ(batch_progress(5, 10, 0.0), "5/10 done");
}

TEST(BatchReport, JunitCaseAndMetricsTargetFromAResult) {
  const auto t = line(3, "", {Verdict::ok});
  ProbeResult r;
  r.facts.url = t.url;
  r.facts.dns_attempted = true;
  r.facts.dns_error = "NXDOMAIN";
  r.facts.dns_ms = 250;
  r.facts.total_ms = 251;
  r.facts.client_cert = cert(100);
  r.diagnosis = diagnose(r.facts);
  const batch::BatchResult br{t, r, false, std::nullopt};
  const JunitCase c = junit_case(br);
  EXPECT_EQ(c.name, t.url);  // no name: the URL
  EXPECT_EQ(c.line, 3);
  EXPECT_DOUBLE_EQ(c.seconds, 0.251);
  EXPECT_EQ(c.verdict, "dns-failure");
  EXPECT_EQ(c.exit_code, 3);
  EXPECT_EQ(c.summary, r.diagnosis.summary);
  EXPECT_EQ(c.details.rfind("expected ok, got dns-failure (targets file line 3)\n\n", 0), 0u) << c.details;
  EXPECT_NE(c.details.find(render_text(r, TextStyle{false, 100})), std::string::npos);

  const MetricsTarget m = metrics_target(br);
  EXPECT_EQ(m.target, t.url);
  EXPECT_FALSE(m.success);
  EXPECT_FALSE(m.met);
  EXPECT_EQ(m.exit_code, 3);
  EXPECT_DOUBLE_EQ(*m.dns, 0.25);
  EXPECT_FALSE(m.connect);
  EXPECT_FALSE(m.tls);
  EXPECT_FALSE(m.http);
  EXPECT_FALSE(m.server_not_after);
  EXPECT_EQ(m.client_not_after, 1798859045);
  r.facts.no_cert = true;  // not in use
  EXPECT_FALSE(metrics_target(batch::BatchResult{t, r, false, std::nullopt}).client_not_after);
}

}  // namespace
}  // namespace mtls_probe
