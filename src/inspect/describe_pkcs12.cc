// How a PKCS#12 file is protected, read from its structure: the encryption of its key and certificate bags,
// its MAC, whether it needs OpenSSL 3's legacy provider, and which importers open it.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>

#include <string>
#include <string_view>
#include <vector>

#include "describe.h"
#include "mtls_probe/identity/pkcs12.h"

namespace mtls_probe::inspect {
namespace {

std::string nid_short(int nid, const ASN1_OBJECT* obj) {
  const char* sn = nid != NID_undef ? OBJ_nid2sn(nid) : nullptr;
  return sn != nullptr ? sn : oid_text(obj);
}

// Whether OpenSSL 3's default provider has the cipher: what is missing there lives in the legacy provider
// (RC2, RC4, DES, Blowfish, ...). Asked by property, so the answer does not depend on whether the legacy
// provider happens to be loaded already.
bool cipher_in_default_provider(int cipher_nid) {
  if (cipher_nid == NID_undef) return true;  // nothing to fetch: not our concern here
  ERR_set_mark();
  EVP_CIPHER* c = EVP_CIPHER_fetch(nullptr, OBJ_nid2sn(cipher_nid), "provider=default");
  ERR_pop_to_mark();
  EVP_CIPHER_free(c);
  return c != nullptr;
}

// "hmacWithSHA256" -> "HMAC-SHA256".
std::string hmac_name(int prf_nid) {
  const char* sn = OBJ_nid2sn(prf_nid);
  std::string_view s = sn != nullptr ? sn : "";
  if (s.starts_with("hmacWith")) return "HMAC-" + std::string(s.substr(8));
  return std::string(s.empty() ? "unknown PRF" : s);
}

struct PbeInfo {
  std::string text;  // "PBES2 / AES-256-CBC, PBKDF2 HMAC-SHA256", "pbeWithSHA1And40BitRC2-CBC"
  long iterations = 0;
  bool legacy = false;
  bool pbes2 = false;
};

PbeInfo describe_pbe(const X509_ALGOR* alg) {
  PbeInfo info;
  if (alg == nullptr) return {"unknown", 0, false, false};
  const int nid = OBJ_obj2nid(alg->algorithm);
  if (nid == NID_pbes2) {
    info.pbes2 = true;
    auto* p = static_cast<PBE2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter));
    if (p == nullptr || p->encryption == nullptr || p->keyfunc == nullptr) {
      PBE2PARAM_free(p);
      ERR_clear_error();
      return {"PBES2 (unreadable parameters)", 0, false, true};
    }
    const int cipher = OBJ_obj2nid(p->encryption->algorithm);
    const int kdf = OBJ_obj2nid(p->keyfunc->algorithm);
    std::string kdf_text;
    if (kdf == NID_id_pbkdf2) {
      auto* k = static_cast<PBKDF2PARAM*>(
          ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM), p->keyfunc->parameter));
      // An absent PRF means HMAC-SHA1 (RFC 8018).
      const int prf = k != nullptr && k->prf != nullptr ? OBJ_obj2nid(k->prf->algorithm) : NID_hmacWithSHA1;
      kdf_text = "PBKDF2 " + hmac_name(prf);
      if (k != nullptr && k->iter != nullptr) info.iterations = ASN1_INTEGER_get(k->iter);
      PBKDF2PARAM_free(k);
    } else if (kdf == NID_id_scrypt) {
      kdf_text = "scrypt";
    } else {
      kdf_text = nid_short(kdf, p->keyfunc->algorithm);
    }
    info.text = fmt::format("PBES2 / {}, {}", nid_short(cipher, p->encryption->algorithm), kdf_text);
    info.legacy = !cipher_in_default_provider(cipher);
    PBE2PARAM_free(p);
  } else {
    // PKCS#12's own PBEs (and PKCS#5 v1): the name says it all, e.g. pbeWithSHA1And3-KeyTripleDES-CBC.
    const char* ln = nid != NID_undef ? OBJ_nid2ln(nid) : nullptr;
    info.text = ln != nullptr ? ln : oid_text(alg->algorithm);
    auto* p = static_cast<PBEPARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM), alg->parameter));
    if (p != nullptr && p->iter != nullptr) info.iterations = ASN1_INTEGER_get(p->iter);
    PBEPARAM_free(p);
    int cipher = NID_undef, md = NID_undef;
    if (EVP_PBE_find(EVP_PBE_TYPE_OUTER, nid, &cipher, &md, nullptr) == 1) {
      info.legacy = !cipher_in_default_provider(cipher);
    }
  }
  ERR_clear_error();
  return info;
}

struct Pkcs12Scan {
  Pkcs12Facts facts;
  bool any_encryption = false;
  bool all_pbes2 = true;
  void saw(const PbeInfo& info) {
    any_encryption = true;
    all_pbes2 = all_pbes2 && info.pbes2;
    facts.legacy = facts.legacy || info.legacy;
  }
};

void scan_bags(const STACK_OF(PKCS12_SAFEBAG) * bags, const PbeInfo* outer, Pkcs12Scan& scan, int depth) {
  const std::string unencrypted = "none (unencrypted)";
  for (int i = 0; bags != nullptr && i < sk_PKCS12_SAFEBAG_num(bags); ++i) {
    const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, i);
    switch (PKCS12_SAFEBAG_get_nid(bag)) {
      case NID_pkcs8ShroudedKeyBag:
        if (!scan.facts.key_encryption) {
          const X509_ALGOR* alg = nullptr;
          X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
          PbeInfo info = describe_pbe(alg);
          scan.saw(info);
          scan.facts.key_encryption = info.text;
          scan.facts.key_iterations = info.iterations;
        }
        break;
      case NID_keyBag:
        // A plain key bag is protected only by the safe around it, if any.
        if (!scan.facts.key_encryption) {
          scan.facts.key_encryption = outer != nullptr ? outer->text : unencrypted;
          scan.facts.key_iterations = outer != nullptr ? outer->iterations : 0;
        }
        break;
      case NID_certBag:
        if (!scan.facts.cert_encryption) {
          scan.facts.cert_encryption = outer != nullptr ? outer->text : unencrypted;
          scan.facts.cert_iterations = outer != nullptr ? outer->iterations : 0;
        }
        break;
      case NID_safeContentsBag:
        if (depth < 4) scan_bags(PKCS12_SAFEBAG_get0_safes(bag), outer, scan, depth + 1);
        break;
      default: break;
    }
  }
}

// An encrypted safe: its algorithm, and what it holds when one of the passwords opens it.
void scan_encrypted_safe(PKCS7* p7, const std::vector<const char*>& passwords, Pkcs12Scan& scan,
                         std::vector<PbeInfo>& undecrypted) {
  PbeInfo outer = describe_pbe(p7->d.encrypted->enc_data->algorithm);
  scan.saw(outer);
  STACK_OF(PKCS12_SAFEBAG)* bags = nullptr;
  // Opened only when its KDF is within the loader's bounds: inspect must not stall on a crafted file.
  const bool bounded = !pbe_kdf_limit_violation(p7->d.encrypted->enc_data->algorithm, "encrypted safe");
  for (const char* pass : bounded ? passwords : std::vector<const char*>{}) {
    bags = PKCS12_unpack_p7encdata(p7, pass, -1);
    if (bags != nullptr) break;
  }
  if (bags != nullptr) {
    scan_bags(bags, &outer, scan, 0);
  } else {
    undecrypted.push_back(std::move(outer));
  }
  sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
}

}  // namespace

std::string oid_text(const ASN1_OBJECT* obj) {
  char buf[128] = {};
  OBJ_obj2txt(buf, sizeof buf, obj, 0);
  return buf;
}

Pkcs12Facts describe_pkcs12(PKCS12* p12, const std::vector<const char*>& passwords) {
  Pkcs12Scan scan;
  if (PKCS12_mac_present(p12) == 1) {
    const X509_ALGOR* macalg = nullptr;
    const ASN1_INTEGER* iter = nullptr;
    PKCS12_get0_mac(nullptr, &macalg, nullptr, &iter, p12);
    if (macalg != nullptr) {
      const int md = OBJ_obj2nid(macalg->algorithm);
      scan.facts.mac_algorithm = "HMAC-" + nid_short(md, macalg->algorithm);
    }
    scan.facts.mac_iterations = iter != nullptr ? ASN1_INTEGER_get(iter) : 1;  // absent means 1
  }
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
  std::vector<PbeInfo> undecrypted;
  for (int i = 0; safes != nullptr && i < sk_PKCS7_num(safes); ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes, i);
    const int type = OBJ_obj2nid(p7->type);
    if (type == NID_pkcs7_data) {
      STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(p7);
      scan_bags(bags, nullptr, scan, 0);
      sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    } else if (type == NID_pkcs7_encrypted && p7->d.encrypted != nullptr &&
               p7->d.encrypted->enc_data != nullptr) {
      scan_encrypted_safe(p7, passwords, scan, undecrypted);
    }
  }
  sk_PKCS7_pop_free(safes, PKCS7_free);
  if (!scan.facts.cert_encryption && !undecrypted.empty()) {
    scan.facts.cert_encryption = undecrypted.front().text;
    scan.facts.cert_iterations = undecrypted.front().iterations;
  }
  scan.facts.pbes2_only = scan.any_encryption && scan.all_pbes2;
  ERR_clear_error();  // a structure we could not read is shown as unknown, not reported as a failure
  return scan.facts;
}

std::string pkcs12_compatibility(const Pkcs12Facts& p) {
  if (p.legacy) {
    return "legacy algorithms: OpenSSL 3 (curl, Python, nginx, ...) opens it only with the legacy provider; "
           "older iOS/macOS and Windows Server 2016 import exactly this kind";
  }
  if (p.pbes2_only) {
    return "modern encryption (PBES2/AES): OpenSSL 3 and current systems open it; older iOS/macOS, Windows "
           "Server 2016, some older Android and Java versions refuse it - for those, export with -legacy";
  }
  return "classic PKCS#12 algorithms (e.g. SHA-1/3DES): opened by OpenSSL 3 without the legacy provider and "
         "imported by older iOS/macOS and Windows Server 2016";
}

}  // namespace mtls_probe::inspect
