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
  }
  static constexpr Wording kNone{"", ""};
  return kNone;
}

}  // namespace mtls_probe::hints
