// A client identity on a PKCS#11 token: survey (no login) -> the backend's one login -> checks.
#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include "mtls_probe/identity/identity.h"
#include "mtls_probe/identity/pkcs11_backend.h"
#include "mtls_probe/identity/pkcs11_token.h"
#include "mtls_probe/identity/pkcs11_uri.h"

namespace mtls_probe {
namespace {

Unexpected<IdentityFailure> refuse(IdentityProblem p, std::string message) {
  return Unexpected{IdentityFailure{p, std::move(message), ""}};
}

std::string token_list(const TokenSurvey& s) {
  std::string out;
  for (const auto& t : s.tokens) out += (out.empty() ? "" : ", ") + fmt::format("\"{}\"", t.label);
  return out.empty() ? "none" : out;
}

std::string object_list(const TokenSurvey& s, const char* object_class) {
  std::string out;
  for (const auto& o : s.objects)
    if (o.object_class == object_class) out += (out.empty() ? "" : ", ") + fmt::format("\"{}\"", o.label);
  return out.empty() ? "none" : out;
}

// The token the URI names, refused as the survey shows it must be.
Expected<TokenInfo, IdentityFailure> the_token(const TokenSurvey& s, const std::string& uri_text) {
  if (s.matching.empty())
    return refuse(IdentityProblem::token_absent,
                  fmt::format("no token present matches {} (tokens present: {})", uri_text, token_list(s)));
  if (s.matching.size() > 1)
    return refuse(IdentityProblem::token_ambiguous,
                  fmt::format("{} tokens match {} ({}): name one with token= or serial=", s.matching.size(),
                              uri_text, token_list(s)));
  const TokenInfo& t = s.tokens[s.matching[0]];
  if (t.pin_locked)
    return refuse(IdentityProblem::pin_locked,
                  fmt::format("the user PIN of token \"{}\" is locked; no PIN was tried", t.label));
  return t;
}

// The certificate object cert_uri names, from the survey (certificates are public objects).
Expected<UniqueX509, IdentityFailure> the_certificate(const TokenSurvey& s, const Pkcs11Uri& cert_uri,
                                                      const TokenInfo& t) {
  auto certificate_where = [&](auto&& wanted) -> UniqueX509 {
    for (const auto& o : s.objects) {
      if (o.object_class != "certificate" || o.cert_der.empty() || !wanted(o)) continue;
      const auto* p = reinterpret_cast<const unsigned char*>(o.cert_der.data());
      if (X509* x = d2i_X509(nullptr, &p, static_cast<long>(o.cert_der.size()))) return UniqueX509(x);
    }
    return nullptr;
  };
  if (auto x =
          certificate_where([&](const TokenObject& o) { return object_matches(cert_uri, o.label, o.id); }))
    return x;
  // Cards label a key and its certificate differently ("PIV AUTH key", "Certificate for PIV Authentication")
  // and pair them by CKA_ID: the certificate with the id of the (public) key the URI names.
  for (const auto& k : s.objects) {
    if (k.object_class != "public-key" && k.object_class != "private-key") continue;
    if (k.id.empty() || !object_matches(cert_uri, k.label, k.id)) continue;
    if (auto x = certificate_where([&](const TokenObject& o) { return o.id == k.id; })) return x;
  }
  ERR_clear_error();
  return refuse(IdentityProblem::object_not_found,
                fmt::format("token \"{}\" holds no certificate matching the URI (certificates on it: {})",
                            t.label, object_list(s, "certificate")));
}

// One signature with the key's default scheme (PKCS#1 v1.5 / ECDSA, SHA-256): a key that may not sign
// (CKA_SIGN false) is refused here, before any traffic, rather than inside the handshake.
std::optional<IdentityFailure> test_signature(EVP_PKEY* key, const std::string& token_label) {
  static constexpr unsigned char kMessage[] = "mtls-probe: can this key sign?";
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  size_t len = 0;
  bool ok = ctx != nullptr && EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
            EVP_DigestSign(ctx, nullptr, &len, kMessage, sizeof kMessage) == 1;
  std::string sig(len, '\0');
  ok = ok && EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, kMessage,
                            sizeof kMessage) == 1;
  EVP_MD_CTX_free(ctx);
  if (ok) return std::nullopt;
  std::vector<unsigned long> codes;
  IdentityFailure f{IdentityProblem::signing_failed, "", drain_openssl_errors(&codes)};
  const auto rv = pkcs11_rv_in_error_codes(codes);
  if (rv) f.problem = problem_for_rv(*rv);
  f.message = f.problem == IdentityProblem::key_cannot_sign
                  ? fmt::format("the key on token \"{}\" may not sign (CKA_SIGN is false: {})", token_label,
                                ckr_name(*rv))
                  : fmt::format("the key on token \"{}\" failed a test signature ({})", token_label,
                                rv ? ckr_name(*rv) : std::string("no PKCS#11 code"));
  return f;
}

Pkcs11Facts facts_of(const std::string& module, const IdentityOptions& opts, const TokenInfo& t,
                     const TokenSurvey& s, const Pkcs11Uri& key_uri, EVP_PKEY* key, bool provider_asked) {
  Pkcs11Facts f;
  f.module = module;
  f.uri = redact_pkcs11_uri(opts.pkcs11_key_uri);
  f.token_label = t.label;
  f.token_manufacturer = t.manufacturer;
  f.token_model = t.model;
  f.token_serial = t.serial;
  f.mechanisms = s.mechanisms;
  f.pin_count_low = t.pin_count_low;
  f.backend = provider_asked ? "engine (no pkcs11 provider is available)" : "engine";
  const int base = EVP_PKEY_get_base_id(key);
  f.key_type = base == EVP_PKEY_RSA ? "RSA" : base == EVP_PKEY_EC ? "EC" : OBJ_nid2sn(base);
  for (const auto& o : s.objects) {
    if (o.object_class == "private-key" && object_matches(key_uri, o.label, o.id)) {
      f.object_label = o.label;
      f.object_id = pkcs11_id_hex(o.id);
      break;
    }
  }
  if (f.object_label.empty() && key_uri.object) f.object_label = *key_uri.object;
  if (f.object_id.empty() && key_uri.id) f.object_id = pkcs11_id_hex(*key_uri.id);
  return f;
}

// --cert FILE with --key pkcs11:...: the certificate (and any chain after it) from a PEM or DER file.
Expected<std::vector<UniqueX509>, IdentityFailure> certificates_from_file(const std::string& path) {
  auto bytes = read_identity_bytes(path, "certificate file");
  if (!bytes) return Unexpected{bytes.error()};
  std::vector<UniqueX509> certs;
  const std::string_view text = bytes->view();
  UniqueBio bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) certs.emplace_back(x);
  if (certs.empty()) {
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    if (X509* x = d2i_X509(nullptr, &p, static_cast<long>(text.size()))) certs.emplace_back(x);
  }
  ERR_clear_error();
  if (certs.empty())
    return refuse(IdentityProblem::no_certificate,
                  fmt::format("certificate file '{}' holds no certificate", path));
  return certs;
}

}  // namespace

bool signs_rsa_pkcs1_only(const ClientIdentity& id) {
  if (!id.pkcs11 || id.pkcs11->key_type != "RSA" || id.pkcs11->mechanisms.empty()) return false;
  const auto& m = id.pkcs11->mechanisms;
  return std::find(m.begin(), m.end(), "RSA-PKCS-PSS") == m.end() &&
         std::find(m.begin(), m.end(), "RSA-X-509") == m.end();
}

std::string pkcs11_module_for(const IdentityOptions& opts, const Pkcs11Uri& uri) {
  if (!opts.pkcs11_module.empty()) return opts.pkcs11_module;
  if (uri.module_path) return *uri.module_path;
  return default_pkcs11_module();
}

Expected<ClientIdentity, IdentityFailure> load_pkcs11_identity(const IdentityOptions& opts) {
  auto key_uri = parse_pkcs11_uri(opts.pkcs11_key_uri);
  if (!key_uri) return refuse(IdentityProblem::not_recognised, key_uri.error());
  const std::string& cert_text = opts.pkcs11_cert_uri.empty() ? opts.pkcs11_key_uri : opts.pkcs11_cert_uri;
  auto cert_uri = parse_pkcs11_uri(cert_text);
  if (!cert_uri) return refuse(IdentityProblem::not_recognised, cert_uri.error());
  const std::string module = pkcs11_module_for(opts, *key_uri);
  if (module.empty())
    return refuse(
        IdentityProblem::pkcs11_module_not_found,
        "no PKCS#11 module: p11-kit's proxy module is not installed and no --pkcs11-module was given");
  const std::string shown = redact_pkcs11_uri(opts.pkcs11_key_uri);

  auto survey = survey_tokens(module, *key_uri);
  if (!survey) return Unexpected{survey.error()};
  auto token = the_token(*survey, shown);
  if (!token) return Unexpected{token.error()};
  std::vector<UniqueX509> chain;
  Expected<UniqueX509, IdentityFailure> cert = UniqueX509();
  if (!opts.cert_file.empty() && opts.pkcs11_cert_uri.empty()) {
    auto certs = certificates_from_file(opts.cert_file);
    if (!certs) return Unexpected{certs.error()};
    cert = std::move(certs->front());
    for (size_t i = 1; i < certs->size(); ++i) chain.push_back(std::move((*certs)[i]));
  } else {
    cert = the_certificate(*survey, *cert_uri, *token);
  }
  if (!cert) return Unexpected{cert.error()};
  if (token->login_required && !opts.pin)
    return refuse(IdentityProblem::pin_needed,
                  fmt::format("token \"{}\" needs its PIN to use the key (--pin-env VAR or --pin-file FILE)",
                              token->label));

  auto key = load_token_key(module, pkcs11_uri_with_type(opts.pkcs11_key_uri, "private"), opts.pin);
  if (!key) {
    IdentityFailure f = key.error();
    if (f.problem == IdentityProblem::wrong_pin)
      f.message = fmt::format(
          "token \"{}\" refused the PIN (CKR_PIN_INCORRECT); it was tried once and will "
          "not be tried again",
          token->label);
    else if (f.problem == IdentityProblem::pin_locked)
      f.message = fmt::format("the user PIN of token \"{}\" is locked (CKR_PIN_LOCKED)", token->label);
    else if (f.problem == IdentityProblem::object_not_found)
      f.message = fmt::format("token \"{}\" holds no private key matching {}", token->label, shown);
    return Unexpected{std::move(f)};
  }
  if (X509_check_private_key(cert->get(), key->key.get()) != 1) {
    ERR_clear_error();
    return refuse(IdentityProblem::key_mismatch,
                  fmt::format("the private key {} on token \"{}\" does not belong to its certificate {}",
                              shown, token->label, name_to_string(X509_get_subject_name(cert->get()))));
  }
  if (auto refused = test_signature(key->key.get(), token->label)) return Unexpected{std::move(*refused)};

  // The backend's login shows the private objects to a second look (same module instance in this process).
  auto logged_in = survey_tokens(module, *key_uri);
  const TokenSurvey& seen = logged_in && logged_in->matching.size() == 1 ? *logged_in : *survey;
  ClientIdentity id;
  id.source = "pkcs11";
  id.pkcs11 = facts_of(module, opts, *token, seen, *key_uri, key->key.get(), opts.pkcs11_provider);
  id.token_backend = std::move(key->backend);
  id.key = std::move(key->key);
  id.leaf = std::move(*cert);
  id.chain = std::move(chain);
  ERR_clear_error();
  return id;
}

}  // namespace mtls_probe
