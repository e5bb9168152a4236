#include "serve_ocsp.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

#include "mtls_probe/base/ossl.h"

namespace mtls_probe::serve_ocsp {

namespace {

constexpr std::size_t kMaxStapleBytes = 64 * 1024;

// SSL_CTX_set_tlsext_status_cb on the server: called when a client sent status_request. OpenSSL takes
// ownership of the copy it is handed.
int staple_response(SSL* ssl, void* arg) {
  const auto* der = static_cast<const std::string*>(arg);
  if (der == nullptr || der->empty()) return SSL_TLSEXT_ERR_NOACK;
  auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(der->size()));
  if (copy == nullptr) return SSL_TLSEXT_ERR_NOACK;
  std::memcpy(copy, der->data(), der->size());
  if (SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(der->size())) != 1) {
    OPENSSL_free(copy);
    return SSL_TLSEXT_ERR_NOACK;
  }
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace

std::optional<Error> load_staple(const std::string& file, std::string& der) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"cannot read the OCSP response --ocsp-staple " + file, std::strerror(errno)};
  der.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (der.size() > kMaxStapleBytes) return Error{"--ocsp-staple " + file + " is larger than 64 KiB", ""};
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  OCSP_RESPONSE* response = d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size()));
  if (response == nullptr) {
    return Error{"--ocsp-staple " + file + " is not a DER OCSP response", drain_openssl_errors()};
  }
  OCSP_RESPONSE_free(response);
  return std::nullopt;
}

void staple_on(SSL_CTX* ctx, const std::string* der) {
  SSL_CTX_set_tlsext_status_cb(ctx, staple_response);
  SSL_CTX_set_tlsext_status_arg(ctx, const_cast<std::string*>(der));
}

}  // namespace mtls_probe::serve_ocsp
