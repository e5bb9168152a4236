#include "mtls_probe/engine/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/engine/cert_status.h"
#include "mtls_probe/engine/tls_session.h"

namespace mtls_probe {

int openssl_version(TlsVersion v) {
  switch (v) {
    case TlsVersion::v1_0: return TLS1_VERSION;
    case TlsVersion::v1_1: return TLS1_1_VERSION;
    case TlsVersion::v1_2: return TLS1_2_VERSION;
    case TlsVersion::v1_3: return TLS1_3_VERSION;
    case TlsVersion::any: return 0;
  }
  return 0;
}

namespace {

// OpenSSL's default trust locations, as SSL_CTX_set_default_verify_paths finds them: $SSL_CERT_DIR (a
// colon-separated list) or the built-in directory, $SSL_CERT_FILE or the built-in bundle.
struct TrustLocations {
  std::string dirs;
  std::string file;
  bool file_from_env = false;
};

TrustLocations default_trust_locations() {
  TrustLocations t;
  const char* dir_env = secure_getenv(X509_get_default_cert_dir_env());
  const char* file_env = secure_getenv(X509_get_default_cert_file_env());
  t.dirs = dir_env != nullptr ? dir_env : X509_get_default_cert_dir();
  t.file = file_env != nullptr ? file_env : X509_get_default_cert_file();
  t.file_from_env = file_env != nullptr;
  return t;
}

// "5ad8a5d6.0": a subject-hash link as c_rehash / openssl rehash make them.
bool is_hash_link_name(std::string_view name) {
  return name.size() == 10 && name.substr(8) == ".0" &&
         std::all_of(name.begin(), name.begin() + 8,
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::vector<std::string> split_dirs(const std::string& dirs) {
  std::vector<std::string> out;
  std::string_view rest = dirs;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    if (colon != 0) out.emplace_back(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
  }
  return out;
}

// The directories that hold subject-hash links (only there can OpenSSL's hash-directory lookup find a
// root), canonical.
std::vector<std::filesystem::path> hashed_dirs(const std::string& dirs) {
  std::vector<std::filesystem::path> out;
  for (const std::string& dir : split_dirs(dirs)) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (!is_hash_link_name(it->path().filename().native())) continue;
      out.push_back(std::filesystem::canonical(dir, ec));
      break;
    }
  }
  return out;
}

// Whether the bundle file lies in one of those directories: update-ca-certificates (and c_rehash setups)
// write the bundle there from the same certificates that they link, so the links already hold its roots.
bool bundle_beside_links(const std::string& file, const std::vector<std::filesystem::path>& hashed) {
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(file, ec);
  if (ec) return true;  // no bundle: nothing to read
  return std::find(hashed.begin(), hashed.end(), canonical.parent_path()) != hashed.end();
}

// The system trust store. SSL_CTX_set_default_verify_paths parses the whole bundle file (some 150 roots,
// most of a probe's CPU); the hashed directory holds the same roots, and OpenSSL's lookup there reads
// only the file of the issuer a chain asks for. The bundle is read where no directory has hash links,
// and where SSL_CERT_FILE names one outside them (its roots may be others; OpenSSL's defaults would read
// it). A missing location is no error, as with OpenSSL's defaults: verification reports the chain.
std::optional<Error> load_system_trust(SSL_CTX* ctx, const ProbeLog& log) {
  const TrustLocations t = default_trust_locations();
  const auto hashed = hashed_dirs(t.dirs);
  if (!hashed.empty() && SSL_CTX_load_verify_dir(ctx, t.dirs.c_str()) != 1) {
    return Error{"cannot use the system's CA directory '" + t.dirs + "'", drain_openssl_errors()};
  }
  if (hashed.empty() || (t.file_from_env && !bundle_beside_links(t.file, hashed))) {
    log.debug("trust: reading the CA bundle {}", t.file);
    SSL_CTX_load_verify_file(ctx, t.file.c_str());
  }
  log.debug("trust: {}", hashed.empty() ? "no hashed CA directory" : "hashed CA directory " + t.dirs);
  ERR_clear_error();
  return std::nullopt;
}

// Everything of the SSL_CTX but its trust locations.
Expected<UniqueSslCtx> build_ssl_ctx(const TlsOptions& tls) {
  UniqueSslCtx owner(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* ctx = owner.get();
  if (ctx == nullptr) return Unexpected{Error{"cannot create a TLS context", drain_openssl_errors()}};
  // Verification always runs so that the report can say what is wrong; -k only stops it from aborting.
  SSL_CTX_set_verify(ctx, tls.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, on_verify);
  const int min = openssl_version(tls.min_version);
  const int max = openssl_version(tls.max_version);
  if (min != 0 && min < TLS1_2_VERSION) {
    // TLS 1.0/1.1 were asked for explicitly: OpenSSL's default security level would still refuse them.
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
  }
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1 || SSL_CTX_set_max_proto_version(ctx, max) != 1) {
    return Unexpected{Error{"unsupported --tls-min/--tls-max combination", drain_openssl_errors()}};
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Renegotiation stays allowed (Apache's per-location SSLVerifyClient under TLS 1.2 needs it).
  SSL_CTX_clear_options(ctx, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
  // A TCP close without close_notify is an EOF (as OpenSSL 1.1.1 reported it), not a TLS error: without
  // this, OpenSSL 3 "answers" the closed socket with its own decode_error alert, which would turn a
  // server that closes mid-handshake (or ends a read-until-close body) into "we sent decode_error".
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_cert_cb(ctx, on_certificate_request, nullptr);
  // Runs only on a probe that asked for the status (--cert-status: SSL_set_tlsext_status_type).
  SSL_CTX_set_tlsext_status_cb(ctx, on_cert_status);
  return owner;
}

}  // namespace

const ProxyTlsContext* ClientTlsContext::proxy_tls(std::optional<Error>& error) const {
  std::call_once(proxy_once_, [this] {
    auto made = ProxyTlsContext::create(tls_.proxy);
    if (made) {
      proxy_ctx_ = std::move(made.value());
      if (keylog_) keylog_->attach(proxy_ctx_->ctx());
    } else {
      proxy_error_ = made.error();
    }
  });
  error = proxy_error_;
  return proxy_ctx_.get();
}

const std::optional<Error>& ClientTlsContext::ensure_trust(const ProbeLog& log) const {
  if (system_trust_) {
    std::call_once(trust_once_, [this, &log] {
      auto built = build_ssl_ctx(tls_);
      if (!built) {
        trust_error_ = built.error();
        return;
      }
      ctx_ = std::move(built.value());
      if (keylog_) keylog_->attach(ctx_.get());
      trust_error_ = load_system_trust(ctx_.get(), log);
    });
  }
  return trust_error_;
}

Expected<std::shared_ptr<ClientTlsContext>> ClientTlsContext::create(
    const TlsOptions& tls, std::shared_ptr<const ClientIdentity> identity, bool no_cert,
    ClientBehaviour behaviour) {
  auto out = std::shared_ptr<ClientTlsContext>(new ClientTlsContext());
  out->tls_ = tls;
  out->behaviour_ = behaviour;
  out->identity_ = std::move(identity);
  out->no_cert_ = no_cert;
  const int min = openssl_version(tls.min_version);
  const int max = openssl_version(tls.max_version);
  if (min != 0 && max != 0 && min > max) return Unexpected{Error{"--tls-min is above --tls-max", ""}};
  if (!tls.keylog_file.empty()) {
    auto log = KeyLogFile::open(tls.keylog_file);
    if (!log) return Unexpected{log.error()};
    out->keylog_ = std::move(log.value());
  }
  if (tls.cacert_file.empty() && tls.capath_dir.empty()) {
    // The system trust store: the SSL_CTX itself (OpenSSL's algorithm fetching, half of a probe that ends
    // in DNS) and the trust are built by ensure_trust(), when a handshake needs them.
    out->system_trust_ = true;
    return out;
  }
  // A CA file or directory is checked now, before any connection: a bad one is a usage error.
  auto built = build_ssl_ctx(tls);
  if (!built) return Unexpected{built.error()};
  out->ctx_ = std::move(built.value());
  if (out->keylog_) out->keylog_->attach(out->ctx_.get());
  const char* file = tls.cacert_file.empty() ? nullptr : tls.cacert_file.c_str();
  const char* dir = tls.capath_dir.empty() ? nullptr : tls.capath_dir.c_str();
  if (SSL_CTX_load_verify_locations(out->ctx_.get(), file, dir) != 1) {
    return Unexpected{Error{file != nullptr
                                ? "cannot load CA certificates from --cacert '" + tls.cacert_file + "'"
                                : "cannot use --capath '" + tls.capath_dir + "'",
                            drain_openssl_errors()}};
  }
  return out;
}

}  // namespace mtls_probe
