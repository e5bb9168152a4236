#include "mtls_probe/engine/cert_status.h"

#include <fmt/format.h>
#include <openssl/err.h>

#include <memory>
#include <string>

#include "mtls_probe/engine/tls_session.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {
// A named namespace (not an anonymous one): a unity build puts other files' helpers in the same unit.
namespace stapling {

using Response = std::unique_ptr<OCSP_RESPONSE, OsslDeleter<OCSP_RESPONSE_free>>;
using BasicResponse = std::unique_ptr<OCSP_BASICRESP, OsslDeleter<OCSP_BASICRESP_free>>;
using CertId = std::unique_ptr<OCSP_CERTID, OsslDeleter<OCSP_CERTID_free>>;
using StoreCtx = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;

ServerCertStatus& fail(ServerCertStatus& s, CertStatusProblem problem, std::string message) {
  s.problem = problem;
  s.error = std::move(message);
  return s;
}

std::string hex_of(const ASN1_OCTET_STRING* bytes) {
  std::string out;
  const unsigned char* p = ASN1_STRING_get0_data(bytes);
  for (int i = 0; i < ASN1_STRING_length(bytes); ++i) out += fmt::format("{:02X}", p[i]);
  return out;
}

// The signer's subject when its certificate is at hand (in the response or the server's chain), else the
// responder id the response names.
std::string responder_of(OCSP_BASICRESP* basic, STACK_OF(X509) * chain) {
  X509* signer = nullptr;
  if (OCSP_resp_get0_signer(basic, &signer, chain) == 1 && signer != nullptr) {
    return name_to_string(X509_get_subject_name(signer));
  }
  const ASN1_OCTET_STRING* key_id = nullptr;
  const X509_NAME* name = nullptr;
  if (OCSP_resp_get0_id(basic, &key_id, &name) != 1) return "";
  if (name != nullptr) return name_to_string(name);
  return key_id != nullptr ? "key id " + hex_of(key_id) : std::string();
}

// The single response about leaf: its CertID made with the hash algorithm each one uses (SHA-1 mostly).
OCSP_SINGLERESP* single_for(OCSP_BASICRESP* basic, X509* leaf, X509* issuer) {
  for (int i = 0; i < OCSP_resp_count(basic); ++i) {
    OCSP_SINGLERESP* single = OCSP_resp_get0(basic, i);
    auto* id = const_cast<OCSP_CERTID*>(OCSP_SINGLERESP_get0_id(single));
    ASN1_OBJECT* md_oid = nullptr;
    if (OCSP_id_get0_info(nullptr, &md_oid, nullptr, nullptr, id) != 1) continue;
    const EVP_MD* md = EVP_get_digestbyobj(md_oid);
    if (md == nullptr) continue;
    CertId want(OCSP_cert_to_id(md, leaf, issuer));
    if (want && OCSP_id_cmp(want.get(), id) == 0) return single;
  }
  return nullptr;
}

// The reason (and data) of the last error OpenSSL queued since the mark; the queue is back at the mark.
std::string reason_since_mark() {
  const char* data = nullptr;
  int flags = 0;
  const unsigned long e = ERR_peek_last_error_data(&data, &flags);
  std::string out;
  if (e != 0) {
    const char* reason = ERR_reason_error_string(e);
    out = reason != nullptr ? reason : fmt::format("error {:#x}", e);
    if (data != nullptr && (flags & ERR_TXT_STRING) != 0 && *data != '\0') out += fmt::format(" ({})", data);
  }
  ERR_pop_to_mark();
  return out;
}

// Records the single response's status and times; returns its status (V_OCSP_CERTSTATUS_*).
int record_single(ServerCertStatus& s, OCSP_SINGLERESP* single, ASN1_GENERALIZEDTIME** this_update,
                  ASN1_GENERALIZEDTIME** next_update) {
  int reason = -1;
  ASN1_GENERALIZEDTIME* revoked_at = nullptr;
  const int status = OCSP_single_get0_status(single, &reason, &revoked_at, this_update, next_update);
  s.cert_status = OCSP_cert_status_str(status);
  if (status == V_OCSP_CERTSTATUS_REVOKED) {
    if (reason >= 0) s.reason = OCSP_crl_reason_str(reason);
    if (revoked_at != nullptr) s.revoked_at = asn1_time_to_iso(revoked_at);
  }
  if (*this_update != nullptr) s.this_update = asn1_time_to_iso(*this_update);
  if (*next_update != nullptr) s.next_update = asn1_time_to_iso(*next_update);
  return status;
}

ServerCertStatus& check_validity(ServerCertStatus& s, ASN1_GENERALIZEDTIME* this_update,
                                 ASN1_GENERALIZEDTIME* next_update) {
  ERR_set_mark();
  if (OCSP_check_validity(this_update, next_update, kOcspClockSkewSeconds, -1) == 1) {
    ERR_pop_to_mark();
    return s;
  }
  const int reason = ERR_GET_REASON(ERR_peek_last_error());
  const std::string detail = reason_since_mark();
  if (reason == OCSP_R_STATUS_NOT_YET_VALID) {
    return fail(
        s, CertStatusProblem::not_yet_valid,
        fmt::format("OCSP: the response is not valid yet (thisUpdate {})", s.this_update.value_or("?")));
  }
  if (reason == OCSP_R_STATUS_EXPIRED) {
    return fail(s, CertStatusProblem::expired,
                fmt::format("OCSP: the response has expired (nextUpdate {})", s.next_update.value_or("?")));
  }
  return fail(s, CertStatusProblem::malformed, "OCSP: the response's update times are invalid: " + detail);
}

ServerCertStatus& judge_status(ServerCertStatus& s, int status) {
  if (status == V_OCSP_CERTSTATUS_GOOD) return s;
  if (status == V_OCSP_CERTSTATUS_REVOKED) {
    return fail(
        s, CertStatusProblem::revoked,
        fmt::format("OCSP: certificate revoked ({}, {})", s.reason.empty() ? "no reason given" : s.reason,
                    s.revoked_at.value_or("at an unknown time")));
  }
  return fail(s, CertStatusProblem::unknown, "OCSP: certificate status unknown to the responder");
}

}  // namespace stapling

UniqueX509 find_issuer(X509* leaf, STACK_OF(X509) * chain, X509_STORE* store) {
  if (leaf == nullptr) return nullptr;
  for (int i = 0; chain != nullptr && i < sk_X509_num(chain); ++i) {
    X509* c = sk_X509_value(chain, i);
    if (X509_cmp(c, leaf) != 0 && X509_check_issued(c, leaf) == X509_V_OK) return up_ref(c);
  }
  if (store == nullptr) return nullptr;
  stapling::StoreCtx ctx(X509_STORE_CTX_new());
  X509* issuer = nullptr;
  if (ctx && X509_STORE_CTX_init(ctx.get(), store, leaf, nullptr) == 1 &&
      X509_STORE_CTX_get1_issuer(&issuer, ctx.get(), leaf) == 1) {
    return UniqueX509(issuer);
  }
  ERR_clear_error();
  return nullptr;
}

ServerCertStatus evaluate_ocsp_response(std::span<const unsigned char> der, X509* leaf, X509* issuer,
                                        STACK_OF(X509) * chain, X509_STORE* store) {
  using stapling::fail;
  ServerCertStatus s;
  s.checked = true;
  if (der.empty()) return fail(s, CertStatusProblem::not_stapled, "no OCSP response stapled (--cert-status)");
  s.stapled = true;
  const unsigned char* p = der.data();
  stapling::Response response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (!response) {
    ERR_clear_error();
    return fail(s, CertStatusProblem::malformed, "OCSP: the stapled bytes are not an OCSP response");
  }
  const int response_status = OCSP_response_status(response.get());
  s.response_status = OCSP_response_status_str(response_status);
  if (response_status != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
    return fail(s, CertStatusProblem::not_successful,
                fmt::format("OCSP: the responder answered {} ({}), not successful", s.response_status,
                            response_status));
  }
  stapling::BasicResponse basic(OCSP_response_get1_basic(response.get()));
  if (!basic) {
    ERR_clear_error();
    return fail(s, CertStatusProblem::malformed, "OCSP: the response holds no basic OCSP response");
  }
  s.responder = stapling::responder_of(basic.get(), chain);
  OCSP_SINGLERESP* single =
      issuer != nullptr && leaf != nullptr ? stapling::single_for(basic.get(), leaf, issuer) : nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  ASN1_GENERALIZEDTIME* next_update = nullptr;
  const int status = single != nullptr ? stapling::record_single(s, single, &this_update, &next_update) : -1;
  // Evidence first (above), judgement in curl's order: signature, the certificate's entry, times, status.
  ERR_set_mark();
  if (OCSP_basic_verify(basic.get(), chain, store, 0) <= 0) {
    return fail(s, CertStatusProblem::bad_signature,
                "OCSP: the response's signature does not verify: " + stapling::reason_since_mark());
  }
  ERR_pop_to_mark();
  s.verified = true;
  if (issuer == nullptr) {
    return fail(s, CertStatusProblem::no_issuer,
                "OCSP: the issuer of the server's certificate is in neither its chain nor the trust store");
  }
  if (single == nullptr) {
    return fail(s, CertStatusProblem::not_for_leaf,
                "OCSP: the response holds no status for the server's certificate");
  }
  if (stapling::check_validity(s, this_update, next_update).error) return s;
  return stapling::judge_status(s, status);
}

int on_cert_status(SSL* ssl, void* /*arg*/) {
  auto* session = static_cast<ProbeSession*>(SSL_get_app_data(ssl));
  if (session == nullptr || !session->facts->server_cert_status) return 1;
  const unsigned char* der = nullptr;
  const long len = SSL_get_tlsext_status_ocsp_resp(ssl, &der);
  X509* leaf = SSL_get0_peer_certificate(ssl);
  STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl);
  X509_STORE* store = SSL_CTX_get_cert_store(SSL_get_SSL_CTX(ssl));
  const UniqueX509 issuer = find_issuer(leaf, chain, store);
  const std::span<const unsigned char> bytes = der != nullptr && len > 0
                                                   ? std::span(der, static_cast<std::size_t>(len))
                                                   : std::span<const unsigned char>();
  ServerCertStatus& s = *session->facts->server_cert_status;
  s = evaluate_ocsp_response(bytes, leaf, issuer.get(), chain, store);
  if (session->log->tracing()) {
    session->log->debug("  certificate status (OCSP, {} bytes stapled): {}", bytes.size(),
                        escape_terminal(s.error ? *s.error : s.cert_status + ", signed by " + s.responder));
  }
  return s.error ? 0 : 1;
}

}  // namespace mtls_probe
