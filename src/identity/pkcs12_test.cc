// The PKCS#12 KDF bounds on single AlgorithmIdentifiers, built with OpenSSL's own setters (no KDF runs).
#include "mtls_probe/identity/pkcs12.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

namespace mtls_probe {
namespace {

using UniqueAlgor = std::unique_ptr<X509_ALGOR, OsslDeleter<X509_ALGOR_free>>;

UniqueAlgor pbkdf2(int iter) {
  return UniqueAlgor(PKCS5_pbe2_set_iv(EVP_aes_256_cbc(), iter, nullptr, 0, nullptr, NID_hmacWithSHA256));
}

std::string violation(const UniqueAlgor& alg) {
  EXPECT_TRUE(alg) << "OpenSSL refused to build the AlgorithmIdentifier";
  auto v = pbe_kdf_limit_violation(alg.get(), "test");
  EXPECT_EQ(ERR_peek_error(), 0UL) << "the error queue was left non-empty";
  return v.value_or("");
}

TEST(Pkcs12KdfLimits, Pbkdf2IterationsUpToTheLimitPass) {
  EXPECT_EQ(violation(pbkdf2(2048)), "");
  EXPECT_EQ(violation(pbkdf2(static_cast<int>(kMaxPkcs12Iterations))), "");
  EXPECT_EQ(violation(pbkdf2(static_cast<int>(kMaxPkcs12Iterations) + 1)),
            "PKCS#12 test PBKDF2 iteration count 10000001 exceeds the limit of 10000000");
  EXPECT_EQ(violation(pbkdf2(2147483647)),
            "PKCS#12 test PBKDF2 iteration count 2147483647 exceeds the limit of 10000000");
}

TEST(Pkcs12KdfLimits, Pbes1Iterations) {
  EXPECT_EQ(violation(UniqueAlgor(PKCS5_pbe_set(NID_pbe_WithSHA1And3_Key_TripleDES_CBC, 2048, nullptr, 0))),
            "");
  EXPECT_EQ(
      violation(UniqueAlgor(PKCS5_pbe_set(NID_pbe_WithSHA1And3_Key_TripleDES_CBC, 2147483647, nullptr, 0))),
      "PKCS#12 test iteration count 2147483647 exceeds the limit of 10000000");
}

TEST(Pkcs12KdfLimits, ScryptWork) {
  // OpenSSL's own default (N 16384, r 8, p 1) passes; p 4096 makes N*r*p 2^29 within OpenSSL's memory cap.
  EXPECT_EQ(
      violation(UniqueAlgor(PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), nullptr, 0, nullptr, 16384, 8, 1))), "");
  EXPECT_EQ(
      violation(UniqueAlgor(PKCS5_pbe2_set_scrypt(EVP_aes_256_cbc(), nullptr, 0, nullptr, 16384, 8, 4096))),
      "PKCS#12 test scrypt parameters N=16384 r=8 p=4096 exceed the limit of N*r*p <= 16777216");
}

TEST(Pkcs12KdfLimits, NotAPbeIsNotBounded) {
  UniqueAlgor alg(X509_ALGOR_new());
  X509_ALGOR_set0(alg.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
  EXPECT_EQ(violation(alg), "");
  EXPECT_FALSE(pbe_kdf_limit_violation(nullptr, "test"));
}

}  // namespace
}  // namespace mtls_probe
