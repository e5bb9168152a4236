// TLS interception: something between us and the server ended our TLS connection and opened its own, so our
// client certificate was presented to it and never reached the server. Judged from the facts alone (pure):
// what the TLS peer did against what the server's answer, a direct probe or the user's expectation say.
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <string_view>

#include "mtls_probe/base/ascii.h"
#include "mtls_probe/diagnosis/diagnosis.h"

namespace mtls_probe {
namespace {

// The answer itself says the server wanted a client certificate (nginx's 400 pages; a page that names a
// missing or required client certificate).
bool answer_wants_certificate(const ProbeFacts& f) {
  if (!f.http_status) return false;
  for (std::string_view text : {std::string_view(f.http_reason), std::string_view(f.body_excerpt)}) {
    if (contains_ci(text, "No required SSL certificate was sent") ||
        contains_ci(text, "The SSL certificate error"))
      return true;
    if (contains_ci(text, "client certificate") &&
        (contains_ci(text, "required") || contains_ci(text, "missing") || contains_ci(text, "no valid")))
      return true;
  }
  return false;
}

// The chain ends in a CA that is not trusted here (an inspecting proxy's own CA, unless it was installed).
bool untrusted_issuer(const ProbeFacts& f) {
  const long c = f.verify_code;
  return f.verify_error &&
         (c == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN || c == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
          c == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE || c == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
          c == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
}

}  // namespace

InterceptionAssessment assess_interception(const ProbeFacts& f) {
  InterceptionAssessment a;
  if (!f.server_cert) return a;
  a.issuer = f.server_cert->issuer;
  const bool asked = f.client_cert_requested;
  if (f.direct_path && f.direct_path->reachable && !f.direct_path->server_cert_issuer.empty() &&
      f.direct_path->server_cert_issuer != f.server_cert->issuer) {
    a.evidence.push_back("through the proxy the server certificate is issued by " + f.server_cert->issuer +
                         "; probed directly, the same server's is issued by " +
                         f.direct_path->server_cert_issuer);
  }
  if (f.direct_path && f.direct_path->reachable && f.direct_path->client_cert_requested &&
      f.handshake_completed && !asked) {
    a.evidence.push_back(
        "probed directly, the server asks for a client certificate; through the proxy nothing "
        "asked for one");
  }
  if (f.handshake_completed && !asked && answer_wants_certificate(f)) {
    a.evidence.push_back(
        "the answer says a client certificate is required, yet the TLS peer never asked for one: "
        "what ended our TLS connection is not the server that answered");
  }
  if (f.expect_client_auth && f.handshake_completed && !asked) {
    a.evidence.push_back(
        "no CertificateRequest, though this target asks for a client certificate "
        "(--expect-client-auth)");
  }
  a.suspected = !a.evidence.empty();
  if (a.suspected && untrusted_issuer(f))
    a.evidence.push_back("the certificate we were shown is issued by " + f.server_cert->issuer +
                         ", which is not trusted here");
  return a;
}

bool wants_direct_comparison(const ProbeFacts& f) {
  if (!f.proxy || !f.proxy->tunnel_established || !f.server_cert) return false;
  const bool unasked = f.handshake_completed && !f.client_cert_requested;
  return f.verify_error.has_value() || (unasked && (f.identity_configured || f.expect_client_auth));
}

}  // namespace mtls_probe
