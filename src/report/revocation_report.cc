// The revocation facts' one JSON form and text lines (revocation_report.h).
#include "mtls_probe/report/revocation_report.h"

#include <fmt/format.h>

#include "mtls_probe/report/report.h"

namespace mtls_probe {
namespace {

nlohmann::json opt_revocation_str(const std::optional<std::string>& s) {
  return s ? nlohmann::json(sanitize_utf8(*s)) : nlohmann::json(nullptr);
}

nlohmann::json revocation_check_json(const RevocationCheck& c) {
  return {
      {"status", revocation_status_name(c.status)},
      {"source", c.source.empty() ? nlohmann::json(nullptr) : nlohmann::json(sanitize_utf8(c.source))},
      {"reason", opt_revocation_str(c.reason)},
      {"revoked_at", opt_revocation_str(c.revoked_at)},
      {"this_update", opt_revocation_str(c.this_update)},
      {"next_update", opt_revocation_str(c.next_update)},
      {"failure", c.failure ? nlohmann::json(revocation_failure_name(*c.failure)) : nlohmann::json(nullptr)},
      {"detail", sanitize_utf8(c.detail)},
      {"http_status", c.http_status ? nlohmann::json(*c.http_status) : nlohmann::json(nullptr)},
      {"nonce_verified", c.nonce_verified},
      {"ms", c.ms}};
}

std::string revocation_check_line(const RevocationCheck& c) {
  std::vector<std::string> notes;
  if (!c.source.empty()) notes.push_back(c.source);
  if (c.nonce_verified) notes.push_back("nonce verified");
  if (c.next_update && (c.status == RevocationStatus::good || c.status == RevocationStatus::revoked))
    notes.push_back("next update " + *c.next_update);
  std::string tail;
  for (const auto& n : notes) tail += (tail.empty() ? " (" : ", ") + n;
  if (!tail.empty()) tail += ")";
  return fmt::format("{:<5} {}{}", c.method == RevocationMethod::ocsp ? "OCSP" : "CRL",
                     describe_revocation_answer(c), tail);
}

}  // namespace

nlohmann::json revocation_json(const RevocationFacts& r) {
  nlohmann::json out = nlohmann::json::array();
  for (const CertificateRevocation& c : r.certificates) {
    out.push_back({{"depth", c.depth},
                   {"subject", sanitize_utf8(c.subject)},
                   {"issuer", sanitize_utf8(c.issuer)},
                   {"serial", sanitize_utf8(c.serial_hex)},
                   {"issuer_known", c.issuer_known},
                   {"ocsp", revocation_check_json(c.ocsp)},
                   {"crl", revocation_check_json(c.crl)}});
  }
  return out;
}

std::vector<std::string> revocation_lines(const RevocationFacts& r) {
  std::vector<std::string> out;
  for (const CertificateRevocation& c : r.certificates) {
    out.push_back(fmt::format("{} ({}, serial {}{})", c.subject,
                              c.depth == 0 ? "the certificate" : "chain certificate", c.serial_hex,
                              c.issuer_known ? "" : ", issuer unknown"));
    out.push_back("  " + revocation_check_line(c.ocsp));
    out.push_back("  " + revocation_check_line(c.crl));
  }
  return out;
}

}  // namespace mtls_probe
