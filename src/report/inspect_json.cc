// `inspect --json`: one object for every outcome (a usage error too). Strings go through sanitize_utf8, so
// dump() cannot throw.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/identity/pkcs11_uri.h"
#include "mtls_probe/report/inspect_report.h"
#include "mtls_probe/report/revocation_report.h"

namespace mtls_probe::inspect {
namespace {

nlohmann::json str(std::string_view s) {
  return sanitize_utf8(s);
}

nlohmann::json opt_str(const std::optional<std::string>& s) {
  return s ? str(*s) : nlohmann::json(nullptr);
}

nlohmann::json str_list(const std::vector<std::string>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : v) a.push_back(str(s));
  return a;
}

nlohmann::json key_json(const KeyFacts& k) {
  return {{"type", str(k.type)}, {"bits", k.bits}, {"curve", opt_str(k.curve)}};
}

nlohmann::json cert_json(const CertificateFacts& c) {
  const CertificateSummary& s = c.summary;
  nlohmann::json j;
  j["subject"] = str(s.subject);
  j["issuer"] = str(s.issuer);
  j["serial"] = str(s.serial_hex);
  j["not_before"] = str(s.not_before);
  j["not_after"] = str(s.not_after);
  j["days_left"] = s.days_left;
  j["expired"] = s.expired;
  j["not_yet_valid"] = s.not_yet_valid;
  j["subject_alt_names"] = str_list(s.subject_alt_names);
  j["signature_algorithm"] = str(c.signature_algorithm);
  j["public_key"] = key_json(c.public_key);
  j["key_usage"] = c.key_usage ? str_list(*c.key_usage) : nlohmann::json(nullptr);
  j["extended_key_usage"] = c.extended_key_usage ? str_list(*c.extended_key_usage) : nlohmann::json(nullptr);
  j["client_auth_eku"] =
      s.has_client_auth_eku ? nlohmann::json(*s.has_client_auth_eku) : nlohmann::json(nullptr);
  j["is_ca"] = c.is_ca;
  j["self_signed"] = c.self_signed;
  j["sha256_fingerprint"] = str(c.sha256_fingerprint);
  return j;
}

nlohmann::json identity_error_json(const IdentityFacts& f) {
  if (!f.identity_error) return nullptr;
  return {{"problem", identity_problem_name(f.identity_error->problem)},
          {"message", str(f.identity_error->message)},
          {"openssl_detail", str(f.identity_error->openssl_detail)}};
}

nlohmann::json pkcs12_json(const IdentityFacts& f) {
  if (!f.pkcs12) return nullptr;
  const Pkcs12Facts& p = *f.pkcs12;
  return {{"legacy", p.legacy},
          {"key_encryption", opt_str(p.key_encryption)},
          {"key_iterations", p.key_iterations},
          {"cert_encryption", opt_str(p.cert_encryption)},
          {"cert_iterations", p.cert_iterations},
          {"mac_algorithm", opt_str(p.mac_algorithm)},
          {"mac_iterations", p.mac_iterations},
          {"compatibility", str(pkcs12_compatibility(p))}};
}

nlohmann::json chain_json(const IdentityFacts& f) {
  nlohmann::json chain = nlohmann::json::array();
  for (const ChainEntry& e : f.chain) {
    nlohmann::json c = cert_json(e.cert);
    c["in_path"] = e.in_path;
    chain.push_back(std::move(c));
  }
  return chain;
}

nlohmann::json private_key_json(const IdentityFacts& f) {
  if (!f.private_key) return nullptr;
  nlohmann::json k = key_json(*f.private_key);
  k["matches_certificate"] = f.key_matches ? nlohmann::json(*f.key_matches) : nlohmann::json(nullptr);
  return k;
}

nlohmann::json verification_json(const IdentityFacts& f) {
  if (!f.verification) return nullptr;
  const VerificationFacts& v = *f.verification;
  return {{"cacert", str(v.cacert)},
          {"verified", v.verified},
          {"error", opt_str(v.error)},
          {"error_depth", v.verified ? nlohmann::json(nullptr) : nlohmann::json(v.error_depth)},
          {"security_level", v.security_level}};
}

nlohmann::json findings_json(const std::vector<Finding>& findings) {
  nlohmann::json out = nlohmann::json::array();
  for (const Finding& x : findings) {
    out.push_back({{"severity", severity_name(x.severity)},
                   {"code", x.code},
                   {"message", str(x.message)},
                   {"hint", str(x.hint)}});
  }
  return out;
}

nlohmann::json token_json(const IdentityFacts& f) {
  if (!f.token) return nullptr;
  const TokenSurvey& s = f.token->survey;
  nlohmann::json tokens = nlohmann::json::array();
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    const TokenInfo& t = s.tokens[i];
    tokens.push_back(
        {{"label", str(t.label)},
         {"manufacturer", str(t.manufacturer)},
         {"model", str(t.model)},
         {"serial", str(t.serial)},
         {"slot_id", t.slot_id},
         {"login_required", t.login_required},
         {"pin_locked", t.pin_locked},
         {"pin_count_low", t.pin_count_low},
         {"pin_final_try", t.pin_final_try},
         {"matches_uri", std::find(s.matching.begin(), s.matching.end(), i) != s.matching.end()}});
  }
  return {{"module", str(s.module)},
          {"library_description", str(s.library_description)},
          {"tokens", std::move(tokens)},
          {"logged_in", s.logged_in},
          {"pin_given", f.token->pin_given},
          {"mechanisms", s.mechanisms},
          {"key_backend", f.token->key ? str(f.token->key->backend) : nlohmann::json(nullptr)}};
}

nlohmann::json objects_json(const IdentityFacts& f) {
  if (!f.token) return nullptr;
  nlohmann::json out = nlohmann::json::array();
  for (const TokenObject& o : f.token->survey.objects) {
    out.push_back({{"class", o.object_class},
                   {"label", str(o.label)},
                   {"id", pkcs11_id_hex(o.id)},
                   {"key_type", o.key_type.empty() ? nlohmann::json(nullptr) : str(o.key_type)},
                   {"can_sign", o.can_sign ? nlohmann::json(*o.can_sign) : nlohmann::json(nullptr)},
                   {"matches_uri", o.matches_uri}});
  }
  return out;
}

}  // namespace

nlohmann::json report_json(const InspectResult& r) {
  const IdentityFacts& f = r.facts;
  nlohmann::json j;
  j["verdict"] = r.verdict();
  j["exit_code"] = r.exit_code();
  j["summary"] = str(summary(r));
  j["file"] = str(f.file);
  j["format"] = format_name(f.format);
  j["identity_error"] = identity_error_json(f);
  j["pkcs12"] = pkcs12_json(f);
  j["certificate"] = f.leaf ? cert_json(*f.leaf) : nlohmann::json(nullptr);
  if (f.leaf) {
    j["chain"] = chain_json(f);
    j["chain_status"] = {{"leaf_issuer_carried", f.leaf_issuer_carried},
                         {"reaches_root", f.chain_reaches_root},
                         {"ends_at", opt_str(f.chain_end)}};
  } else {
    j["chain"] = nullptr;
    j["chain_status"] = nullptr;
  }
  j["key"] = private_key_json(f);
  j["key_matches_certificate"] = f.key_matches ? nlohmann::json(*f.key_matches) : nlohmann::json(nullptr);
  j["token"] = token_json(f);
  j["objects"] = objects_json(f);
  j["verification"] = verification_json(f);
  j["revocation"] = f.revocation ? revocation_json(*f.revocation) : nlohmann::json(nullptr);
  j["findings"] = findings_json(r.findings);
  j["warnings"] = str_list(r.warnings);
  return j;
}

nlohmann::json usage_error_json(const std::string& message, const std::string& file) {
  nlohmann::json j;
  j["verdict"] = "usage-error";
  j["exit_code"] = 1;
  j["summary"] = str(message);
  j["error"] = str(message);
  j["file"] = file.empty() ? nlohmann::json(nullptr) : str(file);
  for (const char* k : {"format", "identity_error", "pkcs12", "certificate", "chain", "chain_status", "key",
                        "key_matches_certificate", "token", "objects", "verification", "revocation"}) {
    j[k] = nullptr;
  }
  j["findings"] = nlohmann::json::array();
  j["warnings"] = nlohmann::json::array();
  return j;
}

}  // namespace mtls_probe::inspect
