#include "report/report_test_support.h"
#include "mtls_probe/report/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/report/text_layout.h"

namespace mtls_probe {
namespace {

using nlohmann::json;

CertificateSummary cert(std::string subject, std::string issuer, long days_left) {
  CertificateSummary c;
  c.subject = std::move(subject);
  c.issuer = std::move(issuer);
  c.not_before = "2025-01-01T00:00:00Z";
  c.not_after = "2027-03-01T00:00:00Z";
  c.serial_hex = "01AB";
  c.subject_alt_names = {"DNS:api.internal.example"};
  c.days_left = days_left;
  c.expired = days_left < 0;
  return c;
}

AlertRecord alert(int code, std::string name, bool after_cert = false) {
  AlertRecord a;
  a.code = code;
  a.name = std::move(name);
  a.from = Side::server;
  a.fatal = true;
  a.after_client_certificate = after_cert;
  return a;
}

// DNS, TCP and the start of TLS, all fine.
ProbeFacts reached_tls(std::string path = "/orders") {
  ProbeFacts f;
  f.url = "https://api.internal.example" + path;
  f.host = "api.internal.example";
  f.port = 443;
  f.path = path;
  f.dns_attempted = true;
  f.addresses = {"10.0.0.12"};
  f.dns_ms = 0.4;
  f.connect_attempted = true;
  f.connected_address = "10.0.0.12:443";
  f.connect_ms = 0.9;
  f.tls_attempted = true;
  f.sni = "api.internal.example";
  return f;
}

void handshake_ok(ProbeFacts& f) {
  f.handshake_completed = true;
  f.tls_version = "TLSv1.3";
  f.cipher = "TLS_AES_256_GCM_SHA384";
  f.alpn = "http/1.1";
  f.server_cert = cert("CN=api.internal.example", "CN=Corp Issuing CA 2", 98);
  f.tls_ms = 4.1;
}

void with_identity(ProbeFacts& f, std::string issuer = "CN=Corp Issuing CA 2,O=Corp") {
  f.identity_configured = true;
  f.client_cert = cert("CN=alice", std::move(issuer), 200);
}

void http_answer(ProbeFacts& f, int status, std::string reason, std::string body) {
  f.request_sent = true;
  f.request_line = "GET " + f.path + " HTTP/1.1";
  f.http_status = status;
  f.http_reason = std::move(reason);
  f.response_headers = {{"Content-Type", "text/html"}, {"Set-Cookie", "session=secret"}};
  f.body_bytes = body.size();
  f.body_excerpt = std::move(body);
  f.ttfb_ms = 7.5;
  f.total_ms = 13.2;
}

ProbeResult result(ProbeFacts f, Verdict v, std::string summary, std::vector<std::string> hints = {}) {
  return ProbeResult{std::move(f), Diagnosis{v, std::move(summary), std::move(hints), {}}};
}

ProbeResult ok_case() {
  ProbeFacts f = reached_tls();
  handshake_ok(f);
  with_identity(f);
  f.client_cert_requested = true;
  f.cert_request_in_handshake = true;
  f.acceptable_ca_names = {"CN=Corp Root CA,O=Corp", "CN=Corp Issuing CA 2,O=Corp"};
  f.client_cert_sent = true;
  f.issuer_in_acceptable_ca_names = true;
  http_answer(f, 200, "OK", "{\"orders\":[]}");
  return result(std::move(f), Verdict::ok, "The server accepted CN=alice and answered 200 OK.");
}

ProbeResult required_case() {
  ProbeFacts f = reached_tls();
  handshake_ok(f);
  f.client_cert_requested = true;
  f.cert_request_in_handshake = true;
  f.empty_certificate_sent = true;
  AlertRecord a = alert(116, "certificate_required");
  a.after_handshake = true;
  f.alerts = {a};
  f.fatal_alert = a;
  return result(std::move(f), Verdict::client_cert_required,
                "The server requires a client certificate and none was sent.",
                {"Pass your identity with --p12 FILE and --p12-password-env VAR."});
}

ProbeResult rejected_case() {
  ProbeFacts f = reached_tls();
  f.tls_version = "TLSv1.3";
  f.cipher = "TLS_AES_256_GCM_SHA384";
  f.server_cert = cert("CN=api.internal.example", "CN=Corp Issuing CA 2", 98);
  f.tls_ms = 4.1;
  with_identity(f, "CN=Contractors CA");
  f.client_cert_requested = true;
  f.cert_request_in_handshake = true;
  f.acceptable_ca_names = {"CN=Corp Root CA,O=Corp", "CN=Corp Issuing CA 2,O=Corp"};
  f.client_cert_sent = true;
  f.issuer_in_acceptable_ca_names = false;
  AlertRecord a = alert(48, "unknown_ca", true);
  f.alerts = {a};
  f.fatal_alert = a;
  return result(
      std::move(f), Verdict::client_cert_rejected,
      "The server refused your client certificate: it sent alert unknown_ca after receiving CN=alice "
      "(issued by CN=Contractors CA), which it does not trust.",
      {"the server trusts \"CN=Corp Root CA\" and \"CN=Corp Issuing CA 2\". Use an identity issued by "
       "one of them, or ask the server's owner to add \"CN=Contractors CA\" to its client CA list "
       "(nginx: ssl_client_certificate; Apache: SSLCACertificateFile)."});
}

ProbeResult http_error_case(std::string body = "<html><head><title>403 Forbidden</title></head></html>\r\n") {
  ProbeFacts f = reached_tls("/admin");
  handshake_ok(f);
  with_identity(f);
  f.client_cert_requested = true;
  f.cert_request_in_handshake = true;
  f.client_cert_sent = true;
  http_answer(f, 403, "Forbidden", std::move(body));
  return result(std::move(f), Verdict::http_error,
                "Your certificate was accepted; the server then answered 403 Forbidden.",
                {"This is an authorization decision about CN=alice, not a certificate problem."});
}

ProbeResult usage_case() {
  ProbeFacts f;
  f.url = "http://example.com/";
  f.usage_error = "only https:// URLs are probed";
  return result(std::move(f), Verdict::usage_error, "Bad URL: only https:// URLs are probed.");
}

ProbeResult dns_case() {
  ProbeFacts f;
  f.url = "https://nope.invalid/";
  f.host = "nope.invalid";
  f.dns_attempted = true;
  f.dns_error = "Name or service not known";
  f.dns_ms = 12.0;
  f.total_ms = 12.1;
  return result(std::move(f), Verdict::dns_failure, "The host name nope.invalid did not resolve.",
                {"Check the spelling, or use --resolve HOST:PORT:ADDR."});
}

ProbeResult tls_timeout_case() {
  ProbeFacts f = reached_tls();
  f.timed_out_in = Phase::tls;
  f.timeout_limit = "--max-time 5s";
  f.total_ms = 5000;
  return result(std::move(f), Verdict::timeout, "The TLS handshake did not finish within --max-time 5s.");
}

void expect_contract_shape(const json& j) {
  ASSERT_TRUE(j.is_object());
  EXPECT_TRUE(j.at("verdict").is_string());
  EXPECT_TRUE(j.at("exit_code").is_number_integer());
  EXPECT_TRUE(j.at("summary").is_string());
  EXPECT_TRUE(j.at("url").is_string());
  const json& tls = j.at("tls");
  ASSERT_TRUE(tls.is_object());
  EXPECT_TRUE(tls.at("version").is_null() || tls.at("version").is_string());
  EXPECT_TRUE(tls.at("cipher").is_null() || tls.at("cipher").is_string());
  EXPECT_TRUE(tls.at("client_cert_requested").is_boolean());
  EXPECT_TRUE(tls.at("acceptable_ca_names").is_array());
  for (const auto& n : tls.at("acceptable_ca_names")) EXPECT_TRUE(n.is_string());
  EXPECT_TRUE(tls.at("client_cert_sent").is_boolean());
  const json& alert = tls.at("alert");
  if (!alert.is_null()) {
    EXPECT_TRUE(alert.at("code").is_number_integer());
    EXPECT_TRUE(alert.at("name").is_string());
    EXPECT_TRUE(alert.at("from") == "server" || alert.at("from") == "client");
  }
  const json& sc = j.at("server_cert");
  if (!sc.is_null()) {
    for (const char* k : {"subject", "issuer", "not_before", "not_after"})
      EXPECT_TRUE(sc.at(k).is_string()) << k;
    EXPECT_TRUE(sc.at("verify_error").is_null() || sc.at("verify_error").is_string());
  }
  const json& cc = j.at("client_cert");
  if (!cc.is_null()) {
    for (const char* k : {"subject", "issuer", "not_before", "not_after"})
      EXPECT_TRUE(cc.at(k).is_string()) << k;
    const json& in = cc.at("issuer_in_acceptable_ca_names");
    EXPECT_TRUE(in.is_null() || in.is_boolean());
  }
  ASSERT_TRUE(j.at("http").is_object());
  EXPECT_TRUE(j.at("http").at("status").is_null() || j.at("http").at("status").is_number_integer());
  const json& t = j.at("timing_ms");
  ASSERT_TRUE(t.is_object());
  for (const char* k : {"dns", "connect", "tls", "ttfb", "total"}) {
    EXPECT_TRUE(t.at(k).is_null() || t.at(k).is_number()) << k;
  }
  EXPECT_TRUE(j.at("hints").is_array());
  for (const auto& h : j.at("hints")) EXPECT_TRUE(h.is_string());
  EXPECT_NO_THROW((void)j.dump());
}

bool has_line_containing(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------- JSON

// --cert-status: server_cert.ocsp is null unless asked for; a failure is server_cert.verify_error too.
TEST(Json, CertStatus) {
  ProbeResult r = ok_case();
  EXPECT_TRUE(to_json(r)["server_cert"]["ocsp"].is_null());
  EXPECT_FALSE(has_line_containing(render_text(r), "certificate status (OCSP"));
  ServerCertStatus s;
  s.checked = s.stapled = s.verified = true;
  s.response_status = "successful";
  s.responder = "CN=Corp Issuing CA 2,O=Corp";
  s.cert_status = "good";
  s.this_update = "2026-12-01T10:00:00Z";
  s.next_update = "2026-12-08T10:00:00Z";
  r.facts.server_cert_status = s;
  json j = to_json(r);
  EXPECT_EQ(j["server_cert"]["ocsp"]["cert_status"], "good");
  EXPECT_EQ(j["server_cert"]["ocsp"]["responder"], "CN=Corp Issuing CA 2,O=Corp");
  EXPECT_EQ(j["server_cert"]["ocsp"]["next_update"], "2026-12-08T10:00:00Z");
  EXPECT_TRUE(j["server_cert"]["ocsp"]["error"].is_null());
  EXPECT_TRUE(j["server_cert"]["ocsp"]["problem"].is_null());
  EXPECT_TRUE(j["server_cert"]["verify_error"].is_null());
  std::string t = render_text(r);
  EXPECT_TRUE(has_line_containing(t, "certificate status (OCSP, --cert-status): good")) << t;
  EXPECT_TRUE(
      has_line_containing(t, "stapled response from CN=Corp Issuing CA 2,O=Corp (signature verified)"))
      << t;
  EXPECT_TRUE(has_line_containing(t, "2026-12-01T10:00:00Z, nextUpdate 2026-12-08T10:00:00Z")) << t;

  r.facts.server_cert_status->cert_status = "revoked";
  r.facts.server_cert_status->reason = "keyCompromise";
  r.facts.server_cert_status->revoked_at = "2026-11-30T08:00:00Z";
  r.facts.server_cert_status->problem = CertStatusProblem::revoked;
  r.facts.server_cert_status->error = "OCSP: certificate revoked (keyCompromise, 2026-11-30T08:00:00Z)";
  j = to_json(r);
  EXPECT_EQ(j["server_cert"]["verify_error"],
            "OCSP: certificate revoked (keyCompromise, 2026-11-30T08:00:00Z)");
  EXPECT_EQ(j["server_cert"]["ocsp"]["problem"], "revoked");
  EXPECT_EQ(j["server_cert"]["ocsp"]["reason"], "keyCompromise");
  EXPECT_EQ(j["server_cert"]["ocsp"]["revoked_at"], "2026-11-30T08:00:00Z");
  t = render_text(r);
  EXPECT_TRUE(
      has_line_containing(t, "certificate status (OCSP, --cert-status) FAILED: OCSP: certificate revoked"))
      << t;
}

// The HTTP/2 fields: what was offered, what was picked, the version that ran, the h2 error seen.
TEST(Json, Http2Fields) {
  ProbeResult r = ok_case();
  EXPECT_TRUE(to_json(r)["http"]["h2_error"].is_null());
  r.facts.alpn = "h2";
  r.facts.alpn_offered = {"h2", "http/1.1"};
  r.facts.http_version = "2";
  r.facts.h2_error = H2ErrorRecord{0xd, "HTTP_1_1_REQUIRED", Side::server, true};
  const json j = to_json(r);
  EXPECT_EQ(j["tls"]["alpn"], "h2");
  EXPECT_EQ(j["tls"]["alpn_offered"], json::array({"h2", "http/1.1"}));
  EXPECT_EQ(j["http"]["version"], "2");
  EXPECT_EQ(j["http"]["h2_error"]["code"], 13);
  EXPECT_EQ(j["http"]["h2_error"]["name"], "HTTP_1_1_REQUIRED");
  EXPECT_EQ(j["http"]["h2_error"]["from"], "server");
  EXPECT_EQ(j["http"]["h2_error"]["frame"], "GOAWAY");
  const std::string t = render_text(r);
  EXPECT_TRUE(has_line_containing(t, "HTTP/2 GOAWAY HTTP_1_1_REQUIRED (0xd) from the server")) << t;
}

// A key on a token: identity.source and identity.pkcs11 (never a PIN); a token that failed to sign inside
// the handshake reached the TLS phase.
TEST(Json, TokenIdentityFields) {
  ProbeResult r = ok_case();
  EXPECT_TRUE(to_json(r)["identity"]["pkcs11"].is_null());
  r.facts.identity_source = "pkcs11";
  Pkcs11Facts p;
  p.module = "/usr/lib/x86_64-linux-gnu/p11-kit-proxy.so";
  p.uri = "pkcs11:token=card;object=client";
  p.token_label = "card";
  p.object_label = "client";
  p.object_id = "01";
  p.key_type = "RSA";
  p.backend = "engine";
  p.mechanisms = {"RSA-PKCS"};
  r.facts.pkcs11 = p;
  json j = to_json(r);
  EXPECT_EQ(j["identity"]["source"], "pkcs11");
  EXPECT_EQ(j["identity"]["pkcs11"]["token_label"], "card");
  EXPECT_EQ(j["identity"]["pkcs11"]["object_id"], "01");
  EXPECT_EQ(j["identity"]["pkcs11"]["backend"], "engine");
  const std::string t = render_text(r);
  EXPECT_TRUE(has_line_containing(t, "key on PKCS#11 token \"card\"")) << t;
  EXPECT_TRUE(has_line_containing(t, "the token lists no RSA-PSS mechanism")) << t;
  IdentityFailure e{IdentityProblem::mechanism_unsupported, "token \"card\" could not sign", ""};
  e.phase = "CertificateVerify";
  r.facts.identity_error = e;
  r.diagnosis = diagnose(r.facts);
  j = to_json(r);
  EXPECT_EQ(j["identity"]["error"]["phase"], "CertificateVerify");
  EXPECT_EQ(j["identity"]["error"]["problem"], "mechanism-unsupported");
  EXPECT_NE(j["phase_reached"], "identity");
  e.phase = "load";
  r.facts.identity_error = e;
  EXPECT_EQ(to_json(r)["phase_reached"], "identity");
}

// After a retry over HTTP/1.1: h1_retry, the refusal in h2_error, and the first attempt in h2_refusal.
TEST(Json, H1RetryFields) {
  ProbeResult r = ok_case();
  EXPECT_EQ(to_json(r)["http"]["h1_retry"], false);
  EXPECT_TRUE(to_json(r)["http"]["h2_refusal"].is_null());
  EXPECT_EQ(to_json(usage_case())["http"]["h1_retry"], false);
  H2Refusal refusal;
  refusal.error = H2ErrorRecord{0xd, "HTTP_1_1_REQUIRED", Side::server, false};
  refusal.request_line = "GET / HTTP/2";
  refusal.connected_address = "127.0.0.1:8443";
  refusal.tls_version = "TLSv1.3";
  refusal.ms = 7.5;
  r.facts.h2_refusal = refusal;
  const json j = to_json(r);
  EXPECT_EQ(j["http"]["h1_retry"], true);
  EXPECT_EQ(j["http"]["h2_error"]["name"], "HTTP_1_1_REQUIRED");
  EXPECT_EQ(j["http"]["h2_error"]["from"], "server");
  EXPECT_EQ(j["http"]["h2_error"]["frame"], "RST_STREAM");
  const json& p = j["http"]["h2_refusal"];
  EXPECT_EQ(p["h2_error"]["code"], 13);
  EXPECT_TRUE(p["status"].is_null());
  EXPECT_EQ(p["request_line"], "GET / HTTP/2");
  EXPECT_EQ(p["address"], "127.0.0.1:8443");
  EXPECT_EQ(p["tls_version"], "TLSv1.3");
  EXPECT_EQ(p["client_cert_requested"], false);
  EXPECT_TRUE(p["client_cert_request"].is_null());
  EXPECT_EQ(p["ms"], 7.5);
}

// A request body that flow control held back: which window, how much went.
TEST(Json, H2WindowStall) {
  ProbeResult r = ok_case();
  EXPECT_TRUE(to_json(r)["http"]["h2_window_stall"].is_null());
  r.facts.http_version = "2";
  r.facts.h2_window_stall = H2WindowStall{true, 65535, 100000};
  const json j = to_json(r);
  EXPECT_EQ(j["http"]["h2_window_stall"]["window"], "connection");
  EXPECT_EQ(j["http"]["h2_window_stall"]["body_bytes_sent"], 65535);
  EXPECT_EQ(j["http"]["h2_window_stall"]["body_bytes"], 100000);
  const std::string t = render_text(r);
  EXPECT_TRUE(has_line_containing(
      t, "body held by HTTP/2 flow control: 65535 of 100000 bytes sent, connection window 0"))
      << t;
}

// A usage error never reached ALPN: an empty offer, a null choice and version.
TEST(Json, Http2FieldsNullWhenNotReached) {
  const json j = to_json(usage_case());
  EXPECT_EQ(j["tls"]["alpn_offered"], json::array());
  EXPECT_TRUE(j["tls"]["alpn"].is_null());
  EXPECT_TRUE(j["http"]["version"].is_null());
}

TEST(Json, OkHasEveryContractField) {
  const json j = to_json(ok_case());
  expect_contract_shape(j);
  EXPECT_EQ(j["verdict"], "ok");
  EXPECT_EQ(j["exit_code"], 0);
  EXPECT_EQ(j["url"], "https://api.internal.example/orders");
  EXPECT_EQ(j["tls"]["version"], "TLSv1.3");
  EXPECT_EQ(j["tls"]["cipher"], "TLS_AES_256_GCM_SHA384");
  EXPECT_EQ(j["tls"]["alpn"], "http/1.1");
  EXPECT_EQ(j["tls"]["client_cert_requested"], true);
  EXPECT_EQ(j["tls"]["client_cert_request_phase"], "handshake");
  EXPECT_EQ(j["tls"]["acceptable_ca_names"].size(), 2u);
  EXPECT_EQ(j["tls"]["client_cert_sent"], true);
  EXPECT_TRUE(j["tls"]["alert"].is_null());
  EXPECT_EQ(j["tls"]["sni"], "api.internal.example");
  EXPECT_EQ(j["server_cert"]["subject"], "CN=api.internal.example");
  EXPECT_EQ(j["server_cert"]["not_after"], "2027-03-01T00:00:00Z");
  EXPECT_TRUE(j["server_cert"]["verify_error"].is_null());
  EXPECT_EQ(j["server_cert"]["days_left"], 98);
  EXPECT_EQ(j["client_cert"]["subject"], "CN=alice");
  EXPECT_EQ(j["client_cert"]["issuer_in_acceptable_ca_names"], true);
  EXPECT_EQ(j["client_cert"]["expired"], false);
  EXPECT_EQ(j["http"]["status"], 200);
  EXPECT_EQ(j["http"]["reason"], "OK");
  EXPECT_DOUBLE_EQ(j["timing_ms"]["dns"].get<double>(), 0.4);
  EXPECT_DOUBLE_EQ(j["timing_ms"]["total"].get<double>(), 13.2);
  EXPECT_EQ(j["phase_reached"], "done");
  EXPECT_TRUE(j["timed_out_in"].is_null());
  EXPECT_EQ(j["dns"]["addresses"], json::array({"10.0.0.12"}));
  EXPECT_EQ(j["connect"]["address"], "10.0.0.12:443");
  EXPECT_EQ(j["identity"]["configured"], true);
  EXPECT_TRUE(j["identity"]["error"].is_null());
  EXPECT_EQ(j["insecure"], false);
}

TEST(Json, ClientCertRequiredCarriesTheAlert) {
  const json j = to_json(required_case());
  expect_contract_shape(j);
  EXPECT_EQ(j["verdict"], "client-cert-required");
  EXPECT_EQ(j["exit_code"], 8);
  EXPECT_EQ(j["tls"]["alert"], (json{{"code", 116}, {"name", "certificate_required"}, {"from", "server"}}));
  ASSERT_EQ(j["tls"]["alerts"].size(), 1u);
  EXPECT_EQ(j["tls"]["alerts"][0]["fatal"], true);
  EXPECT_EQ(j["tls"]["client_cert_sent"], false);
  EXPECT_EQ(j["tls"]["acceptable_ca_names"], json::array());
  EXPECT_TRUE(j["client_cert"].is_null());
  EXPECT_TRUE(j["http"]["status"].is_null());
  EXPECT_TRUE(j["timing_ms"]["ttfb"].is_null());
  EXPECT_EQ(j["hints"].size(), 1u);
}

TEST(Json, ClientCertRejectedShowsMismatch) {
  const json j = to_json(rejected_case());
  expect_contract_shape(j);
  EXPECT_EQ(j["verdict"], "client-cert-rejected");
  EXPECT_EQ(j["exit_code"], 9);
  EXPECT_EQ(j["tls"]["alert"]["code"], 48);
  EXPECT_EQ(j["tls"]["alert"]["name"], "unknown_ca");
  EXPECT_EQ(j["tls"]["acceptable_ca_names"],
            json::array({"CN=Corp Root CA,O=Corp", "CN=Corp Issuing CA 2,O=Corp"}));
  EXPECT_EQ(j["client_cert"]["issuer"], "CN=Contractors CA");
  EXPECT_EQ(j["client_cert"]["issuer_in_acceptable_ca_names"], false);
}

TEST(Json, HttpErrorHasStatusAndBoundedBody) {
  const json j = to_json(http_error_case(std::string(5000, 'x')));
  expect_contract_shape(j);
  EXPECT_EQ(j["verdict"], "http-error");
  EXPECT_EQ(j["exit_code"], 10);
  EXPECT_EQ(j["http"]["status"], 403);
  EXPECT_EQ(j["http"]["reason"], "Forbidden");
  EXPECT_LE(j["http"]["body_excerpt"].get<std::string>().size(), 512u);
  EXPECT_EQ(j["http"]["body_excerpt_truncated"], true);
  EXPECT_EQ(j["http"]["body_bytes"], 5000);
  EXPECT_EQ(j["http"]["request_line"], "GET /admin HTTP/1.1");
}

TEST(Json, SetCookieIsRedacted) {
  const json j = to_json(http_error_case());
  const std::string dumped = j.dump();
  EXPECT_EQ(dumped.find("session=secret"), std::string::npos);
  EXPECT_NE(dumped.find("text/html"), std::string::npos);
}

TEST(Json, UsageErrorIsCompleteWithNulls) {
  const json j = to_json(usage_case());
  expect_contract_shape(j);
  EXPECT_EQ(j["verdict"], "usage-error");
  EXPECT_EQ(j["exit_code"], 1);
  EXPECT_EQ(j["url"], "http://example.com/");
  EXPECT_TRUE(j["tls"]["version"].is_null());
  EXPECT_TRUE(j["tls"]["cipher"].is_null());
  EXPECT_EQ(j["tls"]["client_cert_requested"], false);
  EXPECT_EQ(j["tls"]["client_cert_sent"], false);
  EXPECT_EQ(j["tls"]["acceptable_ca_names"], json::array());
  EXPECT_TRUE(j["tls"]["alert"].is_null());
  EXPECT_TRUE(j["tls"]["client_cert_request_phase"].is_null());
  EXPECT_TRUE(j["server_cert"].is_null());
  EXPECT_TRUE(j["client_cert"].is_null());
  EXPECT_TRUE(j["http"]["status"].is_null());
  EXPECT_TRUE(j["http"]["body_excerpt"].is_null());
  for (const char* k : {"dns", "connect", "tls", "ttfb", "total"})
    EXPECT_TRUE(j["timing_ms"][k].is_null()) << k;
  EXPECT_EQ(j["hints"], json::array());
  EXPECT_EQ(j["phase_reached"], "setup");
  EXPECT_EQ(j["usage_error"], "only https:// URLs are probed");
}

TEST(Json, DnsFailure) {
  const json j = to_json(dns_case());
  expect_contract_shape(j);
  EXPECT_EQ(j["verdict"], "dns-failure");
  EXPECT_EQ(j["exit_code"], 3);
  EXPECT_EQ(j["dns"]["error"], "Name or service not known");
  EXPECT_EQ(j["dns"]["host"], "nope.invalid");
  EXPECT_EQ(j["phase_reached"], "dns");
  EXPECT_DOUBLE_EQ(j["timing_ms"]["dns"].get<double>(), 12.0);
  EXPECT_TRUE(j["timing_ms"]["connect"].is_null());
  EXPECT_TRUE(j["tls"]["version"].is_null());
  EXPECT_TRUE(j["connect"]["address"].is_null());
}

TEST(Json, TimeoutNamesThePhase) {
  const json j = to_json(tls_timeout_case());
  expect_contract_shape(j);
  EXPECT_EQ(j["verdict"], "timeout");
  EXPECT_EQ(j["exit_code"], 5);
  EXPECT_EQ(j["timed_out_in"], "tls");
  EXPECT_EQ(j["timeout_limit"], "--max-time 5s");
  EXPECT_TRUE(j["tls"]["version"].is_null());
  EXPECT_TRUE(j["timing_ms"]["tls"].is_null());
}

TEST(Json, IdentityError) {
  ProbeFacts f;
  f.url = "https://x.example/";
  f.identity_configured = true;
  f.identity_error =
      IdentityFailure{IdentityProblem::wrong_password, "alice.p12: wrong password", "mac verify"};
  const json j = to_json(result(std::move(f), Verdict::identity_error, "Wrong password for alice.p12."));
  expect_contract_shape(j);
  EXPECT_EQ(j["identity"]["error"]["problem"], "wrong-password");
  EXPECT_EQ(j["identity"]["error"]["message"], "alice.p12: wrong password");
  EXPECT_EQ(j["phase_reached"], "identity");
}

TEST(Json, InvalidUtf8FromTheNetworkNeverThrows) {
  std::string nasty = "bad \xff\xfe utf8 \xc3\x28 \xed\xa0\x80 \xf4\x90\x80\x80 \x1b[31mred\x1b[0m \x00 end";
  nasty.push_back('\xc3');  // truncated sequence at the very end
  ProbeResult r = http_error_case(nasty);
  r.facts.http_reason = "Forbidden \xc0\xaf";
  r.facts.response_headers.push_back({"X-\xff", "\xe2\x82"});
  r.facts.acceptable_ca_names.push_back("CN=\xff\xfe");
  r.facts.tls_error = "\x80 oops";
  r.facts.url = "https://api.internal.example/\xff";
  r.diagnosis.summary += " \xfe";
  r.diagnosis.hints.push_back("\xc3");
  r.facts.alerts.push_back(alert(42, "bad_\xff"));
  const json j = to_json(r);
  std::string dumped;
  ASSERT_NO_THROW(dumped = j.dump());
  ASSERT_NO_THROW((void)j.dump(2, ' ', true));  // ensure_ascii as well
  EXPECT_NE(dumped.find("\xEF\xBF\xBD"), std::string::npos);
  EXPECT_EQ(dumped.find('\x1b'), std::string::npos);  // control bytes are \u001b-escaped by the dumper
  // The dump parses back as JSON.
  EXPECT_TRUE(json::accept(dumped));
}

TEST(Json, BodyExcerptIsNotCutInsideACharacter) {
  std::string body(511, 'a');
  body += "\xc3\xa9";  // 'é' straddles the 512-byte cut
  body += "tail";
  const json j = to_json(http_error_case(body));
  const std::string excerpt = j["http"]["body_excerpt"].get<std::string>();
  EXPECT_EQ(excerpt, std::string(511, 'a'));
}

TEST(Json, Sanitize) {
  EXPECT_EQ(sanitize_utf8("plain"), "plain");
  EXPECT_EQ(sanitize_utf8("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(sanitize_utf8("\xf0\x9f\x94\x92"), "\xf0\x9f\x94\x92");  // U+1F512
  EXPECT_EQ(sanitize_utf8("a\xffz"), "a\xEF\xBF\xBDz");
  EXPECT_EQ(sanitize_utf8("\xc0\xaf"), "\xEF\xBF\xBD\xEF\xBF\xBD");                  // overlong
  EXPECT_EQ(sanitize_utf8("\xed\xa0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(sanitize_utf8("\xe2\x82"), "\xEF\xBF\xBD");                              // truncated: one U+FFFD
  EXPECT_EQ(sanitize_utf8(std::string_view("a\0b", 3)), std::string("a\0b", 3));
}

// ---------------------------------------------------------------- text

TEST(Report, OkStartsWithTheVerdictLine) {
  const std::string t = render_text(ok_case());
  EXPECT_EQ(t.rfind("✓ ok (exit 0)  https://api.internal.example/orders\n", 0), 0u) << t;
  EXPECT_TRUE(has_line_containing(t, "  DNS     api.internal.example -> 10.0.0.12")) << t;
  EXPECT_TRUE(has_line_containing(t, "0.4 ms")) << t;
  EXPECT_TRUE(has_line_containing(t, "  TCP     connected to 10.0.0.12:443")) << t;
  EXPECT_TRUE(has_line_containing(t, "  TLS     TLSv1.3, TLS_AES_256_GCM_SHA384, ALPN http/1.1")) << t;
  EXPECT_TRUE(
      has_line_containing(t, "server certificate CN=api.internal.example, issued by CN=Corp Issuing CA 2"))
      << t;
  EXPECT_TRUE(has_line_containing(t, "verified, valid until 2027-03-01 (98 days)")) << t;
  EXPECT_TRUE(has_line_containing(t, "we sent CN=alice, issued by CN=Corp Issuing CA 2,O=Corp\n")) << t;
  EXPECT_TRUE(has_line_containing(t, "GET /orders HTTP/1.1")) << t;
  EXPECT_TRUE(has_line_containing(t, "status 200 OK")) << t;
  EXPECT_EQ(t.find('\x1b'), std::string::npos);
  EXPECT_EQ(t.find("not reached"), std::string::npos) << t;
}

TEST(Report, LinesStayWithinTheWidth) {
  for (const ProbeResult& r : {ok_case(), rejected_case(), http_error_case(), required_case(), dns_case()}) {
    const std::string t = render_text(r);
    std::size_t start = 0;
    while (start < t.size()) {
      std::size_t end = t.find('\n', start);
      const std::string line = t.substr(start, end - start);
      std::size_t cps = 0;
      for (char c : line) cps += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
      EXPECT_LE(cps, 100u) << line;
      start = end + 1;
    }
  }
}

// A rejection that names long DNs with spaces, in the evidence, the summary and the hint.
ProbeResult long_dn_case() {
  const std::string issuer =
      "CN=Contractors Issuing CA 2019,OU=External Partners Division,O=Example Corporation Ltd,C=GB";
  ProbeResult r = rejected_case();
  r.facts.client_cert->issuer = issuer;
  r.facts.client_cert->subject = "CN=alice smith,OU=Platform Engineering,O=Example Corporation Ltd";
  r.facts.acceptable_ca_names = {"CN=Corp Root CA,O=Corp",
                                 "CN=Corp Issuing CA 2,O=Example Corporation Ltd,C=GB"};
  r.diagnosis.summary =
      "The server refused your client certificate CN=alice smith,OU=Platform Engineering,O=Example "
      "Corporation Ltd (issued by " +
      issuer + "): it sent alert 48 unknown_ca.";
  r.diagnosis.hints = {"the server does not trust \"" + issuer + "\", the CA that issued your certificate."};
  return r;
}


// A line wider than the report is allowed only when it holds one unbreakable token (a DN counts as one),
// after its indent and an optional section label.
bool single_token(std::string line, const std::vector<std::string>& dns) {
  for (const auto& dn : dns) {
    for (auto at = line.find(dn); at != std::string::npos; at = line.find(dn))
      line.replace(at, dn.size(), "DN");
  }
  std::vector<std::string> tokens;
  std::size_t pos = 0;
  while ((pos = line.find_first_not_of(' ', pos)) != std::string::npos) {
    const std::size_t end = line.find(' ', pos);
    tokens.push_back(line.substr(pos, end - pos));
    pos = end;
  }
  const bool labelled =
      !tokens.empty() && (tokens[0] == "DNS" || tokens[0] == "TCP" || tokens[0] == "TLS" ||
                          tokens[0] == "CLIENT" || tokens[0] == "HTTP" || tokens[0] == "hint:");
  return tokens.size() <= (labelled ? 2u : 1u);
}

std::vector<std::string> dns_of(const ProbeFacts& f) {
  std::vector<std::string> dns = f.acceptable_ca_names;
  for (const auto& c : {f.server_cert, f.client_cert}) {
    if (c) dns.push_back(c->subject), dns.push_back(c->issuer);
  }
  return dns;
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Runs of spaces and newlines become one space.
std::string flatten(const std::string& t) {
  std::string out;
  for (char c : t) {
    const bool blank = c == ' ' || c == '\n';
    if (blank && !out.empty() && out.back() == ' ') continue;
    out += blank ? ' ' : c;
  }
  return out;
}

TEST(Report, FitsWidths40And80And120WithoutSplittingADn) {
  for (const ProbeResult& r :
       {ok_case(), rejected_case(), http_error_case(), required_case(), long_dn_case()}) {
    const std::vector<std::string> dns = dns_of(r.facts);
    for (std::size_t w : {40u, 80u, 120u}) {
      TextStyle style;
      style.width = w;
      const std::string t = render_text(r, style);
      std::size_t widest = 0;
      for (const auto& line : lines_of(t)) {
        const std::size_t cps = text::display_width(line);
        widest = std::max(widest, cps);
        if (cps > w) {
          EXPECT_TRUE(single_token(line, dns)) << "width " << w << ": " << line << "\n" << t;
        }
      }
      // Every DN the report names is printed whole: wrapping never cut one at an inner space (in the text
      // with line breaks and indents flattened to single spaces, a DN is found as often as in the text).
      const std::string flat = flatten(t);
      for (const auto& dn : dns) {
        EXPECT_EQ(occurrences(flat, dn), occurrences(t, dn)) << "width " << w << ": " << dn << "\n" << t;
      }
      if (w == 120 && r.diagnosis.summary.size() > 120) {
        EXPECT_GT(widest, 100u) << t;  // the room is used
      }
    }
  }
}

TEST(Report, LongDnsStayWholeInSummaryHintAndEvidence) {
  const ProbeResult r = long_dn_case();
  TextStyle style;
  style.width = 40;
  const std::string t = render_text(r, style);
  const std::string& issuer = r.facts.client_cert->issuer;
  EXPECT_EQ(occurrences(t, issuer), 3u) << t;  // summary, CLIENT evidence, hint
  // a DN longer than the width stands on a line of its own
  bool alone = false;
  for (const auto& line : lines_of(t)) {
    const auto first = line.find_first_not_of(' ');
    if (first != std::string::npos && line.compare(first, std::string::npos, issuer) == 0) alone = true;
  }
  EXPECT_TRUE(alone) << t;
  EXPECT_NE(t.find("            CN=Corp Issuing CA 2,O=Example Corporation Ltd,C=GB\n"), std::string::npos)
      << t;
}

TEST(Report, ALongUrlMovesOffTheVerdictLine) {
  ProbeResult r = ok_case();
  r.facts.url = "https://api.internal.example/orders/with/a/rather/long/path";
  TextStyle style;
  style.width = 40;
  const std::string t = render_text(r, style);
  EXPECT_EQ(t.rfind("✓ ok (exit 0)\n  https://api.internal.example/orders/with/a/rather/long/path\n", 0), 0u)
      << t;
  style.width = 80;
  EXPECT_EQ(render_text(r, style).rfind("✓ ok (exit 0)  https://", 0), 0u);
}

TEST(Report, ClientCertRequired) {
  const std::string t = render_text(required_case());
  EXPECT_EQ(t.rfind("✗ client-cert-required (exit 8)  https://api.internal.example/orders\n", 0), 0u) << t;
  EXPECT_TRUE(has_line_containing(
      t, "the server asked for a certificate in the handshake; it listed no acceptable CAs"))
      << t;
  EXPECT_TRUE(has_line_containing(t, "we sent no certificate: no client identity configured")) << t;
  EXPECT_TRUE(has_line_containing(t, "the server answered with alert 116 certificate_required")) << t;
  EXPECT_TRUE(has_line_containing(t, "  HTTP    not reached")) << t;
  EXPECT_TRUE(has_line_containing(t, "\n  hint: Pass your identity with --p12")) << t;
}

// --as strict: the identity matched none of the listed CAs, so it was withheld.
ProbeFacts strict_withheld_facts() {
  ProbeFacts f = reached_tls();
  handshake_ok(f);
  with_identity(f, "CN=Other CA");
  f.client_behaviour = "strict";
  f.client_cert_requested = true;
  f.cert_request_in_handshake = true;
  f.acceptable_ca_names = {"CN=Corp Issuing CA 2,O=Corp"};
  f.issuer_in_acceptable_ca_names = false;
  f.empty_certificate_sent = true;
  f.strict_selection_withheld = true;
  AlertRecord a = alert(116, "certificate_required");
  a.after_handshake = true;
  f.alerts = {a};
  f.fatal_alert = a;
  return f;
}

TEST(Report, StrictSelectionWithheldIsSaidInTheClientSection) {
  ProbeResult r;
  r.facts = strict_withheld_facts();
  r.diagnosis = diagnose(r.facts);
  EXPECT_EQ(r.diagnosis.verdict, Verdict::client_cert_required);
  const std::string t = render_text(r);
  EXPECT_TRUE(
      has_line_containing(t, "--as strict: no certificate sent because none matched the server's CA list"))
      << t;
  const json j = to_json(r);
  expect_contract_shape(j);
  EXPECT_EQ(j["client_behaviour"], "strict");
  EXPECT_EQ(j["client_cert"]["withheld_by_strict_selection"], true);
  EXPECT_EQ(j["tls"]["client_cert_sent"], false);
  bool hinted = false;
  for (const auto& h : j["hints"])
    hinted = hinted || h.get<std::string>().find("--as strict") != std::string::npos;
  EXPECT_TRUE(hinted) << j["hints"].dump();
}

TEST(Json, DefaultBehaviourIsOpenssl) {
  const json j = to_json(rejected_case());
  EXPECT_EQ(j["client_behaviour"], "openssl");
  EXPECT_EQ(j["client_cert"]["withheld_by_strict_selection"], false);
}

TEST(Report, ClientCertRejectedListsTheCasAndTheMismatch) {
  const std::string t = render_text(rejected_case());
  EXPECT_EQ(t.rfind("✗ client-cert-rejected (exit 9)  https://api.internal.example/orders\n", 0), 0u) << t;
  EXPECT_TRUE(
      has_line_containing(t,
                          "  CLIENT  the server asked in the handshake for a certificate issued by one of:\n"
                          "            CN=Corp Root CA,O=Corp\n"
                          "            CN=Corp Issuing CA 2,O=Corp\n"))
      << t;
  EXPECT_TRUE(has_line_containing(t, "we sent CN=alice, issued by CN=Contractors CA  <- not in that list"))
      << t;
  EXPECT_TRUE(has_line_containing(t, "the server answered with alert 48 unknown_ca")) << t;
  // The hint wraps with a hanging indent.
  EXPECT_TRUE(has_line_containing(t, "\n  hint: the server trusts")) << t;
  EXPECT_TRUE(has_line_containing(t, "\n        ")) << t;
  // The summary is wrapped and indented by two.
  EXPECT_TRUE(has_line_containing(t, "\n  The server refused your client certificate")) << t;
}

TEST(Report, HttpErrorShowsStatusAndBody) {
  const std::string t = render_text(http_error_case());
  EXPECT_EQ(t.rfind("✗ http-error (exit 10)  https://api.internal.example/admin\n", 0), 0u) << t;
  EXPECT_TRUE(has_line_containing(t, "status 403 Forbidden")) << t;
  EXPECT_TRUE(has_line_containing(t, "          body: 403 Forbidden\n")) << t;
}

TEST(Report, HtmlBodyIsReducedToItsText) {
  const std::string t = render_text(http_error_case(
      "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n<body>\r\n"
      "<center><h1>400 Bad Request</h1></center>\r\n<center>No required SSL certificate was "
      "sent</center>\r\n"));
  EXPECT_TRUE(has_line_containing(t,
                                  "          body: 400 No required SSL certificate was sent\n"
                                  "          body: 400 Bad Request\n"
                                  "          body: No required SSL certificate was sent\n"))
      << t;
}

TEST(Report, PlainBodyIsShownAsIs) {
  const std::string t = render_text(http_error_case("{\"error\": \"<denied>\"}\n\nsecond line\n"));
  EXPECT_TRUE(has_line_containing(t, "body: {\"error\": \"<denied>\"}\n          body: second line\n")) << t;
}

TEST(Report, EscapesControlBytesFromTheServer) {
  const std::string t =
      render_text(http_error_case("evil \x1b]0;pwned\x07 \x1b[2J\xc2\x9b"
                                  "31m \xe2\x80\xae gnp.exe \xff"));
  EXPECT_EQ(t.find('\x1b'), std::string::npos) << t;
  EXPECT_EQ(t.find('\x07'), std::string::npos) << t;
  EXPECT_EQ(t.find("\xc2\x9b"), std::string::npos) << t;      // C1 CSI
  EXPECT_EQ(t.find("\xe2\x80\xae"), std::string::npos) << t;  // RIGHT-TO-LEFT OVERRIDE
  EXPECT_TRUE(
      has_line_containing(t, "evil \\x1b]0;pwned\\x07 \\x1b[2J\\u{009b}31m \\u{202e} gnp.exe \xEF\xBF\xBD"))
      << t;
}

TEST(Report, EscapesControlBytesInReasonAndCaNames) {
  ProbeResult r = rejected_case();
  r.facts.acceptable_ca_names = {"CN=\x1b[31mevil"};
  r.facts.url = "https://x.example/\x1b";
  const std::string t = render_text(r);
  EXPECT_EQ(t.find('\x1b'), std::string::npos) << t;
  EXPECT_TRUE(has_line_containing(t, "CN=\\x1b[31mevil")) << t;
}

TEST(Report, ColorOnlyWhenAsked) {
  EXPECT_EQ(render_text(rejected_case(), TextStyle{false}).find('\x1b'), std::string::npos);
  const std::string red = render_text(rejected_case(), TextStyle{true});
  EXPECT_EQ(red.rfind("\x1b[31m✗ client-cert-rejected (exit 9)\x1b[0m", 0), 0u) << red;
  EXPECT_NE(red.find("\x1b[33mhint:\x1b[0m"), std::string::npos) << red;
  const std::string green = render_text(ok_case(), TextStyle{true});
  EXPECT_EQ(green.rfind("\x1b[32m✓ ok (exit 0)\x1b[0m", 0), 0u) << green;
}

TEST(Report, UsageErrorIsShort) {
  const std::string t = render_text(usage_case());
  EXPECT_EQ(t.rfind("✗ usage-error (exit 1)  http://example.com/\n", 0), 0u) << t;
  EXPECT_TRUE(has_line_containing(t, "Bad URL")) << t;
  EXPECT_EQ(t.find("DNS"), std::string::npos) << t;
}

TEST(Report, UsageErrorWithoutUrl) {
  ProbeResult r = usage_case();
  r.facts.url.clear();
  const std::string t = render_text(r);
  EXPECT_EQ(t.rfind("✗ usage-error (exit 1)\n", 0), 0u) << t;
}

TEST(Report, DnsFailure) {
  const std::string t = render_text(dns_case());
  EXPECT_EQ(t.rfind("✗ dns-failure (exit 3)  https://nope.invalid/\n", 0), 0u) << t;
  EXPECT_TRUE(has_line_containing(t, "  DNS     nope.invalid: could not resolve: Name or service not known"))
      << t;
  EXPECT_TRUE(has_line_containing(t, "12.0 ms")) << t;
  EXPECT_TRUE(has_line_containing(t, "  TCP     not reached\n")) << t;
  EXPECT_TRUE(has_line_containing(t, "  TLS     not reached\n")) << t;
  EXPECT_TRUE(has_line_containing(t, "  CLIENT  not reached\n")) << t;
  EXPECT_TRUE(has_line_containing(t, "  HTTP    not reached\n")) << t;
}

TEST(Report, TimeoutSaysWhere) {
  const std::string t = render_text(tls_timeout_case());
  EXPECT_EQ(t.rfind("✗ timeout (exit 5)", 0), 0u) << t;
  EXPECT_TRUE(has_line_containing(t, "  TLS     timed out during the handshake (--max-time 5s)")) << t;
  EXPECT_TRUE(has_line_containing(t, "  HTTP    not reached")) << t;
}

TEST(Report, ServerCertUntrusted) {
  ProbeFacts f = reached_tls();
  f.tls_attempted = true;
  f.server_cert = cert("CN=other.example", "CN=Corp Issuing CA 2", -3);
  f.server_cert->subject_alt_names = {"DNS:other.example"};
  f.verify_error = "hostname mismatch";
  f.hostname_mismatch = true;
  const std::string t = render_text(result(std::move(f), Verdict::server_cert_untrusted, "Name mismatch."));
  EXPECT_TRUE(has_line_containing(t, "NOT verified: hostname mismatch")) << t;
  EXPECT_TRUE(has_line_containing(t, "expired 2027-03-01 (3 days ago)")) << t;
  EXPECT_TRUE(
      has_line_containing(t, "the certificate names DNS:other.example; we asked for api.internal.example"))
      << t;
}

TEST(Report, IdentityErrorAndWarnings) {
  ProbeFacts f;
  f.url = "https://x.example/";
  f.identity_configured = true;
  f.identity_error = IdentityFailure{IdentityProblem::wrong_password, "alice.p12: wrong password", ""};
  f.warnings = {"--pass is visible to other users in the process list"};
  const std::string t = render_text(result(std::move(f), Verdict::identity_error, "Wrong password."));
  EXPECT_TRUE(
      has_line_containing(t, "  CLIENT  identity unusable (wrong-password): alice.p12: wrong password"))
      << t;
  EXPECT_TRUE(has_line_containing(t, "  warning: --pass is visible")) << t;
}

TEST(Report, InsecureWarns) {
  ProbeResult r = ok_case();
  r.facts.insecure = true;
  const std::string t = render_text(r);
  EXPECT_TRUE(has_line_containing(t, "  warning: -k/--insecure")) << t;
}

// Fuzz finding (tests/fuzz/fuzz_diagnosis): days_left == LONG_MIN was negated (signed overflow, UBSan).
TEST(Report, FuzzExpiredCertWithMinimalDaysLeft) {
  ProbeFacts f = reached_tls();
  handshake_ok(f);
  f.server_cert->days_left = std::numeric_limits<long>::min();
  f.server_cert->expired = true;
  with_identity(f);
  f.client_cert->days_left = std::numeric_limits<long>::min();
  f.client_cert->expired = true;
  const std::string t = render_text(result(std::move(f), Verdict::ok, "Ok."));
  EXPECT_TRUE(has_line_containing(t, "expired 2027-03-01 (9223372036854775807 days ago)")) << t;
}

TEST(Report, EscapeTerminal) {
  EXPECT_EQ(escape_terminal("a\tb\nc\rd\x1b\x7f"), "a\\tb\\nc\\rd\\x1b\\x7f");
  EXPECT_EQ(escape_terminal("caf\xc3\xa9"), "caf\xc3\xa9");
  EXPECT_EQ(escape_terminal("\xff"), "\xEF\xBF\xBD");
}

ProbeResult two_attempts_case() {
  ProbeResult r = ok_case();
  r.facts.connected_address = "127.0.0.1:8443";
  r.facts.connect_attempts = {{"[::1]:8443", "ipv6", "refused", 0.2},
                              {"127.0.0.1:8443", "ipv4", "connected", 0.4}};
  return r;
}

TEST(Json, ConnectAttempts) {
  const json j = to_json(two_attempts_case());
  ASSERT_TRUE(j["connect"]["attempts"].is_array());
  ASSERT_EQ(j["connect"]["attempts"].size(), 2u);
  EXPECT_EQ(j["connect"]["attempts"][0]["address"], "[::1]:8443");
  EXPECT_EQ(j["connect"]["attempts"][0]["family"], "ipv6");
  EXPECT_EQ(j["connect"]["attempts"][0]["result"], "refused");
  EXPECT_DOUBLE_EQ(j["connect"]["attempts"][0]["ms"].get<double>(), 0.2);
  EXPECT_EQ(j["connect"]["attempts"][1]["result"], "connected");
  EXPECT_EQ(to_json(usage_case())["connect"]["attempts"], json::array());
}

ProbeResult connect_to_case() {
  ProbeResult r = ok_case();
  r.facts.host = "example.test";
  r.facts.port = 443;
  r.facts.connect_to_host = "127.0.0.1";
  r.facts.connect_to_port = 8443;
  r.facts.addresses = {"127.0.0.1"};
  r.facts.resolved_by_override = true;
  r.facts.connected_address = "127.0.0.1:8443";
  r.facts.interface_spec = "lo";
  r.facts.local_ip = "127.0.0.1";
  r.facts.local_port = 40000;
  return r;
}

TEST(Text, ConnectToAndInterfaceAreShown) {
  const std::string t = render_text(connect_to_case(), TextStyle{false, 200});
  EXPECT_TRUE(has_line_containing(t, "connected to 127.0.0.1:8443 for example.test:443 (--connect-to)")) << t;
  EXPECT_TRUE(has_line_containing(t, "127.0.0.1 (IP literal, --connect-to)")) << t;
  EXPECT_TRUE(has_line_containing(t, "from 127.0.0.1 port 40000 (--interface lo)")) << t;
}

TEST(Json, ConnectToInterfaceAndLocalEnd) {
  const json j = to_json(connect_to_case());
  EXPECT_EQ(j["connect"]["connect_to"]["host"], "127.0.0.1");
  EXPECT_EQ(j["connect"]["connect_to"]["port"], 8443);
  EXPECT_EQ(j["connect"]["local_ip"], "127.0.0.1");
  EXPECT_EQ(j["connect"]["local_port"], 40000);
  EXPECT_EQ(j["connect"]["interface"], "lo");
  EXPECT_TRUE(j["connect"]["bind_error"].is_null());
  EXPECT_TRUE(to_json(ok_case())["connect"]["connect_to"].is_null());
}

TEST(Text, ConnectAttemptsOnlyWhenMoreThanOne) {
  const std::string t = render_text(two_attempts_case());
  EXPECT_TRUE(has_line_containing(t, "tried [::1]:8443: connection refused (0.2 ms)")) << t;
  EXPECT_EQ(t.find("tried 127.0.0.1"), std::string::npos) << t;
  ProbeResult one = ok_case();
  one.facts.connect_attempts = {{"10.0.0.12:443", "ipv4", "connected", 0.4}};
  EXPECT_EQ(render_text(one).find("tried "), std::string::npos);
}

}  // namespace
}  // namespace mtls_probe
