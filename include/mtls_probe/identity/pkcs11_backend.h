// The one module that turns a key on a PKCS#11 token into an EVP_PKEY OpenSSL signs with. Debian 12's
// OpenSSL 3.0 has no pkcs11 provider packaged, so this is libp11's `pkcs11` engine
// (libengine-pkcs11-openssl); a provider-based backend replaces src/identity/pkcs11_engine.cc and nothing
// else.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/base/ossl.h"
#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/facts.h"

namespace mtls_probe {

struct TokenKey {
  std::shared_ptr<void> backend;  // the engine (and the token's login) lives as long as this
  UniqueEvpPkey key;              // signs on the token
  std::string backend_name;       // "engine"
};

// Loads the private key `key_uri` (with type=private) through `module`, logging in with `pin` when the token
// asks: one login, and on failure never another (the PIN is dropped from the backend at once). The backend
// never prompts. Errors are classified from the token's CK_RV (wrong_pin, pin_locked, object_not_found, ...).
Expected<TokenKey, IdentityFailure> load_token_key(const std::string& module, const std::string& key_uri,
                                                   const std::optional<std::string>& pin);

// The CK_RV a PKCS#11 backend left among OpenSSL's packed error codes (libp11 raises them in its library
// named "PKCS#11 module" with the CK_RV as reason: 418000A0 is CKR_PIN_INCORRECT), the last one when several;
// nullopt when none. The identity loader and the handshake's failure use it alike.
std::optional<unsigned long> pkcs11_rv_in_error_codes(const std::vector<unsigned long>& codes);

// The same from the packed code's text ("error:418000A0:PKCS#11 module:..."), for tests and logs.
std::optional<unsigned long> pkcs11_rv_in_error_text(const std::string& openssl_detail);

// The identity problem a CK_RV means when signing or logging in (signing_failed for others).
IdentityProblem problem_for_rv(unsigned long rv);

}  // namespace mtls_probe
