// Verdicts of probes through an HTTP proxy, from hand-built facts: everything before the tunnel stands is
// the proxy's (proxy-error), everything after it is the server's, exactly as without a proxy.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/diagnosis/diagnosis.h"
#include "diagnosis/diagnosis_test_support.h"

namespace mtls_probe {
namespace {

// A probe of https://api.example:8443/ configured to go through http://proxy.corp:3128 from HTTPS_PROXY.
ProbeFacts through_proxy() {
  ProbeFacts f;
  f.url = "https://api.example:8443/";
  f.host = "api.example";
  f.port = 8443;
  f.proxy.emplace();
  f.proxy->url = "http://proxy.corp:3128";
  f.proxy->source = "HTTPS_PROXY";
  f.proxy->host = "proxy.corp";
  f.proxy->port = 3128;
  f.dns_attempted = true;
  return f;
}

ProbeFacts connected_to_proxy() {
  ProbeFacts f = through_proxy();
  f.addresses = {"10.1.1.1"};
  f.connect_attempted = true;
  f.connected_address = "10.1.1.1:3128";
  f.proxy->tunnel_attempted = true;
  return f;
}

ProbeFacts answered(int status, std::string reason) {
  ProbeFacts f = connected_to_proxy();
  f.proxy->connect_status = status;
  f.proxy->reason = std::move(reason);
  return f;
}

TEST(DiagnosisProxy, TheProxyNameNotResolvingIsAProxyError) {
  ProbeFacts f = through_proxy();
  f.dns_error = "Domain name not found";
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::proxy_error);
  EXPECT_NE(d.summary.find("http://proxy.corp:3128"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("HTTPS_PROXY"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "--noproxy"));
}

TEST(DiagnosisProxy, ARefusedProxyPortIsAProxyErrorNotAConnectFailure) {
  ProbeFacts f = through_proxy();
  f.addresses = {"10.1.1.1"};
  f.connect_attempted = true;
  f.connect_error = "Connection refused";
  f.connect_errno = ECONNREFUSED;
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::proxy_error);
  EXPECT_EQ(exit_code(d.verdict), 12);
  EXPECT_TRUE(any_hint_contains(d, "nothing is listening at http://proxy.corp:3128")) << d.hints.front();
}

TEST(DiagnosisProxy, EachTimeoutBeforeTheTunnelNamesItsStep) {
  for (Phase p : {Phase::dns, Phase::connect, Phase::proxy}) {
    ProbeFacts f = p == Phase::proxy ? connected_to_proxy() : through_proxy();
    f.timed_out_in = p;
    f.timeout_limit = "--connect-timeout 3s";
    Diagnosis d = diagnose(f);
    EXPECT_EQ(d.verdict, Verdict::proxy_error) << phase_name(p);
    EXPECT_NE(d.summary.find("--connect-timeout 3s"), std::string::npos) << d.summary;
  }
  ProbeFacts hung = connected_to_proxy();
  hung.timed_out_in = Phase::proxy;
  EXPECT_NE(diagnose(hung).summary.find("did not answer CONNECT api.example:8443"), std::string::npos);
}

TEST(DiagnosisProxy, A407WithoutCredentialsAsksForThemAndNamesTheSchemes) {
  ProbeFacts f = answered(407, "Proxy Authentication Required");
  f.proxy->auth_schemes = {"Basic", "Negotiate"};
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::proxy_error);
  EXPECT_NE(d.summary.find("requires authentication"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("Basic and Negotiate"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "--proxy-user"));
  EXPECT_FALSE(any_hint_contains(d, "Basic only"));
}

TEST(DiagnosisProxy, A407AfterCredentialsSaysTheyWereRefused) {
  ProbeFacts f = answered(407, "Proxy Authentication Required");
  f.proxy->credentials_sent = true;
  f.proxy->auth_schemes = {"Basic"};
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::proxy_error);
  EXPECT_NE(d.summary.find("refused the credentials"), std::string::npos) << d.summary;
}

TEST(DiagnosisProxy, TinyproxysWrongCredentials401IsTheSame) {
  ProbeFacts f = answered(401, "Unauthorized");
  f.proxy->credentials_sent = true;
  f.proxy->auth_schemes = {"Basic"};
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::proxy_error);
  EXPECT_NE(d.summary.find("refused the credentials"), std::string::npos) << d.summary;
}

TEST(DiagnosisProxy, A407OfferingNoBasicSaysWeOnlyDoBasic) {
  ProbeFacts f = answered(407, "Proxy Authentication Required");
  f.proxy->auth_schemes = {"Negotiate", "NTLM"};
  EXPECT_TRUE(any_hint_contains(diagnose(f), "Basic only"));
}

TEST(DiagnosisProxy, A403IsThePolicyRefusingTheDestination) {
  Diagnosis d = diagnose(answered(403, "Forbidden"));
  EXPECT_EQ(d.verdict, Verdict::proxy_error);
  EXPECT_NE(d.summary.find("api.example:8443"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("policy"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "--noproxy api.example"));
}

TEST(DiagnosisProxy, A5xxIsTheProxyFailingToReachTheServer) {
  for (int status : {500, 502, 503, 504}) {
    Diagnosis d = diagnose(answered(status, "Service Unavailable"));
    EXPECT_EQ(d.verdict, Verdict::proxy_error) << status;
    EXPECT_NE(d.summary.find("could not reach api.example:8443"), std::string::npos) << d.summary;
  }
}

TEST(DiagnosisProxy, AClosedOrBrokenTunnelSaysWhat) {
  ProbeFacts f = connected_to_proxy();
  f.proxy->error = "the proxy closed the connection without answering CONNECT";
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::proxy_error);
  EXPECT_NE(d.summary.find("without answering CONNECT"), std::string::npos) << d.summary;
}

TEST(DiagnosisProxy, AfterTheTunnelTheVerdictsAreTheServers) {
  ProbeFacts f = answered(200, "Connection established");
  f.proxy->tunnel_established = true;
  f.tls_attempted = true;
  f.client_cert_requested = true;
  AlertRecord a;
  a.code = 116;
  a.name = alert_name(116);
  a.fatal = true;
  a.after_handshake = true;
  f.fatal_alert = a;
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_required);

  ProbeFacts slow = answered(200, "Connection established");
  slow.proxy->tunnel_established = true;
  slow.tls_attempted = true;
  slow.timed_out_in = Phase::tls;
  EXPECT_EQ(diagnose(slow).verdict, Verdict::timeout);

  ProbeFacts good = answered(200, "Connection established");
  good.proxy->tunnel_established = true;
  good.tls_attempted = true;
  good.handshake_completed = true;
  good.request_sent = true;
  good.http_status = 200;
  EXPECT_EQ(diagnose(good).verdict, Verdict::ok);
}

// ---- TLS interception

CertificateSummary cert(std::string subject, std::string issuer) {
  CertificateSummary c;
  c.subject = std::move(subject);
  c.issuer = std::move(issuer);
  return c;
}

// What squid ssl-bump shows with -k: its own CA's certificate, no CertificateRequest, nginx's 400 relayed.
ProbeFacts bumped() {
  ProbeFacts f = answered(200, "Connection established");
  f.proxy->tunnel_established = true;
  f.identity_configured = true;
  f.client_cert = cert("CN=alice", "CN=Corp Issuing CA");
  f.tls_attempted = true;
  f.handshake_completed = true;
  f.insecure = true;
  f.server_cert = cert("CN=api.example", "CN=Corp TLS Inspection CA,O=Corp Security");
  f.verify_error = "self-signed certificate in certificate chain";
  f.verify_code = 19;
  f.request_sent = true;
  f.http_status = 400;
  f.http_reason = "Bad Request";
  f.body_excerpt = "<center>No required SSL certificate was sent</center>";
  return f;
}

TEST(Interception, ACertificateDemandNobodyAskedForIsInterception) {
  Diagnosis d = diagnose(bumped());
  EXPECT_TRUE(d.interception.suspected);
  EXPECT_EQ(d.interception.issuer, "CN=Corp TLS Inspection CA,O=Corp Security");
  ASSERT_FALSE(d.hints.empty());
  EXPECT_NE(d.hints.front().find("TLS-inspecting proxy terminated the connection"), std::string::npos)
      << d.hints.front();
  EXPECT_NE(d.hints.front().find("CN=Corp TLS Inspection CA"), std::string::npos);
  EXPECT_FALSE(any_hint_contains(d, "client authentication is not enabled"));
  EXPECT_NE(d.summary.find("ended at a TLS-inspecting proxy"), std::string::npos) << d.summary;
  EXPECT_TRUE(
      std::any_of(d.interception.evidence.begin(), d.interception.evidence.end(),
                  [](const std::string& e) { return e.find("not trusted here") != std::string::npos; }));
}

TEST(Interception, ADifferentIssuerOnTheDirectPathIsInterception) {
  ProbeFacts f = bumped();
  f.http_status = 200;
  f.body_excerpt = "ok";
  f.identity_configured = false;
  f.direct_path = DirectPathFacts{true, "", "CN=api.example", "CN=Real Issuing CA", true};
  Diagnosis d = diagnose(f);
  EXPECT_TRUE(d.interception.suspected);
  EXPECT_NE(d.interception.evidence.front().find("CN=Real Issuing CA"), std::string::npos);
}

TEST(Interception, WithoutAProxyTheHintSpeaksOfATransparentDevice) {
  ProbeFacts f = bumped();
  f.proxy.reset();
  f.http_status = 200;
  f.body_excerpt = "ok";
  f.expect_client_auth = true;
  Diagnosis d = diagnose(f);
  EXPECT_TRUE(d.interception.suspected);
  EXPECT_NE(d.hints.front().find("transparent TLS-inspecting device"), std::string::npos) << d.hints.front();
}

TEST(Interception, AnHonestPathIsNotSuspected) {
  ProbeFacts f = bumped();
  f.client_cert_requested = true;
  f.client_cert_sent = true;
  f.verify_error.reset();
  f.verify_code = 0;
  f.http_status = 200;
  f.body_excerpt = "ok";
  f.direct_path =
      DirectPathFacts{true, "", "CN=api.example", "CN=Corp TLS Inspection CA,O=Corp Security", true};
  EXPECT_FALSE(diagnose(f).interception.suspected);
  // An untrusted issuer alone is a server-cert problem, not evidence of interception.
  ProbeFacts untrusted = bumped();
  untrusted.http_status = 200;
  untrusted.body_excerpt = "ok";
  untrusted.identity_configured = false;
  EXPECT_FALSE(diagnose(untrusted).interception.suspected);
}

TEST(Interception, TheDirectComparisonRunsOnlyWhenThePathLooksOdd) {
  EXPECT_TRUE(wants_direct_comparison(bumped()));
  ProbeFacts honest = bumped();
  honest.client_cert_requested = true;
  honest.verify_error.reset();
  EXPECT_FALSE(wants_direct_comparison(honest));
  ProbeFacts direct = bumped();
  direct.proxy.reset();
  EXPECT_FALSE(wants_direct_comparison(direct));
  ProbeFacts refused = answered(403, "Forbidden");
  EXPECT_FALSE(wants_direct_comparison(refused));
}

}  // namespace
}  // namespace mtls_probe
