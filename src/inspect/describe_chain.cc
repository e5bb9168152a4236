// The chain carried with the leaf (which certificates link it up, how far) and its verification to a
// --cacert file as a TLS server would check a client certificate.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "describe.h"

namespace mtls_probe::inspect {
namespace {

using UniqueStoreCtx = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;

// What a default OpenSSL server on this machine verifies client certificates at (the system
// configuration may raise it, e.g. Debian's SECLEVEL=2): it decides whether weak keys and digests pass.
int default_security_level() {
  UniqueSslCtx ctx(SSL_CTX_new(TLS_server_method()));
  const int level = ctx ? SSL_CTX_get_security_level(ctx.get()) : 1;
  ERR_clear_error();
  return level;
}

}  // namespace

void describe_chain(X509* leaf, const std::vector<X509*>& given, long long now, IdentityFacts& f) {
  std::vector<X509*> carried;
  for (X509* c : given) {
    if (X509_cmp(c, leaf) != 0) carried.push_back(c);  // a copy of the leaf is not a chain certificate
  }
  const bool leaf_self_signed = f.leaf && f.leaf->self_signed;
  X509* current = leaf;
  bool root = leaf_self_signed;
  std::vector<X509*> path;
  while (!root) {
    auto it = std::find_if(carried.begin(), carried.end(),
                           [&](X509* c) { return X509_check_issued(c, current) == X509_V_OK; });
    if (it == carried.end()) break;
    path.push_back(*it);
    carried.erase(it);
    current = path.back();
    root = X509_self_signed(current, 1) == 1;
  }
  ERR_clear_error();
  f.leaf_issuer_carried = leaf_self_signed || !path.empty();
  f.chain_reaches_root = root;
  f.chain_end = name_to_string(X509_get_subject_name(current));
  for (X509* c : path) f.chain.push_back(ChainEntry{describe_certificate(c, now), true});
  for (X509* c : carried) f.chain.push_back(ChainEntry{describe_certificate(c, now), false});
}

Expected<UniqueX509Store, Error> load_ca_file(const std::string& file) {
  ERR_clear_error();
  UniqueX509Store store(X509_STORE_new());
  if (!store || X509_STORE_load_file(store.get(), file.c_str()) != 1) {
    return Unexpected{
        Error{fmt::format("cannot use --cacert '{}': no readable PEM CA certificate in it", file),
              drain_openssl_errors()}};
  }
  ERR_clear_error();
  return store;
}

VerificationFacts verify_chain(X509_STORE* store, const std::string& cacert, X509* leaf,
                               const std::vector<X509*>& carried, long long now) {
  VerificationFacts v;
  v.cacert = cacert;
  v.security_level = default_security_level();
  UniqueStoreCtx ctx(X509_STORE_CTX_new());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (X509* c : carried) sk_X509_push(untrusted, c);  // borrowed: freed with sk_X509_free only
  if (ctx && untrusted != nullptr && X509_STORE_CTX_init(ctx.get(), store, leaf, untrusted) == 1) {
    // As a TLS server checks a client's certificate (ssl_verify_cert_chain): purpose and trust
    // "ssl_client", the SSL security level as auth level.
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(now));
    X509_VERIFY_PARAM_set_auth_level(param, v.security_level);
    v.verified = X509_verify_cert(ctx.get()) == 1;
    if (!v.verified) {
      v.error_code = X509_STORE_CTX_get_error(ctx.get());
      v.error = X509_verify_cert_error_string(v.error_code);
      v.error_depth = X509_STORE_CTX_get_error_depth(ctx.get());
      if (X509* at = X509_STORE_CTX_get_current_cert(ctx.get()))
        v.error_subject = name_to_string(X509_get_subject_name(at));
    }
  } else {
    v.error = "could not set up the verification: " + drain_openssl_errors();
  }
  sk_X509_free(untrusted);
  ERR_clear_error();
  return v;
}

}  // namespace mtls_probe::inspect
