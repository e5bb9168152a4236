#include "mtls_probe/engine/facts.h"

#include <strings.h>

namespace mtls_probe {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::setup: return "setup";
    case Phase::identity: return "identity";
    case Phase::dns: return "dns";
    case Phase::connect: return "connect";
    case Phase::proxy: return "proxy";
    case Phase::tls: return "tls";
    case Phase::http: return "http";
    case Phase::done: return "done";
  }
  return "unknown";
}

const char* identity_problem_name(IdentityProblem p) {
  switch (p) {
    case IdentityProblem::file_missing: return "file-missing";
    case IdentityProblem::file_unreadable: return "file-unreadable";
    case IdentityProblem::not_recognised: return "not-recognised";
    case IdentityProblem::wrong_password: return "wrong-password";
    case IdentityProblem::password_needed: return "password-needed";
    case IdentityProblem::legacy_unavailable: return "legacy-unavailable";
    case IdentityProblem::unsupported_algorithm: return "unsupported-algorithm";
    case IdentityProblem::no_private_key: return "no-private-key";
    case IdentityProblem::no_certificate: return "no-certificate";
    case IdentityProblem::key_mismatch: return "key-mismatch";
    case IdentityProblem::password_source: return "password-source";
    case IdentityProblem::pkcs11_module_not_found: return "pkcs11-module-not-found";
    case IdentityProblem::pkcs11_module_failed: return "pkcs11-module-failed";
    case IdentityProblem::token_absent: return "token-absent";
    case IdentityProblem::token_ambiguous: return "token-ambiguous";
    case IdentityProblem::pin_needed: return "pin-needed";
    case IdentityProblem::wrong_pin: return "wrong-pin";
    case IdentityProblem::pin_locked: return "pin-locked";
    case IdentityProblem::object_not_found: return "object-not-found";
    case IdentityProblem::key_cannot_sign: return "key-cannot-sign";
    case IdentityProblem::mechanism_unsupported: return "mechanism-unsupported";
    case IdentityProblem::signing_failed: return "signing-failed";
  }
  return "unknown";
}

const char* cert_status_problem_name(CertStatusProblem p) {
  switch (p) {
    case CertStatusProblem::none: return "none";
    case CertStatusProblem::not_stapled: return "not-stapled";
    case CertStatusProblem::malformed: return "malformed";
    case CertStatusProblem::not_successful: return "not-successful";
    case CertStatusProblem::bad_signature: return "bad-signature";
    case CertStatusProblem::no_issuer: return "no-issuer";
    case CertStatusProblem::not_for_leaf: return "not-for-leaf";
    case CertStatusProblem::expired: return "expired";
    case CertStatusProblem::not_yet_valid: return "not-yet-valid";
    case CertStatusProblem::revoked: return "revoked";
    case CertStatusProblem::unknown: return "unknown";
  }
  return "unknown";
}

std::optional<std::string> server_verify_error(const ProbeFacts& f) {
  if (f.verify_error) return f.verify_error;
  if (f.server_cert_status) return f.server_cert_status->error;
  return std::nullopt;
}

std::optional<std::string> response_header(const ProbeFacts& f, std::string_view name) {
  for (const auto& [key, value] : f.response_headers) {
    if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  }
  return std::nullopt;
}

bool refused_for_http1(const ProbeFacts& f) {
  if (f.http_version != std::optional<std::string>("2") || f.timed_out_in) return false;
  if (f.http_status) {
    return *f.http_status == 403 && f.body_excerpt.find(kApacheNoPhaPage) != std::string::npos;
  }
  constexpr std::uint32_t kHttp11Required = 0xd;
  return f.h2_error && f.h2_error->from == Side::server && f.h2_error->code == kHttp11Required &&
         f.body_bytes == 0;
}

ProbeFacts facts_for_h1_retry(const ProbeFacts& first, double refused_at_ms) {
  ProbeFacts f;
  // ---- setup and DNS: the retry shares them (same target, same address, no new lookup)
  f.url = first.url;
  f.insecure = first.insecure;
  f.identity_configured = first.identity_configured;
  f.no_cert = first.no_cert;
  f.client_cert = first.client_cert;
  f.client_chain_subjects = first.client_chain_subjects;
  f.legacy_pkcs12 = first.legacy_pkcs12;
  f.identity_source = first.identity_source;
  f.pkcs11 = first.pkcs11;
  f.warnings = first.warnings;
  f.host = first.host;
  f.port = first.port;
  f.path = first.path;
  f.dns_attempted = first.dns_attempted;
  f.resolved_by_override = first.resolved_by_override;
  f.addresses = first.addresses;
  f.dns_ms = first.dns_ms;
  f.client_behaviour = first.client_behaviour;
  f.proxy_bypassed_by = first.proxy_bypassed_by;
  f.expect_client_auth = first.expect_client_auth;
  if (first.proxy) {  // the retry goes through the same proxy: a new tunnel, its own facts
    f.proxy.emplace();
    f.proxy->url = first.proxy->url;
    f.proxy->source = first.proxy->source;
    f.proxy->host = first.proxy->host;
    f.proxy->port = first.proxy->port;
  }
  // ---- what the refused attempt showed
  H2Refusal r;
  r.error = first.h2_error;
  r.http_status = first.http_status;
  r.request_line = first.request_line;
  r.connected_address = first.connected_address.value_or("");
  r.tls_version = first.tls_version;
  r.client_cert_requested = first.client_cert_requested;
  r.cert_request_post_handshake = first.cert_request_post_handshake;
  r.renegotiation_requested = first.renegotiation_requested;
  r.client_cert_sent = first.client_cert_sent;
  r.ms = refused_at_ms;
  f.h2_refusal = std::move(r);
  return f;
}

}  // namespace mtls_probe
