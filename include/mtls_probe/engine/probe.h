// The engine: one probe, phase by phase, recording facts. Diagnosis is separate (diagnosis.h).
#pragma once

#include <memory>
#include <mutex>
#include <optional>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/engine/options.h"
#include "mtls_probe/base/result.h"

namespace mtls_probe {

// Built once per process (identity + trust + versions), shared by every probe, so that a batch of
// hundreds of probes re-uses one SSL_CTX. Holds the loaded identity; immutable after creation, but for
// the system trust store, which ensure_trust() adds once.
class ClientTlsContext {
 public:
  static Expected<std::shared_ptr<ClientTlsContext>> create(const TlsOptions& tls,
                                                            std::shared_ptr<const ClientIdentity> identity,
                                                            bool no_cert);
  SSL_CTX* ctx() const { return ctx_.get(); }
  const ClientIdentity* identity() const { return identity_.get(); }
  bool no_cert() const { return no_cert_; }
  const TlsOptions& options() const { return tls_; }
  // Without --cacert/--capath, the system trust store is loaded here, at the first TLS handshake and only
  // once however many probes (threads) share the context: a probe that ends in DNS or TCP never pays
  // for it. Call before SSL_new(ctx()); nullopt when trust is ready.
  const std::optional<Error>& ensure_trust() const;

 private:
  UniqueSslCtx ctx_;
  std::shared_ptr<const ClientIdentity> identity_;
  bool no_cert_ = false;
  TlsOptions tls_;
  bool system_trust_ = false;  // load the system's CAs lazily (no --cacert/--capath)
  mutable std::once_flag trust_once_;
  mutable std::optional<Error> trust_error_;
};

// Runs DNS -> TCP -> TLS -> HTTP for opts.url within opts' time limits and returns what happened.
// Never throws for network or peer behaviour; every phase is bounded in time and memory.
ProbeFacts run_probe(const ProbeOptions& opts, const ClientTlsContext& tls);

}  // namespace mtls_probe
