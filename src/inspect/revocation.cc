// Revocation of the identity's certificates (revocation.h): which certificates, their issuers, the local
// CRLs, and the pure mappings; the methods are in revocation_ocsp.cc and revocation_crl.cc.
#include "mtls_probe/inspect/revocation.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <cmath>
#include <ctime>

#include "revocation_checks.h"
#include "revocation_fetch.h"

namespace mtls_probe::inspect {
namespace {

std::string general_name_uri(const GENERAL_NAME* gn) {
  if (gn == nullptr || gn->type != GEN_URI) return {};
  const ASN1_IA5STRING* s = gn->d.uniformResourceIdentifier;
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<std::size_t>(ASN1_STRING_length(s)));
}

// At most max_bytes + 1 bytes of a file (one more than allowed, so that a file too large is told).
Expected<std::string, Error> read_crl_file(const std::string& file, std::size_t max_bytes) {
  UniqueBio bio(BIO_new_file(file.c_str(), "rb"));
  if (!bio) {
    ERR_clear_error();
    return fail(fmt::format("--crl {}: cannot be read", file));
  }
  std::string out;
  char buf[16384];
  int n = 0;
  while (out.size() <= max_bytes && (n = BIO_read(bio.get(), buf, sizeof buf)) > 0)
    out.append(buf, static_cast<std::size_t>(n));
  if (out.size() > max_bytes) return fail(fmt::format("--crl {}: larger than {} bytes", file, max_bytes));
  return out;
}

std::vector<UniqueX509Crl> parse_crl_file(const std::string& bytes) {
  std::vector<UniqueX509Crl> out;
  UniqueBio bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
  while (bio) {
    UniqueX509Crl crl(PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr));
    if (!crl) break;
    out.push_back(std::move(crl));
  }
  if (out.empty()) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    UniqueX509Crl crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size())));
    if (crl) out.push_back(std::move(crl));
  }
  ERR_clear_error();
  return out;
}

bool is_root_certificate(X509* c) {
  return X509_check_issued(c, c) == X509_V_OK;
}

// The certificate that issued `cert`: the one after it when that one did, else any candidate that did.
X509* issuer_among(X509* cert, X509* next, const std::vector<X509*>& candidates) {
  if (next != nullptr && X509_check_issued(next, cert) == X509_V_OK) return next;
  for (X509* c : candidates)
    if (c != cert && X509_check_issued(c, cert) == X509_V_OK) return c;
  return nullptr;
}

CertificateRevocation check_one_certificate(X509* cert, int depth, X509* issuer,
                                            const RevocationOptions& opts,
                                            const std::vector<LocalCrl>& crls) {
  CertificateRevocation r;
  r.depth = depth;
  r.subject = name_to_string(X509_get_subject_name(cert));
  r.issuer = name_to_string(X509_get_issuer_name(cert));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      r.serial_hex = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }
  r.issuer_known = issuer != nullptr;
  r.ocsp = ocsp_check(cert, issuer, opts);
  r.crl = crl_check(cert, issuer, opts, crls);
  ERR_clear_error();
  return r;
}

}  // namespace

RevocationCheck unreachable(RevocationCheck c, RevocationFailure f, std::string detail) {
  c.status = RevocationStatus::unreachable;
  c.failure = f;
  c.detail = std::move(detail);
  return c;
}

long long revocation_now(const RevocationOptions& opts) {
  return opts.now.value_or(static_cast<long long>(std::time(nullptr)));
}

std::optional<std::string> check_revocation_timeout(double seconds) {
  if (!std::isfinite(seconds) || seconds <= 0 || seconds > kMaxRevocationTimeoutSeconds)
    return fmt::format("--revocation-timeout must be more than 0 and at most {} seconds",
                       kMaxRevocationTimeoutSeconds);
  return std::nullopt;
}

Expected<std::vector<LocalCrl>, Error> load_crl_files(const std::vector<std::string>& files) {
  std::vector<LocalCrl> out;
  for (const std::string& file : files) {
    auto bytes = read_crl_file(file, kMaxCrlBytes);
    if (!bytes) return Unexpected{bytes.error()};
    std::vector<UniqueX509Crl> crls = parse_crl_file(*bytes);
    if (crls.empty()) return fail(fmt::format("--crl {}: no CRL in it (PEM or DER)", file));
    for (auto& crl : crls) out.push_back(LocalCrl{file, std::move(crl)});
  }
  return out;
}

std::vector<UniqueX509> load_pem_certificates(const std::string& file) {
  std::vector<UniqueX509> out;
  UniqueBio bio(BIO_new_file(file.c_str(), "r"));
  while (bio) {
    UniqueX509 x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!x) break;
    out.push_back(std::move(x));
  }
  ERR_clear_error();
  return out;
}

RevocationFacts check_revocation(X509* leaf, const std::vector<X509*>& chain,
                                 const std::vector<X509*>& anchors, const RevocationOptions& opts,
                                 const std::vector<LocalCrl>& crls) {
  RevocationFacts facts;
  facts.timeout_seconds = static_cast<long>((opts.timeout.count() + 999) / 1000);
  facts.ocsp_url = opts.ocsp_url;
  facts.crl_files = opts.crl_files;
  std::vector<X509*> candidates = chain;
  candidates.insert(candidates.end(), anchors.begin(), anchors.end());
  std::vector<X509*> subjects{leaf};
  for (X509* c : chain)
    if (!is_root_certificate(c)) subjects.push_back(c);  // a root is trusted as it is: nothing can revoke it
  ERR_clear_error();
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    X509* next = i + 1 < subjects.size() ? subjects[i + 1] : nullptr;
    X509* issuer = issuer_among(subjects[i], next, candidates);
    facts.certificates.push_back(check_one_certificate(subjects[i], static_cast<int>(i), issuer, opts, crls));
  }
  return facts;
}

std::optional<std::string> crl_reason_name(int reason) {
  switch (reason) {
    case 0: return "unspecified";
    case 1: return "keyCompromise";
    case 2: return "cACompromise";
    case 3: return "affiliationChanged";
    case 4: return "superseded";
    case 5: return "cessationOfOperation";
    case 6: return "certificateHold";
    case 8: return "removeFromCRL";
    case 9: return "privilegeWithdrawn";
    case 10: return "aACompromise";
    default: return std::nullopt;
  }
}

RevocationStatus ocsp_cert_status(int status) {
  switch (status) {
    case V_OCSP_CERTSTATUS_GOOD: return RevocationStatus::good;
    case V_OCSP_CERTSTATUS_REVOKED: return RevocationStatus::revoked;
    default: return RevocationStatus::unknown;
  }
}

bool is_http_url(std::string_view url) {
  return parse_http_url(url).has_value();
}

std::optional<std::string> first_http_url(const std::vector<std::string>& urls) {
  for (const std::string& u : urls)
    if (parse_http_url(u)) return u;
  return std::nullopt;
}

std::vector<std::string> ocsp_urls(X509* cert) {
  std::vector<std::string> out;
  auto* aia = static_cast<AUTHORITY_INFO_ACCESS*>(X509_get_ext_d2i(cert, NID_info_access, nullptr, nullptr));
  for (int i = 0; aia != nullptr && i < sk_ACCESS_DESCRIPTION_num(aia); ++i) {
    const ACCESS_DESCRIPTION* ad = sk_ACCESS_DESCRIPTION_value(aia, i);
    if (OBJ_obj2nid(ad->method) != NID_ad_OCSP) continue;
    if (std::string u = general_name_uri(ad->location); !u.empty()) out.push_back(std::move(u));
  }
  AUTHORITY_INFO_ACCESS_free(aia);
  ERR_clear_error();
  return out;
}

std::vector<std::string> crl_urls(X509* cert) {
  std::vector<std::string> out;
  auto* cdp =
      static_cast<CRL_DIST_POINTS*>(X509_get_ext_d2i(cert, NID_crl_distribution_points, nullptr, nullptr));
  for (int i = 0; cdp != nullptr && i < sk_DIST_POINT_num(cdp); ++i) {
    const DIST_POINT* dp = sk_DIST_POINT_value(cdp, i);
    if (dp->distpoint == nullptr || dp->distpoint->type != 0) continue;  // 0: fullname
    const GENERAL_NAMES* names = dp->distpoint->name.fullname;
    for (int j = 0; j < sk_GENERAL_NAME_num(names); ++j)
      if (std::string u = general_name_uri(sk_GENERAL_NAME_value(names, j)); !u.empty())
        out.push_back(std::move(u));
  }
  CRL_DIST_POINTS_free(cdp);
  ERR_clear_error();
  return out;
}

RevocationCheck no_url_check(RevocationMethod m, const std::vector<std::string>& named) {
  RevocationCheck c;
  c.method = m;
  const bool ocsp = m == RevocationMethod::ocsp;
  if (named.empty()) {
    c.status = RevocationStatus::not_available;
    c.detail = ocsp ? "the certificate names no OCSP responder (Authority Information Access)"
                    : "the certificate names no CRL (CRL Distribution Points)";
    return c;
  }
  c.source = named.front();
  return unreachable(std::move(c), RevocationFailure::bad_url,
                     fmt::format("only {} is named, and only http:// is fetched", named.front()));
}

}  // namespace mtls_probe::inspect
