// diagnose() and both printers on arbitrary ProbeFacts, built from the fuzz bytes with FuzzedDataProvider:
// random booleans, optionals, alerts, verify/errno codes, HTTP statuses and strings (invalid UTF-8, control
// bytes, ESC sequences, bidi overrides included).
//
// Invariants: nothing throws or crashes; the verdict is a contract verdict (exit code 0..11) with a summary;
// the JSON dumps with the strict UTF-8 handler and names the same verdict; the plain text report is valid
// UTF-8 without ESC bytes; sanitize_utf8 / escape_terminal keep their documented promises.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_common.h"
#include "mtls_probe/base/alerts.h"
#include "mtls_probe/diagnosis/diagnosis.h"
#include "mtls_probe/engine/facts.h"
#include "mtls_probe/report/report.h"
#include "mtls_probe/diagnosis/verdict.h"

using namespace mtls_probe;

namespace {

// Strings the diagnosis looks for, so the fuzzer reaches the branches that match server pages and errors.
constexpr const char* kInteresting[] = {
    "No required SSL certificate was sent",
    "The SSL certificate error",
    "Cannot perform Post-Handshake Authentication",
    "<html><head><title>400 No required SSL certificate was sent</title></head><body></body></html>",
    "wrong version number",
    "certificate verify failed",
    "tlsv13 alert certificate required",
    "sslv3 alert handshake failure",
    "unexpected eof while reading",
    "CN=Test CA,O=Corp",
    "CN=alice,O=Corp",
    "2026-11-23T10:00:00Z",
    "localhost",
    "127.0.0.1",
    "::1",
    "TLSv1.3",
    "TLSv1.2",
    "\x1b[31mred\x1b[0m",
    "\xe2\x80\xae"
    "evil",  // U+202E RIGHT-TO-LEFT OVERRIDE
    "\xc2\x9b"
    "2J",  // C1 CSI
    "\xff\xfe\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf",
    "",
};

class Gen {
 public:
  explicit Gen(FuzzedDataProvider& p) : p_(p) {}

  bool b() { return p_.ConsumeBool(); }

  std::string str(std::size_t max = 96) {
    switch (p_.ConsumeIntegralInRange<int>(0, 3)) {
      case 0: return p_.PickValueInArray(kInteresting);
      case 1: return std::string(p_.PickValueInArray(kInteresting)) + p_.ConsumeRandomLengthString(max);
      default: return p_.ConsumeRandomLengthString(max);
    }
  }
  std::optional<std::string> opt_str() { return b() ? std::optional<std::string>(str()) : std::nullopt; }
  std::vector<std::string> strs(std::size_t max_n = 6) {
    std::vector<std::string> v(p_.ConsumeIntegralInRange<std::size_t>(0, max_n));
    for (auto& s : v) s = str();
    return v;
  }
  std::optional<double> opt_ms() {
    if (!b()) return std::nullopt;
    switch (p_.ConsumeIntegralInRange<int>(0, 2)) {
      case 0: return p_.ConsumeFloatingPoint<double>();  // NaN and infinities included
      case 1: return -p_.ConsumeProbability<double>() * 1e3;
      default: return p_.ConsumeProbability<double>() * 1e5;
    }
  }
  int alert_code() {
    static constexpr int kCodes[] = {0,   10,  20,  21,  22,  30,  40,  41,  42,  43,  44, 45,  46,
                                     47,  48,  49,  50,  51,  60,  70,  71,  80,  86,  90, 100, 109,
                                     110, 111, 112, 113, 114, 115, 116, 120, 255, 256, -1};
    return b() ? p_.PickValueInArray(kCodes) : p_.ConsumeIntegral<int>();
  }
  AlertRecord alert() {
    AlertRecord a;
    a.code = alert_code();
    a.name = b() ? alert_name(a.code) : std::string();  // facts.h: name is alert_name(code); "" is tolerated
    a.from = b() ? Side::server : Side::client;
    a.fatal = b();
    a.after_client_certificate = b();
    a.after_handshake = b();
    return a;
  }
  Phase phase() { return static_cast<Phase>(p_.ConsumeIntegralInRange<int>(0, 6)); }
  CertificateSummary cert() {
    CertificateSummary c;
    c.subject = str();
    c.issuer = str();
    c.not_before = str(32);
    c.not_after = str(32);
    c.serial_hex = str(40);
    c.subject_alt_names = strs();
    c.days_left = p_.ConsumeIntegral<long>();
    c.expired = b();
    c.not_yet_valid = b();
    if (b()) c.has_client_auth_eku = b();
    return c;
  }
  IdentityFailure identity_failure() {
    IdentityFailure f;
    f.problem = static_cast<IdentityProblem>(
        p_.ConsumeIntegralInRange<int>(0, static_cast<int>(IdentityProblem::password_source)));
    f.message = str();
    f.openssl_detail = str();
    return f;
  }
  long verify_code() {
    // X509_V_OK, common X509_V_ERR_* (2, 10, 18, 19, 20, 21, 62...), and anything.
    static constexpr long kCodes[] = {0, 2, 9, 10, 18, 19, 20, 21, 26, 62, 64, 65, 79};
    return b() ? p_.PickValueInArray(kCodes) : p_.ConsumeIntegral<long>();
  }
  int http_status() {
    static constexpr int kStatuses[] = {100, 101, 200, 204, 301, 302, 304, 400, 401, 403,
                                        404, 421, 495, 496, 500, 502, 503, 599, 999};
    return b() ? p_.PickValueInArray(kStatuses) : p_.ConsumeIntegral<int>();
  }
  int errno_value() {
    static constexpr int kErrnos[] = {0, 104, 110, 111, 113, 101, 99, 13, -1};
    return b() ? p_.PickValueInArray(kErrnos) : p_.ConsumeIntegral<int>();
  }

  FuzzedDataProvider& p_;
};

ProbeFacts make_facts(Gen& g) {
  FuzzedDataProvider& p = g.p_;
  ProbeFacts f;
  f.url = g.str();
  if (g.b()) f.usage_error = g.str();
  f.insecure = g.b();
  f.identity_configured = g.b();
  f.no_cert = g.b();
  if (g.b()) f.identity_error = g.identity_failure();
  if (g.b()) f.client_cert = g.cert();
  f.client_chain_subjects = g.strs();
  f.legacy_pkcs12 = g.b();
  f.warnings = g.strs(3);

  f.host = g.str(64);
  f.port = p.ConsumeIntegral<uint16_t>();
  f.path = g.str(64);
  f.dns_attempted = g.b();
  f.resolved_by_override = g.b();
  f.addresses = g.strs();
  f.dns_error = g.opt_str();

  f.connect_attempted = g.b();
  f.connected_address = g.opt_str();
  f.connect_error = g.opt_str();
  f.connect_errno = g.errno_value();

  if (g.b()) f.timed_out_in = g.phase();
  f.timeout_limit = g.str(32);

  f.tls_attempted = g.b();
  f.handshake_completed = g.b();
  f.sni = g.str(64);
  f.tls_version = g.opt_str();
  f.cipher = g.opt_str();
  f.alpn = g.opt_str();
  f.client_cert_requested = g.b();
  f.cert_request_in_handshake = g.b();
  f.cert_request_post_handshake = g.b();
  f.renegotiation_requested = g.b();
  f.renegotiation_cert_request = g.b();
  f.acceptable_ca_names = g.strs(12);
  f.client_cert_sent = g.b();
  f.empty_certificate_sent = g.b();
  if (g.b()) f.issuer_in_acceptable_ca_names = g.b();
  f.alerts.resize(p.ConsumeIntegralInRange<std::size_t>(0, 5));
  for (auto& a : f.alerts) a = g.alert();
  if (g.b()) f.fatal_alert = g.alert();
  if (g.b()) f.server_cert = g.cert();
  f.server_chain.resize(p.ConsumeIntegralInRange<std::size_t>(0, 3));
  for (auto& c : f.server_chain) c = g.cert();
  f.verify_error = g.opt_str();
  f.verify_code = g.verify_code();
  f.verify_error_depth = p.ConsumeIntegralInRange<int>(-2, 12);
  f.hostname_mismatch = g.b();
  f.tls_error = g.str();
  f.peer_not_tls = g.b();
  f.peer_closed_during_handshake = g.b();

  f.request_sent = g.b();
  f.request_line = g.str(64);
  if (g.b()) f.http_status = g.http_status();
  f.http_reason = g.str(48);
  f.response_headers.resize(p.ConsumeIntegralInRange<std::size_t>(0, 80));
  for (auto& [n, v] : f.response_headers) {
    n = g.b() ? std::string(g.b() ? "Set-Cookie" : "Content-Type") : g.str(24);
    v = g.str(g.b() ? 64 : 2048);
  }
  f.body_excerpt = g.str(g.b() ? 128 : 4096);
  f.body_bytes = p.ConsumeIntegral<uint64_t>();
  f.body_truncated = g.b();
  f.http_error = g.opt_str();
  f.closed_before_response = g.b();
  f.reset_after_request = g.b();

  f.dns_ms = g.opt_ms();
  f.connect_ms = g.opt_ms();
  f.tls_ms = g.opt_ms();
  f.ttfb_ms = g.opt_ms();
  f.total_ms = g.opt_ms();

  // HTTP/2 (drawn last, so the existing corpus keeps its meaning for the fields above)
  f.alpn_offered = g.strs(4);
  f.h2_fallback_noted = g.b();
  f.http_version = g.opt_str();
  if (g.b()) {
    const auto code = p.ConsumeIntegralInRange<std::uint32_t>(0, 0xf);
    f.h2_error = H2ErrorRecord{code, g.str(24), g.b() ? Side::server : Side::client, g.b()};
  }
  f.response_trailers.resize(p.ConsumeIntegralInRange<std::size_t>(0, 4));
  for (auto& [n, v] : f.response_trailers) {
    n = g.str(24);
    v = g.str(64);
  }
  if (g.b()) {
    f.h2_window_stall = H2WindowStall{g.b(), p.ConsumeIntegral<std::uint64_t>(),
                                      p.ConsumeIntegral<std::uint64_t>(), p.ConsumeIntegral<std::uint32_t>()};
  }
  return f;
}

bool valid_utf8(std::string_view s) {
  return sanitize_utf8(s) == s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider provider(data, size);
  Gen g(provider);
  ProbeResult result;
  result.facts = make_facts(g);
  result.diagnosis = diagnose(result.facts);

  const int code = exit_code(result.diagnosis.verdict);
  FUZZ_CHECK(code >= 0 && code <= 11);
  FUZZ_CHECK(!verdict_name(result.diagnosis.verdict).empty());
  FUZZ_CHECK(!result.diagnosis.summary.empty());
  // The same facts always give the same diagnosis (no clock, no globals).
  Diagnosis again = diagnose(result.facts);
  FUZZ_CHECK(again.verdict == result.diagnosis.verdict);
  FUZZ_CHECK(again.summary == result.diagnosis.summary);
  FUZZ_CHECK(again.hints == result.diagnosis.hints);

  nlohmann::json j = to_json(result);
  std::string dumped = j.dump();  // strict: throws on invalid UTF-8, which libFuzzer reports
  FUZZ_CHECK(valid_utf8(dumped));
  std::string dumped_pretty = j.dump(2);
  nlohmann::json parsed = nlohmann::json::parse(dumped);  // NaN timings dump as null: compare fields
  FUZZ_CHECK(parsed.at("verdict") == std::string(verdict_name(result.diagnosis.verdict)));
  FUZZ_CHECK(parsed.at("exit_code") == code);
  FUZZ_CHECK(dumped_pretty.size() >= dumped.size());

  std::string text = render_text(result, TextStyle{false});
  FUZZ_CHECK(!text.empty());
  FUZZ_CHECK(text.find('\x1b') == std::string::npos);
  FUZZ_CHECK(valid_utf8(text));
  std::string colored = render_text(result, TextStyle{true});
  FUZZ_CHECK(valid_utf8(colored));

  // The string helpers, on a raw string from the input.
  std::string raw = provider.ConsumeRemainingBytesAsString();
  std::string clean = sanitize_utf8(raw);
  FUZZ_CHECK(valid_utf8(clean));
  FUZZ_CHECK(sanitize_utf8(clean) == clean);
  if (valid_utf8(raw)) FUZZ_CHECK(clean == raw);
  std::string esc = escape_terminal(raw);
  FUZZ_CHECK(valid_utf8(esc));
  FUZZ_CHECK(esc.find('\x1b') == std::string::npos);
  for (char c : esc) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
  return 0;
}
