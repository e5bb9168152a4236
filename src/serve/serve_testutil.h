// Test utilities shared by the tests that need a PKI or a running `serve` in process (serve, engine, batch):
// one throw-away PKI per test binary, and a Server on a thread for the life of an object.
#pragma once

#include <gtest/gtest.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <thread>

#include "mtls_probe/engine/tls_context.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/serve/serve.h"

namespace mtls_probe::serve::testing {

// serve's PKI (CA, server, clients good and bad), generated once per test binary in a private temp dir.
inline const PkiFiles& shared_pki() {
  static const PkiFiles files = [] {
    auto dir = make_temp_dir();
    EXPECT_TRUE(dir.has_value());
    auto made = ensure_pki(dir ? dir.value() : std::string("/tmp/mtls-probe-test-pki"));
    EXPECT_TRUE(made.has_value()) << (made ? "" : made.error().message);
    return made ? made->files : PkiFiles{};
  }();
  return files;
}

// A client TLS context that trusts the shared PKI's CA, with its good client identity or none.
inline std::shared_ptr<ClientTlsContext> client_context(bool with_identity = true) {
  const PkiFiles& pki = shared_pki();
  std::shared_ptr<const ClientIdentity> identity;
  if (with_identity) {
    IdentityOptions id;
    id.cert_file = pki.client_cert;
    id.key_file = pki.client_key;
    auto loaded = load_client_identity(id);
    EXPECT_TRUE(loaded.has_value());
    if (loaded) identity = std::make_shared<const ClientIdentity>(std::move(loaded.value()));
  }
  TlsOptions tls;
  tls.cacert_file = pki.ca_cert;
  auto ctx = ClientTlsContext::create(tls, identity, false);
  EXPECT_TRUE(ctx.has_value());
  return ctx ? *ctx : nullptr;
}

// A logger that discards everything: a server whose log no test reads.
inline std::shared_ptr<spdlog::logger> quiet_logger() {
  return std::make_shared<spdlog::logger>("quiet", std::make_shared<spdlog::sinks::null_sink_mt>());
}

// The shared PKI's server identity and client CA, require a client certificate, log discarded.
inline ServeConfig default_config(int max_connections = 64) {
  const PkiFiles& pki = shared_pki();
  ServeConfig cfg;
  cfg.cert_file = pki.server_cert;
  cfg.key_file = pki.server_key;
  cfg.client_ca_file = pki.ca_cert;
  cfg.max_connections = max_connections;
  cfg.logger = quiet_logger();
  return cfg;
}

// Runs a Server on a thread for the life of the object; port() is 0 when it could not start.
class RunningServer {
 public:
  explicit RunningServer(const ServeConfig& cfg) {
    auto made = Server::create(cfg);
    if (!made) {
      ADD_FAILURE() << made.error().message << " " << made.error().openssl_detail;
      return;
    }
    server_ = std::move(*made);
    thread_ = std::thread([this] { server_->run(); });
  }
  ~RunningServer() {
    if (server_) server_->request_stop();
    if (thread_.joinable()) thread_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;
  uint16_t port() const { return server_ ? server_->port() : 0; }
  bool ok() const { return server_ != nullptr; }

 private:
  std::unique_ptr<Server> server_;
  std::thread thread_;
};

}  // namespace mtls_probe::serve::testing
