// PKCS#12 internals shared by the identity loader and `inspect`: bounds on the key-derivation work a file
// may ask for, and unpacking the bags once the MAC has been checked (so that it is checked only once).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"

namespace mtls_probe {

// The highest iteration count accepted for any PKCS#12 KDF (the MAC's PKCS#12 KDF, PKCS#12/PKCS#5 v1 PBEs,
// PBKDF2). Real files use 1 to 600,000 (OpenSSL 2048, Windows 2000 to 10,000, Java 10,000, OWASP's PBKDF2
// advice 600,000); 10,000,000 leaves 16x headroom over the highest of those and still bounds one KDF to
// about 2.5 s (PBKDF2-SHA256 runs ~0.24 s per million iterations on a 2026 x86 core), where a crafted 2^31
// takes some 9 minutes per KDF, and a file has three or more.
inline constexpr long kMaxPkcs12Iterations = 10'000'000;
// scrypt's work is N * r * p blocks: 2^24 is 128x OpenSSL's own default (N 16384, r 8, p 1).
inline constexpr long long kMaxScryptWork = 1LL << 24;

// The first KDF parameter above those limits among what can be read without a password (the MAC, the
// encrypted safes' algorithms, the shrouded keys in unencrypted safes), as a message
// ("PKCS#12 MAC iteration count 2147483647 exceeds the limit of 10000000"); nullopt when all are within.
std::optional<std::string> pkcs12_kdf_limit_violation(const PKCS12* p12);

// The same for one password-based encryption AlgorithmIdentifier; `what` names its place in messages.
std::optional<std::string> pbe_kdf_limit_violation(const X509_ALGOR* alg, std::string_view what);

struct Pkcs12Contents {
  UniqueEvpPkey key;
  UniqueX509 cert;                 // the first certificate that matches the key (as PKCS12_parse picks)
  std::vector<UniqueX509> others;  // every other certificate, in file order
};

struct Pkcs12UnpackFailure {
  std::optional<std::string> kdf_limit;  // set: a bag's KDF was above the limits (nothing ran); unset:
                                         // OpenSSL's reasons are on the error queue
};

// Decrypts and unpacks the safes with `pass` WITHOUT checking the MAC: the caller has verified it (or the
// file has none). Mirrors PKCS12_parse (nested safe contents included), but every KDF is bounded first.
Expected<Pkcs12Contents, Pkcs12UnpackFailure> unpack_pkcs12(const PKCS12* p12, const char* pass);

}  // namespace mtls_probe
