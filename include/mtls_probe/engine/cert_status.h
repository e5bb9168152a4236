// --cert-status (curl's): the server's stapled OCSP response for its certificate, asked for with
// status_request and checked in OpenSSL's status callback, during the handshake. A response that is
// missing, broken, not signed by someone we trust, stale, or that says anything but "good" fails the
// handshake there (alert bad_certificate_status_response): nothing of ours (client certificate, request)
// goes to the server after it.
#pragma once

#include <openssl/ocsp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <span>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/engine/facts.h"

namespace mtls_probe {

// How far thisUpdate / nextUpdate may be off our clock (as curl: 5 minutes).
inline constexpr long kOcspClockSkewSeconds = 300;

// The certificate that issued leaf: one of the server's chain (as it sent it), else one of the trust
// store. Null when neither has it.
UniqueX509 find_issuer(X509* leaf, STACK_OF(X509) * chain, X509_STORE* store);

// Pure: what the DER bytes of a stapled response say about leaf (empty bytes: nothing was stapled), as
// curl's verifystatus checks it: response status successful, signature (OCSP_basic_verify against store,
// with chain as the untrusted certificates that may carry the responder), the single response for leaf's
// CertID (from leaf and issuer; issuer null: none could be found), its thisUpdate/nextUpdate against the
// current time with kOcspClockSkewSeconds, and its status. `checked` is set; `error` says the first failure.
ServerCertStatus evaluate_ocsp_response(std::span<const unsigned char> der, X509* leaf, X509* issuer,
                                        STACK_OF(X509) * chain, X509_STORE* store);

// SSL_CTX_set_tlsext_status_cb: records the evaluation into the probe's facts (when the probe asked for the
// status) and returns 0 (fail the handshake) when it found a problem, whatever -k says (as curl).
int on_cert_status(SSL* ssl, void* arg);

}  // namespace mtls_probe
