// A CRL for one certificate: a --crl file from its issuer, or the one its CRL Distribution Point names
// (fetched, bounded); believed once its issuer's signature and its dates check out.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "mtls_probe/engine/net.h"
#include "revocation_checks.h"
#include "revocation_fetch.h"

namespace mtls_probe::inspect {
namespace {

UniqueX509Crl parse_fetched_crl(const std::string& bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  UniqueX509Crl crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size())));
  if (!crl) {
    UniqueBio bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
    if (bio) crl.reset(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
  }
  ERR_clear_error();
  return crl;
}

// The reason a CRL entry gives (its reasonCode extension); nullopt when it gives none.
std::optional<std::string> crl_entry_reason(X509_REVOKED* rev) {
  auto* code = static_cast<ASN1_ENUMERATED*>(X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, nullptr, nullptr));
  if (code == nullptr) return std::nullopt;
  const long v = ASN1_ENUMERATED_get(code);
  ASN1_ENUMERATED_free(code);
  return crl_reason_name(static_cast<int>(v));
}

// thisUpdate not in the future and nextUpdate not in the past (beyond the skew); a CRL without nextUpdate
// never goes stale.
bool crl_dates_current(X509_CRL* crl, long long now) {
  const ASN1_TIME* last = X509_CRL_get0_lastUpdate(crl);
  const ASN1_TIME* next = X509_CRL_get0_nextUpdate(crl);
  const time_t late = static_cast<time_t>(now + kRevocationSkewSeconds);
  const time_t early = static_cast<time_t>(now - kRevocationSkewSeconds);
  if (last && X509_cmp_time(last, const_cast<time_t*>(&late)) > 0) return false;
  if (next && X509_cmp_time(next, const_cast<time_t*>(&early)) < 0) return false;
  return true;
}

RevocationCheck evaluate_crl(RevocationCheck c, X509_CRL* crl, X509* cert, X509* issuer, long long now) {
  if (const ASN1_TIME* t = X509_CRL_get0_lastUpdate(crl)) c.this_update = asn1_time_to_iso(t);
  if (const ASN1_TIME* t = X509_CRL_get0_nextUpdate(crl)) c.next_update = asn1_time_to_iso(t);
  if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0 ||
      X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1) {
    ERR_clear_error();
    return unreachable(
        std::move(c), RevocationFailure::signature_invalid,
        fmt::format("the CRL is not signed by the issuer {}", name_to_string(X509_get_subject_name(issuer))));
  }
  if (!crl_dates_current(crl, now))
    return unreachable(std::move(c), RevocationFailure::stale,
                       fmt::format("the CRL is outside its validity (thisUpdate {}, nextUpdate {})",
                                   c.this_update.value_or("?"), c.next_update.value_or("none")));
  X509_REVOKED* rev = nullptr;
  // 1: listed; 2: listed as removeFromCRL (a delta CRL lifting a hold), which is not revoked.
  if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(cert)) == 1 && rev != nullptr) {
    c.status = RevocationStatus::revoked;
    c.reason = crl_entry_reason(rev);
    c.revoked_at = asn1_time_to_iso(X509_REVOKED_get0_revocationDate(rev));
  } else {
    c.status = RevocationStatus::good;
  }
  return c;
}

// The --crl file whose CRL the issuer signed: by the issuer's name (its signature is checked next).
const LocalCrl* local_crl_of_issuer(X509* cert, const std::vector<LocalCrl>& crls) {
  for (const LocalCrl& l : crls)
    if (X509_NAME_cmp(X509_CRL_get_issuer(l.crl.get()), X509_get_issuer_name(cert)) == 0) return &l;
  return nullptr;
}

RevocationCheck local_crl_check(RevocationCheck c, X509* cert, X509* issuer, long long now,
                                const std::vector<LocalCrl>& crls) {
  const LocalCrl* l = local_crl_of_issuer(cert, crls);
  if (l == nullptr) {
    c.status = RevocationStatus::not_available;
    c.detail = fmt::format("no --crl file holds a CRL of {}", name_to_string(X509_get_issuer_name(cert)));
    return c;
  }
  c.source = l->file;
  if (issuer == nullptr) {
    c.status = RevocationStatus::unknown;
    c.detail = "issuer unknown: neither carried nor in --cacert, so the CRL's signature cannot be checked";
    return c;
  }
  return evaluate_crl(std::move(c), l->crl.get(), cert, issuer, now);
}

}  // namespace

RevocationCheck crl_check(X509* cert, X509* issuer, const RevocationOptions& opts,
                          const std::vector<LocalCrl>& crls) {
  RevocationCheck c;
  c.method = RevocationMethod::crl;
  const long long now = revocation_now(opts);
  if (!crls.empty()) return local_crl_check(std::move(c), cert, issuer, now, crls);
  const std::vector<std::string> named = crl_urls(cert);
  const std::optional<std::string> url = first_http_url(named);
  if (!url) return no_url_check(RevocationMethod::crl, named);
  c.source = *url;
  if (issuer == nullptr) {
    c.status = RevocationStatus::unknown;
    c.detail = "issuer unknown: neither carried nor in --cacert, so the CRL's signature cannot be checked";
    return c;
  }
  const Clock::time_point start = Clock::now();
  auto answer = http_fetch(FetchRequest{*url, "", "", kMaxCrlBytes, opts.timeout});
  c.ms = ms_since(start);
  if (!answer) {
    c.http_status = answer.error().http_status;
    return unreachable(std::move(c), answer.error().failure, answer.error().detail);
  }
  c.http_status = answer->http_status;
  UniqueX509Crl crl = parse_fetched_crl(answer->body);
  if (!crl) return unreachable(std::move(c), RevocationFailure::not_a_response, "not a CRL (DER or PEM)");
  return evaluate_crl(std::move(c), crl.get(), cert, issuer, now);
}

}  // namespace mtls_probe::inspect
