// What a PKCS#11 token holds, read straight through the module's C API (no OpenSSL): the tokens present,
// the one a URI names, its flags (PIN locked, final try), its objects and its signature mechanisms. The
// identity loader reads this before it lets the backend log in, so that "token absent", "PIN locked" (never
// try a PIN then) and "several tokens match" are told exactly; `inspect pkcs11:...` prints it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/facts.h"
#include "mtls_probe/identity/pkcs11_uri.h"

namespace mtls_probe {

struct TokenInfo {
  unsigned long slot_id = 0;
  std::string label, manufacturer, model, serial;  // CK_TOKEN_INFO, trailing blanks removed
  bool login_required = false;
  bool pin_initialized = false;
  bool pin_locked = false;     // CKF_USER_PIN_LOCKED: a login would fail (and must not be tried)
  bool pin_count_low = false;  // CKF_USER_PIN_COUNT_LOW: a wrong PIN was given since the last success
  bool pin_final_try = false;  // CKF_USER_PIN_FINAL_TRY: one more wrong PIN locks it
};

struct TokenObject {
  std::string object_class;  // "certificate" | "public-key" | "private-key" | "secret-key" | "data" | "other"
  std::string label;         // CKA_LABEL
  std::string id;            // CKA_ID, raw bytes
  std::string key_type;      // "RSA" | "EC" | "EdDSA" | ... ("" for certificates and data)
  std::optional<bool> can_sign;  // CKA_SIGN of a private key
  std::string cert_der;          // CKA_VALUE of an X.509 certificate (bounded)
  bool matches_uri = false;      // object= and id= of the URI (type not considered)
};

struct TokenSurvey {
  std::string module;  // the module's path as loaded
  std::string library_description, library_manufacturer;
  std::vector<TokenInfo> tokens;  // every slot with a token present
  std::vector<size_t> matching;   // indexes into tokens of those the URI's token attributes match
  // Of the single matching token (empty otherwise): its objects as a session sees them (without a login:
  // the public ones; the backend's login, made before a second survey, shows the private ones too).
  std::vector<TokenObject> objects;
  bool objects_truncated = false;  // more than the bound (256)
  std::vector<std::string>
      mechanisms;          // signature mechanisms: "RSA-PKCS", "RSA-PKCS-PSS", "RSA-X-509", "ECDSA"
  bool logged_in = false;  // the session saw the token logged in (the backend's login)
};

// The module a URI is read through: --pkcs11-module, else the URI's module-path, else p11-kit's proxy
// module (every module p11-kit knows, as curl and the pkcs11 engine default to). "" when none is present.
std::string default_pkcs11_module();

// Loads `module` (dlopen), lists tokens and matches uri against them; objects and mechanisms of the matching
// token when exactly one matches. Never logs in. Problems: pkcs11_module_not_found, pkcs11_module_failed.
Expected<TokenSurvey, IdentityFailure> survey_tokens(const std::string& module, const Pkcs11Uri& uri);

// True when the object's label and id satisfy the URI's object= and id= (absent attributes match anything).
bool object_matches(const Pkcs11Uri& uri, const std::string& label, const std::string& id);
// True when the token satisfies the URI's token=, manufacturer=, serial=, model= and slot-id=.
bool token_matches(const Pkcs11Uri& uri, const TokenInfo& token);

// "CKR_PIN_INCORRECT", or "CKR_0x..." for a value this table does not name.
std::string ckr_name(unsigned long rv);

// CK_RV values the identity loader classifies (from the PKCS#11 standard: the numbers are fixed).
inline constexpr unsigned long kCkrFunctionNotSupported = 0x54;
inline constexpr unsigned long kCkrKeyFunctionNotPermitted = 0x68;
inline constexpr unsigned long kCkrMechanismInvalid = 0x70;
inline constexpr unsigned long kCkrMechanismParamInvalid = 0x71;
inline constexpr unsigned long kCkrPinIncorrect = 0xa0;
inline constexpr unsigned long kCkrPinInvalid = 0xa1;
inline constexpr unsigned long kCkrPinLenRange = 0xa2;
inline constexpr unsigned long kCkrPinExpired = 0xa3;
inline constexpr unsigned long kCkrPinLocked = 0xa4;
inline constexpr unsigned long kCkrTokenNotPresent = 0xe0;
inline constexpr unsigned long kCkrUserPinNotInitialized = 0x102;

}  // namespace mtls_probe
