#include "mtls_probe/diagnosis/hint_text.h"

namespace mtls_probe::hints {

const Wording& for_problem(IdentityProblem problem) {
  switch (problem) {
    case IdentityProblem::file_missing: return kFileMissing;
    case IdentityProblem::file_unreadable: return kFileUnreadable;
    case IdentityProblem::not_recognised: return kNotRecognised;
    case IdentityProblem::wrong_password: return kWrongPassword;
    case IdentityProblem::password_needed: return kPasswordNeeded;
    case IdentityProblem::legacy_unavailable: return kLegacyUnavailable;
    case IdentityProblem::unsupported_algorithm: return kUnsupportedAlgorithm;
    case IdentityProblem::no_private_key: return kNoPrivateKey;
    case IdentityProblem::no_certificate: return kNoCertificate;
    case IdentityProblem::key_mismatch: return kKeyMismatch;
    case IdentityProblem::password_source: return kPasswordSource;
    case IdentityProblem::pkcs11_module_not_found: return kPkcs11ModuleNotFound;
    case IdentityProblem::pkcs11_module_failed: return kPkcs11ModuleFailed;
    case IdentityProblem::token_absent: return kTokenAbsent;
    case IdentityProblem::token_ambiguous: return kTokenAmbiguous;
    case IdentityProblem::pin_needed: return kPinNeeded;
    case IdentityProblem::wrong_pin: return kWrongPin;
    case IdentityProblem::pin_locked: return kPinLocked;
    case IdentityProblem::object_not_found: return kObjectNotFound;
    case IdentityProblem::key_cannot_sign: return kKeyCannotSign;
    case IdentityProblem::mechanism_unsupported: return kMechanismUnsupported;
    case IdentityProblem::signing_failed: return kSigningFailed;
  }
  static constexpr Wording kNone{"", ""};
  return kNone;
}

}  // namespace mtls_probe::hints
