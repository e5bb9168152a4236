// The HTTP/2 exchange in process, against the project's own `serve --http2` on loopback: ALPN picks the
// exchange, both fill the same facts, and a path that needs a certificate after the handshake is refused
// over HTTP/2 with RST_STREAM HTTP_1_1_REQUIRED (as Apache's mod_http2), which diagnosis names.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "mtls_probe/diagnosis/diagnosis.h"
#include "mtls_probe/engine/http_exchange.h"
#include "mtls_probe/engine/probe.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/serve/serve.h"
#include "serve/serve_testutil.h"

namespace mtls_probe {
namespace {

using namespace std::chrono_literals;
using serve::testing::client_context;

TargetOptions target(uint16_t port, const std::string& path,
                     std::vector<std::string> alpn = {"h2", "http/1.1"}) {
  TargetOptions t;
  t.url_text = "https://127.0.0.1:" + std::to_string(port) + path;
  auto url = parse_url(t.url_text);
  EXPECT_TRUE(url.has_value());
  if (url) t.url = *url;
  t.alpn = std::move(alpn);
  t.connect_timeout = 10s;
  t.max_time = 20s;
  return t;
}

serve::ServeConfig h2_config() {
  serve::ServeConfig cfg = serve::testing::default_config();
  cfg.http2 = true;
  return cfg;
}

TEST(Http2Exchange, GoodCertificateOverH2) {
  serve::testing::RunningServer server(h2_config());
  ASSERT_TRUE(server.ok());
  auto ctx = client_context();
  ASSERT_TRUE(ctx);
  const ProbeFacts f = run_probe(target(server.port(), "/x?y=1"), *ctx);
  EXPECT_EQ(f.alpn, "h2");
  EXPECT_EQ(f.http_version, "2");
  EXPECT_EQ(f.http_status, 200);
  EXPECT_TRUE(f.request_sent);
  EXPECT_EQ(f.request_line, "GET /x?y=1 HTTP/2");
  EXPECT_NE(f.body_excerpt.find("request: GET /x?y=1 HTTP/2"), std::string::npos) << f.body_excerpt;
  EXPECT_EQ(response_header(f, "content-type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(f.h2_error);
  EXPECT_FALSE(f.http_error) << *f.http_error;
  EXPECT_EQ(diagnose(f).verdict, Verdict::ok);
}

TEST(Http2Exchange, Http11OfferStaysHttp11) {
  serve::testing::RunningServer server(h2_config());
  ASSERT_TRUE(server.ok());
  auto ctx = client_context();
  const ProbeFacts f = run_probe(target(server.port(), "/", {"http/1.1"}), *ctx);
  EXPECT_EQ(f.alpn, "http/1.1");
  EXPECT_EQ(f.http_version, "1.1");
  EXPECT_EQ(f.http_status, 200);
  EXPECT_EQ(diagnose(f).verdict, Verdict::ok);
}

// A server without ALPN: no protocol picked, HTTP/1.1 as curl does.
TEST(Http2Exchange, NoAlpnFromTheServerMeansHttp11) {
  serve::testing::RunningServer server(serve::testing::default_config());
  ASSERT_TRUE(server.ok());
  auto ctx = client_context();
  const ProbeFacts f = run_probe(target(server.port(), "/", {"h2"}), *ctx);
  EXPECT_FALSE(f.alpn);
  EXPECT_EQ(f.alpn_offered, (std::vector<std::string>{"h2"}));
  EXPECT_EQ(f.http_version, "1.1");
  EXPECT_EQ(f.http_status, 200);
}

TEST(Http2Exchange, NginxStyle400OverH2IsCertRequired) {
  serve::ServeConfig cfg = h2_config();
  cfg.nginx_style = true;
  serve::testing::RunningServer server(cfg);
  ASSERT_TRUE(server.ok());
  auto ctx = client_context(false);
  const ProbeFacts f = run_probe(target(server.port(), "/"), *ctx);
  EXPECT_EQ(f.http_version, "2");
  EXPECT_EQ(f.http_status, 400);
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_required);
}

serve::ServeConfig post_handshake_config() {
  serve::ServeConfig cfg = h2_config();
  cfg.client_auth = serve::ClientAuth::post_handshake;
  cfg.client_auth_path = "/secure";
  return cfg;
}

// --no-h1-retry: the refusal itself is the result.
TEST(Http2Exchange, PostHandshakePathIsRefusedWithHttp11Required) {
  serve::testing::RunningServer server(post_handshake_config());
  ASSERT_TRUE(server.ok());
  auto ctx = client_context();
  TargetOptions t = target(server.port(), "/secure/x");
  t.h1_retry = false;
  const ProbeFacts f = run_probe(t, *ctx);
  EXPECT_EQ(f.http_version, "2");
  EXPECT_FALSE(f.http_status);
  EXPECT_FALSE(f.h2_refusal);
  ASSERT_TRUE(f.h2_error);
  EXPECT_EQ(f.h2_error->code, 0xdu);
  EXPECT_EQ(f.h2_error->name, "HTTP_1_1_REQUIRED");
  EXPECT_EQ(f.h2_error->from, Side::server);
  EXPECT_TRUE(refused_for_http1(f));
  const Diagnosis d = diagnose(f);
  EXPECT_EQ(d.verdict, Verdict::client_cert_required);
  EXPECT_NE(d.summary.find("HTTP_1_1_REQUIRED"), std::string::npos) << d.summary;
  // The same path over HTTP/1.1: post-handshake authentication, and the certificate accepted.
  const ProbeFacts h1 = run_probe(target(server.port(), "/secure/x", {"http/1.1"}), *ctx);
  EXPECT_EQ(h1.http_status, 200);
  EXPECT_TRUE(h1.cert_request_post_handshake);
  EXPECT_FALSE(h1.h2_refusal);
  EXPECT_EQ(diagnose(h1).verdict, Verdict::ok);
}

// By default the probe retries once over HTTP/1.1 on a new connection: the facts are the retry's, the
// refused attempt is kept in h2_refusal.
TEST(Http2Exchange, Http11RequiredIsRetriedOnceOverHttp11) {
  serve::testing::RunningServer server(post_handshake_config());
  ASSERT_TRUE(server.ok());
  auto ctx = client_context();
  const ProbeFacts f = run_probe(target(server.port(), "/secure/x"), *ctx);
  ASSERT_TRUE(f.h2_refusal);
  ASSERT_TRUE(f.h2_refusal->error);
  EXPECT_EQ(f.h2_refusal->error->name, "HTTP_1_1_REQUIRED");
  EXPECT_EQ(f.h2_refusal->request_line, "GET /secure/x HTTP/2");
  EXPECT_EQ(f.h2_refusal->connected_address, "127.0.0.1:" + std::to_string(server.port()));
  EXPECT_FALSE(f.h2_refusal->client_cert_requested);
  EXPECT_GT(f.h2_refusal->ms, 0);
  EXPECT_EQ(f.alpn_offered, (std::vector<std::string>{"http/1.1"}));
  EXPECT_EQ(f.alpn, "http/1.1");
  EXPECT_EQ(f.http_version, "1.1");
  EXPECT_EQ(f.request_line, "GET /secure/x HTTP/1.1");
  EXPECT_FALSE(f.h2_error);
  EXPECT_EQ(f.http_status, 200);
  EXPECT_TRUE(f.cert_request_post_handshake);
  EXPECT_TRUE(f.client_cert_sent);
  EXPECT_GE(*f.total_ms, f.h2_refusal->ms);
  EXPECT_EQ(diagnose(f).verdict, Verdict::ok);
  // HTTP/1.1 not offered (--http2-only): nothing to retry with.
  const ProbeFacts only_h2 = run_probe(target(server.port(), "/secure/x", {"h2"}), *ctx);
  EXPECT_FALSE(only_h2.h2_refusal);
  EXPECT_TRUE(only_h2.h2_error);
}

// What decides a retry, and what a retry keeps.
TEST(Http2Exchange, RefusedForHttp1AndTheRetrysFacts) {
  ProbeFacts f;
  f.url = "https://h.test/secure";
  f.addresses = {"127.0.0.1"};
  f.dns_ms = 1.5;
  f.connected_address = "127.0.0.1:443";
  f.tls_version = "TLSv1.2";
  f.alpn = "h2";
  f.http_version = "2";
  f.request_line = "GET /secure HTTP/2";
  f.h2_error = H2ErrorRecord{0xd, "HTTP_1_1_REQUIRED", Side::server, false};
  f.http_error = "refused";
  EXPECT_TRUE(refused_for_http1(f));
  ProbeFacts other = f;
  other.h2_error->code = 0x7;
  EXPECT_FALSE(refused_for_http1(other));
  ProbeFacts ours = f;
  ours.h2_error->from = Side::client;
  EXPECT_FALSE(refused_for_http1(ours));
  ProbeFacts started = f;  // a response already under way is not retried
  started.body_bytes = 10;
  EXPECT_FALSE(refused_for_http1(started));
  ProbeFacts h1 = f;
  h1.http_version = "1.1";
  EXPECT_FALSE(refused_for_http1(h1));
  ProbeFacts page = f;  // Apache's page over HTTP/2
  page.h2_error.reset();
  page.http_status = 403;
  page.body_excerpt = "<p>Cannot perform Post-Handshake Authentication.<br />";
  EXPECT_TRUE(refused_for_http1(page));
  page.http_status = 200;
  EXPECT_FALSE(refused_for_http1(page));

  const ProbeFacts r = facts_for_h1_retry(f, 42.0);
  EXPECT_EQ(r.url, f.url);
  EXPECT_EQ(r.addresses, f.addresses);
  EXPECT_EQ(r.dns_ms, 1.5);
  EXPECT_FALSE(r.connected_address);
  EXPECT_FALSE(r.tls_version);
  EXPECT_FALSE(r.h2_error);
  EXPECT_FALSE(r.http_error);
  EXPECT_TRUE(r.request_line.empty());
  ASSERT_TRUE(r.h2_refusal);
  EXPECT_EQ(r.h2_refusal->error->code, 0xdu);
  EXPECT_EQ(r.h2_refusal->tls_version, "TLSv1.2");
  EXPECT_EQ(r.h2_refusal->connected_address, "127.0.0.1:443");
  EXPECT_EQ(r.h2_refusal->ms, 42.0);
}

TEST(Http2Exchange, ErrorNamesAreRfc9113s) {
  EXPECT_EQ(h2_error_name(0x0), "NO_ERROR");
  EXPECT_EQ(h2_error_name(0x1), "PROTOCOL_ERROR");
  EXPECT_EQ(h2_error_name(0x7), "REFUSED_STREAM");
  EXPECT_EQ(h2_error_name(0xd), "HTTP_1_1_REQUIRED");
  EXPECT_EQ(h2_error_name(0x42), "UNKNOWN_ERROR_0x42");
}

}  // namespace
}  // namespace mtls_probe
