// Judging an identity: the facts -> findings (each with a hint from hint_text.h), the verdict, the summary.
// Pure: no files, no clock.
#include <fmt/format.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/diagnosis/hint_text.h"
#include "mtls_probe/inspect/inspect.h"

namespace mtls_probe::inspect {
namespace {

Finding finding(Severity s, std::string code, std::string message, std::string_view hint) {
  return Finding{s, std::move(code), std::move(message), std::string(hint)};
}

bool has_code(const std::vector<Finding>& v, std::string_view code) {
  return std::any_of(v.begin(), v.end(), [&](const Finding& f) { return f.code == code; });
}

std::string verify_hint(const VerificationFacts& v, const IdentityFacts& f) {
  switch (v.error_code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      return std::string(f.leaf_issuer_carried ? hints::kOtherIssuer.inspect
                                               : hints::kOtherIssuerOrMissingIntermediate.inspect);
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT: return std::string(hints::kOtherRoot.inspect);
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID: return std::string(hints::kVerifyDates.inspect);
    case X509_V_ERR_INVALID_PURPOSE: return std::string(hints::kVerifyPurpose.inspect);
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK: return fmt::format(hints::kVerifyTooWeak.inspect, v.security_level);
    default: return std::string(hints::kNotVerified.inspect);
  }
}

// Validity: not yet valid, expired, expiring within kExpiringSoonDays.
void check_validity(const CertificateFacts& c, const std::string& who, std::vector<Finding>& out) {
  const CertificateSummary& s = c.summary;
  if (s.not_yet_valid) {
    out.push_back(finding(Severity::error, "not-yet-valid",
                          fmt::format("{} is not valid before {} (in {})", who, date(s.not_before),
                                      plural(c.days_until_valid, "day")),
                          hints::kNotYetValid.inspect));
  } else if (s.expired) {
    out.push_back(
        finding(Severity::error, "expired",
                fmt::format("{} expired on {} ({} ago)", who, date(s.not_after), plural(-s.days_left, "day")),
                hints::kExpired.inspect));
  } else if (s.days_left < kExpiringSoonDays) {
    out.push_back(
        finding(Severity::warning, "expiring-soon",
                fmt::format("{} expires on {} (in {})", who, date(s.not_after), plural(s.days_left, "day")),
                fmt::format(hints::kExpiringSoon.inspect, date(s.not_after))));
  }
}

// Strength: the key's size, and (for an issued certificate) the signature's digest.
void check_strength(const CertificateFacts& c, const std::string& who, std::vector<Finding>& out) {
  const KeyFacts& k = c.public_key;
  if ((k.type == "RSA" || k.type == "RSA-PSS" || k.type == "DSA") && k.bits > 0 && k.bits < 2048) {
    out.push_back(finding(Severity::error, "weak-key",
                          fmt::format("{} has a {}-bit {} key", who, k.bits, k.type),
                          hints::kWeakRsaKey.inspect));
  } else if (k.type == "EC" && k.bits > 0 && k.bits < 256) {
    out.push_back(
        finding(k.bits < 224 ? Severity::error : Severity::warning, "weak-key",
                fmt::format("{} has a {}-bit EC key{}", who, k.bits, k.curve ? " (" + *k.curve + ")" : ""),
                hints::kWeakEcKey.inspect));
  }
  // A root's own signature is never checked (it is trusted as it is), so only issued certificates count.
  if (c.weak_signature_digest && !c.self_signed) {
    out.push_back(
        finding(Severity::error, "sha1-signature",
                fmt::format("{} is signed with {} ({})", who, c.signature_digest, c.signature_algorithm),
                hints::kWeakSignature.inspect));
  }
}

// What the leaf may be used for: clientAuth in the EKU, digitalSignature in the key usage.
void check_purpose(const CertificateFacts& leaf, std::vector<Finding>& out) {
  if (leaf.summary.has_client_auth_eku == false) {
    out.push_back(
        finding(Severity::error, "no-client-auth-eku",
                fmt::format("the certificate's extended key usage ({}) does not allow client authentication",
                            leaf.extended_key_usage ? join(*leaf.extended_key_usage, ", ") : ""),
                hints::kNoClientAuthEku.inspect));
  }
  if (leaf.key_usage && std::find(leaf.key_usage->begin(), leaf.key_usage->end(), "digitalSignature") ==
                            leaf.key_usage->end()) {
    out.push_back(finding(Severity::error, "no-client-auth-eku",
                          fmt::format("the certificate's key usage ({}) lacks digitalSignature, which a TLS "
                                      "client needs to sign the handshake",
                                      leaf.key_usage->empty() ? "none" : join(*leaf.key_usage, ", ")),
                          hints::kNoDigitalSignature.inspect));
  }
}

// The private key and the issuer, unless the loader already reported them.
void check_key_and_issuer(const IdentityFacts& f, std::vector<Finding>& out) {
  const CertificateFacts& leaf = *f.leaf;
  // A token read without its PIN shows no private key: unchecked (pin-not-given says so), not absent.
  const bool key_unseen = f.token && !f.token->pin_given;
  if (!f.private_key && !key_unseen && !has_code(out, "no-private-key")) {
    out.push_back(finding(Severity::error, "no-private-key",
                          fmt::format("'{}' holds no private key for the certificate", f.file),
                          hints::kNoPrivateKey.inspect));
  }
  if (f.key_matches == false && !has_code(out, "key-mismatch")) {
    out.push_back(finding(Severity::error, "key-mismatch", "the private key does not match the certificate",
                          hints::kKeyMismatch.inspect));
  }
  if (!leaf.self_signed && !f.leaf_issuer_carried) {
    out.push_back(finding(
        Severity::warning, "chain-incomplete",
        fmt::format("the issuer of the certificate ({}) is not carried in '{}'", leaf.summary.issuer, f.file),
        hints::kChainIncomplete.inspect));
  }
}

void check_verification(const IdentityFacts& f, std::vector<Finding>& out) {
  const VerificationFacts& v = *f.verification;
  std::string where;
  if (v.error_depth > 0 && !v.error_subject.empty()) {
    where = fmt::format(" (at depth {}: {})", v.error_depth, v.error_subject);
  }
  out.push_back(finding(Severity::error, "verify-failed",
                        fmt::format("the chain does not verify to '{}' for client authentication: {}{}",
                                    v.cacert, v.error.value_or("unknown error"), where),
                        verify_hint(v, f)));
}

void check_legacy(const Pkcs12Facts& p, std::vector<Finding>& out) {
  out.push_back(finding(Severity::warning, "legacy-pkcs12",
                        fmt::format("the PKCS#12 file uses legacy algorithms (certificates: {}; key: {})",
                                    p.cert_encryption.value_or("none"), p.key_encryption.value_or("none")),
                        hints::kLegacyPkcs12.inspect));
}

// --check-revocation: a revoked certificate is unusable; an answer that could not be had is a warning.
void check_revocation_answers(const RevocationFacts& r, std::vector<Finding>& out) {
  for (const CertificateRevocation& c : r.certificates) {
    const std::string who = c.depth == 0 ? "the certificate" : "chain certificate " + c.subject;
    for (const RevocationCheck* k : {&c.ocsp, &c.crl}) {
      const std::string by =
          k->method == RevocationMethod::ocsp ? "the OCSP responder " + k->source : "the CRL " + k->source;
      if (k->status == RevocationStatus::revoked) {
        out.push_back(
            finding(Severity::error, "revoked",
                    fmt::format("{} is revoked: {} says {}", who, by, describe_revocation_answer(*k)),
                    "a revoked certificate is refused by every server that checks revocation: have "
                    "it reissued (a new key, a new certificate) and replace the identity file"));
        break;  // once per certificate
      }
    }
    for (const RevocationCheck* k : {&c.ocsp, &c.crl}) {
      if (k->status != RevocationStatus::unreachable && k->status != RevocationStatus::unknown) continue;
      const bool unreachable = k->status == RevocationStatus::unreachable;
      out.push_back(
          finding(Severity::warning, unreachable ? "revocation-unreachable" : "revocation-unknown",
                  fmt::format("{}: {} {}", who, k->method == RevocationMethod::ocsp ? "OCSP" : "CRL",
                              describe_revocation_answer(*k)),
                  unreachable ? "servers that require a revocation answer (OCSP must-staple, "
                                "SSLOCSPEnable on, a CRL check) may refuse the certificate while "
                                "the responder or CRL server is unusable; --ocsp-url or --crl check "
                                "against another source"
                              : "the responder or CRL cannot vouch for this certificate: check that "
                                "it is the issuing CA's (--ocsp-url overrides the AIA)"));
    }
  }
}

}  // namespace

const char* severity_name(Severity s) {
  return s == Severity::error ? "error" : "warning";
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

// A token inspected without its PIN shows only public objects: the key is unchecked, not broken.
void check_token(const IdentityFacts& f, std::vector<Finding>& out) {
  const TokenSurvey& s = f.token->survey;
  if (f.identity_error || s.matching.size() != 1) return;
  if (!f.leaf)
    out.push_back(finding(Severity::error, "object-not-found",
                          "the token holds no certificate matching the URI", hints::kObjectNotFound.inspect));
  if (!f.token->pin_given && s.tokens[s.matching[0]].login_required)
    out.push_back(
        finding(Severity::warning, "pin-not-given",
                "without the PIN only the token's public objects are listed and the key is not checked",
                "Give --pin-env VAR or --pin-file FILE to check the key (one login)."));
}

std::vector<Finding> find_problems(const IdentityFacts& f) {
  std::vector<Finding> out;
  if (f.identity_error) {
    const IdentityProblem p = f.identity_error->problem;
    out.push_back(finding(Severity::error, identity_problem_name(p), f.identity_error->message,
                          hints::for_problem(p).inspect));
  }
  if (f.leaf) {
    check_validity(*f.leaf, "the certificate", out);
    check_strength(*f.leaf, "the certificate", out);
    for (const ChainEntry& e : f.chain) {
      if (!e.in_path) continue;
      check_validity(e.cert, "chain certificate " + e.cert.summary.subject, out);
      check_strength(e.cert, "chain certificate " + e.cert.summary.subject, out);
    }
    check_purpose(*f.leaf, out);
    check_key_and_issuer(f, out);
  }
  if (f.verification && !f.verification->verified) check_verification(f, out);
  if (f.pkcs12 && f.pkcs12->legacy) check_legacy(*f.pkcs12, out);
  if (f.token) check_token(f, out);
  if (f.revocation) check_revocation_answers(*f.revocation, out);
  std::stable_partition(out.begin(), out.end(),
                        [](const Finding& x) { return x.severity == Severity::error; });
  return out;
}

bool InspectResult::usable() const {
  return std::none_of(findings.begin(), findings.end(),
                      [](const Finding& f) { return f.severity == Severity::error; });
}

InspectResult make_result(IdentityFacts facts) {
  InspectResult r;
  r.findings = find_problems(facts);
  r.facts = std::move(facts);
  return r;
}

std::string summary(const InspectResult& r) {
  const auto errors = std::count_if(r.findings.begin(), r.findings.end(),
                                    [](const Finding& f) { return f.severity == Severity::error; });
  const auto warnings = static_cast<long>(r.findings.size()) - errors;
  if (errors > 0) {
    std::string s = "not usable for client authentication: " + r.findings.front().message;
    if (errors > 1) s += fmt::format(" (and {} more {})", errors - 1, errors == 2 ? "error" : "errors");
    return s;
  }
  std::string who = r.facts.leaf ? r.facts.leaf->summary.subject : r.facts.file;
  if (warnings > 0) {
    return fmt::format("{} is usable for client authentication, with {}: {}", who,
                       plural(warnings, "warning"), r.findings.front().message);
  }
  if (r.facts.leaf) {
    return fmt::format("{} is usable for client authentication ({} left)", who,
                       plural(r.facts.leaf->summary.days_left, "day"));
  }
  return who + " is usable for client authentication";
}

}  // namespace mtls_probe::inspect
