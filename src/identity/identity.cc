#include "mtls_probe/identity/identity.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/provider.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>
#include <string_view>
#include <utility>

#include "mtls_probe/identity/pkcs12.h"
#include "mtls_probe/identity/secret_file.h"

namespace mtls_probe {

namespace {

// An identity file is a few KiB; the cap only protects against being pointed at a disk image.
constexpr std::size_t kMaxIdentityFile = 16 * 1024 * 1024;
constexpr std::size_t kMaxPasswordFile = 64 * 1024;

IdentityFailure failure(IdentityProblem problem, std::string message) {
  // The error queue carries algorithm names and OpenSSL's reasons, never the password.
  return IdentityFailure{problem, std::move(message), drain_openssl_errors()};
}


bool contains(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

bool looks_like_pem(std::string_view data) {
  return contains(data, "-----BEGIN ");
}
bool has_pem_private_key(std::string_view data) {
  // "PRIVATE KEY", "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", ...
  return contains(data, "PRIVATE KEY-----");
}

UniqueBio mem_bio(const SecretBytes& bytes) {
  return UniqueBio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// What the earliest/latest queued error says about an unsupported algorithm (an EVP fetch failure,
// e.g. "Algorithm (RC2-40-CBC : 0)"). Peeks only: the queue is drained into the failure later.
bool unsupported_algorithm_queued(std::string* algorithm) {
  const char* data = nullptr;
  int flags = 0;
  unsigned long first = ERR_peek_error_all(nullptr, nullptr, nullptr, &data, &flags);
  unsigned long last = ERR_peek_last_error();
  auto is_unsupported = [](unsigned long e) {
    if (e == 0) return false;
    int reason = ERR_GET_REASON(e);
    if (reason == ERR_R_UNSUPPORTED) return true;
    return ERR_GET_LIB(e) == ERR_LIB_EVP &&
           (reason == EVP_R_UNSUPPORTED_ALGORITHM || reason == EVP_R_UNKNOWN_CIPHER ||
            reason == EVP_R_UNSUPPORTED_CIPHER || reason == EVP_R_UNKNOWN_DIGEST ||
            reason == EVP_R_UNSUPPORTED_KEYLENGTH || reason == EVP_R_UNSUPPORTED_PRF);
  };
  if (!is_unsupported(first) && !is_unsupported(last)) return false;
  if (algorithm != nullptr && is_unsupported(first) && data != nullptr && (flags & ERR_TXT_STRING) != 0) {
    std::string_view d(data);
    auto start = d.find("Algorithm (");
    if (start != std::string_view::npos) {
      start += std::strlen("Algorithm (");
      auto end = d.find_first_of(" :)", start);
      if (end != std::string_view::npos && end > start)
        *algorithm = std::string(d.substr(start, end - start));
    }
  }
  return true;
}

// Algorithms that OpenSSL 3 keeps in its legacy provider, as PKCS#12 uses them.
bool is_legacy_pbe(const X509_ALGOR* alg) {
  if (alg == nullptr) return false;
  int nid = OBJ_obj2nid(alg->algorithm);
  switch (nid) {
    case NID_pbe_WithSHA1And40BitRC2_CBC:
    case NID_pbe_WithSHA1And128BitRC2_CBC:
    case NID_pbe_WithSHA1And40BitRC4:
    case NID_pbe_WithSHA1And128BitRC4:
    case NID_pbeWithMD2AndDES_CBC:
    case NID_pbeWithMD5AndDES_CBC:
    case NID_pbeWithMD2AndRC2_CBC:
    case NID_pbeWithMD5AndRC2_CBC:
    case NID_pbeWithSHA1AndDES_CBC:
    case NID_pbeWithSHA1AndRC2_CBC:
      return true;
    case NID_pbes2: {
      auto* param =
          static_cast<PBE2PARAM*>(ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM), alg->parameter));
      if (param == nullptr) return false;
      int cipher = param->encryption != nullptr ? OBJ_obj2nid(param->encryption->algorithm) : NID_undef;
      PBE2PARAM_free(param);
      switch (cipher) {
        case NID_des_cbc:
        case NID_desx_cbc:
        case NID_rc2_cbc:
        case NID_rc2_40_cbc:
        case NID_rc2_64_cbc:
        case NID_rc4:
        case NID_rc5_cbc:
        case NID_bf_cbc:
        case NID_cast5_cbc:
        case NID_idea_cbc:
        case NID_seed_cbc:
          return true;
        default:
          return false;
      }
    }
    default:
      return false;
  }
}

// Whether the file's encryption needs the legacy provider. Asked independently of whether this parse
// needed a retry: once the provider is loaded (earlier identity, batch mode) the first parse succeeds.
bool uses_legacy_algorithms(PKCS12* p12) {
  bool legacy = false;
  STACK_OF(PKCS7)* safes = PKCS12_unpack_authsafes(p12);
  for (int i = 0; safes != nullptr && i < sk_PKCS7_num(safes) && !legacy; ++i) {
    PKCS7* p7 = sk_PKCS7_value(safes, i);
    int type = OBJ_obj2nid(p7->type);
    if (type == NID_pkcs7_encrypted && p7->d.encrypted != nullptr && p7->d.encrypted->enc_data != nullptr) {
      legacy = is_legacy_pbe(p7->d.encrypted->enc_data->algorithm);
    } else if (type == NID_pkcs7_data) {
      STACK_OF(PKCS12_SAFEBAG)* bags = PKCS12_unpack_p7data(p7);
      for (int j = 0; bags != nullptr && j < sk_PKCS12_SAFEBAG_num(bags) && !legacy; ++j) {
        const PKCS12_SAFEBAG* bag = sk_PKCS12_SAFEBAG_value(bags, j);
        if (PKCS12_SAFEBAG_get_nid(bag) != NID_pkcs8ShroudedKeyBag) continue;
        const X509_ALGOR* alg = nullptr;
        X509_SIG_get0(PKCS12_SAFEBAG_get0_pkcs8(bag), &alg, nullptr);
        legacy = is_legacy_pbe(alg);
      }
      sk_PKCS12_SAFEBAG_pop_free(bags, PKCS12_SAFEBAG_free);
    }
  }
  sk_PKCS7_pop_free(safes, PKCS7_free);
  ERR_clear_error();  // a structure we could not inspect is not this function's failure to report
  return legacy;
}

// Puts the issuer of the leaf first, then its issuer, ...; certificates outside that path keep their
// relative order at the end (servers ignore extras, but a missing link breaks the chain).
std::vector<UniqueX509> order_chain(X509* leaf, std::vector<UniqueX509> certs) {
  std::vector<UniqueX509> out;
  // A copy of the leaf among the "CA" certificates would be sent twice.
  std::erase_if(certs, [&](const UniqueX509& c) { return X509_cmp(c.get(), leaf) == 0; });
  X509* current = leaf;
  while (!certs.empty()) {
    auto it = std::find_if(certs.begin(), certs.end(), [&](const UniqueX509& c) {
      return X509_check_issued(c.get(), current) == X509_V_OK;
    });
    if (it == certs.end()) break;
    out.push_back(std::move(*it));
    certs.erase(it);
    current = out.back().get();
  }
  for (auto& c : certs) out.push_back(std::move(c));
  ERR_clear_error();
  return out;
}

struct PasswordState {
  const std::string* password = nullptr;  // nullptr: none was given
  bool asked = false;
};

// Supplies the given password to OpenSSL, and never falls back to OpenSSL's default callback, which
// would prompt on the terminal and hang an unattended CI job.
extern "C" int pem_password_cb(char* buf, int size, int /*rwflag*/, void* userdata) {
  auto* state = static_cast<PasswordState*>(userdata);
  if (state == nullptr) return -1;
  state->asked = true;
  if (state->password == nullptr || size <= 0) return -1;
  const std::size_t n = state->password->size();
  if (n > static_cast<std::size_t>(size)) return -1;
  std::memcpy(buf, state->password->data(), n);
  return static_cast<int>(n);
}

// Refuses every password request: used where no encrypted object is expected (certificates).
extern "C" int no_password_cb(char* /*buf*/, int /*size*/, int /*rwflag*/, void* /*userdata*/) {
  return -1;
}

// ---------------------------------------------------------------------------------------------------------
// PKCS#12

// A KDF parameter above the limits: reported as an algorithm (parameter) this tool does not support.
IdentityFailure kdf_limit_failure(const std::string& path, const std::string& what) {
  return failure(IdentityProblem::unsupported_algorithm,
                 fmt::format("PKCS#12 file '{}': {} (a bound against crafted files that would stall loading; "
                             "re-export the file with a usual count)",
                             path, what));
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

// What a PKCS#12 file held when it is refused as unusable: the matching certificate, else the end-entity.
void keep_unusable_p12(Pkcs12Contents& parsed, UnusableIdentity* unusable) {
  if (unusable == nullptr) return;
  unusable->key = std::move(parsed.key);
  unusable->leaf = std::move(parsed.cert);
  unusable->others = std::move(parsed.others);
  if (!unusable->leaf && !unusable->others.empty()) {
    const std::size_t i = pick_leaf(unusable->others);
    unusable->leaf = std::move(unusable->others[i]);
    unusable->others.erase(unusable->others.begin() + static_cast<std::ptrdiff_t>(i));
  }
  ERR_clear_error();
}

// What a PEM file held when it is refused as unusable: the first certificate is the client's.
void keep_unusable_pem(UniqueEvpPkey key, std::vector<UniqueX509> certs, UnusableIdentity* unusable) {
  if (unusable == nullptr || certs.empty()) return;
  unusable->key = std::move(key);
  unusable->leaf = std::move(certs.front());
  certs.erase(certs.begin());
  unusable->others = std::move(certs);
}

Expected<ClientIdentity, IdentityFailure> load_p12(const IdentityOptions& opts) {
  auto bytes = read_identity_bytes(opts.p12_file, "PKCS#12 file");
  if (!bytes) return Unexpected{bytes.error()};
  auto p12 = parse_pkcs12_file(opts.p12_file, *bytes);
  if (!p12) return Unexpected{p12.error()};
  return load_pkcs12_identity(opts.p12_file, p12->get(), opts.password);
}

Expected<ClientIdentity, IdentityFailure> load_pem(const IdentityOptions& opts) {
  auto bytes = read_identity_bytes(opts.cert_file, "certificate file");
  if (!bytes) return Unexpected{bytes.error()};
  return load_pem_identity(opts.cert_file, *bytes, opts.key_file, opts.password);
}

}  // namespace

Expected<SecretBytes, IdentityFailure> read_identity_bytes(const std::string& path, const char* what) {
  return read_secret_file(path, what, kMaxIdentityFile);
}

Expected<UniquePkcs12, IdentityFailure> parse_pkcs12_file(const std::string& path, const SecretBytes& bytes) {
  ERR_clear_error();
  if (bytes.empty()) {
    return Unexpected{
        failure(IdentityProblem::not_recognised, fmt::format("PKCS#12 file '{}' is empty", path))};
  }
  const auto* der = reinterpret_cast<const unsigned char*>(bytes.data());
  UniquePkcs12 p12(d2i_PKCS12(nullptr, &der, static_cast<long>(bytes.size())));
  if (!p12) {
    if (looks_like_pem(bytes.view())) {
      return Unexpected{
          failure(IdentityProblem::not_recognised,
                  fmt::format("'{}' is not a PKCS#12 file: it looks like PEM; use --cert/--key", path))};
    }
    return Unexpected{failure(IdentityProblem::not_recognised,
                              fmt::format("'{}' is not a PKCS#12 file (not DER PKCS#12, or corrupt)", path))};
  }
  return p12;
}

Expected<ClientIdentity, IdentityFailure> load_pkcs12_identity(const std::string& path, PKCS12* p12,
                                                               const std::optional<std::string>& password,
                                                               UnusableIdentity* unusable) {
  ERR_clear_error();
  // Before any KDF runs: a crafted iteration count would stall loading (bounds: pkcs12.h).
  if (auto over = pkcs12_kdf_limit_violation(p12)) return Unexpected{kdf_limit_failure(path, *over)};

  // Candidate passwords, as the openssl CLI tries them: with none (or an empty one) given, both the
  // absent password (NULL) and the empty one, which PKCS#12 encodes differently.
  const bool given_any = password.has_value();
  const bool given = given_any && !password->empty();
  std::vector<const char*> candidates;
  char* utf8_fallback = nullptr;  // wiped below
  if (given) {
    candidates.push_back(password->c_str());
    // Files written by OpenSSL < 1.1 encoded a non-ASCII password byte by byte; the CLI retries that.
    int unilen = 0;
    unsigned char* uni = OPENSSL_asc2uni(password->c_str(), -1, nullptr, &unilen);
    if (uni != nullptr) {
      utf8_fallback = OPENSSL_uni2utf8(uni, unilen);
      OPENSSL_clear_free(uni, static_cast<std::size_t>(unilen));
      if (utf8_fallback != nullptr && std::strcmp(utf8_fallback, password->c_str()) != 0) {
        candidates.push_back(utf8_fallback);
      }
    }
  } else {
    candidates = {nullptr, ""};
  }
  struct Wipe {
    char*& p;
    ~Wipe() {
      if (p != nullptr) OPENSSL_clear_free(p, std::strlen(p));
    }
  } wipe{utf8_fallback};
  ERR_clear_error();

  bool legacy_retry = false;
  auto legacy_unavailable = [&](const std::string& algorithm, std::string first_detail) {
    IdentityFailure f = failure(
        IdentityProblem::legacy_unavailable,
        fmt::format(
            "PKCS#12 file '{}' is encrypted with the legacy algorithm {}, and OpenSSL's legacy provider "
            "could not be loaded; this is not a wrong password (the file's integrity MAC verified). "
            "Install/enable the legacy provider, or re-export the file with modern algorithms "
            "(openssl pkcs12 -legacy -in OLD.p12 -nodes | openssl pkcs12 -export -out NEW.p12)",
            path, algorithm.empty() ? "(unknown)" : algorithm));
    if (!first_detail.empty())
      f.openssl_detail = first_detail + (f.openssl_detail.empty() ? "" : "; ") + f.openssl_detail;
    return f;
  };

  // 1. The MAC decides whether the password is right, before anything is decrypted: a legacy cipher the
  //    library cannot fetch must never be reported as a wrong password, nor the other way round.
  const bool mac_present = PKCS12_mac_present(p12) == 1;
  std::vector<const char*> parse_with = candidates;
  if (mac_present) {
    auto verify = [&]() -> std::optional<const char*> {
      for (const char* pass : candidates) {
        if (PKCS12_verify_mac(p12, pass, -1) == 1) return pass;
      }
      return std::nullopt;
    };
    ERR_clear_error();
    std::optional<const char*> verified = verify();
    std::string algorithm;
    if (!verified && unsupported_algorithm_queued(&algorithm)) {
      // The MAC's digest itself is a legacy one (rare: MD2/MD4-era tools).
      std::string detail = drain_openssl_errors();
      if (!ensure_legacy_provider()) return Unexpected{legacy_unavailable(algorithm, detail)};
      legacy_retry = true;
      verified = verify();
    }
    if (!verified) {
      if (!given_any) {
        return Unexpected{
            failure(IdentityProblem::password_needed,
                    fmt::format("PKCS#12 file '{}' is password-protected and no password was given "
                                "(its integrity MAC did not verify with an empty password)",
                                path))};
      }
      bool no_password = PKCS12_verify_mac(p12, nullptr, -1) == 1 || PKCS12_verify_mac(p12, "", -1) == 1;
      return Unexpected{
          failure(IdentityProblem::wrong_password,
                  fmt::format("wrong password for PKCS#12 file '{}' (its integrity MAC did not verify){}",
                              path, no_password ? "; the file has no password" : ""))};
    }
    parse_with = {*verified};
  }

  // 2. Decrypt, without checking the MAC again (PKCS12_parse would). An EVP fetch failure here is an
  //    algorithm the default provider lacks (RC2-40-CBC in files made by older tools): load the legacy
  //    provider and try once more.
  ERR_clear_error();
  Pkcs12Contents parsed;
  std::optional<std::string> kdf_limit;
  auto try_parse = [&]() {
    for (const char* pass : parse_with) {
      ERR_clear_error();
      auto unpacked = unpack_pkcs12(p12, pass);
      if (unpacked) {
        parsed = std::move(*unpacked);
        return true;
      }
      kdf_limit = unpacked.error().kdf_limit;
      std::string ignored;
      if (kdf_limit || unsupported_algorithm_queued(&ignored))
        return false;  // another password will not help
    }
    return false;
  };
  bool ok = try_parse();
  if (kdf_limit) return Unexpected{kdf_limit_failure(path, *kdf_limit)};
  std::string algorithm;
  if (!ok && unsupported_algorithm_queued(&algorithm)) {
    std::string detail = drain_openssl_errors();
    if (!ensure_legacy_provider()) return Unexpected{legacy_unavailable(algorithm, detail)};
    legacy_retry = true;
    ok = try_parse();
    if (kdf_limit) return Unexpected{kdf_limit_failure(path, *kdf_limit)};
    if (!ok && unsupported_algorithm_queued(&algorithm)) {
      return Unexpected{
          failure(IdentityProblem::unsupported_algorithm,
                  fmt::format("PKCS#12 file '{}' uses the algorithm {}, which this OpenSSL does not "
                              "support even with its legacy provider",
                              path, algorithm.empty() ? "(unknown)" : algorithm))};
    }
  }
  if (!ok) {
    if (!mac_present) {
      // Nothing verified the password beforehand, so a failed decryption most likely means a wrong one.
      return Unexpected{failure(
          given_any ? IdentityProblem::wrong_password : IdentityProblem::password_needed,
          fmt::format("PKCS#12 file '{}' could not be decrypted ({}; the file has no integrity MAC to check "
                      "the password against)",
                      path, given_any ? "wrong password?" : "no password was given"))};
    }
    return Unexpected{
        failure(IdentityProblem::not_recognised,
                fmt::format("PKCS#12 file '{}' is corrupt: its MAC verified but its contents could "
                            "not be decoded",
                            path))};
  }

  ClientIdentity id;
  id.source = "pkcs12";
  id.legacy_pkcs12 = legacy_retry || uses_legacy_algorithms(p12);
  auto refuse = [&](IdentityFailure f) {
    keep_unusable_p12(parsed, unusable);
    return Unexpected{std::move(f)};
  };
  if (!parsed.key) {
    return refuse(failure(IdentityProblem::no_private_key,
                          fmt::format("PKCS#12 file '{}' contains no private key", path)));
  }
  if (!parsed.cert) {
    // Every certificate that does not match the key is filed with the others (as PKCS12_parse does).
    if (!parsed.others.empty()) {
      return refuse(
          failure(IdentityProblem::key_mismatch,
                  fmt::format("PKCS#12 file '{}': none of its {} certificate(s) matches its private key",
                              path, parsed.others.size())));
    }
    return Unexpected{failure(IdentityProblem::no_certificate,
                              fmt::format("PKCS#12 file '{}' contains no certificate", path))};
  }
  ERR_clear_error();
  if (X509_check_private_key(parsed.cert.get(), parsed.key.get()) != 1) {
    return refuse(
        failure(IdentityProblem::key_mismatch,
                fmt::format("PKCS#12 file '{}': its private key does not match its certificate", path)));
  }
  id.key = std::move(parsed.key);
  id.leaf = std::move(parsed.cert);
  id.chain = order_chain(id.leaf.get(), std::move(parsed.others));
  ERR_clear_error();
  return id;
}

// ---------------------------------------------------------------------------------------------------------
// PEM

Expected<ClientIdentity, IdentityFailure> load_pem_identity(const std::string& cert_path,
                                                            const SecretBytes& cert_bytes,
                                                            const std::string& key_file,
                                                            const std::optional<std::string>& password,
                                                            UnusableIdentity* unusable) {
  ERR_clear_error();
  const bool key_in_cert_file = key_file.empty() || key_file == cert_path;
  const std::string& key_path = key_in_cert_file ? cert_path : key_file;

  if (cert_bytes.empty()) {
    return Unexpected{
        failure(IdentityProblem::not_recognised, fmt::format("certificate file '{}' is empty", cert_path))};
  }

  // The leaf first, then any chain certificates, as curl and SSL_CTX_use_certificate_chain_file read them.
  ERR_clear_error();
  std::vector<UniqueX509> certs;
  {
    UniqueBio bio = mem_bio(cert_bytes);
    while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, no_password_cb, nullptr)) certs.emplace_back(x);
    unsigned long last = ERR_peek_last_error();
    bool clean_end = ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE;
    if (!certs.empty() && !clean_end) {
      return Unexpected{
          failure(IdentityProblem::not_recognised,
                  fmt::format("certificate #{} in '{}' is corrupt", certs.size() + 1, cert_path))};
    }
    ERR_clear_error();
  }
  if (certs.empty()) {
    const auto* der = reinterpret_cast<const unsigned char*>(cert_bytes.data());
    UniquePkcs12 p12(d2i_PKCS12(nullptr, &der, static_cast<long>(cert_bytes.size())));
    if (p12) {
      return Unexpected{failure(
          IdentityProblem::not_recognised,
          fmt::format("'{}' is a PKCS#12 file, not PEM; use --p12 FILE (or --cert-type P12)", cert_path))};
    }
    der = reinterpret_cast<const unsigned char*>(cert_bytes.data());
    if (X509* x = d2i_X509(nullptr, &der, static_cast<long>(cert_bytes.size()))) {
      certs.emplace_back(x);  // a DER certificate: curl needs --cert-type DER, but there is no ambiguity
    }
    ERR_clear_error();
  }
  if (certs.empty()) {
    std::string_view text = cert_bytes.view();
    if (has_pem_private_key(text)) {
      return Unexpected{failure(IdentityProblem::no_certificate,
                                fmt::format("'{}' contains a private key but no certificate", cert_path))};
    }
    if (contains(text, "-----BEGIN CERTIFICATE") || contains(text, "-----BEGIN X509 CERTIFICATE")) {
      return Unexpected{failure(IdentityProblem::not_recognised,
                                fmt::format("the certificate in '{}' is corrupt", cert_path))};
    }
    return Unexpected{
        failure(IdentityProblem::not_recognised,
                fmt::format("'{}' is not a PEM certificate file (no certificate found)", cert_path))};
  }

  std::optional<SecretBytes> separate_key;
  if (!key_in_cert_file) {
    auto key_bytes = read_secret_file(key_path, "key file", kMaxIdentityFile);
    if (!key_bytes) return Unexpected{key_bytes.error()};
    if (key_bytes->empty()) {
      return Unexpected{
          failure(IdentityProblem::not_recognised, fmt::format("key file '{}' is empty", key_path))};
    }
    separate_key = std::move(*key_bytes);
  }
  const SecretBytes& key_bytes = separate_key ? *separate_key : cert_bytes;

  ERR_clear_error();
  PasswordState pw{password ? &*password : nullptr, false};
  UniqueEvpPkey key;
  auto read_key = [&] {
    pw.asked = false;
    UniqueBio bio = mem_bio(key_bytes);
    key.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, pem_password_cb, &pw));
  };
  read_key();
  std::string algorithm;
  if (!key && unsupported_algorithm_queued(&algorithm) && !algorithm.empty()) {
    // An encrypted key in an old cipher (DEK-Info: DES-CBC, ...): the cipher could not even be tried, so
    // this says nothing about the password yet.
    std::string detail = drain_openssl_errors();
    if (!ensure_legacy_provider()) {
      IdentityFailure f = failure(
          IdentityProblem::legacy_unavailable,
          fmt::format(
              "the private key in '{}' is encrypted with the legacy algorithm {}, and OpenSSL's legacy "
              "provider could not be loaded; this is not a wrong password",
              key_path, algorithm));
      f.openssl_detail = detail + (f.openssl_detail.empty() ? "" : "; ") + f.openssl_detail;
      return Unexpected{std::move(f)};
    }
    read_key();
  }
  if (!key && !key_in_cert_file && !looks_like_pem(key_bytes.view())) {
    // A DER key (PKCS#8 or traditional); curl needs --key-type DER, but again there is no ambiguity.
    ERR_clear_error();
    const auto* der = reinterpret_cast<const unsigned char*>(key_bytes.data());
    key.reset(d2i_AutoPrivateKey(nullptr, &der, static_cast<long>(key_bytes.size())));
    if (!key) {
      return Unexpected{failure(IdentityProblem::not_recognised,
                                fmt::format("key file '{}' is not a PEM private key file", key_path))};
    }
  }
  if (!key) {
    if (pw.asked) {
      if (!password) {
        return Unexpected{
            failure(IdentityProblem::password_needed,
                    fmt::format("the private key in '{}' is encrypted and no password was given", key_path))};
      }
      return Unexpected{
          failure(IdentityProblem::wrong_password,
                  fmt::format("wrong password for the encrypted private key in '{}' (it did not "
                              "decrypt)",
                              key_path))};
    }
    if (!has_pem_private_key(key_bytes.view())) {
      keep_unusable_pem(nullptr, std::move(certs), unusable);
      return Unexpected{
          failure(IdentityProblem::no_private_key,
                  key_in_cert_file
                      ? fmt::format("no private key in '{}' (give the key file with --key FILE)", cert_path)
                      : fmt::format("no private key in key file '{}'", key_path))};
    }
    if (unsupported_algorithm_queued(&algorithm)) {
      return Unexpected{failure(IdentityProblem::unsupported_algorithm,
                                fmt::format("the private key in '{}' uses an unsupported algorithm{}",
                                            key_path, algorithm.empty() ? "" : " (" + algorithm + ")"))};
    }
    return Unexpected{failure(IdentityProblem::not_recognised,
                              fmt::format("the private key in '{}' is corrupt", key_path))};
  }

  ERR_clear_error();
  if (X509_check_private_key(certs.front().get(), key.get()) != 1) {
    IdentityFailure mismatch = failure(
        IdentityProblem::key_mismatch,
        key_in_cert_file
            ? fmt::format(
                  "the private key in '{}' does not match the certificate in the same file (the first "
                  "certificate must be the client's)",
                  cert_path)
            : fmt::format(
                  "the private key in '{}' does not match the certificate in '{}' (the first certificate "
                  "must be the client's)",
                  key_path, cert_path));
    keep_unusable_pem(std::move(key), std::move(certs), unusable);
    return Unexpected{std::move(mismatch)};
  }

  ClientIdentity id;
  id.source = "pem";
  id.key = std::move(key);
  id.leaf = std::move(certs.front());
  certs.erase(certs.begin());
  id.chain = order_chain(id.leaf.get(), std::move(certs));
  ERR_clear_error();
  return id;
}

namespace {

std::string general_name_to_string(const GENERAL_NAME* gn) {
  auto ia5 = [](const ASN1_IA5STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
  };
  switch (gn->type) {
    case GEN_DNS:
      return "DNS:" + ia5(gn->d.dNSName);
    case GEN_EMAIL:
      return "email:" + ia5(gn->d.rfc822Name);
    case GEN_URI:
      return "URI:" + ia5(gn->d.uniformResourceIdentifier);
    case GEN_DIRNAME:
      return "DirName:" + name_to_string(gn->d.directoryName);
    case GEN_IPADD: {
      const unsigned char* ip = ASN1_STRING_get0_data(gn->d.iPAddress);
      int len = ASN1_STRING_length(gn->d.iPAddress);
      char buf[INET6_ADDRSTRLEN] = {};
      if (len == 4 && inet_ntop(AF_INET, ip, buf, sizeof buf) != nullptr) return std::string("IP:") + buf;
      if (len == 16 && inet_ntop(AF_INET6, ip, buf, sizeof buf) != nullptr) return std::string("IP:") + buf;
      return "IP:<invalid>";
    }
    case GEN_RID: {
      char buf[128] = {};
      OBJ_obj2txt(buf, sizeof buf, gn->d.registeredID, 1);
      return std::string("Registered ID:") + buf;
    }
    default:
      return "othername:<unsupported>";
  }
}

long long epoch_of(const ASN1_TIME* t) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return static_cast<long long>(timegm(&tm));
}

}  // namespace

bool ensure_legacy_provider() {
  static std::once_flag once;
  static bool available = false;
  std::call_once(once, [] {
    // Loading any provider explicitly switches off the implicit "default" one, so load it first.
    static OSSL_PROVIDER* def = OSSL_PROVIDER_load(nullptr, "default");
    static OSSL_PROVIDER* legacy = OSSL_PROVIDER_load(nullptr, "legacy");
    available = def != nullptr && legacy != nullptr;
    // Hand our references back at exit, before OpenSSL's own cleanup (registered earlier, so it runs
    // later): otherwise that cleanup cannot free the providers and LeakSanitizer fails every run that
    // loaded a legacy file. Keys and ciphers still alive hold their own provider references.
    std::atexit([] {
      if (legacy != nullptr) OSSL_PROVIDER_unload(legacy);
      if (def != nullptr) OSSL_PROVIDER_unload(def);
      legacy = def = nullptr;
    });
  });
  return available;
}

Expected<ClientIdentity, IdentityFailure> load_client_identity(const IdentityOptions& opts) {
  ERR_clear_error();  // stale entries from earlier work must not end up in this identity's report
  if (!opts.pkcs11_key_uri.empty()) return load_pkcs11_identity(opts);
  if (!opts.p12_file.empty()) return load_p12(opts);
  if (!opts.cert_file.empty()) return load_pem(opts);
  return Unexpected{
      IdentityFailure{IdentityProblem::no_certificate, "no client certificate was configured", ""}};
}

std::string identity_source_of(const IdentityOptions& opts) {
  if (!opts.pkcs11_key_uri.empty()) return "pkcs11";
  if (!opts.p12_file.empty()) return "pkcs12";
  if (!opts.cert_file.empty()) return "pem";
  return "";
}

CertificateSummary summarize_certificate(X509* cert, long long now_epoch_seconds) {
  CertificateSummary s;
  if (cert == nullptr) return s;
  s.subject = name_to_string(X509_get_subject_name(cert));
  s.issuer = name_to_string(X509_get_issuer_name(cert));
  const ASN1_TIME* nb = X509_get0_notBefore(cert);
  const ASN1_TIME* na = X509_get0_notAfter(cert);
  s.not_before = asn1_time_to_iso(nb);
  s.not_after = asn1_time_to_iso(na);

  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    if (char* hex = BN_bn2hex(bn)) {
      s.serial_hex = hex;
      OPENSSL_free(hex);
    }
    BN_free(bn);
  }

  if (auto* names =
          static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
      s.subject_alt_names.push_back(general_name_to_string(sk_GENERAL_NAME_value(names, i)));
    }
    GENERAL_NAMES_free(names);
  }

  const long long not_after = epoch_of(na);
  const long long not_before = epoch_of(nb);
  s.not_after_epoch = not_after;
  const long long diff = not_after - now_epoch_seconds;
  long long days = diff / 86400;
  if (diff % 86400 != 0 && diff < 0) --days;  // floor, so 1 second past expiry is day -1
  s.days_left = static_cast<long>(days);
  s.expired = now_epoch_seconds > not_after;
  s.not_yet_valid = now_epoch_seconds < not_before;

  // X509_get_extension_flags caches the parsed extensions; EXFLAG_XKUSAGE says an EKU extension exists.
  if ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) != 0) {
    s.has_client_auth_eku = (X509_get_extended_key_usage(cert) & (XKU_SSL_CLIENT | XKU_ANYEKU)) != 0;
  }
  ERR_clear_error();
  return s;
}

Expected<std::string, IdentityFailure> password_from_env(const std::string& var) {
  const char* value = std::getenv(var.c_str());
  if (value == nullptr) {
    return Unexpected{IdentityFailure{IdentityProblem::password_source,
                                      fmt::format("environment variable {} is not set", var), ""}};
  }
  return std::string(value);
}

Expected<std::string, IdentityFailure> password_from_file(const std::string& file, const char* what) {
  auto bytes = read_secret_file(file, what, kMaxPasswordFile);
  if (!bytes) {
    IdentityFailure f = std::move(bytes.error());
    f.problem = IdentityProblem::password_source;
    return Unexpected{std::move(f)};
  }
  std::string_view text = bytes->view();
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.remove_suffix(1);
  return std::string(text);
}

}  // namespace mtls_probe
