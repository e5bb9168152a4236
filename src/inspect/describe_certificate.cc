// The facts of one certificate or key: names, validity, key type and size, signature algorithm, Key Usage
// and Extended Key Usage, fingerprint.
#include <fmt/format.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <utility>
#include <vector>

#include "describe.h"
#include "mtls_probe/identity/identity.h"

namespace mtls_probe::inspect {
namespace {

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

}  // namespace

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

}  // namespace mtls_probe::inspect
