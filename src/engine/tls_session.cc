#include "mtls_probe/engine/tls_session.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/identity/pkcs11_backend.h"
#include "mtls_probe/identity/pkcs11_token.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {

static const char* handshake_message_name(int type) {
  switch (type) {
    case 0: return "HelloRequest";
    case 1: return "ClientHello";
    case 2: return "ServerHello";
    case 4: return "NewSessionTicket";
    case 5: return "EndOfEarlyData";
    case 8: return "EncryptedExtensions";
    case 11: return "Certificate";
    case 12: return "ServerKeyExchange";
    case 13: return "CertificateRequest";
    case 14: return "ServerHelloDone";
    case 15: return "CertificateVerify";
    case 16: return "ClientKeyExchange";
    case 20: return "Finished";
    case 24: return "KeyUpdate";
    default: return "handshake message";
  }
}

static ProbeSession* session_of(const SSL* ssl) {
  return static_cast<ProbeSession*>(SSL_get_app_data(ssl));
}

// Reads a 24-bit big-endian length.
static uint32_t be24(const unsigned char* p) {
  return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
}

// Called before OpenSSL processes a TLS 1.2 CertificateRequest (which fixes the schemes we may sign with):
// a token that can sign RSA only with PKCS#1 v1.5 (no RSA-PSS, no raw RSA for libp11 to pad PSS itself)
// must not be asked for RSA-PSS, which OpenSSL prefers when the server offers it. TLS 1.3 allows only PSS
// for RSA: there the handshake fails in CertificateVerify and record_signing_failure says why.
static void limit_token_signatures(SSL* ssl, const ProbeSession& s) {
  const ClientIdentity* id = s.context != nullptr ? s.context->identity() : nullptr;
  if (id == nullptr || !signs_rsa_pkcs1_only(*id) || SSL_version(ssl) == TLS1_3_VERSION) return;
  if (SSL_set1_client_sigalgs_list(ssl, "RSA+SHA256:RSA+SHA384:RSA+SHA512") == 1)
    s.log->debug(
        "the token signs RSA with PKCS#1 v1.5 only: offering the server no RSA-PSS for our signature");
}

void on_message(int write_p, int /*version*/, int content_type, const void* buf, size_t len, SSL* ssl,
                void* /*arg*/) {
  ProbeSession* s = session_of(ssl);
  if (s == nullptr) return;
  const auto* bytes = static_cast<const unsigned char*>(buf);
  ProbeFacts& f = *s->facts;
  const char* dir = write_p ? ">" : "<";

  if (content_type == SSL3_RT_ALERT && len >= 2) {
    AlertRecord a;
    a.code = bytes[1];
    a.name = alert_name(a.code);
    a.from = write_p ? Side::client : Side::server;
    // TLS 1.3 treats every alert but close_notify and user_canceled as fatal, whatever its level says.
    // Under TLS 1.2 (and before the ServerHello) a warning is only a warning: OpenSSL goes on (up to 4 in
    // a row), and so must the verdict: some servers send warning unrecognized_name in every handshake.
    const bool tls13 = s->server_hello_seen && SSL_version(ssl) == TLS1_3_VERSION;
    a.fatal = bytes[0] == 2 || (tls13 && classify_alert(a.code) != AlertClass::close && a.code != 100);
    a.after_client_certificate = s->certificate_out;
    a.after_handshake = s->handshake_done;
    s->log->debug("{} alert {} {} ({})", dir, bytes[0] == 2 ? "fatal" : "warning", a.name, a.code);
    if (f.alerts.size() < 64) f.alerts.push_back(a);
    if (a.fatal && !f.fatal_alert) f.fatal_alert = a;
    return;
  }
  if (content_type != SSL3_RT_HANDSHAKE || len < 1) return;
  const int type = bytes[0];
  s->log->debug("{} {} ({} bytes)", dir, handshake_message_name(type), len);
  if (!write_p && type == SSL3_MT_SERVER_HELLO) s->server_hello_seen = true;

  if (!write_p && type == SSL3_MT_CERTIFICATE_REQUEST) {
    limit_token_signatures(ssl, *s);
    f.client_cert_requested = true;
    if (!s->handshake_done) {
      if (f.renegotiation_requested) {
        f.renegotiation_cert_request = true;
      } else {
        f.cert_request_in_handshake = true;
      }
    } else if (SSL_version(ssl) == TLS1_3_VERSION) {
      f.cert_request_post_handshake = true;
    } else {
      f.renegotiation_cert_request = true;
    }
  } else if (!write_p && type == SSL3_MT_HELLO_REQUEST) {
    f.renegotiation_requested = true;
  } else if (write_p && type == SSL3_MT_CERTIFICATE && len >= 4) {
    // Empty list: 3 zero bytes of list length (TLS 1.2), or after the request context (TLS 1.3).
    size_t at = 4;
    if (SSL_version(ssl) == TLS1_3_VERSION) {
      if (len < 5) return;
      at = 5 + bytes[4];
    }
    bool empty = len < at + 3 || be24(bytes + at) == 0;
    s->certificate_out = true;
    if (empty) {
      f.empty_certificate_sent = true;
    } else {
      f.client_cert_sent = true;
    }
  }
}

static void add_unique(std::vector<std::string>& names, std::string n) {
  for (const auto& e : names)
    if (e == n) return;
  if (names.size() < 1024) names.push_back(std::move(n));
}

// Records the CA names from CertificateRequest (TLS 1.2 list, TLS 1.3 certificate_authorities).
// Returns true when one of them issued our leaf or any certificate of our chain.
std::optional<bool> record_ca_names(SSL* ssl, ProbeFacts& f, const ClientIdentity* id) {
  bool any = false;
  bool match = false;
  const STACK_OF(X509_NAME) * lists[] = {SSL_get_client_CA_list(ssl), SSL_get0_peer_CA_list(ssl)};
  for (const STACK_OF(X509_NAME) * list : lists) {
    if (list == nullptr) continue;
    for (int i = 0; i < sk_X509_NAME_num(list); ++i) {
      const X509_NAME* ca = sk_X509_NAME_value(list, i);
      any = true;
      add_unique(f.acceptable_ca_names, name_to_string(ca));
      if (id == nullptr || !id->leaf) continue;
      if (X509_NAME_cmp(ca, X509_get_issuer_name(id->leaf.get())) == 0) match = true;
      for (const auto& c : id->chain) {
        if (X509_NAME_cmp(ca, X509_get_issuer_name(c.get())) == 0 ||
            X509_NAME_cmp(ca, X509_get_subject_name(c.get())) == 0)
          match = true;
      }
    }
  }
  if (!any || id == nullptr || !id->leaf) return std::nullopt;
  return match;
}

// --as strict: a strict client (Java, Go, .NET, GnuTLS, browsers) sends no certificate when the server listed
// CA names and none of them is our leaf's issuer or any certificate of our chain; with no list it sends.
static bool withhold_by_strict_selection(ProbeSession& s) {
  ProbeFacts& f = *s.facts;
  if (s.context->behaviour() != ClientBehaviour::strict ||
      f.issuer_in_acceptable_ca_names != std::optional<bool>(false))
    return false;
  f.strict_selection_withheld = true;
  s.log->debug(
      "  answering with an empty Certificate (--as strict: our certificate matches none of the "
      "server's CA names)");
  return true;
}

// Called by OpenSSL when a CertificateRequest has been processed (handshake, post-handshake auth, or
// renegotiation). We never preload the identity, so this is where it is handed over: it tells us
// reliably that the server asked, and lets us see the CA list first.
int on_certificate_request(SSL* ssl, void* /*arg*/) {
  ProbeSession* s = session_of(ssl);
  if (s == nullptr) return 1;
  ProbeFacts& f = *s->facts;
  f.client_cert_requested = true;
  const ClientIdentity* id = s->context->identity();
  f.issuer_in_acceptable_ca_names = record_ca_names(ssl, f, id);
  if (s->log->tracing()) {
    s->log->debug("  the server accepts certificates issued by {} CA name(s){}", f.acceptable_ca_names.size(),
                  f.acceptable_ca_names.empty() ? " (none listed)" : ":");
    for (size_t i = 0; i < f.acceptable_ca_names.size() && i < 32; ++i) {
      s->log->debug("    {}", escape_terminal(f.acceptable_ca_names[i]));
    }
  }
  if (id == nullptr || s->context->no_cert()) {
    s->log->debug("  answering with an empty Certificate ({})",
                  id == nullptr ? "no client identity configured" : "--no-cert");
    return 1;
  }
  if (withhold_by_strict_selection(*s)) return 1;
  if (s->log->tracing()) {  // formatting the subject costs work on every probe; only -v shows it
    s->log->debug("  answering with {} ({} chain certificate(s))",
                  name_to_string(X509_get_subject_name(id->leaf.get())), id->chain.size());
  }

  STACK_OF(X509)* chain = sk_X509_new_null();
  if (chain == nullptr) return 0;
  for (const auto& c : id->chain) sk_X509_push(chain, c.get());
  // SSL_use_cert_and_key takes its own references to all of them.
  int ok = SSL_use_cert_and_key(ssl, id->leaf.get(), id->key.get(), chain, 1);
  sk_X509_free(chain);
  if (ok != 1) {
    f.tls_error = "could not use the client certificate: " + drain_openssl_errors();
    return 0;
  }
  return 1;
}

int on_verify(int preverify_ok, X509_STORE_CTX* store) {
  SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  ProbeSession* s = ssl != nullptr ? session_of(ssl) : nullptr;
  if (s != nullptr && preverify_ok == 0 && !s->facts->verify_error) {
    // A failed verification aborts the handshake before the session keeps the peer's certificate:
    // summarize it here so the report can still say whose certificate it was.
    if (!s->facts->server_cert) {
      if (X509* leaf = X509_STORE_CTX_get0_cert(store); leaf != nullptr) {
        s->facts->server_cert = summarize_certificate(leaf, static_cast<long long>(std::time(nullptr)));
      }
    }
    const int err = X509_STORE_CTX_get_error(store);
    s->facts->verify_code = err;
    s->facts->verify_error = X509_verify_cert_error_string(err);
    s->facts->verify_error_depth = X509_STORE_CTX_get_error_depth(store);
    s->facts->hostname_mismatch =
        err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH;
  }
  return preverify_ok;
}

// Reads the error queue and decides whether the peer simply was not speaking TLS.
void record_tls_failure(ProbeFacts& f) {
  unsigned long first = ERR_peek_error();
  if (first != 0 && ERR_GET_LIB(first) == ERR_LIB_SSL) {
    const int reason = ERR_GET_REASON(first);
    if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_UNKNOWN_PROTOCOL ||
        reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_HTTP_REQUEST ||
        reason == SSL_R_HTTPS_PROXY_REQUEST) {
      f.peer_not_tls = true;
    }
  }
  std::vector<unsigned long> codes;
  std::string q = drain_openssl_errors(&codes);
  if (!q.empty()) f.tls_error = f.tls_error.empty() ? q : f.tls_error + "; " + q;
  if (auto rv = pkcs11_rv_in_error_codes(codes)) f.tls_pkcs11_rv = rv;
}

void record_signing_failure(SSL* ssl, const ClientIdentity* id, ProbeFacts& f) {
  if (id == nullptr || f.identity_error || SSL_get_state(ssl) != TLS_ST_CW_CERT_VRFY) return;
  const auto rv = f.tls_pkcs11_rv;
  if (!rv && !id->pkcs11) return;  // a key in a file that failed to sign: the TLS error says why
  IdentityFailure e;
  e.phase = "CertificateVerify";
  e.problem = rv ? problem_for_rv(*rv) : IdentityProblem::signing_failed;
  e.openssl_detail = f.tls_error;
  const bool tls13 = SSL_version(ssl) == TLS1_3_VERSION;
  const bool rsa = EVP_PKEY_get_base_id(id->key.get()) == EVP_PKEY_RSA;
  const std::string scheme = rsa     ? (tls13 ? "RSA-PSS (TLS 1.3)" : "RSA")
                             : tls13 ? "TLS 1.3's scheme"
                                     : "the scheme";
  const std::string where = id->pkcs11 ? fmt::format("token \"{}\"", id->pkcs11->token_label) : "the key";
  e.message = fmt::format("{} could not sign the handshake's CertificateVerify with {} ({})", where, scheme,
                          rv ? ckr_name(*rv) : std::string("no PKCS#11 code"));
  f.identity_error = std::move(e);
}

// version_known: the ServerHello has arrived, so SSL_get_version names the negotiated version even when
// the handshake failed afterwards (before it, it would name only what we offered).
void record_session_facts(SSL* ssl, ProbeFacts& f, long long now, bool version_known) {
  if (const char* v = SSL_get_version(ssl); v != nullptr && version_known) f.tls_version = v;
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl); c != nullptr) f.cipher = SSL_CIPHER_get_name(c);
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn_len > 0) f.alpn = std::string(reinterpret_cast<const char*>(alpn), alpn_len);
  if (X509* leaf = SSL_get0_peer_certificate(ssl); leaf != nullptr) {
    f.server_cert = summarize_certificate(leaf, now);
  }
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl); chain != nullptr) {
    f.server_chain.clear();
    for (int i = 0; i < sk_X509_num(chain) && i < 16; ++i) {
      f.server_chain.push_back(summarize_certificate(sk_X509_value(chain, i), now));
    }
  }
  if (f.handshake_completed && !f.verify_error) {
    const long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) {
      f.verify_code = vr;
      f.verify_error = X509_verify_cert_error_string(vr);
    }
  }
}

}  // namespace mtls_probe
