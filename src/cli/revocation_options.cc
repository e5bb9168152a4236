#include "revocation_options.h"

#include <CLI/CLI.hpp>
#include <cmath>

namespace mtls_probe::tool {

void add_revocation_options(CLI::App& app, RawRevocationArgs& r, const std::string& group) {
  app.add_flag("--check-revocation", r.check,
               "ask the client certificate's OCSP responder (AIA) and fetch its CRL (CDP), http:// only")
      ->group(group);
  app.add_option("--crl", r.crl,
                 "with --check-revocation: a local CRL FILE (PEM or DER) instead of the CDP's; "
                 "repeatable")
      ->type_name("FILE")
      ->group(group);
  app.add_option("--ocsp-url", r.ocsp_url,
                 "with --check-revocation: ask this OCSP responder (http://) instead of the AIA's")
      ->type_name("URL")
      ->group(group);
  app.add_option("--revocation-timeout", r.timeout,
                 "with --check-revocation: SECONDS for each OCSP / CRL request (default 10)")
      ->type_name("SECONDS")
      ->group(group);
}

Expected<std::optional<inspect::RevocationOptions>, std::string> make_revocation_options(
    const RawRevocationArgs& raw) {
  if (!raw.check) {
    if (!raw.crl.empty() || !raw.ocsp_url.empty() || raw.timeout)
      return Unexpected{std::string("--crl, --ocsp-url and --revocation-timeout go with --check-revocation")};
    return std::optional<inspect::RevocationOptions>{};
  }
  inspect::RevocationOptions o;
  o.crl_files = raw.crl;
  if (!raw.ocsp_url.empty()) {
    if (!inspect::is_http_url(raw.ocsp_url))
      return Unexpected{"--ocsp-url must be an http:// URL (OCSP is plain HTTP): " + raw.ocsp_url};
    o.ocsp_url = raw.ocsp_url;
  }
  if (raw.timeout) {
    if (auto bad = inspect::check_revocation_timeout(*raw.timeout)) return Unexpected{*bad};
    o.timeout = std::chrono::milliseconds(static_cast<long long>(std::llround(*raw.timeout * 1000)));
  }
  return std::optional<inspect::RevocationOptions>{std::move(o)};
}

RevocationFacts check_identity_revocation(const ClientIdentity& identity,
                                          const inspect::RevocationOptions& opts,
                                          const std::vector<inspect::LocalCrl>& crls,
                                          const std::string& cacert_file) {
  std::vector<X509*> chain;
  for (const auto& c : identity.chain) chain.push_back(c.get());
  const std::vector<UniqueX509> anchors =
      cacert_file.empty() ? std::vector<UniqueX509>{} : inspect::load_pem_certificates(cacert_file);
  std::vector<X509*> anchor_ptrs;
  for (const auto& a : anchors) anchor_ptrs.push_back(a.get());
  return inspect::check_revocation(identity.leaf.get(), chain, anchor_ptrs, opts, crls);
}

}  // namespace mtls_probe::tool
