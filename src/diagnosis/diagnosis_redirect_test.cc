// -L: the diagnosis over the hops (the last hop's verdict, the hops before it in the story). No sockets.
#include <gtest/gtest.h>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/diagnosis/diagnosis.h"
#include "diagnosis/diagnosis_test_support.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {
namespace {

// The last hop: https://b.example:9443/x asked for a certificate from "CN=B CA" and refused ours (alert 48).
ProbeFacts hop2_rejecting() {
  ProbeFacts f;
  f.url = "https://b.example:9443/x";
  f.host = "b.example";
  f.port = 9443;
  f.identity_configured = true;
  f.client_cert = CertificateSummary{};
  f.client_cert->subject = "CN=alice";
  f.client_cert->issuer = "CN=A CA";
  f.client_cert->days_left = 300;
  f.dns_attempted = f.connect_attempted = f.tls_attempted = true;
  f.connected_address = "10.0.0.2:9443";
  f.client_cert_requested = f.cert_request_in_handshake = f.client_cert_sent = true;
  f.acceptable_ca_names = {"CN=B CA"};
  f.issuer_in_acceptable_ca_names = false;
  AlertRecord a;
  a.code = 48;
  a.name = alert_name(48);
  a.fatal = true;
  a.after_client_certificate = true;
  f.alerts = {a};
  f.fatal_alert = a;
  f.follow_redirects = true;
  return f;
}

RedirectHop hop1(bool cert_sent) {
  RedirectHop h;
  h.url = "https://a.example:8443/";
  h.method = "GET";
  h.status = 302;
  h.location = "https://b.example:9443/x";
  h.next_url = h.location;
  h.verdict = "ok";
  h.client_cert_requested = cert_sent;
  h.client_cert_sent = cert_sent;
  return h;
}

TEST(DiagnosisRedirect, NamesTheHopThatRejectedTheCertificate) {
  ProbeFacts f = hop2_rejecting();
  f.redirects = {hop1(true)};
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_EQ(
      d.summary.rfind("At hop 2 (https://b.example:9443/x, after a 302 from https://a.example:8443/)", 0), 0u)
      << d.summary;
  EXPECT_TRUE(any_hint_contains(
      d, "hop 1 (https://a.example:8443/) accepted your certificate; hop 2 (b.example:9443)"))
      << d.hints.front();
  EXPECT_TRUE(any_hint_contains(d, "\"CN=B CA\"")) << d.hints.front();
  EXPECT_EQ(d.hints.front().rfind("hop 1", 0), 0u) << d.hints.front();  // the story across hosts comes first
}

TEST(DiagnosisRedirect, AFirstHopWithoutClientAuthIsSaid) {
  ProbeFacts f = hop2_rejecting();
  f.redirects = {hop1(false)};
  EXPECT_TRUE(
      any_hint_contains(diagnose(f), "hop 1 (https://a.example:8443/) did not ask for a certificate"));
}

TEST(DiagnosisRedirect, NoHopsNoHopStory) {
  const Diagnosis d = diagnose(hop2_rejecting());
  EXPECT_EQ(d.summary.find("hop"), std::string::npos) << d.summary;
  EXPECT_FALSE(any_hint_contains(d, "hop 1"));
}

ProbeFacts redirecting(int status, std::string location) {
  ProbeFacts f;
  f.url = "https://a.example:8443/loop";
  f.host = "a.example";
  f.port = 8443;
  f.dns_attempted = f.connect_attempted = f.tls_attempted = f.handshake_completed = f.request_sent = true;
  f.http_status = status;
  f.response_headers = {{"Location", std::move(location)}};
  return f;
}

TEST(DiagnosisRedirect, MaxRedirsExceededIsAnHttpError) {
  ProbeFacts f = redirecting(302, "/loop");
  f.follow_redirects = true;
  RedirectHop h = hop1(false);
  h.url = f.url;
  f.redirects = {h, h};
  f.max_redirs_exceeded = 2;
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::http_error);
  EXPECT_NE(d.summary.find("Stopped after 2 redirects (--max-redirs 2)"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "loop"));
  f.redirects = {};
  f.max_redirs_exceeded = 0;
  EXPECT_EQ(diagnose(f).verdict, Verdict::http_error);
}

TEST(DiagnosisRedirect, PlainHttpRedirectIsNotFollowedAndSaysWhy) {
  ProbeFacts f = redirecting(301, "http://a.example/");
  f.follow_redirects = true;
  f.redirect_not_followed = "it leads to plain HTTP";
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::ok);  // the last probed hop's
  EXPECT_TRUE(any_hint_contains(d, "redirects to plain HTTP (http://a.example/): no client certificate"));
}

TEST(DiagnosisRedirect, WithoutLocationFlagTheHintOffersIt) {
  ProbeFacts f = redirecting(302, "https://sso.example/");
  EXPECT_TRUE(any_hint_contains(diagnose(f), "-L/--location follows the redirect"));
  f.follow_redirects = true;  // -L given: the redirect was not followed for another reason, said elsewhere
  EXPECT_FALSE(any_hint_contains(diagnose(f), "-L/--location follows the redirect"));
}

TEST(DiagnosisRedirect, PrintersShowEveryHop) {
  ProbeFacts f = hop2_rejecting();
  RedirectHop h = hop1(true);
  h.auth_headers_dropped = true;
  h.summary = "TLS and client authentication succeeded; the server answered 302.";
  f.redirects = {h};
  ProbeResult r{f, diagnose(f)};
  const auto j = to_json(r);
  EXPECT_EQ(j["url_effective"], "https://b.example:9443/x");
  ASSERT_EQ(j["redirects"].size(), 1u);
  EXPECT_EQ(j["redirects"][0]["url"], "https://a.example:8443/");
  EXPECT_EQ(j["redirects"][0]["status"], 302);
  EXPECT_EQ(j["redirects"][0]["location"], "https://b.example:9443/x");
  EXPECT_EQ(j["redirects"][0]["verdict"], "ok");
  EXPECT_EQ(j["redirects"][0]["client_cert_requested"], true);
  EXPECT_EQ(j["redirects"][0]["client_cert_sent"], true);
  EXPECT_EQ(j["redirects"][0]["auth_headers_dropped"], true);
  const std::string text = render_text(r, TextStyle{false, 400});  // one line a hop
  EXPECT_NE(text.find("Redirects"), std::string::npos) << text;
  EXPECT_NE(text.find("1. GET https://a.example:8443/ -> 302 https://b.example:9443/x"), std::string::npos)
      << text;
  EXPECT_NE(text.find("client certificate requested and sent; ok: TLS and client"), std::string::npos)
      << text;
  EXPECT_NE(text.find("2. https://b.example:9443/x (this report)"), std::string::npos) << text;
  ProbeResult none{hop2_rejecting(), diagnose(hop2_rejecting())};
  EXPECT_EQ(to_json(none)["redirects"].size(), 0u);
  EXPECT_EQ(render_text(none, TextStyle{false, 120}).find("Redirects"), std::string::npos);
}

}  // namespace
}  // namespace mtls_probe
