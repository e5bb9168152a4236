// The per-run TLS configuration: one SSL_CTX (trust, versions, verification, the certificate callback) and
// the loaded client identity, shared by every probe of a run. What differs per target (SNI, the name to
// check, ALPN) is set on each probe's SSL, so a run over many hosts needs one context.
#pragma once

#include <memory>
#include <mutex>
#include <optional>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/options.h"
#include "mtls_probe/engine/key_log.h"
#include "mtls_probe/engine/probe_log.h"
#include "mtls_probe/engine/proxy_tls.h"
#include "mtls_probe/identity/identity.h"

namespace mtls_probe {

// TLS1_2_VERSION for TlsVersion::v1_2, ...; 0 for any (OpenSSL's "no limit").
int openssl_version(TlsVersion v);

class ClientTlsContext {
 public:
  // identity: null when none is configured. Immutable after creation, but for the system trust store,
  // which ensure_trust() adds once.
  static Expected<std::shared_ptr<ClientTlsContext>> create(
      const TlsOptions& tls, std::shared_ptr<const ClientIdentity> identity, bool no_cert,
      ClientBehaviour behaviour = ClientBehaviour::openssl);
  // Null until ensure_trust() has run when the system trust store is used (the context is built lazily).
  SSL_CTX* ctx() const { return ctx_.get(); }
  const ClientIdentity* identity() const { return identity_.get(); }
  bool no_cert() const { return no_cert_; }
  ClientBehaviour behaviour() const { return behaviour_; }
  const TlsOptions& options() const { return tls_; }
  // Without a CA file or directory, the SSL_CTX is built and the system trust store loaded here, at the
  // first TLS handshake and only once however many probes (threads) share the context: a probe that ends
  // in DNS or TCP never pays for either. Call before SSL_new(ctx()); nullopt when ctx() is ready. log: the
  // trace of the probe that happens to load it.
  const std::optional<Error>& ensure_trust(const ProbeLog& log = {}) const;
  // The TLS context for an https:// proxy (options().proxy), built once, at the first probe that reaches
  // one. Null with `error` set when its files cannot be used.
  const ProxyTlsContext* proxy_tls(std::optional<Error>& error) const;

 private:
  std::unique_ptr<KeyLogFile> keylog_;  // SSLKEYLOGFILE; outlives ctx_ and proxy_ctx_ (declared first)
  mutable UniqueSslCtx ctx_;  // written once: by create(), or inside ensure_trust's call_once
  std::shared_ptr<const ClientIdentity> identity_;
  bool no_cert_ = false;
  ClientBehaviour behaviour_ = ClientBehaviour::openssl;
  TlsOptions tls_;
  bool system_trust_ = false;  // load the system's CAs lazily
  mutable std::once_flag trust_once_;
  mutable std::optional<Error> trust_error_;
  mutable std::once_flag proxy_once_;
  mutable std::unique_ptr<ProxyTlsContext> proxy_ctx_;
  mutable std::optional<Error> proxy_error_;
};

}  // namespace mtls_probe
