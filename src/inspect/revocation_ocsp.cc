// OCSP (RFC 6960) for one certificate: a request with a nonce, POSTed to the responder (bounded), and the
// response believed only once its signature, its nonce and its dates check out.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <memory>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/engine/net.h"
#include "revocation_checks.h"
#include "revocation_fetch.h"

namespace mtls_probe::inspect {
namespace {

using UniqueOcspRequest = std::unique_ptr<OCSP_REQUEST, OsslDeleter<OCSP_REQUEST_free>>;
using UniqueOcspResponse = std::unique_ptr<OCSP_RESPONSE, OsslDeleter<OCSP_RESPONSE_free>>;
using UniqueOcspBasic = std::unique_ptr<OCSP_BASICRESP, OsslDeleter<OCSP_BASICRESP_free>>;
using UniqueOcspCertId = std::unique_ptr<OCSP_CERTID, OsslDeleter<OCSP_CERTID_free>>;
// sk_X509_free is a macro-made inline function: a plain function for the deleter (the stack does not own).
void free_x509_stack(STACK_OF(X509) * s) {
  sk_X509_free(s);
}
using UniqueX509Stack = std::unique_ptr<STACK_OF(X509), OsslDeleter<free_x509_stack>>;

std::string ocsp_request_der(OCSP_REQUEST* req) {
  unsigned char* der = nullptr;
  const int n = i2d_OCSP_REQUEST(req, &der);
  if (n <= 0) return {};
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(n));
  OPENSSL_free(der);
  return out;
}

// The response is signed by the issuer itself, or by a responder the issuer delegated (OCSPSigning EKU):
// OCSP_basic_verify checks both, with the issuer as the trust anchor (it may be an intermediate).
bool ocsp_signature_verifies(OCSP_BASICRESP* bs, X509* issuer) {
  UniqueX509Store store(X509_STORE_new());
  UniqueX509Stack certs(sk_X509_new_null());
  if (!store || !certs || X509_STORE_add_cert(store.get(), issuer) != 1) return false;
  X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
  sk_X509_push(certs.get(), issuer);
  return OCSP_basic_verify(bs, certs.get(), store.get(), 0) > 0;
}

// The answer for `id` in a verified response: good / revoked (reason, time) / unknown, or stale.
RevocationCheck read_ocsp_status(RevocationCheck c, OCSP_BASICRESP* bs, OCSP_CERTID* id) {
  int status = -1, reason = -1;
  ASN1_GENERALIZEDTIME *revoked_at = nullptr, *this_update = nullptr, *next_update = nullptr;
  if (OCSP_resp_find_status(bs, id, &status, &reason, &revoked_at, &this_update, &next_update) != 1)
    return unreachable(std::move(c), RevocationFailure::not_a_response,
                       "the response does not speak of this certificate");
  if (this_update) c.this_update = asn1_time_to_iso(this_update);
  if (next_update) c.next_update = asn1_time_to_iso(next_update);
  if (OCSP_check_validity(this_update, next_update, kRevocationSkewSeconds, -1) != 1) {
    ERR_clear_error();
    return unreachable(std::move(c), RevocationFailure::stale,
                       fmt::format("the response is outside its validity (thisUpdate {}, nextUpdate {})",
                                   c.this_update.value_or("?"), c.next_update.value_or("none")));
  }
  c.status = ocsp_cert_status(status);
  if (c.status == RevocationStatus::revoked) {
    c.reason = crl_reason_name(reason);
    if (revoked_at) c.revoked_at = asn1_time_to_iso(revoked_at);
  }
  c.detail = c.status == RevocationStatus::unknown ? "the responder does not know this certificate" : "";
  return c;
}

RevocationCheck evaluate_ocsp_response(RevocationCheck c, const std::string& der, OCSP_REQUEST* req,
                                       OCSP_CERTID* id, X509* issuer) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  UniqueOcspResponse resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (!resp) return unreachable(std::move(c), RevocationFailure::not_a_response, "not an OCSP response");
  const int rs = OCSP_response_status(resp.get());
  if (rs != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return unreachable(std::move(c), RevocationFailure::responder_error,
                       fmt::format("the responder answered {}", OCSP_response_status_str(rs)));
  UniqueOcspBasic bs(OCSP_response_get1_basic(resp.get()));
  if (!bs) return unreachable(std::move(c), RevocationFailure::not_a_response, "not a basic OCSP response");
  if (!ocsp_signature_verifies(bs.get(), issuer)) {
    const std::string why = drain_openssl_errors();
    return unreachable(std::move(c), RevocationFailure::signature_invalid,
                       "the response's signature does not verify with the issuer or a responder it "
                       "delegated" +
                           (why.empty() ? "" : " (" + why + ")"));
  }
  const int nonce = OCSP_check_nonce(req, bs.get());
  if (nonce == 0)
    return unreachable(std::move(c), RevocationFailure::nonce_mismatch, "the response carries another nonce");
  c.nonce_verified = nonce == 1;  // -1: the responder sends no nonce (precomputed responses): allowed
  return read_ocsp_status(std::move(c), bs.get(), id);
}

}  // namespace

RevocationCheck ocsp_check(X509* cert, X509* issuer, const RevocationOptions& opts) {
  RevocationCheck c;
  c.method = RevocationMethod::ocsp;
  const std::vector<std::string> named = ocsp_urls(cert);
  const std::optional<std::string> url = opts.ocsp_url ? opts.ocsp_url : first_http_url(named);
  if (!url) return no_url_check(RevocationMethod::ocsp, named);
  c.source = *url;
  if (issuer == nullptr) {
    c.status = RevocationStatus::unknown;
    c.detail = "issuer unknown: neither carried nor in --cacert, so no OCSP request can name it";
    return c;
  }
  UniqueOcspCertId id(OCSP_cert_to_id(EVP_sha1(), cert, issuer));
  UniqueOcspRequest req(OCSP_REQUEST_new());
  OCSP_CERTID* copy = id ? OCSP_CERTID_dup(id.get()) : nullptr;
  if (!id || !req || !copy || !OCSP_request_add0_id(req.get(), copy) ||
      OCSP_request_add1_nonce(req.get(), nullptr, -1) != 1) {
    return unreachable(std::move(c), RevocationFailure::io,
                       "cannot build the request: " + drain_openssl_errors());
  }
  const Clock::time_point start = Clock::now();
  auto answer = http_fetch(FetchRequest{*url, "application/ocsp-request", ocsp_request_der(req.get()),
                                        kMaxOcspResponseBytes, opts.timeout});
  c.ms = ms_since(start);
  if (!answer) {
    c.http_status = answer.error().http_status;
    return unreachable(std::move(c), answer.error().failure, answer.error().detail);
  }
  c.http_status = answer->http_status;
  RevocationCheck out = evaluate_ocsp_response(std::move(c), answer->body, req.get(), id.get(), issuer);
  ERR_clear_error();
  return out;
}

}  // namespace mtls_probe::inspect
