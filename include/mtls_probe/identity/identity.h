// Loading the client identity (PKCS#12 first, PEM too) before any network traffic.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/options.h"
#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"

namespace mtls_probe {

struct ClientIdentity {
  UniqueEvpPkey key;
  UniqueX509 leaf;
  std::vector<UniqueX509> chain;  // intermediates carried with the leaf, sent after it
  bool legacy_pkcs12 = false;     // needed OpenSSL 3's legacy provider (RC2-40 / 3DES / ...)
};

// Loads and checks (key matches certificate) the identity described by opts. Never logs the password.
// A PKCS#12 that needs legacy algorithms loads OpenSSL's legacy provider (next to default) on demand;
// "wrong password" (MAC check fails) and "legacy algorithm unavailable" are reported as different problems.
Expected<ClientIdentity, IdentityFailure> load_client_identity(const IdentityOptions& opts);

// Summary of a certificate for reports; days_left/expired/not_yet_valid relative to now_epoch_seconds.
CertificateSummary summarize_certificate(X509* cert, long long now_epoch_seconds);

// Password sources. Each returns the password or an IdentityFailure (problem password_source).
// From the environment variable VAR (must be set; may be empty).
Expected<std::string, IdentityFailure> password_from_env(const std::string& var);
// From the first line of FILE (trailing \r\n removed).
Expected<std::string, IdentityFailure> password_from_file(const std::string& file);

// Loads OpenSSL's legacy provider next to default (idempotent). False when it is not available.
bool ensure_legacy_provider();

}  // namespace mtls_probe
