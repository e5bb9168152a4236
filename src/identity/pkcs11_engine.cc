// libp11's pkcs11 engine as the PKCS#11 backend. ENGINE_* is deprecated in OpenSSL 3: this file alone is
// compiled with OPENSSL_SUPPRESS_DEPRECATED and outside unity batches (CMakeLists.txt).
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/ui.h>

#include <cstdlib>
#include <string_view>
#include <vector>

#include "mtls_probe/identity/pkcs11_backend.h"
#include "mtls_probe/identity/pkcs11_token.h"

namespace mtls_probe {
namespace {

struct EngineRelease {
  void operator()(ENGINE* e) const {
    ENGINE_finish(e);  // drops the functional reference: libp11 logs out and unloads the module
    ENGINE_free(e);
  }
};

// A UI that answers nothing, so the engine can never prompt on a terminal (the PIN comes from --pin-env /
// --pin-file only, and a prompt would hang a CI job).
struct UiMethodFree {
  void operator()(UI_METHOD* m) const { UI_destroy_method(m); }
};
std::unique_ptr<UI_METHOD, UiMethodFree> silent_ui() {
  UI_METHOD* m = UI_create_method("mtls-probe: no prompts");
  if (m != nullptr) UI_method_set_reader(m, [](UI*, UI_STRING*) { return 0; });
  return std::unique_ptr<UI_METHOD, UiMethodFree>(m);
}

IdentityFailure backend_failure(IdentityProblem p, std::string message) {
  return IdentityFailure{p, std::move(message), drain_openssl_errors()};
}

}  // namespace

std::optional<unsigned long> pkcs11_rv_in_error_codes(const std::vector<unsigned long>& codes) {
  std::optional<unsigned long> rv;
  for (unsigned long code : codes) {
    const char* lib = ERR_lib_error_string(code);
    if (lib != nullptr && std::string_view(lib) == "PKCS#11 module") rv = ERR_GET_REASON(code);
  }
  return rv;
}

std::optional<unsigned long> pkcs11_rv_in_error_text(const std::string& detail) {
  std::optional<unsigned long> rv;
  size_t at = 0;
  while ((at = detail.find(":PKCS#11 module:", at)) != std::string::npos) {
    // "error:418000A0:PKCS#11 module:" -- the packed code is the 8 hex digits before the library name
    if (at >= 8) {
      const std::string hex = detail.substr(at - 8, 8);
      char* end = nullptr;
      const unsigned long code = std::strtoul(hex.c_str(), &end, 16);
      if (end == hex.c_str() + 8) rv = code & 0x7FFFFFUL;  // ERR_GET_REASON: the low 23 bits
    }
    at += 16;
  }
  return rv;
}

IdentityProblem problem_for_rv(unsigned long rv) {
  switch (rv) {
    case kCkrPinIncorrect:
    case kCkrPinInvalid:
    case kCkrPinLenRange:
    case kCkrPinExpired: return IdentityProblem::wrong_pin;
    case kCkrPinLocked: return IdentityProblem::pin_locked;
    case kCkrTokenNotPresent: return IdentityProblem::token_absent;
    case kCkrKeyFunctionNotPermitted: return IdentityProblem::key_cannot_sign;
    case kCkrMechanismInvalid:
    case kCkrMechanismParamInvalid:
    case kCkrFunctionNotSupported: return IdentityProblem::mechanism_unsupported;
    case kCkrUserPinNotInitialized: return IdentityProblem::pin_locked;
    default: return IdentityProblem::signing_failed;
  }
}

Expected<TokenKey, IdentityFailure> load_token_key(const std::string& module, const std::string& key_uri,
                                                   const std::optional<std::string>& pin) {
  ERR_clear_error();
  ENGINE* raw = ENGINE_by_id("pkcs11");
  if (raw == nullptr)
    return Unexpected{
        backend_failure(IdentityProblem::pkcs11_module_failed,
                        "OpenSSL's pkcs11 engine is not installed (apt install libengine-pkcs11-openssl)")};
  // Structural reference until ENGINE_init succeeds; then the release functor's ENGINE_finish is right.
  if (!ENGINE_ctrl_cmd_string(raw, "MODULE_PATH", module.c_str(), 0)) {
    ENGINE_free(raw);
    return Unexpected{backend_failure(IdentityProblem::pkcs11_module_failed,
                                      "the pkcs11 engine refused the module path " + module)};
  }
  ENGINE_ctrl_cmd_string(raw, "QUIET", nullptr, 1);  // libp11 >= 0.4.10; its chatter would go to stderr
  if (!ENGINE_init(raw)) {
    ENGINE_free(raw);
    return Unexpected{backend_failure(IdentityProblem::pkcs11_module_failed,
                                      "the pkcs11 engine could not initialise with " + module)};
  }
  std::shared_ptr<ENGINE> engine(raw, EngineRelease{});
  if (pin) {
    // The engine copies the PIN and, on a failed login, forgets it: it is never tried twice.
    if (!ENGINE_ctrl_cmd_string(raw, "PIN", pin->c_str(), 0))
      return Unexpected{
          backend_failure(IdentityProblem::signing_failed, "the pkcs11 engine refused the PIN")};
  }
  auto ui = silent_ui();
  EVP_PKEY* key = ENGINE_load_private_key(raw, key_uri.c_str(), ui.get(), nullptr);
  if (key == nullptr) {
    std::vector<unsigned long> codes;
    IdentityFailure f{IdentityProblem::object_not_found, "", drain_openssl_errors(&codes)};
    const auto rv = pkcs11_rv_in_error_codes(codes);
    if (rv && (*rv == kCkrPinIncorrect || *rv == kCkrPinInvalid || *rv == kCkrPinLenRange ||
               *rv == kCkrPinExpired || *rv == kCkrPinLocked || *rv == kCkrTokenNotPresent ||
               *rv == kCkrUserPinNotInitialized)) {
      f.problem = problem_for_rv(*rv);
    } else if (rv) {
      f.problem = IdentityProblem::signing_failed;
    }
    f.message = f.problem == IdentityProblem::object_not_found
                    ? "the token holds no private key matching " + key_uri
                    : "the token refused the login (" + ckr_name(rv.value_or(0)) + ")";
    return Unexpected{std::move(f)};
  }
  TokenKey out;
  out.key.reset(key);
  out.backend = std::static_pointer_cast<void>(engine);
  out.backend_name = "engine";
  return out;
}

}  // namespace mtls_probe
