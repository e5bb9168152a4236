// What one probe's TLS connection tells us, recorded through OpenSSL's callbacks: every handshake message
// and alert (message callback), the CertificateRequest and its CA names (certificate callback, where the
// identity is handed over), the server certificate's verification (verify callback). The callbacks only
// record into ProbeFacts; they never throw and never block.
#pragma once

#include <openssl/ssl.h>

#include <optional>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/probe_log.h"
#include "mtls_probe/engine/tls_context.h"

namespace mtls_probe {

// Per-probe state reached from the C callbacks through SSL app data (SSL_set_app_data).
struct ProbeSession {
  ProbeFacts* facts = nullptr;
  const ClientTlsContext* context = nullptr;
  const ProbeLog* log = nullptr;
  bool handshake_done = false;
  bool certificate_out = false;    // our Certificate message has been written
  bool server_hello_seen = false;  // the protocol version is negotiated
};

// SSL_set_msg_callback: alerts and handshake messages in both directions.
void on_message(int write_p, int version, int content_type, const void* buf, size_t len, SSL* ssl, void* arg);
// SSL_CTX_set_cert_cb: a CertificateRequest was processed (handshake, post-handshake auth, renegotiation).
int on_certificate_request(SSL* ssl, void* arg);
// SSL_CTX_set_verify: the first verification failure, with the certificate it concerns.
int on_verify(int preverify_ok, X509_STORE_CTX* store);

// Records the CA names of the CertificateRequest (TLS 1.2 list, TLS 1.3 certificate_authorities). Returns
// whether one of them issued our leaf or a certificate of our chain (nullopt: no list, or no identity).
std::optional<bool> record_ca_names(SSL* ssl, ProbeFacts& f, const ClientIdentity* id);
// The error queue after a failed TLS call; also tells whether the peer simply was not speaking TLS.
void record_tls_failure(ProbeFacts& f);
// Version, cipher, ALPN, the server's certificate and chain, the verification result. version_known: the
// ServerHello has arrived, so SSL_get_version names the negotiated version even after a failure.
void record_session_facts(SSL* ssl, ProbeFacts& f, long long now, bool version_known);

// The handshake stopped while we wrote CertificateVerify and the key is on a token (or the error names a
// PKCS#11 code): the identity failed to sign, which is recorded as an identity error of phase
// "CertificateVerify" (the scheme the token refused, e.g. RSA-PSS under TLS 1.3, in the message).
void record_signing_failure(SSL* ssl, const ClientIdentity* id, ProbeFacts& f);

}  // namespace mtls_probe
