#include "mtls_probe/identity/pkcs12.h"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>

#include <algorithm>
#include <cstdint>
#include <utility>

namespace mtls_probe {
namespace {

// Deep enough for every exporter seen (they nest at most once); a bound, because the nesting is the file's.
constexpr int kMaxSafeContentsDepth = 4;

std::string integer_text(const ASN1_INTEGER* a) {
  std::unique_ptr<BIGNUM, OsslDeleter<BN_free>> bn(ASN1_INTEGER_to_BN(a, nullptr));
  char* dec = bn ? BN_bn2dec(bn.get()) : nullptr;
  std::string out = dec != nullptr ? dec : "(unreadable)";
  OPENSSL_free(dec);
  return out;
}

// The value of a non-negative INTEGER that fits 63 bits; nullopt for anything larger (or negative).
std::optional<std::int64_t> small_value(const ASN1_INTEGER* a) {
  std::int64_t v = 0;
  if (ASN1_INTEGER_get_int64(&v, a) != 1 || v < 0) return std::nullopt;
  return v;
}

// An iteration count above kMaxPkcs12Iterations, as the message naming it. Negative counts are not
// work (OpenSSL refuses or treats them as 1); an absent one means 1. Callers hold an error mark: a count
// too large for 64 bits queues an error.
std::optional<std::string> iterations_over_limit(const ASN1_INTEGER* iter, std::string_view what) {
  if (iter == nullptr) return std::nullopt;
  std::int64_t v = 0;
  if (ASN1_INTEGER_get_int64(&v, iter) == 1 && v <= kMaxPkcs12Iterations) return std::nullopt;
  if (iter->type == V_ASN1_NEG_INTEGER) return std::nullopt;
  return fmt::format("PKCS#12 {} iteration count {} exceeds the limit of {}", what, integer_text(iter),
                     kMaxPkcs12Iterations);
}

template <typename T>
using UniqueAsn1 = std::unique_ptr<T, void (*)(T*)>;

std::optional<std::string> scrypt_over_limit(const ASN1_TYPE* parameter, std::string_view what) {
  UniqueAsn1<SCRYPT_PARAMS> p(
      static_cast<SCRYPT_PARAMS*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(SCRYPT_PARAMS), parameter)),
      SCRYPT_PARAMS_free);
  if (!p) return std::nullopt;  // unreadable parameters: OpenSSL refuses them without running anything
  const auto n = small_value(p->costParameter);
  const auto r = small_value(p->blockSize);
  const auto par = small_value(p->parallelizationParameter);
  // With each factor at most 2^24 the product (at most 2^72) cannot overflow a long double, and near the
  // limit it is exact.
  const bool within =
      n && r && par && *n <= kMaxScryptWork && *r <= kMaxScryptWork && *par <= kMaxScryptWork &&
      static_cast<long double>(*n) * static_cast<long double>(*r) * static_cast<long double>(*par) <=
          static_cast<long double>(kMaxScryptWork);
  if (within) return std::nullopt;
  return fmt::format("PKCS#12 {} scrypt parameters N={} r={} p={} exceed the limit of N*r*p <= {}", what,
                     integer_text(p->costParameter), integer_text(p->blockSize),
                     integer_text(p->parallelizationParameter), kMaxScryptWork);
}

std::optional<std::string> pbes2_over_limit(const ASN1_TYPE* parameter, std::string_view what) {
  UniqueAsn1<PBE2PARAM> p(
      static_cast<PBE2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), parameter)),
      PBE2PARAM_free);
  if (!p || p->keyfunc == nullptr) return std::nullopt;
  const int kdf = OBJ_obj2nid(p->keyfunc->algorithm);
  if (kdf == NID_id_scrypt) return scrypt_over_limit(p->keyfunc->parameter, what);
  if (kdf != NID_id_pbkdf2) return std::nullopt;  // an unknown KDF: OpenSSL refuses it
  UniqueAsn1<PBKDF2PARAM> k(static_cast<PBKDF2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
                                                                                p->keyfunc->parameter)),
                            PBKDF2PARAM_free);
  if (!k) return std::nullopt;
  return iterations_over_limit(k->iter, fmt::format("{} PBKDF2", what));
}

// Shrouded key bags of one unencrypted safe.
std::optional<std::string> key_bags_over_limit(const STACK_OF(PKCS12_SAFEBAG) * bags, int depth) {
  for (int i = 0; bags != nullptr && i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    const int nid = PKCS12_SAFEBAG_get_nid(bag);
    std::optional<std::string> over;
    if (nid == NID_pkcs8ShroudedKeyBag) {
      const X509_ALGOR* alg = nullptr;
      X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
      over = pbe_kdf_limit_violation(alg, "shrouded private key");
    } else if (nid == NID_safeContentsBag && depth < kMaxSafeContentsDepth) {
      over = key_bags_over_limit(PKCS12_SAFEBAG_get0_safes(bag), depth + 1);
    }
    if (over) return over;
  }
  return std::nullopt;
}

std::optional<std::string> safe_over_limit(PKCS7* p7) {
  switch (OBJ_obj2nid(p7->type)) {
    case NID_pkcs7_encrypted:
      if (p7->d.encrypted == nullptr || p7->d.encrypted->enc_data == nullptr) return std::nullopt;
      return pbe_kdf_limit_violation(p7->d.encrypted->enc_data->algorithm, "encrypted safe");
    case NID_pkcs7_data: {
      STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(p7);
      auto over = key_bags_over_limit(bags, 0);
      sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
      return over;
    }
    default: return std::nullopt;
  }
}

// Collects the key and certificates from bags, as PKCS12_parse does: the first key, every X.509 certificate.
class BagCollector {
 public:
  explicit BagCollector(const char* pass) : pass_(pass) {}

  // False: limit() is set, or OpenSSL's reasons are on the error queue.
  bool take(const STACK_OF(PKCS12_SAFEBAG) * bags, int depth) {
    for (int i = 0; i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
      if (!take_bag(sk_PKCS12_SAFEBAG_value(bags, i), depth)) return false;
    }
    return true;
  }
  const std::optional<std::string>& limit() const { return limit_; }
  UniqueEvpPkey& key() { return key_; }
  std::vector<UniqueX509>& certs() { return certs_; }

 private:
  bool take_bag(const PKCS12_SAFEBAG* bag, int depth) {
    switch (PKCS12_SAFEBAG_get_nid(bag)) {
      case NID_keyBag:
        if (key_) return true;
        key_.reset(EVP_PKCS82PKEY(PKCS12_SAFEBAG_get0_p8inf(bag)));
        return key_ != nullptr;
      case NID_pkcs8ShroudedKeyBag: return key_ || take_shrouded_key(bag);
      case NID_certBag: return take_cert(bag);
      case NID_safeContentsBag:
        return depth >= kMaxSafeContentsDepth || take(PKCS12_SAFEBAG_get0_safes(bag), depth + 1);
      default: return true;  // CRLs, secrets: not part of a client identity
    }
  }
  bool take_shrouded_key(const PKCS12_SAFEBAG* bag) {
    const X509_ALGOR* alg = nullptr;
    X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
    limit_ = pbe_kdf_limit_violation(alg, "shrouded private key");
    if (limit_) return false;
    PKCS8_PRIV_KEY_INFO* p8 = PKCS12_decrypt_skey(bag, pass_, -1);
    if (p8 == nullptr) return false;
    key_.reset(EVP_PKCS82PKEY(p8));
    PKCS8_PRIV_KEY_INFO_free(p8);
    return key_ != nullptr;
  }
  bool take_cert(const PKCS12_SAFEBAG* bag) {
    if (PKCS12_SAFEBAG_get_bag_nid(bag) != NID_x509Certificate) return true;
    X509* x = PKCS12_SAFEBAG_get1_cert(bag);
    if (x == nullptr) return false;
    certs_.emplace_back(x);
    return true;
  }

  const char* pass_;
  std::optional<std::string> limit_;
  UniqueEvpPkey key_;
  std::vector<UniqueX509> certs_;
};

// One authenticated safe: unencrypted, or encrypted with the password (after its KDF is checked).
bool unpack_safe(PKCS7* p7, const char* pass, BagCollector& collector, std::optional<std::string>& limit) {
  STACK_OF(PKCS12_SAFEBAG)* bags = nullptr;
  switch (OBJ_obj2nid(p7->type)) {
    case NID_pkcs7_data: bags = PKCS12_unpack_p7data(p7); break;
    case NID_pkcs7_encrypted:
      limit = safe_over_limit(p7);
      if (limit) return false;
      bags = PKCS12_unpack_p7encdata(p7, pass, -1);
      break;
    default: return true;  // enveloped (public-key) safes: not produced by any exporter we read
  }
  if (bags == nullptr) return false;
  const bool ok = collector.take(bags, 0);
  sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
  return ok;
}

std::optional<std::string> pbe_over_limit(const X509_ALGOR* alg, std::string_view what) {
  if (alg == nullptr) return std::nullopt;
  if (OBJ_obj2nid(alg->algorithm) == NID_pbes2) return pbes2_over_limit(alg->parameter, what);
  // PKCS#12's own PBEs and PKCS#5 v1: PBEParameter { salt, iterationCount }. Anything else is not a PBE
  // OpenSSL runs: nothing for us to bound.
  UniqueAsn1<PBEPARAM> p(
      static_cast<PBEPARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter)),
      PBEPARAM_free);
  if (!p) return std::nullopt;
  return iterations_over_limit(p->iter, what);
}

std::optional<std::string> p12_over_limit(const PKCS12* p12) {
  if (PKCS12_mac_present(p12) == 1) {
    const ASN1_INTEGER* iter = nullptr;
    PKCS12_get0_mac(nullptr, nullptr, nullptr, &iter, p12);
    if (auto over = iterations_over_limit(iter, "MAC")) return over;
  }
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
  std::optional<std::string> over;
  for (int i = 0; safes != nullptr && i < sk_PKCS7_num(safes) && !over; ++i) {
    over = safe_over_limit(sk_PKCS7_value(safes, i));
  }
  sk_PKCS7_pop_free(safes, PKCS7_free);
  return over;
}

}  // namespace

// Both leave the error queue as they found it: a structure we cannot read fails later, where it is
// decoded for real, with OpenSSL's own reasons.
std::optional<std::string> pbe_kdf_limit_violation(const X509_ALGOR* alg, std::string_view what) {
  ERR_set_mark();
  auto over = pbe_over_limit(alg, what);
  ERR_pop_to_mark();
  return over;
}

std::optional<std::string> pkcs12_kdf_limit_violation(const PKCS12* p12) {
  ERR_set_mark();
  auto over = p12_over_limit(p12);
  ERR_pop_to_mark();
  return over;
}

Expected<Pkcs12Contents, Pkcs12UnpackFailure> unpack_pkcs12(const PKCS12* p12, const char* pass) {
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
  if (safes == nullptr) return Unexpected{Pkcs12UnpackFailure{}};
  BagCollector collector(pass);
  std::optional<std::string> limit;
  bool ok = true;
  for (int i = 0; i < sk_PKCS7_num(safes) && ok; ++i) {
    ok = unpack_safe(sk_PKCS7_value(safes, i), pass, collector, limit);
  }
  sk_PKCS7_pop_free(safes, PKCS7_free);
  if (!ok) return Unexpected{Pkcs12UnpackFailure{limit ? limit : collector.limit()}};

  Pkcs12Contents out;
  out.key = std::move(collector.key());
  std::vector<UniqueX509>& certs = collector.certs();
  if (out.key) {
    ERR_set_mark();  // a non-matching certificate is expected here, not an error to report
    auto leaf = std::find_if(certs.begin(), certs.end(), [&](const UniqueX509& c) {
      return X509_check_private_key(c.get(), out.key.get()) == 1;
    });
    ERR_pop_to_mark();
    if (leaf != certs.end()) {
      out.cert = std::move(*leaf);
      certs.erase(leaf);
    }
  }
  out.others = std::move(certs);
  return out;
}

}  // namespace mtls_probe
