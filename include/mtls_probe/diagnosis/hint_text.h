// The wording of every hint about a client identity, in one table for the two places that give one: the
// probe's diagnosis (diagnosis.cc: after a connection, or instead of one) and `inspect` (inspect.cc: the file
// itself, offline). A row is one problem with both wordings side by side, so that a change of wording is made
// here, for both, with the other in view:
//   probe    a next step, lower case, no final full stop (as every diagnosis hint), about "your certificate"
//   inspect  one or two sentences about the file, as inspect's findings print them
// "" means that side has no hint of its own for the problem. Wordings with {} are fmt format strings
// (checked at compile time where they are used); the row's comment says what goes in.
#pragma once

#include <string_view>

#include "mtls_probe/engine/facts.h"

namespace mtls_probe::hints {

struct Wording {
  std::string_view probe;
  std::string_view inspect;
};

// ---- what the identity loader reports (identity-error in both): one row per IdentityProblem

const Wording& for_problem(IdentityProblem problem);

inline constexpr Wording kFileMissing{
    "check the path given to --p12 / --cert / --key",
    "Check the path (a relative path is taken from the current directory)."};
inline constexpr Wording kFileUnreadable{
    "check the file's permissions: the probe runs as the current user",
    "Check the file's permissions (and that it is a file, not a directory)."};
inline constexpr Wording kNotRecognised{
    "--p12 expects a PKCS#12 (.p12/.pfx) file; PEM goes with --cert FILE --key FILE. 'openssl pkcs12 -info "
    "-in FILE -noout' or 'openssl x509 -in FILE -noout -text' tell what it is",
    "inspect reads PKCS#12 (.p12/.pfx) and PEM (certificate, chain, private key); force the kind with "
    "--cert-type P12|PEM, or convert other formats with openssl (e.g. openssl x509 -inform DER)."};
inline constexpr Wording kWrongPassword{
    "the password did not unlock the file (its integrity check failed). Check the value in "
    "--p12-password-env / --p12-password-file (a trailing newline in an environment variable counts)",
    "Give the password the file was exported with (--p12-password-env VAR or --p12-password-file FILE); "
    "passwords are case-sensitive, and an empty password is not the same as none."};
inline constexpr Wording kPasswordNeeded{
    "the file is protected: give its password with --p12-password-env VAR or --p12-password-file FILE",
    "The file is password-protected: give the password with --p12-password-env VAR or --p12-password-file "
    "FILE."};
inline constexpr Wording kLegacyUnavailable{
    "this PKCS#12 uses legacy algorithms (RC2-40 / 3DES, as older OpenSSL and Windows exports make) and "
    "OpenSSL's legacy provider could not be loaded; install it (Debian: libssl3 ships "
    "ossl-modules/legacy.so, check OPENSSL_MODULES) or re-export the file with modern algorithms: openssl "
    "pkcs12 -legacy -in old.p12 -out id.pem -nodes && openssl pkcs12 -export -in id.pem -out new.p12. This "
    "is not a wrong password",
    "Enable OpenSSL's legacy provider (ossl-modules/legacy.so), or re-export the file with modern "
    "algorithms: openssl pkcs12 -legacy -in OLD.p12 -nodes | openssl pkcs12 -export -out NEW.p12"};
inline constexpr Wording kUnsupportedAlgorithm{
    "the file uses an algorithm this OpenSSL does not provide; re-export it with AES-256 and SHA-256",
    "Re-export the identity with standard algorithms (openssl pkcs12 -export)."};
inline constexpr Wording kNoPrivateKey{
    "the file holds no private key: export the identity together with its key (Windows: 'Yes, export the "
    "private key'; openssl pkcs12 -export -inkey KEY)",
    "A client needs its private key too: give it with --key FILE, or export a PKCS#12 that includes it "
    "(openssl pkcs12 -export -inkey KEY -in CERT -out ID.p12)."};
inline constexpr Wording kNoCertificate{
    "the file holds no certificate: give the certificate with --cert, or export it into the .p12",
    "The file holds no certificate: add it (openssl pkcs12 -export -inkey KEY -in CERT, or append the "
    "certificate to the PEM file)."};
inline constexpr Wording kKeyMismatch{
    "the private key does not belong to the certificate; compare 'openssl x509 -noout -pubkey -in CERT' with "
    "'openssl pkey -pubout -in KEY'",
    "The private key belongs to another certificate: find the pair whose public keys agree (openssl x509 "
    "-noout -pubkey -in CERT vs openssl pkey -pubout -in KEY) and export them together."};
inline constexpr Wording kPasswordSource{
    "--p12-password-env names an environment variable (not the password itself); --p12-password-file names a "
    "file whose first line is the password",
    "Check the environment variable or the password file named for the password."};

// ---- PKCS#11 tokens (smart cards, HSMs, SoftHSM): each refused before any network traffic, but for the
// signature scheme, which the handshake chooses
inline constexpr Wording kPkcs11ModuleNotFound{
    "the PKCS#11 module is not there: give the card's or HSM's module with --pkcs11-module PATH (p11-kit's "
    "proxy /usr/lib/x86_64-linux-gnu/p11-kit-proxy.so reaches every module p11-kit knows: apt install p11-kit-modules)",
    "Give the token's PKCS#11 module with --pkcs11-module PATH (e.g. /usr/lib/softhsm/libsofthsm2.so, "
    "opensc-pkcs11.so), or install p11-kit's proxy module."};
inline constexpr Wording kPkcs11ModuleFailed{
    "the PKCS#11 module would not load or initialise: check it is the module for this token and this "
    "architecture, and that its configuration (e.g. SOFTHSM2_CONF) is readable",
    "The PKCS#11 module would not load or initialise: check its path, architecture and configuration."};
inline constexpr Wording kTokenAbsent{
    "no token present matches the URI: check the card is inserted and the token= label is exact "
    "('mtls-probe inspect pkcs11:' or 'p11tool --list-tokens' lists the tokens)",
    "No token present matches the URI: insert the card, or correct token= (the labels present are listed)."};
inline constexpr Wording kTokenAmbiguous{
    "several tokens match the URI: name one with token= (or serial=), so that a PIN is never tried on the wrong one",
    "Several tokens match: add token= or serial= to the URI."};
inline constexpr Wording kPinNeeded{
    "the token needs its PIN to use the key: give it with --pin-env VAR or --pin-file FILE",
    "Give the token's PIN with --pin-env VAR or --pin-file FILE to see its private keys."};
inline constexpr Wording kWrongPin{
    "the token refused the PIN (it was tried once and will not be tried again in this run): correct "
    "--pin-env / --pin-file before trying again, since a card locks after a few wrong PINs",
    "The token refused the PIN (tried once). Correct it before the next try: cards lock after a few wrong PINs."};
inline constexpr Wording kPinLocked{
    "the token's user PIN is locked (too many wrong PINs), so no PIN was tried: unblock it with the SO PIN or "
    "PUK (e.g. 'pkcs11-tool --unlock-pin', 'yubico-piv-tool -a unblock-pin')",
    "The user PIN is locked; no PIN was tried. Unblock it with the SO PIN / PUK."};
inline constexpr Wording kObjectNotFound{
    "the token holds no such object: check object= (CKA_LABEL) and id= ('mtls-probe inspect pkcs11:token=...' "
    "lists its objects; private keys are listed once a PIN is given)",
    "No object on the token matches object= / id=: the objects it holds are listed."};
inline constexpr Wording kKeyCannotSign{
    "the key on the token may not sign (CKA_SIGN is false): a TLS client key must sign; make a key with "
    "signing allowed (pkcs11-tool --keypairgen --usage-sign)",
    "The key may not sign (CKA_SIGN false), so it cannot authenticate a TLS client."};
inline constexpr Wording kMechanismUnsupported{
    "the token refused the signature scheme the handshake needed: TLS 1.3 signs with RSA-PSS, which older "
    "cards lack; --tls-max 1.2 lets the client sign with PKCS#1 v1.5, or use an EC key",
    "The token lacks a signature mechanism TLS needs (RSA-PSS for TLS 1.3 with an RSA key)."};
inline constexpr Wording kSigningFailed{
    "the token failed to sign: run with -v and check the card (removed, busy, or needs a fresh login)",
    "The token failed to sign with the key."};

// ---- the certificate's validity

// probe: {} the date it expired
inline constexpr Wording kExpired{
    "your certificate expired on {}: get it renewed",
    "Renew it: servers reject an expired certificate (alert certificate_expired, Apache's \"certificate has "
    "expired\"). If it should still be valid, check this machine's clock."};
// probe, beside a verdict about something else: {} the date it expired
inline constexpr Wording kExpiredNote{"note: your certificate expired on {}", ""};
// probe: {} not_before as given
inline constexpr Wording kNotYetValid{
    "your certificate is not valid before {}: check the clocks, or wait",
    "Servers reject it until then (bad_certificate / certificate_expired). Check the clock of this machine "
    "and of the issuing CA, or wait."};
// probe: {} the date, {} days left; inspect: {} the date
inline constexpr Wording kExpiringSoon{"your certificate expires on {} ({} days left)",
                                       "Renew it before {}; servers reject it from then on."};

// ---- what the certificate may be used for

inline constexpr Wording kNoClientAuthEku{
    "your certificate's Extended Key Usage does not include clientAuth (TLS Web Client Authentication): get "
    "one issued for client authentication",
    "Servers reject it (\"unsupported certificate purpose\"; OpenSSL, nginx, Apache and Java check the "
    "purpose); have it reissued with extendedKeyUsage = clientAuth."};
// probe: the server answered unsupported_certificate to a certificate without clientAuth
inline constexpr Wording kServerCertificateSent{
    "your certificate's Extended Key Usage does not include clientAuth (TLS Web Client Authentication): it "
    "is a server certificate. Get one issued for client authentication",
    ""};
inline constexpr Wording kNoDigitalSignature{
    "", "Servers that check the purpose reject it; have it reissued with keyUsage = digitalSignature."};

// ---- the chain carried with the certificate

// probe: {} {} the issuer's DN (twice)
inline constexpr Wording kChainIncomplete{
    "your identity carries no chain certificates: if \"{}\" is an intermediate CA under one of the CAs the "
    "server lists, send the intermediate {} with your certificate: put it into the .p12 (openssl pkcs12 "
    "-export -in CERT -inkey KEY -certfile INTERMEDIATE.pem) or give --cert a PEM file with your certificate "
    "followed by the intermediate",
    "Fine when the server already has this intermediate CA; otherwise it answers with alert unknown_ca. "
    "Carry it: openssl pkcs12 -export ... -certfile INTERMEDIATE.pem, or append it to the PEM file."};
// probe: the issuer is listed by the server, which still answered unknown_ca
inline constexpr Wording kIntermediateNotSent{
    "your issuer is in the server's list, yet it answered unknown_ca: the server may need the intermediate "
    "certificate(s); put them into the .p12 (openssl pkcs12 -export -certfile CHAIN)",
    ""};

// ---- key and signature strength

inline constexpr Wording kWeakRsaKey{
    "",
    "OpenSSL 3 servers at security level 2 (the default on current distributions) refuse keys below 2048 "
    "bits (\"ee key too small\" / \"ca key too small\"); reissue with RSA 2048+ or EC P-256."};
inline constexpr Wording kWeakEcKey{
    "",
    "Many servers and clients accept only P-256 or stronger curves; reissue with EC P-256 (or RSA 2048+)."};
inline constexpr Wording kWeakSignature{
    "",
    "OpenSSL 3 servers at their default security level reject SHA-1 and MD5 certificate signatures (\"ca md "
    "too weak\"), as do current browsers and Java; have the CA reissue it with SHA-256."};

// ---- the PKCS#12 container

// The probe's hint for a legacy file is kLegacyUnavailable (it loads wherever the provider is there).
inline constexpr Wording kLegacyPkcs12{
    "",
    "OpenSSL 3 based clients and servers (curl, Python, nginx, Node) cannot open it without the legacy "
    "provider; re-export it with modern algorithms (openssl pkcs12 -legacy -in OLD.p12 -nodes | openssl "
    "pkcs12 -export -out NEW.p12), but keep a legacy copy for older iOS/macOS and Windows Server 2016, which "
    "refuse AES-encrypted files."};

// ---- verification against a CA (inspect --cacert; the probe learns it from the server's alert)

// probe: bad_certificate with nothing known against the certificate
inline constexpr Wording kNotVerified{
    "the server could not verify your certificate (signature, validity dates, or chain): check it with "
    "'mtls-probe inspect'",
    "A server that trusts only this CA would reject the certificate with this error."};
// inspect: the issuer is carried, the CA file does not lead to it
inline constexpr Wording kOtherIssuer{
    "",
    "The chain does not lead to this CA: the certificate was issued by another CA, or the server trusts a "
    "different root. Compare the issuer with the CA the server names."};
// inspect: the issuer is not carried either
inline constexpr Wording kOtherIssuerOrMissingIntermediate{
    "",
    "The chain does not lead to this CA: either the certificate comes from another CA, or the intermediate "
    "CA is missing - carry it in the identity (or make sure the server has it)."};
inline constexpr Wording kOtherRoot{
    "",
    "The chain leads to a root that is not in this CA file: the certificate comes from another CA than the "
    "one the server trusts (it would answer with alert unknown_ca)."};
inline constexpr Wording kVerifyDates{
    "",
    "A server with this CA rejects the certificate for its validity dates (alert certificate_expired / "
    "bad_certificate)."};
inline constexpr Wording kVerifyPurpose{
    "",
    "A server checking the purpose rejects it (\"unsupported certificate purpose\"): the certificate, or a "
    "CA above it, lacks the clientAuth extended key usage."};
// inspect: {} the security level
inline constexpr Wording kVerifyTooWeak{
    "",
    "An OpenSSL server at security level {} (this machine's default) rejects it; reissue with a stronger key "
    "or SHA-256."};

}  // namespace mtls_probe::hints
