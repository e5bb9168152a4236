// RAII for OpenSSL objects, and the error queue as a value.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <vector>

namespace mtls_probe {

template <auto Fn>
struct OsslDeleter {
  template <typename T>
  void operator()(T* p) const {
    Fn(p);
  }
};

using UniqueX509 = std::unique_ptr<X509, OsslDeleter<X509_free>>;
using UniqueEvpPkey = std::unique_ptr<EVP_PKEY, OsslDeleter<EVP_PKEY_free>>;
using UniqueBio = std::unique_ptr<BIO, OsslDeleter<BIO_free_all>>;
using UniqueSslCtx = std::unique_ptr<SSL_CTX, OsslDeleter<SSL_CTX_free>>;
using UniqueSsl = std::unique_ptr<SSL, OsslDeleter<SSL_free>>;
using UniquePkcs12 = std::unique_ptr<PKCS12, OsslDeleter<PKCS12_free>>;
using UniqueX509Store = std::unique_ptr<X509_STORE, OsslDeleter<X509_STORE_free>>;

inline UniqueX509 up_ref(X509* x) {
  if (x != nullptr) X509_up_ref(x);
  return UniqueX509(x);
}

// Drains OpenSSL's thread-local error queue into one line ("" when empty). Call it right after a failure.
// codes, when given, receives every packed error code in queue order (for a caller that classifies).
std::string drain_openssl_errors(std::vector<unsigned long>* codes = nullptr);

// RFC 4514 one-line form of a name ("CN=alice,O=Corp").
std::string name_to_string(const X509_NAME* name);

// ISO 8601 UTC ("2026-11-23T10:00:00Z") of an ASN1_TIME.
std::string asn1_time_to_iso(const ASN1_TIME* t);

}  // namespace mtls_probe
