// `mtls-probe inspect`: what a client identity file holds and what would make servers refuse it, with no
// network. read_identity() and gather_facts() read the files (and only they), through the identity loader;
// find_problems() is pure. The printers are in mtls_probe/report/inspect_report.h.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/base/words.h"
#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/options.h"
#include "mtls_probe/identity/pkcs11_token.h"
#include "mtls_probe/identity/secret_file.h"
#include "mtls_probe/inspect/revocation.h"

namespace mtls_probe::inspect {

// A certificate expiring within this many days gets the "expiring-soon" warning.
inline constexpr long kExpiringSoonDays = 30;

enum class Format { pkcs12, pem, pkcs11 };
const char* format_name(Format f);  // "pkcs12", "pem", "pkcs11"

struct InspectOptions {
  // key_file and the password (wiped by the caller); p12_file or cert_file name the file only for
  // gather_facts(opts) (with an IdentityFile the file is that one's)
  IdentityOptions identity;
  std::string cacert_file;       // --cacert: verify the chain to this CA for client authentication
  std::optional<long long> now;  // epoch seconds for validity checks; the clock when unset
  std::optional<RevocationOptions> revocation;  // --check-revocation: ask OCSP responders / read CRLs
};

// The identity file, read once (by the identity loader's bounded read: a FIFO works) and, for PKCS#12,
// parsed once; everything inspect says about it comes from these bytes.
struct IdentityFile {
  std::string path;
  Format format = Format::pem;
  SecretBytes bytes;                     // the whole file (may hold a private key: wiped on release)
  UniquePkcs12 pkcs12;                   // Format::pkcs12 and it parsed
  std::optional<IdentityFailure> error;  // unreadable, or not a PKCS#12 file: the loader's words
};

// Reads `path`. Its kind: `forced` (--p12, --cert-type) when given, else PKCS#12 when the content parses as
// DER PKCS#12, PEM when it has PEM armour, otherwise by the name (.p12/.pfx), so that a missing or corrupt
// file gets the loader's message for what it was meant to be.
IdentityFile read_identity(const std::string& path, std::optional<Format> forced = std::nullopt);

// A public or private key.
struct KeyFacts {
  std::string type;                  // "EC", "RSA", "RSA-PSS", "Ed25519", "Ed448", "DSA", ...
  int bits = 0;                      // EVP_PKEY_get_bits
  std::optional<std::string> curve;  // EC only: "P-256" (NIST name) or OpenSSL's group name
};

struct CertificateFacts {
  CertificateSummary summary;          // subject, issuer, serial, SANs, validity, days_left, clientAuth EKU
  std::string signature_algorithm;     // "ecdsa-with-SHA256", "sha1WithRSAEncryption", ...
  std::string signature_digest;        // "SHA256", "SHA1", "MD5"; "" when the scheme has none (Ed25519)
  bool weak_signature_digest = false;  // SHA-1, MD5 or older
  KeyFacts public_key;
  std::optional<std::vector<std::string>> key_usage;           // nullopt: no keyUsage extension
  std::optional<std::vector<std::string>> extended_key_usage;  // nullopt: no extendedKeyUsage extension
  long days_until_valid = 0;  // until not_before (whole days; <= 0 once valid)
  bool is_ca = false;
  bool self_signed = false;        // issuer == subject and the signature verifies with its own key
  std::string sha256_fingerprint;  // "AB:CD:..." over the DER
};

struct ChainEntry {
  CertificateFacts cert;
  bool in_path = false;  // issued the leaf, or the chain certificate before it
};

// How a PKCS#12 file is protected (visible without decrypting anything but, at most, a safe).
struct Pkcs12Facts {
  bool legacy = false;  // needs OpenSSL 3's legacy provider (RC2, RC4, DES, ...)
  // "PBES2 / AES-256-CBC, PBKDF2 HMAC-SHA256", "pbeWithSHA1And3-KeyTripleDES-CBC", "none (unencrypted)";
  // nullopt: no key bag / no certificate bag found.
  std::optional<std::string> key_encryption;
  long key_iterations = 0;
  std::optional<std::string> cert_encryption;
  long cert_iterations = 0;
  std::optional<std::string> mac_algorithm;  // "HMAC-SHA256"; nullopt: the file has no integrity MAC
  long mac_iterations = 0;
  bool pbes2_only = false;  // every encryption is PBES2 (the "modern" kind that older importers refuse)
};

struct VerificationFacts {
  std::string cacert;                // the --cacert file
  bool verified = false;             // X509_verify_cert with X509_PURPOSE_SSL_CLIENT
  std::optional<std::string> error;  // OpenSSL's text ("unable to get local issuer certificate")
  int error_code = 0;                // X509_V_ERR_*
  int error_depth = -1;
  std::string error_subject;  // the certificate at error_depth
  int security_level = 0;     // the auth level used: what a default OpenSSL server here would use
};

// What `inspect pkcs11:...` saw on the token: the survey (without a login, then after the PIN's one login)
// and, when the key loaded, where it lives.
struct TokenInspection {
  TokenSurvey survey;              // the last look: after the login when there was one
  std::optional<Pkcs11Facts> key;  // the key the URI names, when it loaded (and passed the checks)
  bool pin_given = false;
};

struct IdentityFacts {
  std::string file;
  std::optional<TokenInspection> token;  // Format::pkcs11
  Format format = Format::pem;
  std::optional<IdentityFailure> identity_error;  // the loader's verdict (exit 2)
  std::optional<Pkcs12Facts> pkcs12;              // PKCS#12 files that parse, even with a wrong password
  std::optional<CertificateFacts> leaf;
  std::vector<ChainEntry> chain;  // carried with the leaf: the leaf's issuer path first, then the rest
  bool leaf_issuer_carried = false;
  bool chain_reaches_root = false;       // the path from the leaf ends at a self-signed certificate
  std::optional<std::string> chain_end;  // subject of the last certificate on the path (the leaf when none)
  std::optional<KeyFacts> private_key;   // nullopt: no private key found
  std::optional<bool> key_matches;       // nullopt: no key, or no certificate, to compare
  std::optional<VerificationFacts> verification;
  std::optional<RevocationFacts> revocation;  // --check-revocation (nullopt: not asked, or no certificate)
};

enum class Severity { error, warning };
const char* severity_name(Severity s);  // "error", "warning"

struct Finding {
  Severity severity = Severity::error;
  std::string code;  // stable kebab-case: "expired", "no-client-auth-eku", ...; see find_problems
  std::string message;
  std::string hint;
};

// Describes the identity in `file` (read by read_identity; opts.identity gives the key file and the
// password) and verifies it to --cacert. Fails only for a --cacert file that cannot be used (a usage error,
// exit 1); every problem of the identity itself is in the facts.
Expected<IdentityFacts, Error> gather_facts(const InspectOptions& opts, const IdentityFile& file);
// A PKCS#11 URI (opts.identity.pkcs11_key_uri; its module and PIN): the tokens, the objects, and with a
// PIN the key, checked as the probe would load it (one login). Fails only for a bad --cacert, as above.
Expected<IdentityFacts, Error> gather_token_facts(const InspectOptions& opts);

// The same for the file opts.identity names: p12_file (PKCS#12), else cert_file (PEM).
Expected<IdentityFacts, Error> gather_facts(const InspectOptions& opts);

// Pure. Codes: the loader's identity problems (identity_problem_name: "wrong-password", "file-missing",
// ...), and expired, not-yet-valid, expiring-soon, no-client-auth-eku, key-mismatch, no-private-key,
// chain-incomplete, weak-key, sha1-signature, verify-failed, legacy-pkcs12, revoked (error),
// revocation-unknown and revocation-unreachable (warnings). Errors first.
std::vector<Finding> find_problems(const IdentityFacts& facts);

struct InspectResult {
  IdentityFacts facts;
  std::vector<Finding> findings;
  std::vector<std::string> warnings;  // about the command line (e.g. a password visible in `ps`)
  bool usable() const;                // no error-severity finding
  int exit_code() const { return usable() ? 0 : 2; }
  const char* verdict() const { return usable() ? "ok" : "identity-error"; }
};

InspectResult make_result(IdentityFacts facts);

// One sentence a person can act on.
std::string summary(const InspectResult& result);

// Which importers open the file: one sentence ("legacy algorithms: ...", "modern encryption ...").
std::string pkcs12_compatibility(const Pkcs12Facts& p);

// Wording shared by the findings and the printers.
// (plural() and date() are in base/words.h)
std::string join(const std::vector<std::string>& v, std::string_view sep);

}  // namespace mtls_probe::inspect
