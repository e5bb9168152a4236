#include "mtls_probe/engine/facts.h"

#include <strings.h>

namespace mtls_probe {

const char* phase_name(Phase p) {
  switch (p) {
    case Phase::setup: return "setup";
    case Phase::identity: return "identity";
    case Phase::dns: return "dns";
    case Phase::connect: return "connect";
    case Phase::proxy: return "proxy";
    case Phase::tls: return "tls";
    case Phase::http: return "http";
    case Phase::done: return "done";
  }
  return "unknown";
}

const char* identity_problem_name(IdentityProblem p) {
  switch (p) {
    case IdentityProblem::file_missing: return "file-missing";
    case IdentityProblem::file_unreadable: return "file-unreadable";
    case IdentityProblem::not_recognised: return "not-recognised";
    case IdentityProblem::wrong_password: return "wrong-password";
    case IdentityProblem::password_needed: return "password-needed";
    case IdentityProblem::legacy_unavailable: return "legacy-unavailable";
    case IdentityProblem::unsupported_algorithm: return "unsupported-algorithm";
    case IdentityProblem::no_private_key: return "no-private-key";
    case IdentityProblem::no_certificate: return "no-certificate";
    case IdentityProblem::key_mismatch: return "key-mismatch";
    case IdentityProblem::password_source: return "password-source";
  }
  return "unknown";
}

std::optional<std::string> response_header(const ProbeFacts& f, std::string_view name) {
  for (const auto& [key, value] : f.response_headers) {
    if (key.size() == name.size() && ::strncasecmp(key.data(), name.data(), name.size()) == 0) return value;
  }
  return std::nullopt;
}

}  // namespace mtls_probe
