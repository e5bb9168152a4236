// Revocation of the client identity's certificates (inspect --check-revocation, and the probe's): for the
// leaf and each intermediate it carries, the OCSP responder its Authority Information Access names (or
// --ocsp-url) and the CRL its CRL Distribution Points name (or a --crl file). Every answer is verified
// before it is believed: the OCSP response's signature (by the issuer or its delegated responder), our
// nonce, thisUpdate/nextUpdate; the CRL's signature by the issuer and its nextUpdate. Each request is
// bounded in time (RevocationOptions::timeout) and size (revocation_fetch.h). The result is plain facts
// (engine/revocation_facts.h).
#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/revocation_facts.h"

namespace mtls_probe::inspect {

inline constexpr long kDefaultRevocationTimeoutSeconds = 10;
inline constexpr long kMaxRevocationTimeoutSeconds = 600;
// thisUpdate in the future / nextUpdate in the past by less than this is clock skew, not staleness.
inline constexpr long kRevocationSkewSeconds = 300;

using UniqueX509Crl = std::unique_ptr<X509_CRL, OsslDeleter<X509_CRL_free>>;

struct LocalCrl {
  std::string file;  // --crl FILE
  UniqueX509Crl crl;
};

struct RevocationOptions {
  std::vector<std::string> crl_files;   // --crl (repeatable): used instead of fetching CDPs
  std::optional<std::string> ocsp_url;  // --ocsp-url: asked for every certificate instead of its AIA
  std::chrono::milliseconds timeout{kDefaultRevocationTimeoutSeconds * 1000};  // each request
  std::optional<long long> now;  // epoch seconds for the CRL's dates; the clock when unset
};

// Checks a --revocation-timeout value; a usage error message, or nullopt.
std::optional<std::string> check_revocation_timeout(double seconds);

// The CRLs in the --crl files (each PEM, one or more CRLs, or DER; at most kMaxCrlBytes). A file that cannot
// be read or holds no CRL is a usage error.
Expected<std::vector<LocalCrl>, Error> load_crl_files(const std::vector<std::string>& files);

// The certificates of a PEM file (--cacert: the issuer of the identity's last certificate may be there).
// Unreadable: empty (gather_facts has already refused a bad --cacert).
std::vector<UniqueX509> load_pem_certificates(const std::string& file);

// Checks `leaf` and each certificate of `chain` that is not self-signed. The issuer of each is the
// certificate that follows it when that one issued it, else any carried or `anchors` certificate that did.
RevocationFacts check_revocation(X509* leaf, const std::vector<X509*>& chain,
                                 const std::vector<X509*>& anchors, const RevocationOptions& opts,
                                 const std::vector<LocalCrl>& crls);

// One method for one certificate (issuer: null when unknown; crls: the --crl files, used instead of the
// CDP when not empty). `serve --ocsp-url` asks with ocsp_check during the handshake.
RevocationCheck ocsp_check(X509* cert, X509* issuer, const RevocationOptions& opts);
RevocationCheck crl_check(X509* cert, X509* issuer, const RevocationOptions& opts,
                          const std::vector<LocalCrl>& crls);

// ---- the pure parts (unit-tested)

// RFC 5280 CRLReason names as OpenSSL and RFC 5280 spell them ("keyCompromise"); nullopt for no reason
// (-1) and for values RFC 5280 does not define.
std::optional<std::string> crl_reason_name(int reason);
// V_OCSP_CERTSTATUS_GOOD / _REVOKED / _UNKNOWN -> good / revoked / unknown (anything else: unknown).
RevocationStatus ocsp_cert_status(int status);
// http://host[:port][/path]: the only kind fetched (https://, ldap:// are not).
bool is_http_url(std::string_view url);
// The URL to ask among those a certificate names: the first http:// one; nullopt when there is none.
std::optional<std::string> first_http_url(const std::vector<std::string>& urls);
// The URIs of the AIA's OCSP entries / of the CRL Distribution Points' full names, in order.
std::vector<std::string> ocsp_urls(X509* cert);
std::vector<std::string> crl_urls(X509* cert);
// The check of a certificate that names no URL, or only ones that are not http://.
RevocationCheck no_url_check(RevocationMethod m, const std::vector<std::string>& named);

}  // namespace mtls_probe::inspect
