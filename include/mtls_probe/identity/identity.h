// Loading the client identity (PKCS#12 first, PEM too) before any network traffic.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/options.h"
#include "mtls_probe/identity/pkcs11_uri.h"
#include "mtls_probe/identity/secret_file.h"

namespace mtls_probe {

struct ClientIdentity {
  // First, so that it outlives the key: what a token's key needs to sign (the backend and its login).
  std::shared_ptr<void> token_backend;
  UniqueEvpPkey key;
  UniqueX509 leaf;
  std::vector<UniqueX509> chain;      // intermediates carried with the leaf, sent after it
  bool legacy_pkcs12 = false;         // needed OpenSSL 3's legacy provider (RC2-40 / 3DES / ...)
  std::string source;                 // "pkcs12" | "pem" | "pkcs11"
  std::optional<Pkcs11Facts> pkcs11;  // where a token-held key lives
};

// Loads and checks (key matches certificate) the identity described by opts. Never logs the password.
// A PKCS#12 that needs legacy algorithms loads OpenSSL's legacy provider (next to default) on demand;
// "wrong password" (MAC check fails) and "legacy algorithm unavailable" are reported as different problems.
Expected<ClientIdentity, IdentityFailure> load_client_identity(const IdentityOptions& opts);

// A key and certificate on a PKCS#11 token (opts.pkcs11_key_uri): the token survey first (module present,
// exactly one token matches, PIN not locked, certificate present), then the backend's single login, then
// the key is checked against the certificate and asked for one signature (CKA_SIGN).
Expected<ClientIdentity, IdentityFailure> load_pkcs11_identity(const IdentityOptions& opts);

// The module a token identity is read through: --pkcs11-module, else the URI's module-path, else p11-kit's
// proxy ("" when none is present). The probe's loader and `inspect` alike.
std::string pkcs11_module_for(const IdentityOptions& opts, const Pkcs11Uri& uri);

// An RSA key on a token that lists neither RSA-PSS nor raw RSA among its mechanisms: it can sign only with
// PKCS#1 v1.5 (TLS 1.2 can use that; TLS 1.3 cannot).
bool signs_rsa_pkcs1_only(const ClientIdentity& id);

// "pkcs11", "pkcs12" or "pem": where opts says the identity comes from ("" when none is configured).
std::string identity_source_of(const IdentityOptions& opts);

// ---- the steps of load_client_identity, for a caller that reads the file once itself (`inspect`)

// What the loader had read when it refused a pair as unusable (no_private_key, key_mismatch): the
// certificates and the key it found, so that a report can still describe them. leaf is the certificate the
// loader took for the client's (PEM: the first; PKCS#12: the one matching the key, else the end-entity).
struct UnusableIdentity {
  UniqueEvpPkey key;  // null: none found
  UniqueX509 leaf;
  std::vector<UniqueX509> others;  // in file order
};

// An identity file's bytes, bounded in size (16 MiB) and in the wait for a FIFO; `what` names the file in
// messages ("PKCS#12 file", "certificate file").
Expected<SecretBytes, IdentityFailure> read_identity_bytes(const std::string& path, const char* what);

// The DER PKCS#12 structure in bytes (not_recognised when empty, PEM, or corrupt).
Expected<UniquePkcs12, IdentityFailure> parse_pkcs12_file(const std::string& path, const SecretBytes& bytes);

// The identity in a parsed PKCS#12 file (path names it in messages): KDF bounds, the MAC checked once, the
// legacy provider on demand. `unusable`, when given, receives what was found when it fails with
// no_private_key or key_mismatch.
Expected<ClientIdentity, IdentityFailure> load_pkcs12_identity(const std::string& path, PKCS12* p12,
                                                               const std::optional<std::string>& password,
                                                               UnusableIdentity* unusable = nullptr);

// The identity in a PEM (or DER) certificate file already read (cert_path names it); the key from key_file,
// read here, or (key_file empty) from the same bytes. `unusable` as for load_pkcs12_identity.
Expected<ClientIdentity, IdentityFailure> load_pem_identity(const std::string& cert_path,
                                                            const SecretBytes& cert_bytes,
                                                            const std::string& key_file,
                                                            const std::optional<std::string>& password,
                                                            UnusableIdentity* unusable = nullptr);

// Summary of a certificate for reports; days_left/expired/not_yet_valid relative to now_epoch_seconds.
CertificateSummary summarize_certificate(X509* cert, long long now_epoch_seconds);

// Password sources. Each returns the password or an IdentityFailure (problem password_source).
// From the environment variable VAR (must be set; may be empty).
Expected<std::string, IdentityFailure> password_from_env(const std::string& var);
// From the first line of FILE (trailing \r\n removed).
Expected<std::string, IdentityFailure> password_from_file(const std::string& file,
                                                          const char* what = "password file");

// Loads OpenSSL's legacy provider next to default (idempotent). False when it is not available.
bool ensure_legacy_provider();

}  // namespace mtls_probe
