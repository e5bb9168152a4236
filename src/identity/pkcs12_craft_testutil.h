// Test helper: PKCS#12 files with crafted KDF iteration counts, made from real ones by rewriting the
// count in place, so that a test never runs the long KDF it checks the bound of.
#pragma once

#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <fstream>
#include <iterator>
#include <string>

#include "mtls_probe/base/ossl.h"

namespace mtls_probe::test {

inline UniquePkcs12 read_p12(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string der((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  return UniquePkcs12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
}

inline bool write_p12(PKCS12* p12, const std::string& path) {
  unsigned char* der = nullptr;
  const int len = i2d_PKCS12(p12, &der);
  if (len <= 0) return false;
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(der), len);
  OPENSSL_free(der);
  return true;
}

template <typename T>
inline T* unpack_param(const ASN1_ITEM* it, const ASN1_TYPE* t) {
  return static_cast<T*>(ASN1_TYPE_unpack_sequence(it, t));
}

// Sets the iteration count of one PBE AlgorithmIdentifier: PBES2 with PBKDF2, or PBES1 (PKCS#12's own).
inline bool set_pbe_iterations(X509_ALGOR* alg, long iter) {
  if (OBJ_obj2nid(alg->algorithm) != NID_pbes2) {
    auto* p = unpack_param<PBEPARAM>(ASN1_ITEM_rptr(PBEPARAM), alg->parameter);
    const bool ok = p != nullptr && ASN1_INTEGER_set(p->iter, iter) == 1 &&
                    ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBEPARAM), p, &alg->parameter) != nullptr;
    PBEPARAM_free(p);
    return ok;
  }
  auto* p = unpack_param<PBE2PARAM>(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter);
  auto* k =
      p != nullptr ? unpack_param<PBKDF2PARAM>(ASN1_ITEM_rptr(PBKDF2PARAM), p->keyfunc->parameter) : nullptr;
  const bool ok =
      k != nullptr && ASN1_INTEGER_set(k->iter, iter) == 1 &&
      ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), k, &p->keyfunc->parameter) != nullptr &&
      ASN1_TYPE_pack_sequence(ASN1_ITEM_rptr(PBE2PARAM), p, &alg->parameter) != nullptr;
  PBKDF2PARAM_free(k);
  PBE2PARAM_free(p);
  return ok;
}

enum class KdfTarget { mac, encrypted_safe, shrouded_key };

// Copies `from` to `to` with one KDF's iteration count set to `iter`; the MAC is recomputed (at its own,
// small count) when the safes changed, so that the file is intact but for the count.
inline bool craft_p12(const std::string& from, const std::string& to, KdfTarget target, long iter,
                      const char* password) {
  UniquePkcs12 p12 = read_p12(from);
  if (!p12) return false;
  if (target == KdfTarget::mac) {
    const ASN1_INTEGER* mac_iter = nullptr;
    PKCS12_get0_mac(nullptr, nullptr, nullptr, &mac_iter, p12.get());
    return mac_iter != nullptr && ASN1_INTEGER_set(const_cast<ASN1_INTEGER*>(mac_iter), iter) == 1 &&
           write_p12(p12.get(), to);
  }
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12.get());
  bool changed = false;
  for (int i = 0; safes != nullptr && i < sk_PKCS7_num(safes) && !changed; ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes, i);
    const int type = OBJ_obj2nid(p7->type);
    if (target == KdfTarget::encrypted_safe && type == NID_pkcs7_encrypted) {
      changed = set_pbe_iterations(p7->d.encrypted->enc_data->algorithm, iter);
    } else if (target == KdfTarget::shrouded_key && type == NID_pkcs7_data) {
      STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(p7);
      for (int j = 0; bags != nullptr && j < sk_PKCS12_SAFEBAG_num(bags) && !changed; ++j) {
        const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, j);
        if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag) continue;
        X509_ALGOR* alg = nullptr;
        X509_SIG_getm(const_cast<X509_SIG*>(PKCS12_SAFEBAG_get0_pkcs8(bag)), &alg, nullptr);
        changed = set_pbe_iterations(alg, iter);
      }
      if (changed) {
        PKCS7_free(p7);  // sk_PKCS7_set returns the new element, not the old one
        sk_PKCS7_set(safes, i, PKCS12_pack_p7data(bags));
      }
      sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
  }
  const bool ok = changed && PKCS12_pack_authsafes(p12.get(), safes) == 1 &&
                  PKCS12_set_mac(p12.get(), password, -1, nullptr, 0, 2048, nullptr) == 1 &&
                  write_p12(p12.get(), to);
  sk_PKCS7_pop_free(safes, PKCS7_free);
  return ok;
}

}  // namespace mtls_probe::test
