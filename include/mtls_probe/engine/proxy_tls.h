// TLS to an HTTPS proxy (-x https://...): its own SSL_CTX, trust (--proxy-cacert / --proxy-capath, else the
// system's), --proxy-insecure and a client identity of its own (--proxy-cert / --proxy-key, PEM), apart from
// everything that concerns the server. Built once per run, when the first probe reaches an HTTPS proxy.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/options.h"

namespace mtls_probe {

class ProxyTlsContext {
 public:
  // Loads the trust and the identity (unencrypted PEM key) now: an unreadable file is an error naming it.
  static Expected<std::unique_ptr<ProxyTlsContext>> create(const ProxyTlsOptions& options);
  SSL_CTX* ctx() const { return ctx_.get(); }
  const ProxyTlsOptions& options() const { return options_; }

 private:
  UniqueSslCtx ctx_;
  ProxyTlsOptions options_;
};

// A new SSL for the proxy `host` (SNI and the certificate's name check, or its IP address), in connect
// state, recording into `facts` (whether the proxy asked for a client certificate). facts must outlive it.
UniqueSsl new_proxy_ssl(const ProxyTlsContext& ctx, const std::string& host, ProxyFacts& facts);

// After SSL_connect to the proxy returned 1: version, cipher, the certificate and its verification.
// False when the verification failed and --proxy-insecure was not given (the tunnel must not be used).
bool record_proxy_handshake(SSL* ssl, const ProxyTlsContext& ctx, ProxyFacts& facts);

// The fatal alert `code` the proxy ended its TLS connection with, placed by what facts say had happened
// (handshake done, our --proxy-cert sent).
AlertRecord proxy_alert(int code, const ProxyFacts& facts);

// After the proxy's TLS failed (in its handshake or later): the alert it sent, if any, and OpenSSL's
// reason, from the error queue (drained).
void record_proxy_tls_error(ProxyFacts& facts, std::string_view context);

}  // namespace mtls_probe
