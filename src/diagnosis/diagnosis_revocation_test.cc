// The client certificate's revocation in the diagnosis: alert 44 certificate_revoked, nginx's 400 page and
// an accepted certificate, each with and without a --check-revocation answer beside it.
#include <gtest/gtest.h>

#include "diagnosis_test_support.h"
#include "mtls_probe/base/alerts.h"

namespace mtls_probe {
namespace {

ProbeFacts revocation_probe_facts() {
  ProbeFacts f;
  f.url = "https://api.example/";
  f.host = "api.example";
  f.identity_configured = true;
  CertificateSummary c;
  c.subject = "CN=alice";
  c.issuer = "CN=Corp CA";
  c.not_after = "2027-03-01T00:00:00Z";
  c.days_left = 98;
  f.client_cert = c;
  f.dns_attempted = f.connect_attempted = f.tls_attempted = true;
  f.connected_address = "10.0.0.12:443";
  f.client_cert_requested = f.cert_request_in_handshake = f.client_cert_sent = true;
  f.acceptable_ca_names = {"CN=Corp CA"};
  f.issuer_in_acceptable_ca_names = true;
  return f;
}

ProbeFacts revoked_alert_facts() {
  ProbeFacts f = revocation_probe_facts();
  AlertRecord a;
  a.code = 44;
  a.name = alert_name(44);
  a.fatal = true;
  a.after_client_certificate = true;
  f.alerts = {a};
  f.fatal_alert = a;
  return f;
}

RevocationFacts leaf_answer_facts(RevocationStatus ocsp, RevocationStatus crl) {
  CertificateRevocation c;
  c.subject = "CN=alice";
  c.issuer_known = true;
  c.ocsp.method = RevocationMethod::ocsp;
  c.ocsp.status = ocsp;
  c.ocsp.source = "http://ocsp.example/";
  c.crl.method = RevocationMethod::crl;
  c.crl.status = crl;
  for (RevocationCheck* k : {&c.ocsp, &c.crl}) {
    if (k->status != RevocationStatus::revoked) continue;
    k->revoked_at = "2026-12-01T10:00:00Z";
    k->reason = "keyCompromise";
  }
  if (crl == RevocationStatus::unreachable) {
    c.crl.failure = RevocationFailure::timeout;
    c.crl.detail = "no answer within 2 s";
  }
  RevocationFacts r;
  r.certificates = {c};
  return r;
}

TEST(DiagnosisRevocation, AlertSaysTheServerConsidersItRevokedWithoutACheck) {
  const Diagnosis d = diagnose(revoked_alert_facts());
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_NE(d.summary.find("alert 44 certificate_revoked"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("The server considers your certificate revoked."), std::string::npos) << d.summary;
  EXPECT_EQ(d.summary.find("responder"), std::string::npos) << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "must be reissued"));
}

TEST(DiagnosisRevocation, AlertWithTheResponderAgreeing) {
  ProbeFacts f = revoked_alert_facts();
  f.revocation = leaf_answer_facts(RevocationStatus::revoked, RevocationStatus::not_available);
  const Diagnosis d = diagnose(f);
  EXPECT_NE(d.summary.find("The OCSP responder agrees: revoked on 2026-12-01T10:00:00Z, keyCompromise."),
            std::string::npos)
      << d.summary;
}

TEST(DiagnosisRevocation, AlertWithTheCrlAgreeingWhenOcspHasNoAnswer) {
  ProbeFacts f = revoked_alert_facts();
  f.revocation = leaf_answer_facts(RevocationStatus::not_available, RevocationStatus::revoked);
  const Diagnosis d = diagnose(f);
  EXPECT_NE(d.summary.find("The CRL agrees: revoked on"), std::string::npos) << d.summary;
}

TEST(DiagnosisRevocation, AlertWhileTheResponderSaysGood) {
  ProbeFacts f = revoked_alert_facts();
  f.revocation = leaf_answer_facts(RevocationStatus::good, RevocationStatus::unreachable);
  const Diagnosis d = diagnose(f);
  EXPECT_NE(d.summary.find("The OCSP responder says good: the server's CRL may be stale or from another CA."),
            std::string::npos)
      << d.summary;
  EXPECT_TRUE(any_hint_contains(d, "SSLCARevocationFile"));
}

TEST(DiagnosisRevocation, AlertWhileTheCheckGotNoAnswer) {
  ProbeFacts f = revoked_alert_facts();
  f.revocation = leaf_answer_facts(RevocationStatus::unknown, RevocationStatus::unreachable);
  const Diagnosis d = diagnose(f);
  EXPECT_NE(d.summary.find("no answer"), std::string::npos) << d.summary;
  EXPECT_NE(d.summary.find("unreachable (timeout)"), std::string::npos) << d.summary;
}

TEST(DiagnosisRevocation, NginxCertificateErrorWithARevokedAnswerNamesRevocation) {
  ProbeFacts f = revocation_probe_facts();
  f.handshake_completed = f.request_sent = true;
  f.http_status = 400;
  f.http_reason = "Bad Request";
  f.body_excerpt = "<html>\r\n<head><title>400 The SSL certificate error</title></head>";
  EXPECT_FALSE(any_hint_contains(diagnose(f), "revoked"));
  f.revocation = leaf_answer_facts(RevocationStatus::revoked, RevocationStatus::not_available);
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_rejected);
  EXPECT_TRUE(any_hint_contains(d, "says your certificate is revoked (revoked on 2026-12-01T10:00:00Z"));
  EXPECT_TRUE(any_hint_contains(d, "ssl_crl"));
}

TEST(DiagnosisRevocation, AcceptedThoughRevokedSaysTheServerChecksNoRevocation) {
  ProbeFacts f = revocation_probe_facts();
  f.handshake_completed = f.request_sent = true;
  f.http_status = 200;
  f.revocation = leaf_answer_facts(RevocationStatus::good, RevocationStatus::good);
  EXPECT_FALSE(any_hint_contains(diagnose(f), "checks no revocation"));
  f.revocation = leaf_answer_facts(RevocationStatus::good, RevocationStatus::revoked);
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::ok);
  EXPECT_TRUE(any_hint_contains(d, "checks no revocation"));
}

TEST(DiagnosisRevocation, AnswerWords) {
  RevocationCheck c;
  c.status = RevocationStatus::revoked;
  EXPECT_EQ(describe_revocation_answer(c), "revoked");
  c.revoked_at = "2026-12-01T10:00:00Z";
  c.reason = "keyCompromise";
  EXPECT_EQ(describe_revocation_answer(c), "revoked on 2026-12-01T10:00:00Z, keyCompromise");
  c = RevocationCheck{};
  c.status = RevocationStatus::unreachable;
  c.failure = RevocationFailure::too_large;
  c.detail = "more than 10 bytes";
  EXPECT_EQ(describe_revocation_answer(c), "unreachable (too-large): more than 10 bytes");
  EXPECT_STREQ(revocation_status_name(RevocationStatus::not_available), "not-available");
  EXPECT_STREQ(revocation_failure_name(RevocationFailure::signature_invalid), "signature-invalid");
}

}  // namespace
}  // namespace mtls_probe
