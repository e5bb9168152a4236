// What a revocation check of the client certificate found (inspect --check-revocation, and the probe's
// --check-revocation after the probe): per certificate of the identity, the OCSP responder's answer and the
// CRL's. Plain data, so that diagnosis and the printers are testable without sockets or OpenSSL.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace mtls_probe {

enum class RevocationMethod { ocsp, crl };
const char* revocation_method_name(RevocationMethod m);  // "ocsp", "crl"

enum class RevocationStatus {
  good,           // the responder / CRL says: not revoked
  revoked,        // revoked (reason and time when given)
  unknown,        // the responder does not know the certificate, or it cannot be asked (issuer unknown)
  unreachable,    // no usable answer: RevocationCheck::failure says why
  not_available,  // the certificate names no responder (AIA) / no CRL (CDP), and none was given
};
const char* revocation_status_name(RevocationStatus s);  // "good", ..., "not-available"

// Why there is no usable answer (status unreachable).
enum class RevocationFailure {
  bad_url,            // not an http:// URL (https:// and ldap:// are not fetched)
  dns,                // the name did not resolve
  refused,            // connection refused
  timeout,            // --revocation-timeout ran out (connect, send or read)
  io,                 // reset, closed early, another socket error
  http_status,        // the server answered, but not 200
  too_large,          // more than the bound (CRL 10 MiB, OCSP response 1 MiB)
  not_a_response,     // not a DER/PEM CRL or OCSP response
  responder_error,    // an OCSP response with a status other than successful (tryLater, unauthorized, ...)
  signature_invalid,  // signed by someone else than the issuer (or its delegated responder), or broken
  nonce_mismatch,     // the OCSP response carries another nonce than the one we sent
  stale,              // past its nextUpdate (or thisUpdate in the future), beyond the allowed skew
};
const char* revocation_failure_name(RevocationFailure f);  // "bad-url", "dns", ..., "stale"

struct RevocationCheck {
  RevocationMethod method = RevocationMethod::ocsp;
  RevocationStatus status = RevocationStatus::not_available;
  std::string source;                      // the URL asked, or the local CRL file; "" when none
  std::optional<std::string> reason;       // revoked: CRL reason name ("keyCompromise"); nullopt: none given
  std::optional<std::string> revoked_at;   // revoked: ISO 8601 UTC
  std::optional<std::string> this_update;  // of the answer used (ISO 8601 UTC)
  std::optional<std::string> next_update;
  std::optional<RevocationFailure> failure;  // unreachable: why
  std::string detail;                        // in words: "connection refused (127.0.0.1:9)", "HTTP 404", ...
  std::optional<int> http_status;            // what the server answered, when it answered
  bool nonce_verified = false;               // OCSP: our nonce came back in the signed response
  double ms = 0;                             // the request, connect to the last byte
};

struct CertificateRevocation {
  int depth = 0;  // 0: the leaf, 1: the certificate that follows it in the identity, ...
  std::string subject;
  std::string issuer;  // the issuer's name as the certificate says it
  std::string serial_hex;
  bool issuer_known = false;  // the issuer's certificate was found (the next in the chain, or --cacert)
  RevocationCheck ocsp;
  RevocationCheck crl;
};

struct RevocationFacts {
  std::vector<CertificateRevocation> certificates;  // leaf first, then the identity's intermediates
  long timeout_seconds = 10;                        // --revocation-timeout (each request)
  std::optional<std::string> ocsp_url;              // --ocsp-url (instead of every certificate's AIA)
  std::vector<std::string> crl_files;               // --crl (instead of fetching CDPs)
};

// The answer in words, for reports and summaries: "good", "revoked on 2026-12-01T10:00:00Z, keyCompromise",
// "unknown: the responder does not know this certificate", "unreachable (timeout): no answer within 2 s",
// "not available: the certificate names no CRL (CRL Distribution Points)".
std::string describe_revocation_answer(const RevocationCheck& c);

// The first check (leaf first, OCSP before CRL) that says revoked; nullptr when none does.
const RevocationCheck* first_revoked(const RevocationFacts& r);
// The leaf's answer a summary quotes: revoked or good from either method (OCSP first); nullptr when neither.
const RevocationCheck* leaf_answer(const RevocationFacts& r);

}  // namespace mtls_probe
