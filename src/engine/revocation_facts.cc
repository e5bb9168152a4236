// The names of the revocation facts (JSON and text use them as they are) and the two lookups diagnosis uses.
#include "mtls_probe/engine/revocation_facts.h"

namespace mtls_probe {

const char* revocation_method_name(RevocationMethod m) {
  return m == RevocationMethod::ocsp ? "ocsp" : "crl";
}

const char* revocation_status_name(RevocationStatus s) {
  switch (s) {
    case RevocationStatus::good: return "good";
    case RevocationStatus::revoked: return "revoked";
    case RevocationStatus::unknown: return "unknown";
    case RevocationStatus::unreachable: return "unreachable";
    case RevocationStatus::not_available: return "not-available";
  }
  return "unknown";
}

const char* revocation_failure_name(RevocationFailure f) {
  switch (f) {
    case RevocationFailure::bad_url: return "bad-url";
    case RevocationFailure::dns: return "dns";
    case RevocationFailure::refused: return "refused";
    case RevocationFailure::timeout: return "timeout";
    case RevocationFailure::io: return "io";
    case RevocationFailure::http_status: return "http-status";
    case RevocationFailure::too_large: return "too-large";
    case RevocationFailure::not_a_response: return "not-a-response";
    case RevocationFailure::responder_error: return "responder-error";
    case RevocationFailure::signature_invalid: return "signature-invalid";
    case RevocationFailure::nonce_mismatch: return "nonce-mismatch";
    case RevocationFailure::stale: return "stale";
  }
  return "io";
}

std::string describe_revocation_answer(const RevocationCheck& c) {
  switch (c.status) {
    case RevocationStatus::good: return "good";
    case RevocationStatus::revoked: {
      std::string s = "revoked";
      if (c.revoked_at) s += " on " + *c.revoked_at;
      if (c.reason) s += ", " + *c.reason;
      return s;
    }
    case RevocationStatus::unknown: return c.detail.empty() ? "unknown" : "unknown: " + c.detail;
    case RevocationStatus::unreachable: {
      std::string s = "unreachable";
      if (c.failure) s += std::string(" (") + revocation_failure_name(*c.failure) + ")";
      return c.detail.empty() ? s : s + ": " + c.detail;
    }
    case RevocationStatus::not_available:
      return c.detail.empty() ? "not available" : "not available: " + c.detail;
  }
  return "unknown";
}

const RevocationCheck* first_revoked(const RevocationFacts& r) {
  for (const CertificateRevocation& c : r.certificates) {
    if (c.ocsp.status == RevocationStatus::revoked) return &c.ocsp;
    if (c.crl.status == RevocationStatus::revoked) return &c.crl;
  }
  return nullptr;
}

const RevocationCheck* leaf_answer(const RevocationFacts& r) {
  if (r.certificates.empty()) return nullptr;
  const CertificateRevocation& leaf = r.certificates.front();
  for (const RevocationCheck* c : {&leaf.ocsp, &leaf.crl})
    if (c->status == RevocationStatus::revoked) return c;
  for (const RevocationCheck* c : {&leaf.ocsp, &leaf.crl})
    if (c->status == RevocationStatus::good) return c;
  return nullptr;
}

}  // namespace mtls_probe
