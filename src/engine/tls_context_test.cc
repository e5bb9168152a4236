// ClientTlsContext's system trust store: loaded once, on demand, from the hashed directory.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mtls_probe/engine/tls_context.h"

namespace mtls_probe {
namespace {

namespace fs = std::filesystem;

// A self-signed root made with the openssl CLI in a fresh directory, rehashed there.
class HashedCaDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/mtls-probe-trust-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    const std::string cmd = "cd '" + dir_.string() +
                            "' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
                            "-keyout root.key -out root.pem -days 2 -subj '/CN=probe_test root' "
                            "-addext basicConstraints=critical,CA:TRUE >/dev/null 2>&1 && "
                            "openssl rehash . >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl req / rehash failed";
    std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen((dir_ / "root.pem").c_str(), "r"), std::fclose);
    ASSERT_TRUE(f);
    root_.reset(PEM_read_X509(f.get(), nullptr, nullptr, nullptr));
    ASSERT_TRUE(root_);
    for (const char* var : {"SSL_CERT_DIR", "SSL_CERT_FILE"}) {
      if (const char* v = std::getenv(var)) saved_.emplace_back(var, v);
    }
    ::setenv("SSL_CERT_DIR", dir_.c_str(), 1);
    ::setenv("SSL_CERT_FILE", (dir_ / "no-bundle.pem").c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("SSL_CERT_DIR");
    ::unsetenv("SSL_CERT_FILE");
    for (const auto& [var, value] : saved_) ::setenv(var.c_str(), value.c_str(), 1);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // Whether the context's store finds the root by its subject, as chain building does.
  bool store_finds_root(const ClientTlsContext& ctx) const {
    if (ctx.ctx() == nullptr) return false;  // not built yet (system trust: built with it, lazily)
    std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>> sc(X509_STORE_CTX_new());
    X509_STORE_CTX_init(sc.get(), SSL_CTX_get_cert_store(ctx.ctx()), root_.get(), nullptr);
    X509_OBJECT* obj =
        X509_STORE_CTX_get_obj_by_subject(sc.get(), X509_LU_X509, X509_get_subject_name(root_.get()));
    const bool found = obj != nullptr && X509_cmp(X509_OBJECT_get0_X509(obj), root_.get()) == 0;
    X509_OBJECT_free(obj);
    ERR_clear_error();
    return found;
  }

  fs::path dir_;
  UniqueX509 root_;
  std::vector<std::pair<std::string, std::string>> saved_;
};

TEST_F(HashedCaDir, SystemTrustIsLoadedOnlyWhenAskedForAndOnce) {
  auto ctx = ClientTlsContext::create(TlsOptions{}, nullptr, false);
  ASSERT_TRUE(ctx.has_value()) << ctx.error().message;
  EXPECT_EQ((*ctx)->ctx(), nullptr) << "the SSL_CTX was built at creation";
  EXPECT_FALSE(store_finds_root(**ctx)) << "the trust store was loaded at creation";
  // Many probes sharing the context ask at once: one load, every caller sees it ready.
  std::vector<std::thread> threads;
  std::vector<int> ready(8, 0);
  for (std::size_t i = 0; i < ready.size(); ++i) {
    threads.emplace_back([&, i] { ready[i] = (*ctx)->ensure_trust().has_value() ? 0 : 1; });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ready, std::vector<int>(8, 1));
  EXPECT_TRUE(store_finds_root(**ctx)) << "the hashed SSL_CERT_DIR did not serve the root";
}

TEST_F(HashedCaDir, CacertContextNeverLoadsTheSystemStore) {
  TlsOptions tls;
  tls.cacert_file = (dir_ / "root.pem").string();
  ::setenv("SSL_CERT_DIR", (dir_ / "elsewhere").c_str(), 1);  // would not find the root anyway
  auto ctx = ClientTlsContext::create(tls, nullptr, false);
  ASSERT_TRUE(ctx.has_value()) << ctx.error().message;
  EXPECT_FALSE((*ctx)->ensure_trust().has_value());
  EXPECT_TRUE(store_finds_root(**ctx));  // from --cacert
}

}  // namespace
}  // namespace mtls_probe
