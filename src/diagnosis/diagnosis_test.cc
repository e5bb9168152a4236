// Every verdict and every alert class from hand-built facts: no sockets.
#include "mtls_probe/diagnosis/diagnosis.h"
#include "diagnosis/diagnosis_test_support.h"

#include <gtest/gtest.h>

#include <set>
#include <openssl/x509_vfy.h>

#include <cerrno>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/report/report.h"
#include "mtls_probe/engine/grpc.h"

namespace mtls_probe {
namespace {

CertificateSummary alice() {
  CertificateSummary c;
  c.subject = "CN=alice";
  c.issuer = "CN=Contractors CA";
  c.not_before = "2026-01-01T00:00:00Z";
  c.not_after = "2027-03-01T00:00:00Z";
  c.days_left = 98;
  c.has_client_auth_eku = true;
  return c;
}

// Facts of a probe that got through DNS, TCP and a TLS 1.3 handshake with an identity configured.
ProbeFacts handshake_done() {
  ProbeFacts f;
  f.url = "https://api.example/orders";
  f.host = "api.example";
  f.port = 443;
  f.identity_configured = true;
  f.client_cert = alice();
  f.dns_attempted = true;
  f.addresses = {"10.0.0.12"};
  f.connect_attempted = true;
  f.connected_address = "10.0.0.12:443";
  f.tls_attempted = true;
  f.handshake_completed = true;
  f.tls_version = "TLSv1.3";
  f.cipher = "TLS_AES_256_GCM_SHA384";
  f.request_sent = true;
  return f;
}

ProbeFacts asked_and_sent() {
  ProbeFacts f = handshake_done();
  f.client_cert_requested = true;
  f.cert_request_in_handshake = true;
  f.acceptable_ca_names = {"CN=Corp Root CA,O=Corp", "CN=Corp Issuing CA 2,O=Corp"};
  f.issuer_in_acceptable_ca_names = false;
  f.client_cert_sent = true;
  return f;
}

AlertRecord server_alert(int code, bool after_cert = true, bool after_handshake = true) {
  AlertRecord a;
  a.code = code;
  a.name = alert_name(code);
  a.from = Side::server;
  a.fatal = true;
  a.after_client_certificate = after_cert;
  a.after_handshake = after_handshake;
  return a;
}

ProbeFacts with_status(ProbeFacts f, int status, std::string reason = "", std::string body = "") {
  f.http_status = status;
  f.http_reason = std::move(reason);
  f.body_excerpt = std::move(body);
  return f;
}

TEST(Diagnosis, UsageError) {
  ProbeFacts f;
  f.usage_error = "only https:// URLs are probed (got 'http')";
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::usage_error);
  EXPECT_NE(d.summary.find("https://"), std::string::npos);
}

TEST(Diagnosis, UsageErrorWinsOverEverythingElse) {
  ProbeFacts f = asked_and_sent();
  f.usage_error = "bad";
  f.fatal_alert = server_alert(48);
  EXPECT_EQ(diagnose(f).verdict, Verdict::usage_error);
}

TEST(Diagnosis, IdentityProblemsEachGetTheirOwnHint) {
  const IdentityProblem all[] = {IdentityProblem::file_missing,          IdentityProblem::file_unreadable,
                                 IdentityProblem::not_recognised,        IdentityProblem::wrong_password,
                                 IdentityProblem::password_needed,       IdentityProblem::legacy_unavailable,
                                 IdentityProblem::unsupported_algorithm, IdentityProblem::no_private_key,
                                 IdentityProblem::no_certificate,        IdentityProblem::key_mismatch,
                                 IdentityProblem::password_source};
  std::vector<std::string> first_hints;
  for (IdentityProblem p : all) {
    ProbeFacts f;
    f.identity_error = IdentityFailure{p, "problem with 'x.p12'", ""};
    Diagnosis d = diagnose(f);
    EXPECT_EQ(d.verdict, Verdict::identity_error);
    EXPECT_NE(d.summary.find("x.p12"), std::string::npos);
    ASSERT_FALSE(d.hints.empty()) << identity_problem_name(p);
    first_hints.push_back(d.hints.front());
  }
  // "Wrong password" and "legacy algorithm not available" must never read the same.
  EXPECT_NE(first_hints[3], first_hints[5]);
  EXPECT_NE(first_hints[5].find("not a wrong password"), std::string::npos);
  EXPECT_NE(first_hints[5].find("legacy"), std::string::npos);
}

TEST(Diagnosis, TokenProblemsEachGetTheirOwnHint) {
  const IdentityProblem all[] = {IdentityProblem::pkcs11_module_not_found, IdentityProblem::pkcs11_module_failed,
                                 IdentityProblem::token_absent,            IdentityProblem::token_ambiguous,
                                 IdentityProblem::pin_needed,              IdentityProblem::wrong_pin,
                                 IdentityProblem::pin_locked,              IdentityProblem::object_not_found,
                                 IdentityProblem::key_cannot_sign,         IdentityProblem::mechanism_unsupported,
                                 IdentityProblem::signing_failed};
  std::set<std::string> hints;
  for (IdentityProblem p : all) {
    ProbeFacts f;
    f.identity_error = IdentityFailure{p, "token \"probe\" said no", ""};
    Diagnosis d = diagnose(f);
    EXPECT_EQ(d.verdict, Verdict::identity_error) << identity_problem_name(p);
    ASSERT_FALSE(d.hints.empty()) << identity_problem_name(p);
    hints.insert(d.hints.front());
  }
  EXPECT_EQ(hints.size(), std::size(all));  // no two read the same
  ProbeFacts locked;
  locked.identity_error = IdentityFailure{IdentityProblem::pin_locked, "locked", ""};
  EXPECT_TRUE(any_hint_contains(diagnose(locked), "no PIN was tried"));
  ProbeFacts wrong;
  wrong.identity_error = IdentityFailure{IdentityProblem::wrong_pin, "refused", ""};
  EXPECT_TRUE(any_hint_contains(diagnose(wrong), "tried once"));
}

TEST(Diagnosis, TokenThatCannotSignCertificateVerifyIsAnIdentityErrorWithTheTls12Way) {
  ProbeFacts f = asked_and_sent();
  f.handshake_completed = false;
  f.tls_version = "TLSv1.3";
  IdentityFailure e{IdentityProblem::mechanism_unsupported,
                    "token \"card\" could not sign the handshake's CertificateVerify with RSA-PSS (TLS 1.3) "
                    "(CKR_MECHANISM_INVALID)",
                    ""};
  e.phase = "CertificateVerify";
  f.identity_error = e;
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::identity_error);
  EXPECT_NE(d.summary.find("RSA-PSS"), std::string::npos);
  EXPECT_TRUE(any_hint_contains(d, "--tls-max 1.2"));
}

TEST(Diagnosis, DnsFailure) {
  ProbeFacts f;
  f.host = "nope.invalid";
  f.dns_attempted = true;
  f.dns_error = "Name or service not known";
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::dns_failure);
  EXPECT_TRUE(any_hint_contains(d, "--resolve"));
}

TEST(Diagnosis, InterfaceThatIsNotHereIsAConnectFailureOfItsOwn) {
  ProbeFacts f;
  f.host = "example.test";
  f.addresses = {"127.0.0.1"};
  f.connect_attempted = true;
  f.interface_spec = "192.0.2.1";
  f.bind_error = "192.0.2.1: Cannot assign requested address";
  f.proxy.emplace();  // local: told before anything about a proxy
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::connect_failure);
  EXPECT_NE(d.summary.find("Could not bind to 192.0.2.1 (--interface)"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("Cannot assign requested address"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "if!NAME"));
}

TEST(Diagnosis, ConnectRefused) {
  ProbeFacts f;
  f.host = "localhost";
  f.port = 9;
  f.addresses = {"127.0.0.1"};
  f.connect_attempted = true;
  f.connect_error = "Connection refused";
  f.connect_errno = ECONNREFUSED;
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::connect_failure);
  EXPECT_TRUE(any_hint_contains(d, "nothing is listening on port 9"));
}

TEST(Diagnosis, TimeoutSaysWhichPhase) {
  for (Phase p : {Phase::dns, Phase::connect, Phase::tls, Phase::http}) {
    ProbeFacts f = handshake_done();
    f.timed_out_in = p;
    f.timeout_limit = "--max-time 2s";
    Diagnosis d = diagnose(f);
    EXPECT_EQ(d.verdict, Verdict::timeout) << phase_name(p);
    EXPECT_NE(d.summary.find("--max-time 2s"), std::string::npos) << d.summary;
    EXPECT_FALSE(d.hints.empty());
  }
  ProbeFacts silent = handshake_done();
  silent.handshake_completed = false;
  silent.timed_out_in = Phase::tls;
  EXPECT_NE(diagnose(silent).summary.find("accepted the TCP connection"), std::string::npos);
}

TEST(Diagnosis, H2WindowThatNeverOpensNamesFlowControl) {
  ProbeFacts f = handshake_done();
  f.http_version = "2";
  f.timed_out_in = Phase::http;
  f.timeout_limit = "--max-time 2s";
  f.h2_window_stall = H2WindowStall{false, 0, 5, 0};
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::timeout);
  EXPECT_NE(d.summary.find("flow-control window never opened for the request body"), std::string::npos)
      << d.summary;
  EXPECT_NE(d.summary.find("0 of 5 body bytes"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("stream window"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "SETTINGS_INITIAL_WINDOW_SIZE is 0"));

  f.h2_window_stall = H2WindowStall{true, 65535, 100000, 1 << 20};
  d = diagnose(f);
  EXPECT_NE(d.summary.find("65535 of 100000 body bytes"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("connection window"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "WINDOW_UPDATE for the connection"));

  // Without the stall the timeout is the generic one: the rule keys on the fact, not on HTTP/2.
  f.h2_window_stall.reset();
  EXPECT_EQ(diagnose(f).summary.find("flow-control"), std::string::npos);
}

TEST(Diagnosis, FatalAlertBeatsATimeoutRecordedLater) {
  ProbeFacts f = asked_and_sent();
  f.fatal_alert = server_alert(48);
  f.timed_out_in = Phase::http;
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_rejected);
}

TEST(Diagnosis, CertificateRequiredAlertTls13) {
  ProbeFacts f = handshake_done();
  f.identity_configured = false;
  f.client_cert.reset();
  f.client_cert_requested = true;
  f.empty_certificate_sent = true;
  f.acceptable_ca_names = {"CN=Corp Root CA"};
  f.fatal_alert = server_alert(116, true, true);
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_NE(d.summary.find("certificate_required"), std::string::npos);
  EXPECT_TRUE(any_hint_contains(d, "--p12"));
  EXPECT_TRUE(any_hint_contains(d, "CN=Corp Root CA"));
}

TEST(Diagnosis, HandshakeFailureAfterEmptyCertificateTls12IsRequired) {
  ProbeFacts f = handshake_done();
  f.handshake_completed = false;
  f.tls_version = "TLSv1.2";
  f.no_cert = true;
  f.client_cert_requested = true;
  f.empty_certificate_sent = true;
  f.fatal_alert = server_alert(40, true, false);
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_TRUE(any_hint_contains(d, "--no-cert"));
}

TEST(Diagnosis, HandshakeFailureWithoutCertificateRequestIsTls) {
  ProbeFacts f = handshake_done();
  f.handshake_completed = false;
  f.fatal_alert = server_alert(40, false, false);
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::tls_handshake_failure);
  EXPECT_TRUE(any_hint_contains(d, "cipher"));
}

TEST(Diagnosis, HandshakeFailureAfterOurCertificateIsRejected) {
  ProbeFacts f = asked_and_sent();
  f.fatal_alert = server_alert(40, true, false);
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_rejected);
}

TEST(Diagnosis, EveryCertificateProblemAlertAfterOurCertificateIsRejected) {
  for (int code : {42, 43, 44, 45, 46, 48, 49}) {
    ProbeFacts f = asked_and_sent();
    f.fatal_alert = server_alert(code);
    Diagnosis d = diagnose(f);
    EXPECT_EQ(d.verdict, Verdict::client_cert_rejected) << alert_name(code);
    EXPECT_NE(d.summary.find(alert_name(code)), std::string::npos);
    EXPECT_NE(d.summary.find("CN=alice"), std::string::npos);
  }
}

TEST(Diagnosis, UnknownCaHintNamesBothLists) {
  ProbeFacts f = asked_and_sent();
  f.fatal_alert = server_alert(48);
  Diagnosis d = diagnose(f);
  EXPECT_TRUE(any_hint_contains(d, "CN=Contractors CA"));
  EXPECT_TRUE(any_hint_contains(d, "CN=Corp Root CA,O=Corp"));
  EXPECT_TRUE(any_hint_contains(d, "ssl_client_certificate"));
}

TEST(Diagnosis, UnknownCaWithoutCarriedChainSuggestsTheIntermediate) {
  ProbeFacts f = asked_and_sent();
  f.fatal_alert = server_alert(48);
  EXPECT_TRUE(any_hint_contains(diagnose(f), "carries no chain certificates"));
  f.client_chain_subjects = {"CN=Contractors CA"};
  EXPECT_FALSE(any_hint_contains(diagnose(f), "carries no chain certificates"));
}

TEST(Diagnosis, UnknownCaWithListedIssuerPointsAtTheChain) {
  ProbeFacts f = asked_and_sent();
  f.issuer_in_acceptable_ca_names = true;
  f.fatal_alert = server_alert(48);
  EXPECT_TRUE(any_hint_contains(diagnose(f), "intermediate"));
}

TEST(Diagnosis, ExpiredCertificateHintHasTheDate) {
  ProbeFacts f = asked_and_sent();
  f.client_cert->expired = true;
  f.client_cert->not_after = "2025-06-30T12:00:00Z";
  f.client_cert->days_left = -100;
  f.fatal_alert = server_alert(45);
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_TRUE(any_hint_contains(d, "expired on 2025-06-30"));
}

TEST(Diagnosis, UnsupportedCertificateWithoutClientAuthEku) {
  ProbeFacts f = asked_and_sent();
  f.client_cert->has_client_auth_eku = false;
  f.fatal_alert = server_alert(43);
  EXPECT_TRUE(any_hint_contains(diagnose(f), "clientAuth"));
}

TEST(Diagnosis, NotYetValidBadCertificate) {
  ProbeFacts f = asked_and_sent();
  f.client_cert->not_yet_valid = true;
  f.fatal_alert = server_alert(42);
  EXPECT_TRUE(any_hint_contains(diagnose(f), "not valid before"));
}

TEST(Diagnosis, CertificateProblemAlertWithoutOurCertificateIsRequired) {
  ProbeFacts f = handshake_done();
  f.client_cert_requested = true;
  f.fatal_alert = server_alert(42, true, false);
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_required);
}

TEST(Diagnosis, CertificateProblemAlertWithoutAnyRequestIsTls) {
  ProbeFacts f = handshake_done();
  f.handshake_completed = false;
  f.fatal_alert = server_alert(49, false, false);
  EXPECT_EQ(diagnose(f).verdict, Verdict::tls_handshake_failure);
}

TEST(Diagnosis, DecryptErrorAfterOurCertificateVerifyIsRejected) {
  ProbeFacts f = asked_and_sent();
  f.fatal_alert = server_alert(51);
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_rejected);
  ProbeFacts g = handshake_done();
  g.fatal_alert = server_alert(51, false, false);
  EXPECT_EQ(diagnose(g).verdict, Verdict::tls_handshake_failure);
}

TEST(Diagnosis, ProtocolVersionAndOtherAlertClassesAreTls) {
  for (int code : {70, 71, 86, 112, 120, 10, 20, 47, 50, 80, 200}) {
    ProbeFacts f = handshake_done();
    f.handshake_completed = false;
    f.fatal_alert = server_alert(code, false, false);
    Diagnosis d = diagnose(f);
    EXPECT_EQ(d.verdict, Verdict::tls_handshake_failure) << code;
    if (code == 70) {
      EXPECT_TRUE(any_hint_contains(d, "--tls-min"));
    }
  }
}

TEST(Diagnosis, OurOwnAlertOnAnUntrustedServerIsServerCertUntrusted) {
  ProbeFacts f = handshake_done();
  f.handshake_completed = false;
  f.verify_error = "unable to get local issuer certificate";
  f.verify_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
  AlertRecord a = server_alert(48, false, false);
  a.from = Side::client;  // we sent unknown_ca: about *their* certificate
  f.fatal_alert = a;
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::server_cert_untrusted);
  EXPECT_TRUE(any_hint_contains(d, "--cacert"));
}

TEST(Diagnosis, ServerCertUntrustedKinds) {
  struct Case {
    long code;
    const char* text;
    const char* hint;
  } cases[] = {
      {X509_V_ERR_CERT_HAS_EXPIRED, "certificate has expired", "expired on 2025-01-02"},
      {X509_V_ERR_HOSTNAME_MISMATCH, "hostname mismatch", "DNS:other.example"},
      {X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT, "self-signed certificate", "--cacert"},
      {X509_V_ERR_CERT_NOT_YET_VALID, "certificate is not yet valid", "clocks"},
  };
  for (const auto& c : cases) {
    ProbeFacts f = handshake_done();
    f.handshake_completed = false;
    f.verify_error = c.text;
    f.verify_code = c.code;
    f.verify_error_depth = 0;
    CertificateSummary s;
    s.subject = "CN=api.example";
    s.not_after = "2025-01-02T00:00:00Z";
    s.subject_alt_names = {"DNS:other.example"};
    f.server_cert = s;
    Diagnosis d = diagnose(f);
    EXPECT_EQ(d.verdict, Verdict::server_cert_untrusted) << c.text;
    EXPECT_NE(d.summary.find(c.text), std::string::npos);
    EXPECT_TRUE(any_hint_contains(d, c.hint)) << c.text;
  }
}

TEST(Diagnosis, InsecureIgnoresVerifyErrorButSaysSo) {
  ProbeFacts f = with_status(asked_and_sent(), 200, "OK");
  f.insecure = true;
  f.verify_error = "self-signed certificate";
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::ok);
  EXPECT_TRUE(any_hint_contains(d, "NOT verified"));
}

TEST(Diagnosis, NotTlsPeer) {
  ProbeFacts f = handshake_done();
  f.handshake_completed = false;
  f.peer_not_tls = true;
  f.tls_error = "wrong version number";
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::tls_handshake_failure);
  EXPECT_NE(d.summary.find("did not answer in TLS"), std::string::npos);
}

TEST(Diagnosis, SilentCloseDuringHandshake) {
  ProbeFacts f = handshake_done();
  f.handshake_completed = false;
  f.peer_closed_during_handshake = true;
  EXPECT_EQ(diagnose(f).verdict, Verdict::tls_handshake_failure);
  f.client_cert_requested = true;
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_required);
  f.client_cert_sent = true;
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_rejected);
}

TEST(Diagnosis, NginxNoCertificatePage) {
  ProbeFacts f = handshake_done();
  f.client_cert_requested = true;
  f.empty_certificate_sent = true;
  f = with_status(f, 400, "Bad Request",
                  "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>");
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_NE(d.summary.find("nginx"), std::string::npos);
}

TEST(Diagnosis, NginxCertificateErrorPage) {
  ProbeFacts f = with_status(asked_and_sent(), 400, "Bad Request",
                             "<html>\r\n<head><title>400 The SSL certificate error</title></head>");
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_TRUE(any_hint_contains(d, "client SSL certificate verify error"));
}

TEST(Diagnosis, Plain400IsHttpError) {
  ProbeFacts f = asked_and_sent();
  f.issuer_in_acceptable_ca_names = true;  // nothing says the server could not verify our certificate
  EXPECT_EQ(diagnose(with_status(f, 400, "Bad Request", "bad json")).verdict, Verdict::http_error);
}

// ---- issue 9: application-level rejections ("optional" client auth, the application decides)

TEST(Diagnosis, RefusalAfterCertificateFromUnlistedIssuerIsRejected) {
  for (int status : {400, 401, 403}) {
    Diagnosis d = diagnose(with_status(asked_and_sent(), status, "Unauthorized", "nope"));
    EXPECT_EQ(d.verdict, Verdict::client_cert_rejected) << status;
    EXPECT_NE(d.summary.find("let the handshake finish"), std::string::npos) << d.summary;
    EXPECT_NE(d.summary.find("application refused it"), std::string::npos) << d.summary;
    EXPECT_NE(d.summary.find("\"CN=Contractors CA\" is not among the CAs the server listed"), std::string::npos)
        << d.summary;
    EXPECT_TRUE(any_hint_contains(d, "rejectUnauthorized: false")) << status;
    EXPECT_TRUE(any_hint_contains(d, "carries no chain certificates")) << status;
  }
}

TEST(Diagnosis, RefusalAfterExpiredOrWrongPurposeCertificateIsRejected) {
  ProbeFacts expired = asked_and_sent();
  expired.issuer_in_acceptable_ca_names = true;
  expired.client_cert->expired = true;
  Diagnosis d = diagnose(with_status(expired, 401, "Unauthorized"));
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_NE(d.summary.find("expired on 2027-03-01"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "get it renewed"));

  ProbeFacts not_yet = asked_and_sent();
  not_yet.issuer_in_acceptable_ca_names = true;
  not_yet.client_cert->not_yet_valid = true;
  EXPECT_EQ(diagnose(with_status(not_yet, 403, "Forbidden")).verdict, Verdict::client_cert_rejected);

  ProbeFacts server_only = asked_and_sent();
  server_only.issuer_in_acceptable_ca_names = true;
  server_only.client_cert->has_client_auth_eku = false;
  Diagnosis e = diagnose(with_status(server_only, 403, "Forbidden"));
  EXPECT_EQ(e.verdict, Verdict::client_cert_rejected);
  EXPECT_TRUE(any_hint_contains(e, "clientAuth"));
}

TEST(Diagnosis, HaproxyCertificateErrorStatusGivesTheEvidence) {
  Diagnosis d = diagnose(with_status(asked_and_sent(), 495, "SSL Certificate Error"));
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_NE(d.summary.find("495"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("not among the CAs the server listed"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "carries no chain certificates"));
}

TEST(Diagnosis, RefusalWhoseBodyNamesTheCertificateIsRejected) {
  ProbeFacts f = asked_and_sent();
  f.issuer_in_acceptable_ca_names = true;
  f = with_status(f, 401, "Unauthorized",
                  "Sorry, but you need a valid client certificate: CERT_REVOKED\nmore text");
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_NE(d.summary.find("the response says \"Sorry, but you need a valid client certificate: CERT_REVOKED\""),
            std::string::npos)
      << d.summary;
  EXPECT_EQ(d.summary.find("more text"), std::string::npos) << d.summary;
}

TEST(Diagnosis, PageThatShowsTheAcceptedCertificateIsNotAComplaint) {
  ProbeFacts f = asked_and_sent();
  f.issuer_in_acceptable_ca_names = true;
  f = with_status(f, 403, "Forbidden", "403 Forbidden\nclient certificate: CN=alice,O=Corp\nclient certificate verified: yes\ntls: TLSv1.3");
  EXPECT_EQ(diagnose(f).verdict, Verdict::http_error);
}

TEST(Diagnosis, RefusalRulesThatMustNotFire) {
  // A 403 after a certificate from a listed CA, valid, clientAuth: authorization.
  ProbeFacts listed = asked_and_sent();
  listed.issuer_in_acceptable_ca_names = true;
  EXPECT_EQ(diagnose(with_status(listed, 403, "Forbidden", "not for you")).verdict, Verdict::http_error);
  // A 404 or 500 is never about the certificate, whatever its issuer.
  EXPECT_EQ(diagnose(with_status(asked_and_sent(), 404, "Not Found")).verdict, Verdict::http_error);
  EXPECT_EQ(diagnose(with_status(asked_and_sent(), 500, "Internal Server Error")).verdict, Verdict::http_error);
  // The server never asked and we sent nothing: a 401 is plain HTTP auth.
  EXPECT_EQ(diagnose(with_status(handshake_done(), 401, "Unauthorized")).verdict, Verdict::http_error);
}

TEST(Diagnosis, RefusalWithAnEmptyCaListAndNothingElseKnownHintsAtOptionalAuth) {
  ProbeFacts f = asked_and_sent();
  f.acceptable_ca_names.clear();
  f.issuer_in_acceptable_ca_names.reset();
  Diagnosis d = diagnose(with_status(f, 401, "Unauthorized", "go away"));
  EXPECT_EQ(d.verdict, Verdict::http_error);
  EXPECT_TRUE(any_hint_contains(d, "optional client auth may be in play"));
}

TEST(Diagnosis, RefusalWithoutOurCertificateIsRequired) {
  ProbeFacts f = handshake_done();
  f.client_cert_requested = true;
  f.empty_certificate_sent = true;
  for (int status : {400, 401, 403, 496}) {
    EXPECT_EQ(diagnose(with_status(f, status, "x")).verdict, Verdict::client_cert_required) << status;
  }
}

// ---- issue 9: a silent close after the TLS 1.3 handshake (GnuTLS, node with rejectUnauthorized: true)

ProbeFacts closed_after_handshake(ProbeFacts f) {
  f.closed_before_response = true;
  f.http_error = "connection closed before any response was received";  // what the parser says then
  return f;
}

TEST(Diagnosis, SilentCloseAfterHandshakeWithoutCertificateIsRequired) {
  ProbeFacts f = handshake_done();
  f.client_cert_requested = true;
  f.empty_certificate_sent = true;
  Diagnosis d = diagnose(closed_after_handshake(f));
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_NE(d.summary.find("without an alert"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("right after the TLS handshake"), std::string::npos) << d.summary;
  f.reset_after_request = true;
  Diagnosis r = diagnose(closed_after_handshake(f));
  EXPECT_EQ(r.verdict, Verdict::client_cert_required);
  EXPECT_NE(r.summary.find("reset the connection"), std::string::npos) << r.summary;
}

TEST(Diagnosis, SilentCloseAfterHandshakeWithUnverifiableCertificateIsRejected) {
  Diagnosis d = diagnose(closed_after_handshake(asked_and_sent()));
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_NE(d.summary.find("without an alert"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("not among the CAs"), std::string::npos) << d.summary;
  ProbeFacts expired = asked_and_sent();
  expired.issuer_in_acceptable_ca_names = true;
  expired.client_cert->expired = true;
  EXPECT_EQ(diagnose(closed_after_handshake(expired)).verdict, Verdict::client_cert_rejected);
}

TEST(Diagnosis, SilentCloseAfterHandshakeThatPointsNowhereStaysProtocolError) {
  ProbeFacts good = asked_and_sent();
  good.issuer_in_acceptable_ca_names = true;
  EXPECT_EQ(diagnose(closed_after_handshake(good)).verdict, Verdict::protocol_error);
  EXPECT_EQ(diagnose(closed_after_handshake(handshake_done())).verdict, Verdict::protocol_error);
}

TEST(Diagnosis, SilentCloseInsideTheHandshakeAfterOurCertificateIsRejectedWithoutMoreEvidence) {
  ProbeFacts f = asked_and_sent();
  f.issuer_in_acceptable_ca_names = true;
  f.handshake_completed = false;
  f.peer_closed_during_handshake = true;
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_NE(d.summary.find("during the TLS handshake without an alert"), std::string::npos) << d.summary;
}

// ---- issue 9: what other clients would do

TEST(Diagnosis, OtherClientsWouldSend) {
  EXPECT_EQ(other_clients_would_send(asked_and_sent()), std::optional<bool>(false));
  ProbeFacts listed = asked_and_sent();
  listed.issuer_in_acceptable_ca_names = true;
  EXPECT_EQ(other_clients_would_send(listed), std::optional<bool>(true));
  ProbeFacts empty_list = asked_and_sent();
  empty_list.acceptable_ca_names.clear();
  empty_list.issuer_in_acceptable_ca_names.reset();
  EXPECT_EQ(other_clients_would_send(empty_list), std::optional<bool>(true));
  EXPECT_EQ(other_clients_would_send(handshake_done()), std::nullopt);  // never asked
  ProbeFacts none = asked_and_sent();
  none.identity_configured = false;
  none.client_cert.reset();
  EXPECT_EQ(other_clients_would_send(none), std::nullopt);
}

TEST(Diagnosis, CurlWorksButStrictClientsWouldNot) {
  Diagnosis ok = diagnose(with_status(asked_and_sent(), 200, "OK"));
  EXPECT_EQ(ok.verdict, Verdict::ok);
  EXPECT_TRUE(any_hint_contains(ok, "curl works but your Java/Go/iOS app will not"));
  EXPECT_TRUE(any_hint_contains(ok, "--as strict"));
  ProbeFacts rejected = asked_and_sent();
  rejected.fatal_alert = server_alert(48);
  EXPECT_TRUE(any_hint_contains(diagnose(rejected), "would not even send this certificate"));
  ProbeFacts listed = with_status(asked_and_sent(), 200, "OK");
  listed.issuer_in_acceptable_ca_names = true;
  EXPECT_FALSE(any_hint_contains(diagnose(listed), "Java"));
}

// ---- issue 9: 421 and redirects

TEST(Diagnosis, MisdirectedRequestNamesTheSniWeSent) {
  ProbeFacts ip = with_status(asked_and_sent(), 421, "Misdirected Request");
  ip.issuer_in_acceptable_ca_names = true;
  ip.host = "127.0.0.1";
  Diagnosis d = diagnose(ip);
  EXPECT_EQ(d.verdict, Verdict::http_error);
  EXPECT_TRUE(any_hint_contains(d, "no SNI (the URL's host is an IP address)"));
  EXPECT_TRUE(any_hint_contains(d, "--resolve NAME:443:ADDRESS"));
  ProbeFacts named = ip;
  named.sni = "api.example";
  EXPECT_TRUE(any_hint_contains(diagnose(named), "SNI \"api.example\""));
  EXPECT_TRUE(any_hint_contains(diagnose(named), "--servername"));
}

TEST(Diagnosis, RedirectShowsItsLocation) {
  ProbeFacts f = with_status(asked_and_sent(), 302, "Found");
  f.issuer_in_acceptable_ca_names = true;
  f.response_headers = {{"Content-Length", "0"}, {"location", "https://sso.example/login"}};
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::ok);
  EXPECT_NE(d.summary.find("redirecting to https://sso.example/login"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "login or error page"));
  EXPECT_EQ(response_header(f, "Location"), std::optional<std::string>("https://sso.example/login"));
}

TEST(Diagnosis, ForbiddenAfterAcceptedCertificateIsAuthorization) {
  ProbeFacts f = asked_and_sent();
  f.issuer_in_acceptable_ca_names = true;
  Diagnosis d = diagnose(with_status(f, 403, "Forbidden"));
  EXPECT_EQ(d.verdict, Verdict::http_error);
  EXPECT_NE(d.summary.find("accepted"), std::string::npos);
  EXPECT_TRUE(any_hint_contains(d, "authorization"));
  EXPECT_TRUE(any_hint_contains(d, "-1206"));
}

TEST(Diagnosis, ApachePostHandshakeAuthenticationPage) {
  ProbeFacts f = handshake_done();
  Diagnosis d =
      diagnose(with_status(f, 403, "Forbidden", "<p>Cannot perform Post-Handshake Authentication.<br />"));
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_TRUE(any_hint_contains(d, "HTTP/2"));
}

TEST(Diagnosis, ForbiddenAfterPostHandshakeRequestWithoutCertificateIsRequired) {
  ProbeFacts f = handshake_done();
  f.identity_configured = false;
  f.client_cert.reset();
  f.client_cert_requested = true;
  f.cert_request_post_handshake = true;
  f.empty_certificate_sent = true;
  Diagnosis d = diagnose(with_status(f, 403, "Forbidden"));
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_NE(d.summary.find("after the handshake"), std::string::npos);
}

TEST(Diagnosis, NginxInternalStatusCodes) {
  EXPECT_EQ(diagnose(with_status(handshake_done(), 496)).verdict, Verdict::client_cert_required);
  EXPECT_EQ(diagnose(with_status(asked_and_sent(), 495)).verdict, Verdict::client_cert_rejected);
}

TEST(Diagnosis, OkVariants) {
  Diagnosis d = diagnose(with_status(asked_and_sent(), 200, "OK"));
  EXPECT_EQ(d.verdict, Verdict::ok);
  EXPECT_NE(d.summary.find("client authentication succeeded"), std::string::npos);

  ProbeFacts never_asked = with_status(handshake_done(), 204);
  Diagnosis n = diagnose(never_asked);
  EXPECT_EQ(n.verdict, Verdict::ok);
  EXPECT_TRUE(any_hint_contains(n, "never asked"));

  ProbeFacts optional = handshake_done();
  optional.identity_configured = false;
  optional.client_cert.reset();
  optional.client_cert_requested = true;
  EXPECT_EQ(diagnose(with_status(optional, 302, "Found")).verdict, Verdict::ok);
}

TEST(Diagnosis, ExpiringSoonIsMentionedOnSuccess) {
  ProbeFacts f = with_status(asked_and_sent(), 200, "OK");
  f.client_cert->days_left = 5;
  EXPECT_TRUE(any_hint_contains(diagnose(f), "5 days left"));
}

TEST(Diagnosis, EmptyCaListHint) {
  ProbeFacts f = handshake_done();
  f.client_cert_requested = true;
  f.fatal_alert = server_alert(116);
  Diagnosis d = diagnose(f);
  EXPECT_TRUE(any_hint_contains(d, "listed no acceptable CAs"));
  EXPECT_TRUE(any_hint_contains(d, "No CAs known to server for verification"));
}

TEST(Diagnosis, ProtocolErrors) {
  ProbeFacts malformed = handshake_done();
  malformed.http_error = "not an HTTP response";
  EXPECT_EQ(diagnose(malformed).verdict, Verdict::protocol_error);

  ProbeFacts closed = handshake_done();
  closed.closed_before_response = true;
  Diagnosis d = diagnose(closed);
  EXPECT_EQ(d.verdict, Verdict::protocol_error);
  EXPECT_NE(d.summary.find("closed the connection"), std::string::npos);

  ProbeFacts reset = asked_and_sent();
  reset.reset_after_request = true;
  Diagnosis r = diagnose(reset);
  EXPECT_EQ(r.verdict, Verdict::protocol_error);
  EXPECT_TRUE(any_hint_contains(r, "TLS 1.3"));
}

TEST(Diagnosis, StatusWithBodyShortOfContentLengthIsProtocolError) {
  ProbeFacts f = with_status(asked_and_sent(), 200, "OK", "partial");
  f.http_error = "connection closed before the response was complete (got 16 of 1000 body bytes)";
  Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::protocol_error);
  EXPECT_NE(d.summary.find("16 of 1000"), std::string::npos);
  // A page that names the certificate problem still wins, even when cut short.
  ProbeFacts nginx =
      with_status(handshake_done(), 400, "Bad Request", "<title>400 No required SSL certificate was sent");
  nginx.http_error = "connection closed before the response was complete";
  EXPECT_EQ(diagnose(nginx).verdict, Verdict::client_cert_required);
}

TEST(Diagnosis, IsDeterministic) {
  ProbeFacts f = asked_and_sent();
  f.fatal_alert = server_alert(48);
  Diagnosis a = diagnose(f);
  Diagnosis b = diagnose(f);
  EXPECT_EQ(a.summary, b.summary);
  EXPECT_EQ(a.hints, b.hints);
}

// ---- HTTP/2

ProbeFacts over_h2() {
  ProbeFacts f = asked_and_sent();
  f.alpn = "h2";
  f.alpn_offered = {"h2", "http/1.1"};
  f.http_version = "2";
  return f;
}

constexpr const char* kH2Hint =
    "this path asks for a client certificate after the handshake, which HTTP/2 cannot do; browsers and "
    "HTTP/2-only clients will fail here: move client auth to the virtual host or serve this path over "
    "HTTP/1.1";

// Apache mod_http2 with a per-location SSLVerifyClient: the request over HTTP/2, no CertificateRequest.
ProbeFacts refused_over_h2() {
  ProbeFacts f = handshake_done();
  f.alpn = "h2";
  f.alpn_offered = {"h2", "http/1.1"};
  f.http_version = "2";
  f.request_line = "GET /secure/ HTTP/2";
  f.h2_error = H2ErrorRecord{0xd, "HTTP_1_1_REQUIRED", Side::server, false};
  f.http_error = "the server sent RST_STREAM (HTTP_1_1_REQUIRED) before any response";
  return f;
}

// No retry (--no-h1-retry): the server wanted a certificate it could not ask for.
TEST(DiagnoseH2, Http11RequiredWithoutRetryIsClientCertRequired) {
  const Diagnosis d = diagnose(refused_over_h2());
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_NE(d.summary.find("RST_STREAM HTTP_1_1_REQUIRED (0xd)"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("cannot ask for it over HTTP/2"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, kH2Hint));
  EXPECT_TRUE(any_hint_contains(d, "did not retry over HTTP/1.1 (--no-h1-retry)"));
  // Not the "never asked for one" hint: the server wanted to ask and could not.
  EXPECT_FALSE(any_hint_contains(d, "never asked for one"));
}

TEST(DiagnoseH2, Http11RequiredByGoawayWithOnlyH2OfferedSaysHttp11WasNotOffered) {
  ProbeFacts f = refused_over_h2();
  f.alpn_offered = {"h2"};
  f.h2_error->goaway = true;
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_NE(d.summary.find("GOAWAY HTTP_1_1_REQUIRED"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "HTTP/1.1 was not offered (h2)"));
}

// Apache's 403 page over HTTP/2 is the same situation as HTTP_1_1_REQUIRED.
TEST(DiagnoseH2, ApachePostHandshakePageOverHttp2IsTheSameRefusal) {
  ProbeFacts f = refused_over_h2();
  f.h2_error.reset();
  f.http_error.reset();
  f = with_status(f, 403, "Forbidden", "<p>Cannot perform Post-Handshake Authentication.<br />");
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_NE(d.summary.find("cannot ask for it over HTTP/2"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("HTTP 403"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, kH2Hint));
}

// After a retry the usual fields are the HTTP/1.1 retry's: its verdict, and the HTTP/2 refusal as evidence.
ProbeFacts retried(ProbeFacts retry) {
  retry.alpn = "http/1.1";
  retry.alpn_offered = {"http/1.1"};
  retry.http_version = "1.1";
  retry.request_line = "GET /secure/ HTTP/1.1";
  H2Refusal r;
  r.error = H2ErrorRecord{0xd, "HTTP_1_1_REQUIRED", Side::server, false};
  r.request_line = "GET /secure/ HTTP/2";
  r.connected_address = "10.0.0.12:443";
  r.tls_version = "TLSv1.3";
  r.ms = 12.5;
  retry.h2_refusal = r;
  return retry;
}

ProbeFacts asked_after_handshake_and_sent() {
  ProbeFacts f = asked_and_sent();
  f.cert_request_in_handshake = false;
  f.cert_request_post_handshake = true;
  f.issuer_in_acceptable_ca_names = true;
  return f;
}

TEST(DiagnoseH2, RetryOverHttp11GoodCertificateIsOkWithTheHttp2Hint) {
  const Diagnosis d = diagnose(retried(with_status(asked_after_handshake_and_sent(), 200, "OK")));
  EXPECT_EQ(d.verdict, Verdict::ok);
  EXPECT_NE(d.summary.find("client authentication succeeded"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("refused HTTP/2 for this path with RST_STREAM HTTP_1_1_REQUIRED"),
            std::string::npos)
      << d.summary;
  EXPECT_TRUE(any_hint_contains(d, kH2Hint));
  EXPECT_TRUE(any_hint_contains(d, "--no-h1-retry reports what HTTP/2-only clients get"));
}

TEST(DiagnoseH2, RetryOverHttp11WithoutCertificateIsTheRetrysClientCertVerdict) {
  ProbeFacts f = handshake_done();
  f.identity_configured = false;
  f.client_cert.reset();
  f.client_cert_requested = true;
  f.cert_request_post_handshake = true;
  f.empty_certificate_sent = true;
  f.fatal_alert = AlertRecord{116, "certificate_required", Side::server, true, false, true};
  f.closed_before_response = true;
  const Diagnosis d = diagnose(retried(f));
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_NE(d.summary.find("certificate_required"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, kH2Hint));
}

TEST(DiagnoseH2, RetryOverHttp11OtherCaIsTheRetrysRejection) {
  ProbeFacts f = asked_after_handshake_and_sent();
  f.issuer_in_acceptable_ca_names = false;
  f.fatal_alert = AlertRecord{48, "unknown_ca", Side::server, true, true, true};
  const Diagnosis d = diagnose(retried(f));
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_TRUE(any_hint_contains(d, kH2Hint));
}

// Without a retry none of the retry's words appear.
TEST(DiagnoseH2, NoRetryNoRetryNotes) {
  const Diagnosis d = diagnose(with_status(asked_and_sent(), 200, "OK"));
  EXPECT_EQ(d.summary.find("HTTP/2"), std::string::npos) << d.summary;
  EXPECT_FALSE(any_hint_contains(d, "HTTP/2 cannot do"));
}

// The text report shows both attempts: the refused HTTP/2 one in its own section, then the retry's.
TEST(DiagnoseH2, TextReportPrintsBothAttempts) {
  ProbeResult r;
  r.facts = retried(with_status(asked_after_handshake_and_sent(), 200, "OK"));
  r.diagnosis = diagnose(r.facts);
  const std::string text = render_text(r, TextStyle{false, 120});
  const auto h2 = text.find("  HTTP/2  first attempt: GET /secure/ HTTP/2");
  const auto where = text.find("to 10.0.0.12:443 over TLSv1.3, ALPN h2");
  const auto refused = text.find("refused: RST_STREAM HTTP_1_1_REQUIRED (0xd) from the server");
  const auto retry = text.find("retried once over HTTP/1.1 on a new connection");
  const auto tls = text.find("\n  TLS     ");
  const auto http = text.find("GET /secure/ HTTP/1.1");
  EXPECT_NE(h2, std::string::npos) << text;
  EXPECT_NE(where, std::string::npos) << text;
  EXPECT_NE(refused, std::string::npos) << text;
  EXPECT_NE(text.find("no CertificateRequest: HTTP/2 cannot ask after the handshake"), std::string::npos)
      << text;
  EXPECT_NE(retry, std::string::npos) << text;
  EXPECT_NE(http, std::string::npos) << text;
  EXPECT_LT(h2, tls) << text;  // the first attempt before the retry's sections
  EXPECT_LT(tls, http) << text;
  EXPECT_NE(text.find("12.5 ms"), std::string::npos) << text;
  // Without a retry there is no such section.
  ProbeResult plain;
  plain.facts = with_status(asked_and_sent(), 200, "OK");
  plain.diagnosis = diagnose(plain.facts);
  EXPECT_EQ(render_text(plain, TextStyle{false, 120}).find("first attempt"), std::string::npos);
}

TEST(DiagnoseH2, GoawayProtocolErrorFromTheServer) {
  ProbeFacts f = over_h2();
  f.h2_error = H2ErrorRecord{0x1, "PROTOCOL_ERROR", Side::server, true};
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::protocol_error);
  EXPECT_NE(d.summary.find("GOAWAY PROTOCOL_ERROR (0x1)"), std::string::npos) << d.summary;
  EXPECT_FALSE(any_hint_contains(d, "HTTP/2 cannot do"));
}

TEST(DiagnoseH2, OurOwnProtocolErrorSaysTheServerBrokeHttp2) {
  ProbeFacts f = over_h2();
  f.h2_error = H2ErrorRecord{0x1, "PROTOCOL_ERROR", Side::client, true};
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::protocol_error);
  EXPECT_NE(d.summary.find("broke HTTP/2"), std::string::npos) << d.summary;
}

TEST(DiagnoseH2, RefusedStreamHintsARetry) {
  ProbeFacts f = over_h2();
  f.h2_error = H2ErrorRecord{0x7, "REFUSED_STREAM", Side::server, false};
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::protocol_error);
  EXPECT_TRUE(any_hint_contains(d, "retry"));
}

// A status over HTTP/2 is judged as over HTTP/1.1: nginx's 400 page, a 403 after a good certificate.
TEST(DiagnoseH2, StatusesReadAsOverHttp11) {
  ProbeFacts f = over_h2();
  f.client_cert_sent = false;
  f.empty_certificate_sent = true;
  f.http_status = 400;
  f.body_excerpt = "<center>No required SSL certificate was sent</center>";
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_required);
  ProbeFacts g = over_h2();
  g.issuer_in_acceptable_ca_names = true;
  g.http_status = 403;
  EXPECT_EQ(diagnose(g).verdict, Verdict::http_error);
}

// The alert wins over the HTTP/2 facts: a TLS verdict is a TLS verdict whatever ALPN said.
TEST(DiagnoseH2, AlertAfterHandshakeStillDecides) {
  ProbeFacts f = over_h2();
  f.client_cert_sent = false;
  f.fatal_alert = AlertRecord{116, "certificate_required", Side::server, true, false, true};
  f.closed_before_response = true;
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_required);
}

TEST(DiagnoseH2, NoApplicationProtocolNamesTheOffer) {
  ProbeFacts f = handshake_done();
  f.handshake_completed = false;
  f.alpn_offered = {"http/1.1"};
  f.fatal_alert = AlertRecord{120, "no_application_protocol", Side::server, true, false, false};
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::tls_handshake_failure);
  EXPECT_TRUE(any_hint_contains(d, "offered in ALPN (http/1.1)")) << d.hints.front();
  EXPECT_TRUE(any_hint_contains(d, "gRPC and HTTP/2-only servers need h2"));
}

// ---- gRPC (--grpc-health)

// A gRPC health check over h2 after a good client certificate, answered with grpc-status `status`.
ProbeFacts grpc_answer(int status, std::optional<int> serving = std::nullopt, std::string service = "") {
  ProbeFacts f = over_h2();
  f.alpn_offered = {"h2"};
  f.issuer_in_acceptable_ca_names = true;
  f.http_status = 200;
  f.response_headers = {{"content-type", "application/grpc"}};
  GrpcFacts g;
  g.service = std::move(service);
  g.status = status;
  g.status_name = grpc_status_name(status);
  if (serving) {
    g.serving_status = serving;
    const char* names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
    g.serving_status_name = names[*serving];
  }
  f.grpc = g;
  return f;
}

TEST(DiagnoseGrpc, OkAndServingIsOk) {
  const Diagnosis d = diagnose(grpc_answer(0, 1));
  EXPECT_EQ(d.verdict, Verdict::ok);
  EXPECT_NE(d.summary.find("TLS and client authentication succeeded"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("SERVING"), std::string::npos) << d.summary;
}

TEST(DiagnoseGrpc, OkButNotServingIsHttpErrorNamingTheServingStatus) {
  for (int serving : {0, 2, 3}) {
    const Diagnosis d = diagnose(grpc_answer(0, serving, "down"));
    EXPECT_EQ(d.verdict, Verdict::http_error) << serving;
    const char* names[] = {"UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"};
    EXPECT_NE(d.summary.find(std::string("the service \"down\" reports ") + names[serving]),
              std::string::npos)
        << d.summary;
    EXPECT_NE(d.summary.find("TLS and client authentication succeeded"), std::string::npos) << d.summary;
  }
  EXPECT_TRUE(any_hint_contains(diagnose(grpc_answer(0, 3)), "does not know this service name"));
  EXPECT_NE(diagnose(grpc_answer(0, 2)).summary.find("the server reports NOT_SERVING"), std::string::npos);
}

TEST(DiagnoseGrpc, EveryNonZeroStatusIsHttpErrorNamingIt) {
  const char* names[] = {
      "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
      "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
      "DATA_LOSS", "UNAUTHENTICATED"};
  for (int code = 1; code <= 16; ++code) {
    const Diagnosis d = diagnose(grpc_answer(code));
    EXPECT_EQ(d.verdict, Verdict::http_error) << code;
    EXPECT_NE(d.summary.find(names[code]), std::string::npos) << d.summary;
  }
}

TEST(DiagnoseGrpc, PermissionDeniedIsAnAuthorizationDecisionAboutTheSubject) {
  ProbeFacts f = grpc_answer(7);
  f.grpc->message = "policy says no";
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::http_error);
  EXPECT_NE(d.summary.find("PERMISSION_DENIED (7): \"policy says no\""), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "an authorization decision about CN=alice"));
  EXPECT_TRUE(any_hint_contains(d, "look at the server's policy for this certificate's subject"));
}

TEST(DiagnoseGrpc, UnauthenticatedAndUnimplementedHaveTheirHints) {
  const Diagnosis unauth = diagnose(grpc_answer(16));
  EXPECT_EQ(unauth.verdict, Verdict::http_error);
  EXPECT_TRUE(any_hint_contains(unauth, "authorization metadata"));
  const Diagnosis unimpl = diagnose(grpc_answer(12));
  EXPECT_EQ(unimpl.verdict, Verdict::http_error);
  EXPECT_NE(unimpl.summary.find("has no health service"), std::string::npos) << unimpl.summary;
  EXPECT_NE(unimpl.summary.find("the TLS and client-auth part succeeded"), std::string::npos)
      << unimpl.summary;
  EXPECT_TRUE(any_hint_contains(unimpl, "grpc.health.v1.Health is not registered"));
}

// TLS-level verdicts stay what they are when the probe is a gRPC one.
TEST(DiagnoseGrpc, TlsVerdictsAreNotMasked) {
  ProbeFacts none = grpc_answer(0, 1);
  none.client_cert_sent = false;
  none.http_status.reset();
  none.grpc = GrpcFacts{};
  none.fatal_alert = AlertRecord{116, "certificate_required", Side::server, true, false, true};
  EXPECT_EQ(diagnose(none).verdict, Verdict::client_cert_required);

  ProbeFacts other = grpc_answer(0, 1);
  other.http_status.reset();
  other.grpc = GrpcFacts{};
  other.fatal_alert = server_alert(48);  // unknown_ca
  EXPECT_EQ(diagnose(other).verdict, Verdict::client_cert_rejected);

  // grpc-core closes without an alert (docs/server-stacks.md): the silent-close rules still decide.
  ProbeFacts silent = over_h2();
  silent.grpc = GrpcFacts{};
  silent.client_cert_sent = false;
  silent.empty_certificate_sent = true;
  silent.closed_before_response = true;
  EXPECT_EQ(diagnose(silent).verdict, Verdict::client_cert_required);
  ProbeFacts silent_other = over_h2();  // issuer not among the CA names
  silent_other.grpc = GrpcFacts{};
  silent_other.closed_before_response = true;
  EXPECT_EQ(diagnose(silent_other).verdict, Verdict::client_cert_rejected);

  ProbeFacts untrusted = grpc_answer(0, 1);
  untrusted.handshake_completed = false;
  untrusted.grpc.reset();
  untrusted.http_status.reset();
  untrusted.verify_error = "unable to get local issuer certificate";
  untrusted.verify_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
  EXPECT_EQ(diagnose(untrusted).verdict, Verdict::server_cert_untrusted);
}

TEST(DiagnoseGrpc, HttpAnswersWithoutGrpcStatusAreJudgedAsHttp) {
  ProbeFacts page = grpc_answer(0);
  page.grpc = GrpcFacts{};
  page.client_cert_sent = false;
  page.empty_certificate_sent = true;
  page.http_status = 400;
  page.body_excerpt = "<center>No required SSL certificate was sent</center>";
  EXPECT_EQ(diagnose(page).verdict, Verdict::client_cert_required);

  ProbeFacts refused = grpc_answer(0);
  refused.grpc = GrpcFacts{};
  refused.http_status.reset();
  refused.h2_error = H2ErrorRecord{0x7, "REFUSED_STREAM", Side::server, false};
  EXPECT_EQ(diagnose(refused).verdict, Verdict::protocol_error);
}

TEST(DiagnoseGrpc, NotGrpcAndNoHttp2AreProtocolErrors) {
  ProbeFacts html = grpc_answer(0);
  html.grpc = GrpcFacts{};
  html.grpc->problem = "the response's content-type is \"text/html\", not application/grpc";
  const Diagnosis d = diagnose(html);
  EXPECT_EQ(d.verdict, Verdict::protocol_error);
  EXPECT_NE(d.summary.find("not gRPC: the response's content-type"), std::string::npos) << d.summary;

  ProbeFacts h1 = grpc_answer(0);
  h1.grpc = GrpcFacts{};
  h1.alpn.reset();
  h1.http_version = "1.1";
  h1.http_status = 200;
  const Diagnosis no_h2 = diagnose(h1);
  EXPECT_EQ(no_h2.verdict, Verdict::protocol_error);
  EXPECT_NE(no_h2.summary.find("did not agree to HTTP/2 (ALPN: none chosen)"), std::string::npos)
      << no_h2.summary;
  EXPECT_TRUE(any_hint_contains(no_h2, "a gRPC server selects h2 in ALPN"));
  h1.http_status = 400;  // a certificate page over HTTP/1.1 is still that
  h1.client_cert_sent = false;
  h1.body_excerpt = "No required SSL certificate was sent";
  EXPECT_EQ(diagnose(h1).verdict, Verdict::client_cert_required);
}

// --cert-status: the handshake ended in our status callback with bad_certificate_status_response.
ProbeFacts cert_status_failed(CertStatusProblem problem, std::string error) {
  ProbeFacts f = handshake_done();
  f.handshake_completed = false;
  f.request_sent = false;
  f.server_cert = CertificateSummary{};
  f.server_cert->subject = "CN=api.example";
  AlertRecord ours;
  ours.code = 113;
  ours.name = alert_name(113);
  ours.from = Side::client;
  ours.fatal = true;
  f.alerts = {ours};
  f.fatal_alert = ours;
  f.tls_error = "error:0A000148:SSL routines::invalid status response";
  f.server_cert_status = ServerCertStatus{};
  f.server_cert_status->checked = true;
  f.server_cert_status->problem = problem;
  f.server_cert_status->error = std::move(error);
  return f;
}

TEST(DiagnoseCertStatus, EachFailureIsAnUntrustedServerCertificateWithItsHint) {
  const std::vector<std::pair<CertStatusProblem, std::string>> cases = {
      {CertStatusProblem::not_stapled, "enable stapling"},
      {CertStatusProblem::revoked, "the CA revoked the server's certificate"},
      {CertStatusProblem::unknown, "the responder does not know this certificate"},
      {CertStatusProblem::bad_signature, "OCSP Signing usage"},
      {CertStatusProblem::expired, "refresh it before nextUpdate"},
      {CertStatusProblem::not_yet_valid, "refresh it before nextUpdate"},
      {CertStatusProblem::not_for_leaf, "a response for another certificate"},
      {CertStatusProblem::no_issuer, "intermediate CA"},
      {CertStatusProblem::not_successful, "check the responder"},
  };
  for (const auto& [problem, hint] : cases) {
    const Diagnosis d = diagnose(cert_status_failed(problem, "OCSP: the error"));
    EXPECT_EQ(d.verdict, Verdict::server_cert_untrusted) << cert_status_problem_name(problem);
    EXPECT_EQ(d.summary, "The server's certificate CN=api.example is not trusted: OCSP: the error.");
    EXPECT_TRUE(any_hint_contains(d, hint)) << cert_status_problem_name(problem);
  }
}

// As curl: -k does not skip --cert-status, and the hint says how to go on.
TEST(DiagnoseCertStatus, InsecureDoesNotSkipIt) {
  ProbeFacts f =
      cert_status_failed(CertStatusProblem::not_stapled, "no OCSP response stapled (--cert-status)");
  f.insecure = true;
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::server_cert_untrusted);
  EXPECT_NE(d.summary.find("no OCSP response stapled (--cert-status)"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "-k does not skip --cert-status"));
}

// A good status changes nothing; a check that never ran (the chain failed first) leaves the chain's verdict.
TEST(DiagnoseCertStatus, GoodOrUncheckedLeavesTheVerdictAlone) {
  ProbeFacts good = with_status(handshake_done(), 200, "OK");
  good.server_cert_status = ServerCertStatus{};
  good.server_cert_status->checked = true;
  good.server_cert_status->cert_status = "good";
  EXPECT_EQ(diagnose(good).verdict, Verdict::ok);

  ProbeFacts chain = handshake_done();
  chain.handshake_completed = false;
  chain.verify_error = "unable to get local issuer certificate";
  chain.verify_code = X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
  chain.server_cert_status = ServerCertStatus{};
  const Diagnosis d = diagnose(chain);
  EXPECT_EQ(d.verdict, Verdict::server_cert_untrusted);
  EXPECT_NE(d.summary.find("unable to get local issuer certificate"), std::string::npos) << d.summary;
}

}  // namespace
}  // namespace mtls_probe
