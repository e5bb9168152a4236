#include "mtls_probe/diagnosis/verdict.h"

#include <array>

namespace mtls_probe {
namespace {

struct VerdictRow {
  Verdict verdict;
  std::string_view name;
  std::string_view meaning;
};

// The contract's verdict table, in exit-code order.
constexpr std::array<VerdictRow, 13> kVerdicts{{
    {Verdict::ok, "ok", "TLS established; a requested client certificate was accepted; HTTP status < 400"},
    {Verdict::usage_error, "usage-error", "bad command line or bad URL (only https:// is probed)"},
    {Verdict::identity_error, "identity-error",
     "the local client identity is unusable (file, password, key, format); no connection is opened"},
    {Verdict::dns_failure, "dns-failure", "the host name did not resolve"},
    {Verdict::connect_failure, "connect-failure", "TCP connection refused or unreachable"},
    {Verdict::timeout, "timeout", "--connect-timeout or --max-time hit (the report says in which phase)"},
    {Verdict::tls_handshake_failure, "tls-handshake-failure",
     "TLS failed for a reason unrelated to client certificates (version, cipher, not TLS, aborted)"},
    {Verdict::server_cert_untrusted, "server-cert-untrusted",
     "the server's certificate failed verification (unknown CA, expired, name mismatch)"},
    {Verdict::client_cert_required, "client-cert-required",
     "the server demanded a client certificate and none was presented"},
    {Verdict::client_cert_rejected, "client-cert-rejected",
     "a client certificate was presented and the server refused it"},
    {Verdict::http_error, "http-error",
     "TLS and client authentication succeeded; the server answered HTTP status >= 400"},
    {Verdict::protocol_error, "protocol-error",
     "the server broke HTTP: closed before a complete response, or a malformed response"},
    {Verdict::proxy_error, "proxy-error",
     "the configured proxy failed: unreachable, refused, timed out, CONNECT answered non-2xx, tunnel closed"},
}};

}  // namespace

std::string_view verdict_name(Verdict v) {
  return kVerdicts.at(static_cast<std::size_t>(v)).name;
}

std::string_view verdict_meaning(Verdict v) {
  return kVerdicts.at(static_cast<std::size_t>(v)).meaning;
}

std::optional<Verdict> verdict_from_name(std::string_view name) {
  for (const auto& row : kVerdicts) {
    if (row.name == name) return row.verdict;
  }
  return std::nullopt;
}

std::vector<Verdict> all_verdicts() {
  std::vector<Verdict> verdicts;
  for (const auto& row : kVerdicts) verdicts.push_back(row.verdict);
  return verdicts;
}

}  // namespace mtls_probe
