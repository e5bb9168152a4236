// The verdicts of the contract and their exit codes: the one table scripts depend on.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace mtls_probe {

enum class Verdict {
  ok = 0,
  usage_error = 1,
  identity_error = 2,
  dns_failure = 3,
  connect_failure = 4,
  timeout = 5,
  tls_handshake_failure = 6,
  server_cert_untrusted = 7,
  client_cert_required = 8,
  client_cert_rejected = 9,
  http_error = 10,
  protocol_error = 11,
  proxy_error = 12,
};

// Process exit code of a verdict (stable, see the contract).
constexpr int exit_code(Verdict v) {
  return static_cast<int>(v);
}

// The verdict's contract name, e.g. "client-cert-required".
std::string_view verdict_name(Verdict v);

// Inverse of verdict_name; nullopt for an unknown name.
std::optional<Verdict> verdict_from_name(std::string_view name);

// One line meaning of each verdict, as in the contract table (for --help and the README).
std::string_view verdict_meaning(Verdict v);

// Every verdict of the table, in exit-code order (the man page's EXIT STATUS is generated from it).
std::vector<Verdict> all_verdicts();

}  // namespace mtls_probe
