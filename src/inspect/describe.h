// Inside `inspect`: describing what the identity loader read (certificates, keys, the PKCS#12 container,
// the chain) as the plain facts of inspect.h. Not a public header.
#pragma once

#include <openssl/x509.h>

#include <string>
#include <vector>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"
#include "mtls_probe/inspect/inspect.h"
#include "mtls_probe/inspect/revocation.h"

namespace mtls_probe::inspect {

// An OID's dotted text ("1.2.3.4"), for algorithms and usages OpenSSL has no name for.
std::string oid_text(const ASN1_OBJECT* obj);

// ---- describe_pkcs12.cc

// How the file is protected. `passwords` (empty: do not decrypt) open encrypted safes to see what they
// hold; without them an encrypted safe is taken to hold the certificates, as every common exporter does.
// No KDF above the loader's bounds runs.
Pkcs12Facts describe_pkcs12(PKCS12* p12, const std::vector<const char*>& passwords);

// ---- describe_certificate.cc

KeyFacts describe_key(EVP_PKEY* key);
// Validity (days_left, days_until_valid) relative to `now`, epoch seconds.
CertificateFacts describe_certificate(X509* cert, long long now);

// ---- describe_chain.cc

// Describes the carried certificates into f.chain, the leaf's issuer path first (then the rest, as given),
// and how far that path goes (leaf_issuer_carried, chain_reaches_root, chain_end). f.leaf is set already.
void describe_chain(X509* leaf, const std::vector<X509*>& carried, long long now, IdentityFacts& f);

// The --cacert file as a store; an Error (a usage error) when it holds no readable PEM CA certificate.
Expected<UniqueX509Store, Error> load_ca_file(const std::string& file);

// Verifies leaf (with the carried certificates as untrusted intermediates) to the store as a TLS server
// checks a client certificate: purpose sslclient, this machine's default security level, at `now`.
VerificationFacts verify_chain(X509_STORE* store, const std::string& cacert, X509* leaf,
                               const std::vector<X509*>& carried, long long now);

// ---- inspect.cc: what the checks of every kind of identity need

// The --cacert store (nullopt without --cacert) and the --crl files of --check-revocation, read before the
// identity: a bad one is a usage error.
struct CheckInputs {
  std::optional<UniqueX509Store> store;
  std::vector<LocalCrl> crls;
};
Expected<CheckInputs, Error> load_check_inputs(const InspectOptions& opts);

// --check-revocation of leaf and the certificates carried with it, each issuer among them or in --cacert.
void check_identity_revocation(X509* leaf, const std::vector<X509*>& carried, const InspectOptions& opts,
                               const std::vector<LocalCrl>& crls, IdentityFacts& f);

}  // namespace mtls_probe::inspect
