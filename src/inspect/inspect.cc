#include "mtls_probe/inspect/inspect.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string_view>
#include <utility>

#include "mtls_probe/identity/identity.h"
#include "mtls_probe/base/ossl.h"
#include "mtls_probe/identity/pkcs12.h"
#include "mtls_probe/identity/secret_file.h"
#include "mtls_probe/report/text_layout.h"

namespace mtls_probe::inspect {

namespace {

using UniqueStoreCtx = std::unique_ptr<X509_STORE_CTX, OsslDeleter<X509_STORE_CTX_free>>;

// Identity files are a few KiB; the cap only protects against being pointed at a disk image.
constexpr std::size_t kMaxFile = 16 * 1024 * 1024;

// Whole file, or nullopt when it cannot be read (read_secret_file bounds its size and the wait for a FIFO).
// The bytes may hold a private key (a combined PEM file): they are wiped by the caller.
std::optional<std::string> slurp(const std::string& path) {
  auto bytes = read_secret_file(path, "file", kMaxFile);
  if (!bytes) return std::nullopt;
  return std::string(bytes->view());
}

void wipe(std::optional<std::string>& s) {
  if (s) OPENSSL_cleanse(s->data(), s->size());
}

UniquePkcs12 parse_pkcs12(const std::string& der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  UniquePkcs12 p12(d2i_PKCS12(nullptr, &p, static_cast<long>(der.size())));
  ERR_clear_error();
  return p12;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s = s.substr(s.size() - suffix.size());
  return std::equal(s.begin(), s.end(), suffix.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

std::string oid_text(const ASN1_OBJECT* obj) {
  char buf[128] = {};
  OBJ_obj2txt(buf, sizeof buf, obj, 0);
  return buf;
}

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

// ---------------------------------------------------------------------------------------------------------
// PKCS#12 container

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

// How the file is protected. `passwords` (empty: do not decrypt) open encrypted safes to see what they
// hold; without them an encrypted safe is taken to hold the certificates, as every common exporter does.
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

// ---------------------------------------------------------------------------------------------------------
// Certificates and keys

KeyFacts describe_key(EVP_PKEY* key) {
  KeyFacts k;
  if (key == nullptr) return k;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: k.type = "RSA"; break;
    case EVP_PKEY_RSA_PSS: k.type = "RSA-PSS"; break;
    case EVP_PKEY_EC: k.type = "EC"; break;
    case EVP_PKEY_ED25519: k.type = "Ed25519"; break;
    case EVP_PKEY_ED448: k.type = "Ed448"; break;
    case EVP_PKEY_DSA: k.type = "DSA"; break;
    default: {
      const char* name = EVP_PKEY_get0_type_name(key);
      k.type = name != nullptr ? name : "unknown";
    }
  }
  k.bits = EVP_PKEY_get_bits(key);
  if (k.type == "EC") {
    char group[80] = {};
    std::size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) == 1) {
      const char* nist = EC_curve_nid2nist(OBJ_sn2nid(group));
      k.curve = nist != nullptr ? nist : group;
    }
  }
  ERR_clear_error();
  return k;
}

std::vector<std::string> key_usage_names(uint32_t ku) {
  static constexpr std::pair<uint32_t, const char*> kNames[] = {
      {KU_DIGITAL_SIGNATURE, "digitalSignature"},
      {KU_NON_REPUDIATION, "nonRepudiation"},
      {KU_KEY_ENCIPHERMENT, "keyEncipherment"},
      {KU_DATA_ENCIPHERMENT, "dataEncipherment"},
      {KU_KEY_AGREEMENT, "keyAgreement"},
      {KU_KEY_CERT_SIGN, "keyCertSign"},
      {KU_CRL_SIGN, "cRLSign"},
      {KU_ENCIPHER_ONLY, "encipherOnly"},
      {KU_DECIPHER_ONLY, "decipherOnly"},
  };
  std::vector<std::string> out;
  for (const auto& [bit, name] : kNames) {
    if ((ku & bit) != 0) out.emplace_back(name);
  }
  return out;
}

std::string fingerprint_sha256(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(cert, EVP_sha256(), md, &n) != 1) {
    ERR_clear_error();
    return "";
  }
  std::string out;
  for (unsigned int i = 0; i < n; ++i) out += fmt::format("{}{:02X}", i ? ":" : "", md[i]);
  return out;
}

CertificateFacts describe_certificate(X509* cert, long long now) {
  CertificateFacts c;
  c.summary = summarize_certificate(cert, now);
  const int sig_nid = X509_get_signature_nid(cert);
  c.signature_algorithm = sig_nid != NID_undef ? OBJ_nid2ln(sig_nid) : "unknown";
  int md_nid = NID_undef;
  if (X509_get_signature_info(cert, &md_nid, nullptr, nullptr, nullptr) == 1 && md_nid != NID_undef) {
    c.signature_digest = OBJ_nid2sn(md_nid);
  } else {
    int pk_nid = NID_undef;
    if (OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) == 1 && md_nid != NID_undef)
      c.signature_digest = OBJ_nid2sn(md_nid);
  }
  c.weak_signature_digest =
      md_nid == NID_sha1 || md_nid == NID_md5 || md_nid == NID_md4 || md_nid == NID_md2 || md_nid == NID_mdc2;
  if (EVP_PKEY* pub = X509_get0_pubkey(cert)) c.public_key = describe_key(pub);

  const uint32_t flags = X509_get_extension_flags(cert);
  if ((flags & EXFLAG_KUSAGE) != 0) c.key_usage = key_usage_names(X509_get_key_usage(cert));
  if ((flags & EXFLAG_XKUSAGE) != 0) {
    std::vector<std::string> names;
    if (auto* eku =
            static_cast<EXTENDED_KEY_USAGE*>(X509_get_ext_d2i(cert, NID_ext_key_usage, nullptr, nullptr))) {
      for (int i = 0; i < sk_ASN1_OBJECT_num(eku); ++i) {
        const ASN1_OBJECT* obj = sk_ASN1_OBJECT_value(eku, i);
        const int nid = OBJ_obj2nid(obj);
        names.push_back(nid != NID_undef ? OBJ_nid2sn(nid) : oid_text(obj));
      }
      EXTENDED_KEY_USAGE_free(eku);
    }
    c.extended_key_usage = std::move(names);
  }
  if (ASN1_TIME* t = ASN1_TIME_set(nullptr, static_cast<time_t>(now))) {
    int days = 0, secs = 0;
    if (ASN1_TIME_diff(&days, &secs, t, X509_get0_notBefore(cert)) == 1) c.days_until_valid = days;
    ASN1_TIME_free(t);
  }
  c.is_ca = X509_check_ca(cert) != 0;
  c.self_signed = X509_self_signed(cert, 1) == 1;
  c.sha256_fingerprint = fingerprint_sha256(cert);
  ERR_clear_error();
  return c;
}

// ---------------------------------------------------------------------------------------------------------
// What the loader refused to hand out: an unusable pair (no key, or a key for another certificate) is still
// worth describing. Only called after load_client_identity failed with one of those problems, so the
// password (if any) and the legacy provider are known to be right by then.

struct Contents {
  UniqueEvpPkey key;
  UniqueX509 leaf;
  std::vector<UniqueX509> others;
};

struct PasswordState {
  const std::string* password = nullptr;
};

extern "C" int inspect_password_cb(char* buf, int size, int /*rwflag*/, void* userdata) {
  const auto* state = static_cast<const PasswordState*>(userdata);
  if (state == nullptr || state->password == nullptr || size <= 0) return -1;  // never prompt
  const std::size_t n = state->password->size();
  if (n > static_cast<std::size_t>(size)) return -1;
  std::memcpy(buf, state->password->data(), n);
  return static_cast<int>(n);
}

extern "C" int inspect_no_password_cb(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

// The certificate nobody else in the set was issued by and that is not a CA: the end-entity.
std::size_t pick_leaf(const std::vector<UniqueX509>& certs) {
  for (std::size_t i = 0; i < certs.size(); ++i) {
    if (X509_check_ca(certs[i].get()) != 0) continue;
    const bool issues_another = std::any_of(certs.begin(), certs.end(), [&](const UniqueX509& o) {
      return o != certs[i] && X509_check_issued(certs[i].get(), o.get()) == X509_V_OK;
    });
    if (!issues_another) return i;
  }
  return 0;
}

std::optional<Contents> lenient_pem(const IdentityOptions& o) {
  Contents out;
  std::vector<UniqueX509> certs;
  if (UniqueBio bio{BIO_new_file(o.cert_file.c_str(), "rb")}) {
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, inspect_no_password_cb, nullptr)) {
      certs.emplace_back(x);
    }
  }
  if (certs.empty()) {
    if (UniqueBio bio{BIO_new_file(o.cert_file.c_str(), "rb")}) {
      if (X509* x = d2i_X509_bio(bio.get(), nullptr)) certs.emplace_back(x);
    }
  }
  ERR_clear_error();
  if (certs.empty()) return std::nullopt;
  out.leaf = std::move(certs.front());  // as curl and the loader read it: the first one is the client's
  certs.erase(certs.begin());
  out.others = std::move(certs);
  const std::string& key_file = o.key_file.empty() ? o.cert_file : o.key_file;
  if (UniqueBio bio{BIO_new_file(key_file.c_str(), "rb")}) {
    PasswordState pw{o.password ? &*o.password : nullptr};
    out.key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, inspect_password_cb, &pw));
  }
  ERR_clear_error();
  return out;
}

std::vector<const char*> password_candidates(const IdentityOptions& o) {
  // As the loader tries them: with none (or an empty one) given, both the absent and the empty password.
  if (o.password && !o.password->empty()) return {o.password->c_str()};
  return {nullptr, ""};
}

// The loader's own unpacking (every KDF bounded, the MAC checked once) for files it refused as unusable.
std::optional<Contents> lenient_p12(PKCS12* p12, const IdentityOptions& o) {
  if (pkcs12_kdf_limit_violation(p12)) return std::nullopt;
  const bool mac_present = PKCS12_mac_present(p12) == 1;
  for (const char* pass : password_candidates(o)) {
    if (mac_present && PKCS12_verify_mac(p12, pass, -1) != 1) continue;
    auto unpacked = unpack_pkcs12(p12, pass);
    if (!unpacked) continue;
    std::vector<UniqueX509> certs = std::move(unpacked->others);
    Contents out;
    out.key = std::move(unpacked->key);
    out.leaf = std::move(unpacked->cert);
    if (!out.leaf && !certs.empty()) {
      const std::size_t i = pick_leaf(certs);
      out.leaf = std::move(certs[i]);
      certs.erase(certs.begin() + static_cast<std::ptrdiff_t>(i));
    }
    out.others = std::move(certs);
    ERR_clear_error();
    if (!out.leaf) return std::nullopt;
    return out;
  }
  ERR_clear_error();
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------------------------
// Chain and verification

// Describes the carried certificates, the leaf's issuer path first (then the rest, as given), and how far
// that path goes.
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

// What a default OpenSSL server on this machine verifies client certificates at (the system
// configuration may raise it, e.g. Debian's SECLEVEL=2): it decides whether weak keys and digests pass.
int default_security_level() {
  UniqueSslCtx ctx(SSL_CTX_new(TLS_server_method()));
  const int level = ctx ? SSL_CTX_get_security_level(ctx.get()) : 1;
  ERR_clear_error();
  return level;
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

// ---------------------------------------------------------------------------------------------------------
// Findings

std::string date(std::string_view iso) {
  return std::string(iso.size() >= 10 ? iso.substr(0, 10) : iso);
}

std::string plural(long n, std::string_view unit) {
  return fmt::format("{} {}{}", n, unit, n == 1 || n == -1 ? "" : "s");
}

std::string identity_hint(IdentityProblem p) {
  switch (p) {
    case IdentityProblem::file_missing:
      return "Check the path (a relative path is taken from the current directory).";
    case IdentityProblem::file_unreadable:
      return "Check the file's permissions (and that it is a file, not a directory).";
    case IdentityProblem::not_recognised:
      return "inspect reads PKCS#12 (.p12/.pfx) and PEM (certificate, chain, private key); force the kind "
             "with --cert-type P12|PEM, or convert other formats with openssl (e.g. openssl x509 -inform "
             "DER).";
    case IdentityProblem::wrong_password:
      return "Give the password the file was exported with (--p12-password-env VAR or --p12-password-file "
             "FILE); passwords are case-sensitive, and an empty password is not the same as none.";
    case IdentityProblem::password_needed:
      return "The file is password-protected: give the password with --p12-password-env VAR or "
             "--p12-password-file FILE.";
    case IdentityProblem::legacy_unavailable:
      return "Enable OpenSSL's legacy provider (ossl-modules/legacy.so), or re-export the file with modern "
             "algorithms: openssl pkcs12 -legacy -in OLD.p12 -nodes | openssl pkcs12 -export -out NEW.p12";
    case IdentityProblem::unsupported_algorithm:
      return "Re-export the identity with standard algorithms (openssl pkcs12 -export).";
    case IdentityProblem::no_private_key:
      return "A client needs its private key too: give it with --key FILE, or export a PKCS#12 that "
             "includes it (openssl pkcs12 -export -inkey KEY -in CERT -out ID.p12).";
    case IdentityProblem::no_certificate:
      return "The file holds no certificate: add it (openssl pkcs12 -export -inkey KEY -in CERT, or "
             "append the certificate to the PEM file).";
    case IdentityProblem::key_mismatch:
      return "The private key belongs to another certificate: find the pair whose public keys agree "
             "(openssl x509 -noout -pubkey -in CERT vs openssl pkey -pubout -in KEY) and export them "
             "together.";
    case IdentityProblem::password_source:
      return "Check the environment variable or the password file named for the password.";
  }
  return "";
}

std::string verify_hint(const VerificationFacts& v, const IdentityFacts& f) {
  switch (v.error_code) {
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
    case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      return f.leaf_issuer_carried
                 ? "The chain does not lead to this CA: the certificate was issued by another CA, or the "
                   "server trusts a different root. Compare the issuer with the CA the server names."
                 : "The chain does not lead to this CA: either the certificate comes from another CA, or the "
                   "intermediate CA is missing - carry it in the identity (or make sure the server has it).";
    case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
    case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      return "The chain leads to a root that is not in this CA file: the certificate comes from another CA "
             "than the one the server trusts (it would answer with alert unknown_ca).";
    case X509_V_ERR_CERT_HAS_EXPIRED:
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return "A server with this CA rejects the certificate for its validity dates (alert "
             "certificate_expired / bad_certificate).";
    case X509_V_ERR_INVALID_PURPOSE:
      return "A server checking the purpose rejects it (\"unsupported certificate purpose\"): the "
             "certificate, or a CA above it, lacks the clientAuth extended key usage.";
    case X509_V_ERR_EE_KEY_TOO_SMALL:
    case X509_V_ERR_CA_KEY_TOO_SMALL:
    case X509_V_ERR_CA_MD_TOO_WEAK:
      return fmt::format(
          "An OpenSSL server at security level {} (this machine's default) rejects it; reissue with a "
          "stronger key or SHA-256.",
          v.security_level);
    default: return "A server that trusts only this CA would reject the certificate with this error.";
  }
}

// The checks that apply to each certificate a server sees: the leaf and the chain up from it.
void check_certificate(const CertificateFacts& c, const std::string& who, std::vector<Finding>& out) {
  auto add = [&](Severity s, const char* code, std::string message, std::string hint) {
    out.push_back(Finding{s, code, std::move(message), std::move(hint)});
  };
  const CertificateSummary& s = c.summary;
  if (s.not_yet_valid) {
    add(Severity::error, "not-yet-valid",
        fmt::format("{} is not valid before {} (in {})", who, date(s.not_before),
                    plural(c.days_until_valid, "day")),
        "Servers reject it until then (bad_certificate / certificate_expired). Check the clock of this "
        "machine and of the issuing CA, or wait.");
  } else if (s.expired) {
    add(Severity::error, "expired",
        fmt::format("{} expired on {} ({} ago)", who, date(s.not_after), plural(-s.days_left, "day")),
        "Renew it: servers reject an expired certificate (alert certificate_expired, Apache's \"certificate "
        "has expired\"). If it should still be valid, check this machine's clock.");
  } else if (s.days_left < kExpiringSoonDays) {
    add(Severity::warning, "expiring-soon",
        fmt::format("{} expires on {} (in {})", who, date(s.not_after), plural(s.days_left, "day")),
        fmt::format("Renew it before {}; servers reject it from then on.", date(s.not_after)));
  }

  const KeyFacts& k = c.public_key;
  if ((k.type == "RSA" || k.type == "RSA-PSS" || k.type == "DSA") && k.bits > 0 && k.bits < 2048) {
    add(Severity::error, "weak-key", fmt::format("{} has a {}-bit {} key", who, k.bits, k.type),
        "OpenSSL 3 servers at security level 2 (the default on current distributions) refuse keys below "
        "2048 bits (\"ee key too small\" / \"ca key too small\"); reissue with RSA 2048+ or EC P-256.");
  } else if (k.type == "EC" && k.bits > 0 && k.bits < 256) {
    add(k.bits < 224 ? Severity::error : Severity::warning, "weak-key",
        fmt::format("{} has a {}-bit EC key{}", who, k.bits, k.curve ? " (" + *k.curve + ")" : ""),
        "Many servers and clients accept only P-256 or stronger curves; reissue with EC P-256 (or RSA "
        "2048+).");
  }

  // A root's own signature is never checked (it is trusted as it is), so only issued certificates count.
  if (c.weak_signature_digest && !c.self_signed) {
    add(Severity::error, "sha1-signature",
        fmt::format("{} is signed with {} ({})", who, c.signature_digest, c.signature_algorithm),
        "OpenSSL 3 servers at their default security level reject SHA-1 and MD5 certificate signatures "
        "(\"ca md too weak\"), as do current browsers and Java; have the CA reissue it with SHA-256.");
  }
}

bool has_code(const std::vector<Finding>& v, std::string_view code) {
  return std::any_of(v.begin(), v.end(), [&](const Finding& f) { return f.code == code; });
}

// ---------------------------------------------------------------------------------------------------------
// Printers' helpers

constexpr std::size_t kWidth = 100;
constexpr std::size_t kLabelWidth = 10;  // "KEY USAGE "
constexpr std::size_t kIndent = 2 + kLabelWidth;

using text::kBold;
using text::kGreen;
using text::kRed;
using text::kReset;
using text::kYellow;
using text::wrap;

std::size_t width(std::string_view s) {
  return text::display_width(s);
}

std::string esc(std::string_view s) {
  return escape_terminal(s);
}

struct Section {
  std::string_view label;
  std::vector<std::string> lines;  // already escaped; a leading "  " marks a list item (kept indented)
};

std::string render_section(const Section& s, const TextStyle& style) {
  std::string label = fmt::format("{:<{}}", s.label, kLabelWidth);
  if (style.color) label = fmt::format("{}{}{}", kBold, label, kReset);
  std::string out;
  bool first = true;
  for (const auto& line : s.lines) {
    const std::size_t extra = line.starts_with("  ") ? 2 : 0;
    const std::string_view body = std::string_view(line).substr(extra);
    const std::vector<std::string> wrapped =
        wrap(body, kWidth - kIndent - extra, kWidth - kIndent - extra - 2);
    for (std::size_t i = 0; i < wrapped.size(); ++i) {
      out += first ? "  " + label : std::string(kIndent, ' ');
      out += std::string(extra + (i > 0 ? 2 : 0), ' ');
      out += wrapped[i];
      out += '\n';
      first = false;
    }
  }
  return out;
}

std::string indented(std::string_view text, std::string_view first_prefix, std::size_t indent) {
  const std::size_t first = kWidth > width(first_prefix) ? kWidth - width(first_prefix) : 20;
  const std::vector<std::string> lines = wrap(text, first, kWidth - indent);
  std::string out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += i == 0 ? std::string(first_prefix) : std::string(indent, ' ');
    out += lines[i];
    out += '\n';
  }
  return out;
}

std::string key_text(const KeyFacts& k) {
  if (k.curve) return fmt::format("{} {} ({} bits)", k.type, *k.curve, k.bits);
  return fmt::format("{} {} bits", k.type, k.bits);
}

std::string validity_text(const CertificateSummary& s) {
  std::string range = fmt::format("{} to {}", date(s.not_before), date(s.not_after));
  if (s.not_yet_valid) return range + " (not valid yet)";
  if (s.expired) return fmt::format("{} (expired {} ago)", range, plural(-s.days_left, "day"));
  return fmt::format("{} ({} left)", range, plural(s.days_left, "day"));
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : std::string(sep)) + s;
  return out;
}

std::string pkcs12_note(const Pkcs12Facts& p) {
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

// ---------------------------------------------------------------------------------------------------------
// JSON helpers

nlohmann::json str(std::string_view s) {
  return sanitize_utf8(s);
}

nlohmann::json opt_str(const std::optional<std::string>& s) {
  return s ? str(*s) : nlohmann::json(nullptr);
}

nlohmann::json str_list(const std::vector<std::string>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& s : v) a.push_back(str(s));
  return a;
}

nlohmann::json key_json(const KeyFacts& k) {
  return {{"type", str(k.type)}, {"bits", k.bits}, {"curve", opt_str(k.curve)}};
}

nlohmann::json cert_json(const CertificateFacts& c) {
  const CertificateSummary& s = c.summary;
  nlohmann::json j;
  j["subject"] = str(s.subject);
  j["issuer"] = str(s.issuer);
  j["serial"] = str(s.serial_hex);
  j["not_before"] = str(s.not_before);
  j["not_after"] = str(s.not_after);
  j["days_left"] = s.days_left;
  j["expired"] = s.expired;
  j["not_yet_valid"] = s.not_yet_valid;
  j["subject_alt_names"] = str_list(s.subject_alt_names);
  j["signature_algorithm"] = str(c.signature_algorithm);
  j["public_key"] = key_json(c.public_key);
  j["key_usage"] = c.key_usage ? str_list(*c.key_usage) : nlohmann::json(nullptr);
  j["extended_key_usage"] = c.extended_key_usage ? str_list(*c.extended_key_usage) : nlohmann::json(nullptr);
  j["client_auth_eku"] =
      s.has_client_auth_eku ? nlohmann::json(*s.has_client_auth_eku) : nlohmann::json(nullptr);
  j["is_ca"] = c.is_ca;
  j["self_signed"] = c.self_signed;
  j["sha256_fingerprint"] = str(c.sha256_fingerprint);
  return j;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------

const char* format_name(Format f) {
  return f == Format::pkcs12 ? "pkcs12" : "pem";
}

const char* severity_name(Severity s) {
  return s == Severity::error ? "error" : "warning";
}

Format detect_format(const std::string& path) {
  std::optional<std::string> bytes = slurp(path);
  Format by_name = ends_with_ci(path, ".p12") || ends_with_ci(path, ".pfx") ? Format::pkcs12 : Format::pem;
  if (!bytes || bytes->empty()) return by_name;
  // The strict DER parse first: PEM text never parses as PKCS#12, but binary PKCS#12 could contain anything.
  Format f = by_name;
  if (parse_pkcs12(*bytes)) {
    f = Format::pkcs12;
  } else if (bytes->find("-----BEGIN ") != std::string::npos) {
    f = Format::pem;
  }
  wipe(bytes);
  return f;
}

Expected<IdentityFacts, Error> gather_facts(const InspectOptions& opts) {
  const long long now = opts.now.value_or(static_cast<long long>(std::time(nullptr)));
  const IdentityOptions& id = opts.identity;
  IdentityFacts f;
  f.format = id.p12_file.empty() ? Format::pem : Format::pkcs12;
  f.file = f.format == Format::pkcs12 ? id.p12_file : id.cert_file;

  // The CA file first: a bad one is a usage error, decided before any identity work.
  std::optional<UniqueX509Store> store;
  if (!opts.cacert_file.empty()) {
    auto loaded = load_ca_file(opts.cacert_file);
    if (!loaded) return Unexpected{loaded.error()};
    store = std::move(*loaded);
  }

  auto loaded = load_client_identity(id);
  std::optional<Contents> contents;
  bool legacy_loaded = false;
  if (loaded) {
    legacy_loaded = loaded->legacy_pkcs12;
    contents = Contents{std::move(loaded->key), std::move(loaded->leaf), std::move(loaded->chain)};
  } else {
    f.identity_error = loaded.error();
  }

  // The container is described even when the identity did not load: the algorithms are readable without
  // the password, and they explain "legacy-unavailable".
  UniquePkcs12 p12;
  if (f.format == Format::pkcs12) {
    std::optional<std::string> bytes = slurp(id.p12_file);
    if (bytes) p12 = parse_pkcs12(*bytes);
    wipe(bytes);
    if (p12) {
      // Encrypted safes are opened only with a password the loader has proven right.
      const bool password_ok = loaded || f.identity_error->problem == IdentityProblem::no_private_key ||
                               f.identity_error->problem == IdentityProblem::key_mismatch;
      f.pkcs12 =
          describe_pkcs12(p12.get(), password_ok ? password_candidates(id) : std::vector<const char*>{});
      f.pkcs12->legacy = f.pkcs12->legacy || legacy_loaded;
    }
  }

  if (!contents && f.identity_error &&
      (f.identity_error->problem == IdentityProblem::no_private_key ||
       f.identity_error->problem == IdentityProblem::key_mismatch)) {
    contents =
        f.format == Format::pkcs12 ? (p12 ? lenient_p12(p12.get(), id) : std::nullopt) : lenient_pem(id);
  }

  if (contents && contents->leaf) {
    X509* leaf = contents->leaf.get();
    f.leaf = describe_certificate(leaf, now);
    if (contents->key) {
      f.private_key = describe_key(contents->key.get());
      f.key_matches = X509_check_private_key(leaf, contents->key.get()) == 1;
      ERR_clear_error();
    }
    std::vector<X509*> carried;
    for (const auto& c : contents->others) carried.push_back(c.get());
    describe_chain(leaf, carried, now, f);
    if (store) f.verification = verify_chain(store->get(), opts.cacert_file, leaf, carried, now);
  }
  ERR_clear_error();
  return f;
}

std::vector<Finding> find_problems(const IdentityFacts& f) {
  std::vector<Finding> out;
  if (f.identity_error) {
    out.push_back(Finding{Severity::error, identity_problem_name(f.identity_error->problem),
                          f.identity_error->message, identity_hint(f.identity_error->problem)});
  }
  if (f.leaf) {
    const CertificateFacts& leaf = *f.leaf;
    check_certificate(leaf, "the certificate", out);
    for (const ChainEntry& e : f.chain) {
      if (e.in_path) check_certificate(e.cert, "chain certificate " + e.cert.summary.subject, out);
    }
    if (leaf.summary.has_client_auth_eku == false) {
      out.push_back(Finding{
          Severity::error, "no-client-auth-eku",
          fmt::format("the certificate's extended key usage ({}) does not allow client authentication",
                      leaf.extended_key_usage ? join(*leaf.extended_key_usage, ", ") : ""),
          "Servers reject it (\"unsupported certificate purpose\"; OpenSSL, nginx, Apache and Java check "
          "the purpose); have it reissued with extendedKeyUsage = clientAuth."});
    }
    if (leaf.key_usage && std::find(leaf.key_usage->begin(), leaf.key_usage->end(), "digitalSignature") ==
                              leaf.key_usage->end()) {
      out.push_back(Finding{
          Severity::error, "no-client-auth-eku",
          fmt::format("the certificate's key usage ({}) lacks digitalSignature, which a TLS client needs to "
                      "sign the handshake",
                      leaf.key_usage->empty() ? "none" : join(*leaf.key_usage, ", ")),
          "Servers that check the purpose reject it; have it reissued with keyUsage = digitalSignature."});
    }
    if (!f.private_key && !has_code(out, "no-private-key")) {
      out.push_back(Finding{Severity::error, "no-private-key",
                            fmt::format("'{}' holds no private key for the certificate", f.file),
                            identity_hint(IdentityProblem::no_private_key)});
    }
    if (f.key_matches == false && !has_code(out, "key-mismatch")) {
      out.push_back(Finding{Severity::error, "key-mismatch", "the private key does not match the certificate",
                            identity_hint(IdentityProblem::key_mismatch)});
    }
    if (!leaf.self_signed && !f.leaf_issuer_carried) {
      out.push_back(Finding{
          Severity::warning, "chain-incomplete",
          fmt::format("the issuer of the certificate ({}) is not carried in '{}'", leaf.summary.issuer,
                      f.file),
          "Fine when the server already has this intermediate CA; otherwise it answers with alert "
          "unknown_ca. "
          "Carry it: openssl pkcs12 -export ... -certfile INTERMEDIATE.pem, or append it to the PEM file."});
    }
  }
  if (f.verification && !f.verification->verified) {
    const VerificationFacts& v = *f.verification;
    std::string where;
    if (v.error_depth > 0 && !v.error_subject.empty()) {
      where = fmt::format(" (at depth {}: {})", v.error_depth, v.error_subject);
    }
    out.push_back(Finding{Severity::error, "verify-failed",
                          fmt::format("the chain does not verify to '{}' for client authentication: {}{}",
                                      v.cacert, v.error.value_or("unknown error"), where),
                          verify_hint(v, f)});
  }
  if (f.pkcs12 && f.pkcs12->legacy) {
    out.push_back(Finding{
        Severity::warning, "legacy-pkcs12",
        fmt::format("the PKCS#12 file uses legacy algorithms (certificates: {}; key: {})",
                    f.pkcs12->cert_encryption.value_or("none"), f.pkcs12->key_encryption.value_or("none")),
        "OpenSSL 3 based clients and servers (curl, Python, nginx, Node) cannot open it without the legacy "
        "provider; re-export it with modern algorithms (openssl pkcs12 -legacy -in OLD.p12 -nodes | openssl "
        "pkcs12 -export -out NEW.p12), but keep a legacy copy for older iOS/macOS and Windows Server 2016, "
        "which refuse AES-encrypted files."});
  }
  std::stable_partition(out.begin(), out.end(),
                        [](const Finding& x) { return x.severity == Severity::error; });
  return out;
}

bool InspectResult::usable() const {
  return std::none_of(findings.begin(), findings.end(),
                      [](const Finding& f) { return f.severity == Severity::error; });
}

InspectResult make_result(IdentityFacts facts) {
  InspectResult r;
  r.findings = find_problems(facts);
  r.facts = std::move(facts);
  return r;
}

std::string summary(const InspectResult& r) {
  const auto errors = std::count_if(r.findings.begin(), r.findings.end(),
                                    [](const Finding& f) { return f.severity == Severity::error; });
  const auto warnings = static_cast<long>(r.findings.size()) - errors;
  if (errors > 0) {
    std::string s = "not usable for client authentication: " + r.findings.front().message;
    if (errors > 1) s += fmt::format(" (and {} more {})", errors - 1, errors == 2 ? "error" : "errors");
    return s;
  }
  std::string who = r.facts.leaf ? r.facts.leaf->summary.subject : r.facts.file;
  if (warnings > 0) {
    return fmt::format("{} is usable for client authentication, with {}: {}", who,
                       plural(warnings, "warning"), r.findings.front().message);
  }
  if (r.facts.leaf) {
    return fmt::format("{} is usable for client authentication ({} left)", who,
                       plural(r.facts.leaf->summary.days_left, "day"));
  }
  return who + " is usable for client authentication";
}

nlohmann::json report_json(const InspectResult& r) {
  const IdentityFacts& f = r.facts;
  nlohmann::json j;
  j["verdict"] = r.verdict();
  j["exit_code"] = r.exit_code();
  j["summary"] = str(summary(r));
  j["file"] = str(f.file);
  j["format"] = format_name(f.format);
  if (f.identity_error) {
    j["identity_error"] = {{"problem", identity_problem_name(f.identity_error->problem)},
                           {"message", str(f.identity_error->message)},
                           {"openssl_detail", str(f.identity_error->openssl_detail)}};
  } else {
    j["identity_error"] = nullptr;
  }
  if (f.pkcs12) {
    const Pkcs12Facts& p = *f.pkcs12;
    j["pkcs12"] = {{"legacy", p.legacy},
                   {"key_encryption", opt_str(p.key_encryption)},
                   {"key_iterations", p.key_iterations},
                   {"cert_encryption", opt_str(p.cert_encryption)},
                   {"cert_iterations", p.cert_iterations},
                   {"mac_algorithm", opt_str(p.mac_algorithm)},
                   {"mac_iterations", p.mac_iterations},
                   {"compatibility", str(pkcs12_note(p))}};
  } else {
    j["pkcs12"] = nullptr;
  }
  j["certificate"] = f.leaf ? cert_json(*f.leaf) : nlohmann::json(nullptr);
  if (f.leaf) {
    nlohmann::json chain = nlohmann::json::array();
    for (const ChainEntry& e : f.chain) {
      nlohmann::json c = cert_json(e.cert);
      c["in_path"] = e.in_path;
      chain.push_back(std::move(c));
    }
    j["chain"] = std::move(chain);
    j["chain_status"] = {{"leaf_issuer_carried", f.leaf_issuer_carried},
                         {"reaches_root", f.chain_reaches_root},
                         {"ends_at", opt_str(f.chain_end)}};
  } else {
    j["chain"] = nullptr;
    j["chain_status"] = nullptr;
  }
  if (f.private_key) {
    nlohmann::json k = key_json(*f.private_key);
    k["matches_certificate"] = f.key_matches ? nlohmann::json(*f.key_matches) : nlohmann::json(nullptr);
    j["key"] = std::move(k);
  } else {
    j["key"] = nullptr;
  }
  if (f.verification) {
    const VerificationFacts& v = *f.verification;
    j["verification"] = {
        {"cacert", str(v.cacert)},
        {"verified", v.verified},
        {"error", opt_str(v.error)},
        {"error_depth", v.verified ? nlohmann::json(nullptr) : nlohmann::json(v.error_depth)},
        {"security_level", v.security_level}};
  } else {
    j["verification"] = nullptr;
  }
  nlohmann::json findings = nlohmann::json::array();
  for (const Finding& x : r.findings) {
    findings.push_back({{"severity", severity_name(x.severity)},
                        {"code", x.code},
                        {"message", str(x.message)},
                        {"hint", str(x.hint)}});
  }
  j["findings"] = std::move(findings);
  j["warnings"] = str_list(r.warnings);
  return j;
}

nlohmann::json usage_error_json(const std::string& message, const std::string& file) {
  nlohmann::json j;
  j["verdict"] = "usage-error";
  j["exit_code"] = 1;
  j["summary"] = str(message);
  j["error"] = str(message);
  j["file"] = file.empty() ? nlohmann::json(nullptr) : str(file);
  for (const char* k : {"format", "identity_error", "pkcs12", "certificate", "chain", "chain_status", "key",
                        "verification"}) {
    j[k] = nullptr;
  }
  j["findings"] = nlohmann::json::array();
  j["warnings"] = nlohmann::json::array();
  return j;
}

std::string report_text(const InspectResult& r, const TextStyle& style) {
  const IdentityFacts& f = r.facts;
  auto paint = [&](std::string_view color, std::string_view text) {
    return style.color ? fmt::format("{}{}{}", color, text, kReset) : std::string(text);
  };
  std::string out;
  const bool ok = r.usable();
  out += paint(ok ? kGreen : kRed, ok ? "✓ usable for client authentication (exit 0)"
                                      : fmt::format("✗ identity-error (exit {})", r.exit_code()));
  out += "  " + esc(f.file) + '\n';
  out += indented(esc(summary(r)), "  ", 2);
  out += '\n';

  std::vector<Section> sections;
  sections.push_back({"FORMAT", {f.format == Format::pkcs12 ? "PKCS#12" : "PEM"}});
  if (f.identity_error) {
    Section s{"IDENTITY", {}};
    // The message itself is the first finding below.
    s.lines.push_back(
        fmt::format("not usable as it is ({})", identity_problem_name(f.identity_error->problem)));
    if (!f.identity_error->openssl_detail.empty()) {
      const std::string_view d = f.identity_error->openssl_detail;
      s.lines.push_back("openssl: " + esc(d.substr(0, std::min<std::size_t>(d.find('\n'), 200))));
    }
    sections.push_back(std::move(s));
  }
  if (f.pkcs12) {
    const Pkcs12Facts& p = *f.pkcs12;
    auto iter = [](long n) { return n > 0 ? fmt::format(", {} iterations", n) : std::string(); };
    Section s{"PKCS#12", {}};
    s.lines.push_back("key: " + (p.key_encryption ? esc(*p.key_encryption) + iter(p.key_iterations)
                                                  : std::string("(no key bag found)")));
    s.lines.push_back("certificates: " + (p.cert_encryption
                                              ? esc(*p.cert_encryption) + iter(p.cert_iterations)
                                              : std::string("(no certificate bag found)")));
    s.lines.push_back("MAC: " + (p.mac_algorithm ? esc(*p.mac_algorithm) + iter(p.mac_iterations)
                                                 : std::string("none (the file has no integrity MAC)")));
    s.lines.push_back(pkcs12_note(p));
    sections.push_back(std::move(s));
  }
  if (f.leaf) {
    const CertificateFacts& c = *f.leaf;
    const CertificateSummary& cs = c.summary;
    sections.push_back({"SUBJECT", {esc(cs.subject)}});
    sections.push_back({"ISSUER", {esc(cs.issuer)}});
    sections.push_back({"SERIAL", {esc(cs.serial_hex)}});
    std::string sans;
    for (const auto& n : cs.subject_alt_names) sans += (sans.empty() ? "" : ", ") + esc(n);
    sections.push_back({"SAN", {sans.empty() ? "(none)" : sans}});
    sections.push_back({"VALIDITY", {validity_text(cs)}});
    std::string key = key_text(c.public_key);
    if (!f.private_key) {
      key += "; no private key";
    } else if (f.key_matches == true) {
      key += "; the private key matches";
    } else if (f.key_matches == false) {
      key += "; the private key (" + key_text(*f.private_key) + ") does NOT match";
    }
    sections.push_back({"KEY", {esc(key)}});
    sections.push_back({"SIGNATURE", {esc(c.signature_algorithm)}});
    sections.push_back(
        {"KEY USAGE", {c.key_usage ? esc(join(*c.key_usage, ", ")) : "(no extension: any use allowed)"}});
    sections.push_back({"EXT USAGE",
                        {c.extended_key_usage ? esc(join(*c.extended_key_usage, ", "))
                                              : "(no extension: any purpose allowed)"}});
    sections.push_back({"SHA-256", {esc(c.sha256_fingerprint)}});

    Section chain{"CHAIN", {}};
    if (c.self_signed) {
      chain.lines.push_back("self-signed: the certificate is its own root");
    }
    if (f.chain.empty()) {
      if (!c.self_signed) chain.lines.push_back("no chain certificates carried");
    } else {
      chain.lines.push_back(
          fmt::format("{} carried:", plural(static_cast<long>(f.chain.size()), "certificate")));
      for (const ChainEntry& e : f.chain) {
        chain.lines.push_back(fmt::format("  {} (issued by {}){}", esc(e.cert.summary.subject),
                                          esc(e.cert.summary.issuer),
                                          e.in_path ? "" : "  <- not in the chain"));
      }
    }
    if (!c.self_signed) {
      if (f.chain_reaches_root) {
        chain.lines.push_back(fmt::format("links up to the root {}", esc(f.chain_end.value_or(""))));
      } else if (f.leaf_issuer_carried) {
        chain.lines.push_back(fmt::format("ends at {}; its issuer is not carried (the server must have it)",
                                          esc(f.chain_end.value_or(""))));
      } else {
        chain.lines.push_back(fmt::format("the issuer {} is not carried", esc(cs.issuer)));
      }
    }
    sections.push_back(std::move(chain));
  }
  if (f.verification) {
    const VerificationFacts& v = *f.verification;
    Section s{"VERIFY", {}};
    if (v.verified) {
      s.lines.push_back(fmt::format("verified to {} for client authentication (security level {})",
                                    esc(v.cacert), v.security_level));
    } else {
      std::string line =
          fmt::format("NOT verified to {}: {}", esc(v.cacert), esc(v.error.value_or("unknown error")));
      if (v.error_depth >= 0 && !v.error_subject.empty())
        line += fmt::format(" (at depth {}: {})", v.error_depth, esc(v.error_subject));
      s.lines.push_back(std::move(line));
    }
    sections.push_back(std::move(s));
  }
  for (const Section& s : sections) out += render_section(s, style);

  if (!r.findings.empty()) out += '\n';
  for (const Finding& x : r.findings) {
    const bool err = x.severity == Severity::error;
    const std::string prefix = "  " + paint(err ? kRed : kYellow, err ? "error:" : "warning:") + " ";
    out += indented(fmt::format("[{}] {}", x.code, esc(x.message)), prefix, err ? 9 : 11);
    if (!x.hint.empty())
      out += indented(esc(x.hint), std::string(err ? 9 : 11, ' ') + "hint: ", err ? 15 : 17);
  }
  if (!r.warnings.empty()) out += '\n';
  for (const auto& w : r.warnings) out += indented(esc(w), "  " + paint(kYellow, "note:") + " ", 8);
  return out;
}

}  // namespace mtls_probe::inspect
