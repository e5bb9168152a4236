// The --json printer: the contract's object, every field present (null when its phase was not reached).
#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/report/report.h"
#include "mtls_probe/report/revocation_report.h"

namespace mtls_probe {
namespace {

using nlohmann::json;

constexpr std::size_t kBodyExcerptBytes = 512;
constexpr std::size_t kMaxHeaders = 64;
constexpr std::size_t kMaxHeaderValueBytes = 1024;

// Every string goes through here: network bytes may be anything, and dump() throws on invalid UTF-8.
json str(std::string_view s) {
  return sanitize_utf8(s);
}

json opt_str(const std::optional<std::string>& s) {
  return s ? str(*s) : json(nullptr);
}

json opt_num(const std::optional<double>& v) {
  return v ? json(*v) : json(nullptr);
}

json str_array(const std::vector<std::string>& v) {
  json a = json::array();
  for (const auto& s : v) a.push_back(str(s));
  return a;
}

// At most n bytes, cut before a UTF-8 sequence that would be split (so no spurious U+FFFD at the end).
json attempts_json(const std::vector<ConnectAttempt>& attempts) {
  json a = json::array();
  for (const auto& at : attempts) {
    a.push_back({{"address", str(at.address)},
                 {"family", str(at.family)},
                 {"result", str(at.result)},
                 {"ms", opt_num(at.ms)}});
  }
  return a;
}

std::string_view truncate_utf8(std::string_view s, std::size_t n) {
  if (s.size() <= n) return s;
  std::size_t cut = n;
  for (int back = 0; back < 3 && cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80; ++back)
    --cut;
  return s.substr(0, cut);
}

const char* side_name(Side s) {
  return s == Side::server ? "server" : "client";
}

json alert_json(const AlertRecord& a) {
  return {{"code", a.code},
          {"name", str(a.name.empty() ? alert_name(a.code) : a.name)},
          {"from", side_name(a.from)}};
}

json cert_json(const CertificateSummary& c) {
  return {
      {"subject", str(c.subject)},     {"issuer", str(c.issuer)},     {"not_before", str(c.not_before)},
      {"not_after", str(c.not_after)}, {"serial", str(c.serial_hex)}, {"san", str_array(c.subject_alt_names)},
      {"days_left", c.days_left},      {"expired", c.expired},        {"not_yet_valid", c.not_yet_valid}};
}

json request_phase(const ProbeFacts& f) {
  if (f.cert_request_in_handshake) return "handshake";
  if (f.cert_request_post_handshake) return "post-handshake";
  if (f.renegotiation_cert_request) return "renegotiation";
  return nullptr;
}

// The furthest phase the probe started ("done": a complete HTTP response arrived).
const char* phase_reached(const ProbeFacts& f) {
  if (f.usage_error) return phase_name(Phase::setup);
  if (f.identity_error && f.identity_error->phase == "load") return phase_name(Phase::identity);
  if (f.http_status && !f.http_error && !f.timed_out_in) return phase_name(Phase::done);
  if (f.request_sent || f.http_status) return phase_name(Phase::http);
  if (f.tls_attempted) return phase_name(Phase::tls);
  if (f.proxy && f.proxy->tunnel_attempted) return phase_name(Phase::proxy);
  if (f.connect_attempted) return phase_name(Phase::connect);
  if (f.dns_attempted) return phase_name(Phase::dns);
  return phase_name(Phase::setup);
}

// Where a token-held key lives (never a PIN): null for a key from a file.
json pkcs11_json(const ProbeFacts& f) {
  if (!f.pkcs11) return nullptr;
  const Pkcs11Facts& p = *f.pkcs11;
  return {{"module", str(p.module)},
          {"uri", str(p.uri)},
          {"token_label", str(p.token_label)},
          {"token_manufacturer", str(p.token_manufacturer)},
          {"token_model", str(p.token_model)},
          {"token_serial", str(p.token_serial)},
          {"object_label", str(p.object_label)},
          {"object_id", str(p.object_id)},
          {"key_type", str(p.key_type)},
          {"backend", str(p.backend)},
          {"mechanisms", p.mechanisms},
          {"pin_count_low", p.pin_count_low}};
}

json tls_json(const ProbeFacts& f) {
  json alerts = json::array();
  for (const auto& a : f.alerts) {
    json j = alert_json(a);
    j["fatal"] = a.fatal;
    j["after_client_certificate"] = a.after_client_certificate;
    j["after_handshake"] = a.after_handshake;
    alerts.push_back(std::move(j));
  }
  return {
      {"attempted", f.tls_attempted},
      {"handshake_completed", f.handshake_completed},
      {"version", opt_str(f.tls_version)},
      {"cipher", opt_str(f.cipher)},
      {"alpn", opt_str(f.alpn)},
      {"alpn_offered", str_array(f.alpn_offered)},
      {"sni", f.sni.empty() ? json(nullptr) : str(f.sni)},
      {"client_cert_requested", f.client_cert_requested},
      {"client_cert_request_phase", request_phase(f)},
      {"renegotiation_requested", f.renegotiation_requested},
      {"acceptable_ca_names", str_array(f.acceptable_ca_names)},
      {"client_cert_sent", f.client_cert_sent},
      {"empty_certificate_sent", f.empty_certificate_sent},
      {"alert", f.fatal_alert ? alert_json(*f.fatal_alert) : json(nullptr)},
      {"alerts", std::move(alerts)},
      {"error", f.tls_error.empty() ? json(nullptr) : str(f.tls_error)},
      {"peer_not_tls", f.peer_not_tls},
      {"peer_closed_during_handshake", f.peer_closed_during_handshake},
  };
}

// --cert-status: null when it was not asked for.
json cert_status_json(const std::optional<ServerCertStatus>& s) {
  if (!s) return nullptr;
  auto text_or_null = [](const std::string& t) { return t.empty() ? json(nullptr) : str(t); };
  return {
      {"requested", true},
      {"checked", s->checked},
      {"stapled", s->stapled},
      {"response_status", text_or_null(s->response_status)},
      {"verified", s->verified},
      {"responder", text_or_null(s->responder)},
      {"cert_status", text_or_null(s->cert_status)},
      {"reason", text_or_null(s->reason)},
      {"revoked_at", opt_str(s->revoked_at)},
      {"this_update", opt_str(s->this_update)},
      {"next_update", opt_str(s->next_update)},
      {"problem", s->error ? str(cert_status_problem_name(s->problem)) : json(nullptr)},
      {"error", opt_str(s->error)},
  };
}

json server_cert_json(const ProbeFacts& f) {
  if (!f.server_cert) return nullptr;
  json j = cert_json(*f.server_cert);
  j["verify_error"] = opt_str(server_verify_error(f));  // the chain's, else --cert-status's
  j["ocsp"] = cert_status_json(f.server_cert_status);
  j["verify_code"] = f.verify_code;
  j["verify_error_depth"] = f.verify_error ? json(f.verify_error_depth) : json(nullptr);
  j["hostname_mismatch"] = f.hostname_mismatch;
  json chain = json::array();
  for (const auto& c : f.server_chain)
    chain.push_back({{"subject", str(c.subject)}, {"issuer", str(c.issuer)}});
  j["chain"] = std::move(chain);
  return j;
}

json client_cert_json(const ProbeFacts& f) {
  if (!f.client_cert) return nullptr;
  json j = cert_json(*f.client_cert);
  j["issuer_in_acceptable_ca_names"] =
      f.issuer_in_acceptable_ca_names ? json(*f.issuer_in_acceptable_ca_names) : json(nullptr);
  j["has_client_auth_eku"] =
      f.client_cert->has_client_auth_eku ? json(*f.client_cert->has_client_auth_eku) : json(nullptr);
  j["chain_subjects"] = str_array(f.client_chain_subjects);
  const std::optional<bool> others = other_clients_would_send(f);
  j["other_clients_would_send"] = others ? json(*others) : json(nullptr);
  j["withheld_by_strict_selection"] = f.strict_selection_withheld;
  return j;
}

json h2_error_json(const H2ErrorRecord& e) {
  return {{"code", e.code},
          {"name", str(e.name)},
          {"from", side_name(e.from)},
          {"frame", e.goaway ? "GOAWAY" : "RST_STREAM"}};
}

// The HTTP/2 attempt before a retry over HTTP/1.1.
json h2_refusal_json(const H2Refusal& r) {
  const char* asked = r.cert_request_post_handshake ? "post-handshake"
                      : r.renegotiation_requested   ? "renegotiation"
                      : r.client_cert_requested     ? "handshake"
                                                    : nullptr;
  return {{"h2_error", r.error ? h2_error_json(*r.error) : json(nullptr)},
          {"status", r.http_status ? json(*r.http_status) : json(nullptr)},
          {"request_line", str(r.request_line)},
          {"address", r.connected_address.empty() ? json(nullptr) : str(r.connected_address)},
          {"tls_version", opt_str(r.tls_version)},
          {"client_cert_requested", r.client_cert_requested},
          {"client_cert_request", asked != nullptr ? json(asked) : json(nullptr)},
          {"client_cert_sent", r.client_cert_sent},
          {"ms", r.ms}};
}

json http_json(const ProbeFacts& f) {
  json headers = json::array();
  std::size_t n = 0;
  for (const auto& [name, value] : f.response_headers) {
    if (n++ == kMaxHeaders) break;
    // A session cookie is a credential: keep it out of CI logs.
    const bool secret = is_credential_header(name);
    headers.push_back(
        {{"name", str(truncate_utf8(name, kMaxHeaderValueBytes))},
         {"value", secret ? json("(redacted)") : str(truncate_utf8(value, kMaxHeaderValueBytes))}});
  }
  const bool reached = f.request_sent || f.http_status.has_value();
  json trailers = json::array();
  n = 0;
  for (const auto& [name, value] : f.response_trailers) {
    if (n++ == kMaxHeaders) break;
    trailers.push_back(
        {{"name", str(truncate_utf8(name, kMaxHeaderValueBytes))},
         {"value", is_credential_header(name) ? json("(redacted)")
                                              : str(truncate_utf8(value, kMaxHeaderValueBytes))}});
  }
  // After a retry over HTTP/1.1 (which has no HTTP/2 error of its own) the refusal that caused it.
  const H2ErrorRecord* seen =
      f.h2_error ? &*f.h2_error : (f.h2_refusal && f.h2_refusal->error ? &*f.h2_refusal->error : nullptr);
  json h2_error = seen != nullptr ? h2_error_json(*seen) : json(nullptr);
  json window_stall = nullptr;
  if (f.h2_window_stall) {
    window_stall = {{"window", f.h2_window_stall->connection_window ? "connection" : "stream"},
                    {"body_bytes_sent", f.h2_window_stall->body_bytes_sent},
                    {"body_bytes", f.h2_window_stall->body_bytes},
                    {"server_initial_window", f.h2_window_stall->server_initial_window}};
  }
  const std::string_view excerpt = truncate_utf8(f.body_excerpt, kBodyExcerptBytes);
  return {
      {"request_sent", f.request_sent},
      {"request_line", f.request_line.empty() ? json(nullptr) : str(f.request_line)},
      {"version", opt_str(f.http_version)},
      {"h2_error", std::move(h2_error)},
      {"h1_retry", f.h2_refusal.has_value()},
      {"h2_refusal", f.h2_refusal ? h2_refusal_json(*f.h2_refusal) : json(nullptr)},
      {"h2_window_stall", std::move(window_stall)},
      {"status", f.http_status ? json(*f.http_status) : json(nullptr)},
      {"location", f.http_status && *f.http_status >= 300 && *f.http_status < 400
                       ? opt_str(response_header(f, "location"))
                       : json(nullptr)},
      {"reason", f.http_status ? str(f.http_reason) : json(nullptr)},
      {"headers", reached ? std::move(headers) : json(nullptr)},
      {"trailers", reached ? std::move(trailers) : json(nullptr)},
      {"body_excerpt", reached ? str(excerpt) : json(nullptr)},
      {"body_excerpt_truncated", excerpt.size() < f.body_excerpt.size() || f.body_truncated},
      {"body_bytes", reached ? json(f.body_bytes) : json(nullptr)},
      {"body_file", f.body_file.empty() ? json(nullptr) : str(f.body_file)},
      {"max_filesize", f.max_filesize ? json(*f.max_filesize) : json(nullptr)},
      {"max_filesize_exceeded", f.max_filesize_exceeded || f.oversize_content_length.has_value()},
      {"oversize_content_length",
       f.oversize_content_length ? json(*f.oversize_content_length) : json(nullptr)},
      {"body_write_error", opt_str(f.body_write_error)},
      {"error", opt_str(f.http_error)},
      {"closed_before_response", f.closed_before_response},
      {"reset_after_request", f.reset_after_request},
  };
}

json name_value_array(const std::vector<std::pair<std::string, std::string>>& fields) {
  json out = json::array();
  std::size_t n = 0;
  for (const auto& [name, value] : fields) {
    if (n++ == kMaxHeaders) break;
    out.push_back({{"name", str(truncate_utf8(name, kMaxHeaderValueBytes))},
                   {"value", is_credential_header(name) ? json("(redacted)")
                                                        : str(truncate_utf8(value, kMaxHeaderValueBytes))}});
  }
  return out;
}

json interception_json(const InterceptionAssessment& a) {
  return {{"suspected", a.suspected},
          {"issuer", a.issuer.empty() ? json(nullptr) : str(a.issuer)},
          {"evidence", str_array(a.evidence)}};
}

json direct_path_json(const ProbeFacts& f) {
  if (!f.direct_path) return nullptr;
  const DirectPathFacts& d = *f.direct_path;
  return {{"reachable", d.reachable},
          {"error", d.error.empty() ? json(nullptr) : str(d.error)},
          {"server_cert_subject", d.server_cert_subject.empty() ? json(nullptr) : str(d.server_cert_subject)},
          {"server_cert_issuer", d.server_cert_issuer.empty() ? json(nullptr) : str(d.server_cert_issuer)},
          {"client_cert_requested", d.client_cert_requested}};
}

json proxy_json(const ProbeFacts& f, const Diagnosis& d) {
  if (!f.proxy) return nullptr;
  const ProxyFacts& p = *f.proxy;
  return {
      {"tls_interception", interception_json(d.interception)},
      {"direct_path", direct_path_json(f)},
      {"url", str(p.url)},
      {"source", str(p.source)},
      {"credentials_sent", p.credentials_sent},
      {"tunnel_established", p.tunnel_established},
      {"connect_status", p.connect_status ? json(*p.connect_status) : json(nullptr)},
      {"reason", p.connect_status ? str(p.reason) : json(nullptr)},
      {"headers", p.connect_status ? name_value_array(p.headers) : json(nullptr)},
      {"auth_schemes", str_array(p.auth_schemes)},
      {"error", opt_str(p.error)},
      {"timing_ms", opt_num(p.tunnel_ms)},
      {"tls", p.tls ? json{{"handshake_completed", p.tls_handshake_completed},
                           {"version", opt_str(p.tls_version)},
                           {"cert_subject", p.tls_cert_subject.empty() ? json(nullptr) : str(p.tls_cert_subject)},
                           {"cert_issuer", p.tls_cert_issuer.empty() ? json(nullptr) : str(p.tls_cert_issuer)},
                           {"verify_error", opt_str(p.tls_verify_error)},
                           {"client_cert_requested", p.tls_cert_requested},
                           {"client_cert_sent", p.tls_cert_sent},
                           {"alert", p.tls_alert ? alert_json(*p.tls_alert) : json(nullptr)},
                           {"error", p.tls_error.empty() ? json(nullptr) : str(p.tls_error)},
                           {"timing_ms", opt_num(p.tls_ms)}}
                    : json(nullptr)},
  };
}

// The contract's grpc object: null unless a gRPC health check got a grpc-status back.
json grpc_json(const ProbeFacts& f) {
  if (!f.grpc || !f.grpc->status) return nullptr;
  const GrpcFacts& g = *f.grpc;
  return {{"status", *g.status},
          {"status_name", str(g.status_name)},
          {"message", opt_str(g.message)},
          {"serving_status", g.serving_status ? str(g.serving_status_name) : json(nullptr)},
          {"service", str(g.service)},
          {"trailers_only", g.trailers_only},
          {"problem", opt_str(g.problem)}};
}

json redirects_json(const ProbeFacts& f) {
  json out = json::array();
  for (const RedirectHop& h : f.redirects) {
    out.push_back({{"url", str(h.url)},
                   {"method", str(h.method)},
                   {"status", h.status},
                   {"location", str(h.location)},
                   {"next_url", str(h.next_url)},
                   {"verdict", str(h.verdict)},
                   {"summary", str(h.summary)},
                   {"connected_address", opt_str(h.connected_address)},
                   {"client_cert_requested", h.client_cert_requested},
                   {"client_cert_sent", h.client_cert_sent},
                   {"acceptable_ca_names", str_array(h.acceptable_ca_names)},
                   {"auth_headers_dropped", h.auth_headers_dropped},
                   {"total_ms", opt_num(h.total_ms)}});
  }
  return out;
}

}  // namespace

json to_json(const ProbeResult& result) {
  const ProbeFacts& f = result.facts;
  const Diagnosis& d = result.diagnosis;

  json identity_error = nullptr;
  if (f.identity_error) {
    identity_error = {
        {"problem", identity_problem_name(f.identity_error->problem)},
        {"phase", str(f.identity_error->phase)},
        {"message", str(f.identity_error->message)},
        {"openssl_detail",
         f.identity_error->openssl_detail.empty() ? json(nullptr) : str(f.identity_error->openssl_detail)}};
  }

  json j = json::object();
  j["verdict"] = std::string(verdict_name(d.verdict));
  j["exit_code"] = exit_code(d.verdict);
  j["summary"] = str(d.summary);
  j["url"] = str(f.url);
  j["url_effective"] = str(f.url);     // as curl's: the URL of the last hop (the only one without -L)
  j["redirects"] = redirects_json(f);  // -L: the hops followed before it, in order
  j["max_redirs_exceeded"] = f.max_redirs_exceeded ? json(*f.max_redirs_exceeded) : json(nullptr);
  j["redirect_not_followed"] = opt_str(f.redirect_not_followed);
  j["usage_error"] = opt_str(f.usage_error);
  j["phase_reached"] = phase_reached(f);
  j["timed_out_in"] = f.timed_out_in ? json(phase_name(*f.timed_out_in)) : json(nullptr);
  j["timeout_limit"] = f.timed_out_in && !f.timeout_limit.empty() ? str(f.timeout_limit) : json(nullptr);
  j["insecure"] = f.insecure;
  j["client_behaviour"] = str(f.client_behaviour);
  j["identity"] = {{"configured", f.identity_configured},
                   {"source", f.identity_source.empty() ? json(nullptr) : str(f.identity_source)},
                   {"no_cert", f.no_cert},
                   {"legacy_pkcs12", f.legacy_pkcs12},
                   {"pkcs11", pkcs11_json(f)},
                   {"error", std::move(identity_error)}};
  j["dns"] = {{"attempted", f.dns_attempted},
              {"host", f.host.empty() ? json(nullptr) : str(f.host)},
              {"port", f.host.empty() ? json(nullptr) : json(f.port)},
              {"resolved_by_override", f.resolved_by_override},
              {"of_proxy", f.proxy.has_value()},  // through a proxy, the addresses are the proxy's
              {"addresses", str_array(f.addresses)},
              {"error", opt_str(f.dns_error)}};
  j["connect"] = {
      {"attempted", f.connect_attempted},
      {"address", opt_str(f.connected_address)},
      {"error", opt_str(f.connect_error)},
      {"errno", f.connect_error ? json(f.connect_errno) : json(nullptr)},
      {"local_ip", opt_str(f.local_ip)},
      {"local_port", f.local_ip ? json(f.local_port) : json(nullptr)},
      {"interface", f.interface_spec.empty() ? json(nullptr) : str(f.interface_spec)},
      {"bind_error", opt_str(f.bind_error)},
      {"connect_to", f.connect_to_host ? json{{"host", str(*f.connect_to_host)}, {"port", f.connect_to_port}}
                                       : json(nullptr)},
      {"attempts", attempts_json(f.connect_attempts)}};
  j["proxy"] = proxy_json(f, d);
  j["proxy_bypassed_by"] = f.proxy_bypassed_by.empty() ? json(nullptr) : str(f.proxy_bypassed_by);
  // With or without a proxy configured (a transparent inspecting device needs no proxy setting).
  j["tls_interception"] = interception_json(d.interception);
  j["tls"] = tls_json(f);
  j["server_cert"] = server_cert_json(f);
  j["client_cert"] = client_cert_json(f);
  j["http"] = http_json(f);
  j["grpc"] = grpc_json(f);
  // --check-revocation: the client certificate's OCSP / CRL answers (null when not asked)
  j["revocation"] = f.revocation ? revocation_json(*f.revocation) : json(nullptr);
  j["timing_ms"] = {{"dns", opt_num(f.dns_ms)},
                    {"connect", opt_num(f.connect_ms)},
                    {"tls", opt_num(f.tls_ms)},
                    {"ttfb", opt_num(f.ttfb_ms)},
                    {"total", opt_num(f.total_ms)}};
  j["hints"] = str_array(d.hints);
  j["warnings"] = str_array(f.warnings);
  return j;
}

}  // namespace mtls_probe
