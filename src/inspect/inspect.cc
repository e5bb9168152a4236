// `inspect`'s one read of the identity file and the facts gathered from it through the identity loader:
// what it loads, or what it had read when it refused the pair, the container, the chain, the verification.
#include "mtls_probe/inspect/inspect.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <string_view>
#include <utility>

#include "describe.h"
#include "mtls_probe/identity/identity.h"

namespace mtls_probe::inspect {
namespace {

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s = s.substr(s.size() - suffix.size());
  return std::equal(s.begin(), s.end(), suffix.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

Format format_by_name(const std::string& path) {
  return ends_with_ci(path, ".p12") || ends_with_ci(path, ".pfx") ? Format::pkcs12 : Format::pem;
}

// The passwords that open encrypted safes, as the loader tries them: with none (or an empty one) given,
// both the absent and the empty password.
std::vector<const char*> password_candidates(const IdentityOptions& o) {
  if (o.password && !o.password->empty()) return {o.password->c_str()};
  return {nullptr, ""};
}

// The certificates and key to describe: what the loader handed out, or what it had read when it refused
// the pair as unusable.
struct Contents {
  UniqueEvpPkey key;
  UniqueX509 leaf;
  std::vector<UniqueX509> others;
  bool legacy_pkcs12 = false;
};

Expected<ClientIdentity, IdentityFailure> load_identity(const IdentityOptions& id, const IdentityFile& file,
                                                        UnusableIdentity* unusable) {
  if (file.error) return Unexpected{*file.error};
  if (file.format == Format::pkcs12) {
    return load_pkcs12_identity(file.path, file.pkcs12.get(), id.password, unusable);
  }
  return load_pem_identity(file.path, file.bytes, id.key_file, id.password, unusable);
}

Contents load(const IdentityOptions& id, const IdentityFile& file, IdentityFacts& f) {
  UnusableIdentity unusable;
  auto loaded = load_identity(id, file, &unusable);
  if (!loaded) {
    f.identity_error = loaded.error();
    return Contents{std::move(unusable.key), std::move(unusable.leaf), std::move(unusable.others), false};
  }
  return Contents{std::move(loaded->key), std::move(loaded->leaf), std::move(loaded->chain),
                  loaded->legacy_pkcs12};
}

// The container is described even when the identity did not load: the algorithms are readable without the
// password, and they explain "legacy-unavailable". Encrypted safes are opened only with a password the
// loader has proven right.
void describe_container(const IdentityOptions& id, const IdentityFile& file, bool legacy_loaded,
                        IdentityFacts& f) {
  const bool password_ok = !f.identity_error ||
                           f.identity_error->problem == IdentityProblem::no_private_key ||
                           f.identity_error->problem == IdentityProblem::key_mismatch;
  f.pkcs12 =
      describe_pkcs12(file.pkcs12.get(), password_ok ? password_candidates(id) : std::vector<const char*>{});
  f.pkcs12->legacy = f.pkcs12->legacy || legacy_loaded;
}

void describe_contents(const Contents& contents, const InspectOptions& opts, X509_STORE* store, long long now,
                       IdentityFacts& f) {
  X509* leaf = contents.leaf.get();
  f.leaf = describe_certificate(leaf, now);
  if (contents.key) {
    f.private_key = describe_key(contents.key.get());
    f.key_matches = X509_check_private_key(leaf, contents.key.get()) == 1;
    ERR_clear_error();
  }
  std::vector<X509*> carried;
  for (const auto& c : contents.others) carried.push_back(c.get());
  describe_chain(leaf, carried, now, f);
  if (store != nullptr) f.verification = verify_chain(store, opts.cacert_file, leaf, carried, now);
}

}  // namespace

Expected<CheckInputs, Error> load_check_inputs(const InspectOptions& opts) {
  CheckInputs in;
  if (!opts.cacert_file.empty()) {
    auto loaded = load_ca_file(opts.cacert_file);
    if (!loaded) return Unexpected{loaded.error()};
    in.store = std::move(*loaded);
  }
  if (opts.revocation) {
    auto loaded = load_crl_files(opts.revocation->crl_files);
    if (!loaded) return Unexpected{loaded.error()};
    in.crls = std::move(*loaded);
  }
  return in;
}

void check_identity_revocation(X509* leaf, const std::vector<X509*>& carried, const InspectOptions& opts,
                               const std::vector<LocalCrl>& crls, IdentityFacts& f) {
  const std::vector<UniqueX509> anchors =
      opts.cacert_file.empty() ? std::vector<UniqueX509>{} : load_pem_certificates(opts.cacert_file);
  std::vector<X509*> anchor_ptrs;
  for (const auto& a : anchors) anchor_ptrs.push_back(a.get());
  f.revocation = check_revocation(leaf, carried, anchor_ptrs, *opts.revocation, crls);
}

const char* format_name(Format f) {
  return f == Format::pkcs12 ? "pkcs12" : f == Format::pkcs11 ? "pkcs11" : "pem";
}

IdentityFile read_identity(const std::string& path, std::optional<Format> forced) {
  IdentityFile file;
  file.path = path;
  file.format = forced.value_or(format_by_name(path));
  auto bytes = read_identity_bytes(path, file.format == Format::pkcs12 ? "PKCS#12 file" : "certificate file");
  if (!bytes) {
    file.error = std::move(bytes.error());
    return file;
  }
  file.bytes = std::move(*bytes);
  if (forced == Format::pem) return file;
  // The strict DER parse first: PEM text never parses as PKCS#12, but binary PKCS#12 could contain anything.
  auto p12 = parse_pkcs12_file(path, file.bytes);
  if (!forced && !file.bytes.empty()) {
    if (p12) {
      file.format = Format::pkcs12;
    } else if (file.bytes.view().find("-----BEGIN ") != std::string_view::npos) {
      file.format = Format::pem;
    }
  }
  if (file.format == Format::pkcs12) {
    if (p12) {
      file.pkcs12 = std::move(*p12);
    } else {
      file.error = std::move(p12.error());
    }
  }
  ERR_clear_error();
  return file;
}

Expected<IdentityFacts, Error> gather_facts(const InspectOptions& opts, const IdentityFile& file) {
  const long long now = opts.now.value_or(static_cast<long long>(std::time(nullptr)));
  IdentityFacts f;
  f.format = file.format;
  f.file = file.path;

  // The CA file and the CRLs first: a bad one is a usage error, decided before the identity is loaded.
  auto in = load_check_inputs(opts);
  if (!in) return Unexpected{in.error()};

  const Contents contents = load(opts.identity, file, f);
  if (file.pkcs12) describe_container(opts.identity, file, contents.legacy_pkcs12, f);
  if (contents.leaf) describe_contents(contents, opts, in->store ? in->store->get() : nullptr, now, f);
  if (contents.leaf && opts.revocation) {
    std::vector<X509*> carried;
    for (const auto& c : contents.others) carried.push_back(c.get());
    check_identity_revocation(contents.leaf.get(), carried, opts, in->crls, f);
  }
  ERR_clear_error();
  return f;
}

Expected<IdentityFacts, Error> gather_facts(const InspectOptions& opts) {
  const bool p12 = !opts.identity.p12_file.empty();
  return gather_facts(opts, read_identity(p12 ? opts.identity.p12_file : opts.identity.cert_file,
                                          p12 ? Format::pkcs12 : Format::pem));
}

}  // namespace mtls_probe::inspect
