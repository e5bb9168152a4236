// TLS to an HTTPS proxy: a context of its own, so that the proxy's trust and client identity never mix with
// the server's (curl's --proxy-* options), and the facts a report needs when the proxy's TLS is the problem.
#include "mtls_probe/engine/proxy_tls.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/engine/net.h"

namespace mtls_probe {
namespace {

Unexpected<Error> fail_with_openssl(std::string message) {
  return Unexpected{Error{std::move(message), drain_openssl_errors()}};
}

// The proxy asked for a certificate (CertificateRequest): the identity, if any, is already on the SSL.
int on_proxy_certificate_request(SSL* /*ssl*/, void* arg) {
  static_cast<ProxyFacts*>(arg)->tls_cert_requested = true;
  return 1;
}

}  // namespace

Expected<std::unique_ptr<ProxyTlsContext>> ProxyTlsContext::create(const ProxyTlsOptions& options) {
  auto out = std::unique_ptr<ProxyTlsContext>(new ProxyTlsContext());
  out->options_ = options;
  out->ctx_.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* ctx = out->ctx_.get();
  if (ctx == nullptr) return fail_with_openssl("cannot create a TLS context for the proxy");
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Verification is judged after the handshake (record_proxy_handshake), so that the report can say what
  // was wrong with the proxy's certificate; nothing goes through the tunnel before that.
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  const char* file = options.cacert_file.empty() ? nullptr : options.cacert_file.c_str();
  const char* dir = options.capath_dir.empty() ? nullptr : options.capath_dir.c_str();
  if (file != nullptr || dir != nullptr) {
    if (SSL_CTX_load_verify_locations(ctx, file, dir) != 1)
      return fail_with_openssl("cannot load the proxy's CA certificates from " +
                  (file ? options.cacert_file : options.capath_dir));
  } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    return fail_with_openssl("cannot load the system's CA certificates for the proxy");
  }
  if (!options.cert_file.empty()) {
    const std::string& key = options.key_file.empty() ? options.cert_file : options.key_file;
    if (SSL_CTX_use_certificate_chain_file(ctx, options.cert_file.c_str()) != 1)
      return fail_with_openssl("--proxy-cert: cannot read a PEM certificate from " + options.cert_file);
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1)
      return fail_with_openssl("--proxy-key: cannot read an unencrypted PEM private key from " + key);
    if (SSL_CTX_check_private_key(ctx) != 1) return fail_with_openssl("--proxy-key does not match --proxy-cert");
  }
  return out;
}

UniqueSsl new_proxy_ssl(const ProxyTlsContext& ctx, const std::string& host, ProxyFacts& facts) {
  UniqueSsl ssl(SSL_new(ctx.ctx()));
  if (!ssl) return ssl;
  Endpoint ep;
  if (numeric_endpoint(host, 0, ep)) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl.get()), host.c_str());
  } else {
    SSL_set_tlsext_host_name(ssl.get(), host.c_str());
    SSL_set1_host(ssl.get(), host.c_str());
  }
  SSL_set_cert_cb(ssl.get(), on_proxy_certificate_request, &facts);
  SSL_set_connect_state(ssl.get());
  facts.tls = true;
  return ssl;
}

bool record_proxy_handshake(SSL* ssl, const ProxyTlsContext& ctx, ProxyFacts& facts) {
  facts.tls_handshake_completed = true;
  facts.tls_version = SSL_get_version(ssl);
  facts.tls_cert_sent = facts.tls_cert_requested && SSL_get_certificate(ssl) != nullptr;
  if (X509* cert = SSL_get0_peer_certificate(ssl); cert != nullptr) {
    facts.tls_cert_subject = name_to_string(X509_get_subject_name(cert));
    facts.tls_cert_issuer = name_to_string(X509_get_issuer_name(cert));
  }
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) facts.tls_verify_error = X509_verify_cert_error_string(verify);
  if (SSL_get0_peer_certificate(ssl) == nullptr) facts.tls_verify_error = "the proxy sent no certificate";
  return !facts.tls_verify_error || ctx.options().insecure;
}

AlertRecord proxy_alert(int code, const ProxyFacts& facts) {
  AlertRecord a;
  a.code = code;
  a.name = alert_name(code);
  a.from = Side::server;
  a.fatal = true;
  a.after_handshake = facts.tls_handshake_completed;
  a.after_client_certificate = facts.tls_cert_sent;
  return a;
}

void record_proxy_tls_error(ProxyFacts& facts, std::string_view context) {
  if (const int code = received_alert_code(ERR_peek_error()); code != 0)
    facts.tls_alert = proxy_alert(code, facts);
  const std::string detail = drain_openssl_errors();
  if (facts.tls_error.empty()) facts.tls_error = std::string(context) + (detail.empty() ? "" : ": " + detail);
}

}  // namespace mtls_probe
