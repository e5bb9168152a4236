// `inspect pkcs11:...`: the token as the survey sees it, and with a PIN the key the probe would load.
#include <openssl/err.h>
#include <openssl/x509.h>

#include <ctime>

#include "describe.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/identity/pkcs11_uri.h"
#include "mtls_probe/inspect/inspect.h"
#include "mtls_probe/inspect/revocation.h"

namespace mtls_probe::inspect {
namespace {

// The certificate the URI names, from what the survey listed (public objects).
UniqueX509 certificate_on_token(const TokenSurvey& s) {
  for (const auto& o : s.objects) {
    if (o.object_class != "certificate" || !o.matches_uri || o.cert_der.empty()) continue;
    const auto* p = reinterpret_cast<const unsigned char*>(o.cert_der.data());
    if (X509* x = d2i_X509(nullptr, &p, static_cast<long>(o.cert_der.size()))) return UniqueX509(x);
  }
  return nullptr;
}

void describe_leaf(X509* leaf, X509_STORE* store, const InspectOptions& opts, long long now,
                   const std::vector<LocalCrl>& crls, IdentityFacts& f) {
  f.leaf = describe_certificate(leaf, now);
  describe_chain(leaf, {}, now, f);
  if (store != nullptr) f.verification = verify_chain(store, opts.cacert_file, leaf, {}, now);
  if (opts.revocation) check_identity_revocation(leaf, {}, opts, crls, f);  // its issuer from --cacert
}

}  // namespace

Expected<IdentityFacts, Error> gather_token_facts(const InspectOptions& opts) {
  const long long now = opts.now.value_or(static_cast<long long>(std::time(nullptr)));
  IdentityFacts f;
  f.format = Format::pkcs11;
  f.file = redact_pkcs11_uri(opts.identity.pkcs11_key_uri);
  auto in = load_check_inputs(opts);
  if (!in) return Unexpected{in.error()};
  X509_STORE* store = in->store ? in->store->get() : nullptr;
  const std::vector<LocalCrl>& crls = in->crls;
  auto uri = parse_pkcs11_uri(opts.identity.pkcs11_key_uri);
  if (!uri) return Unexpected{Error{uri.error(), ""}};
  const std::string module = pkcs11_module_for(opts.identity, *uri);
  TokenInspection t;
  t.pin_given = opts.identity.pin.has_value();
  auto survey = survey_tokens(module, *uri);
  if (!survey) {
    t.survey.module = module;
    f.identity_error = survey.error();
    f.token = std::move(t);
    return f;
  }
  t.survey = std::move(*survey);
  if (t.pin_given && t.survey.matching.size() == 1) {
    // The probe's own loader: the same refusals (locked PIN, ambiguous token) and the one login.
    auto loaded = load_pkcs11_identity(opts.identity);
    if (loaded) {
      t.key = loaded->pkcs11;
      f.private_key = describe_key(loaded->key.get());
      f.key_matches = true;  // the loader refuses a key that does not match its certificate
      if (auto again = survey_tokens(module, *uri)) t.survey = std::move(*again);  // the private objects too
      describe_leaf(loaded->leaf.get(), store, opts, now, crls, f);
    } else {
      f.identity_error = loaded.error();
      if (loaded.error().problem == IdentityProblem::key_mismatch) f.key_matches = false;
    }
  } else if (t.survey.matching.empty()) {
    f.identity_error =
        IdentityFailure{IdentityProblem::token_absent, "no token present matches " + f.file, ""};
  } else if (t.survey.matching.size() > 1) {
    f.identity_error =
        IdentityFailure{IdentityProblem::token_ambiguous,
                        std::to_string(t.survey.matching.size()) + " tokens match " + f.file, ""};
  } else if (t.survey.tokens[t.survey.matching[0]].pin_locked) {
    f.identity_error = IdentityFailure{IdentityProblem::pin_locked, "the token's user PIN is locked", ""};
  }
  if (!f.leaf && t.survey.matching.size() == 1) {
    if (UniqueX509 leaf = certificate_on_token(t.survey))
      describe_leaf(leaf.get(), store, opts, now, crls, f);
  }
  ERR_clear_error();
  f.token = std::move(t);
  return f;
}

}  // namespace mtls_probe::inspect
