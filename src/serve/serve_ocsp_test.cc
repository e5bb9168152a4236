// serve --ocsp-staple against the probe's --cert-status, in process: the file's bytes reach a client that
// asks for the status (and only one that asks), and a file that is no OCSP response stops serve at start.
#include <gtest/gtest.h>
#include <openssl/ocsp.h>

#include <fstream>
#include <string>

#include "mtls_probe/engine/probe.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/serve/serve.h"
#include "serve/serve_testutil.h"

namespace mtls_probe::serve {
namespace {

// A tryLater response (no basic response, no signature): serve staples whatever the file holds.
std::string write_trylater_response() {
  const std::string path = testing::shared_pki().dir + "/trylater.der";
  OCSP_RESPONSE* r = OCSP_response_create(OCSP_RESPONSE_STATUS_TRYLATER, nullptr);
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPONSE(r, &der);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(der), len);
  OPENSSL_free(der);
  OCSP_RESPONSE_free(r);
  return path;
}

ProbeFacts probe_for_staple(uint16_t port, bool cert_status) {
  auto ctx = testing::client_context();
  TargetOptions t;
  t.url_text = "https://127.0.0.1:" + std::to_string(port) + "/";
  t.url = parse_url(t.url_text).value();
  t.cert_status = cert_status;
  return ctx ? run_probe(t, *ctx) : ProbeFacts{};
}

TEST(ServeOcspStaple, StaplesTheFileToAClientThatAsks) {
  ServeConfig cfg = testing::default_config();
  cfg.ocsp_staple_file = write_trylater_response();
  testing::RunningServer server(cfg);
  ASSERT_TRUE(server.ok());

  const ProbeFacts f = probe_for_staple(server.port(), true);
  ASSERT_TRUE(f.server_cert_status) << f.tls_error;
  EXPECT_TRUE(f.server_cert_status->checked);
  EXPECT_TRUE(f.server_cert_status->stapled);
  EXPECT_EQ(f.server_cert_status->response_status, "trylater");
  EXPECT_EQ(f.server_cert_status->problem, CertStatusProblem::not_successful);
  // The probe ended the handshake in the status callback: our alert, nothing of ours sent after it.
  ASSERT_TRUE(f.fatal_alert);
  EXPECT_EQ(f.fatal_alert->code, 113);
  EXPECT_EQ(f.fatal_alert->from, Side::client);
  EXPECT_FALSE(f.client_cert_sent);
  EXPECT_FALSE(f.request_sent);

  const ProbeFacts without = probe_for_staple(server.port(), false);
  EXPECT_FALSE(without.server_cert_status);
  EXPECT_EQ(without.http_status, 200) << without.tls_error;
}

TEST(ServeOcspStaple, WithoutItNothingIsStapled) {
  testing::RunningServer server(testing::default_config());
  ASSERT_TRUE(server.ok());
  const ProbeFacts f = probe_for_staple(server.port(), true);
  ASSERT_TRUE(f.server_cert_status);
  EXPECT_TRUE(f.server_cert_status->checked);
  EXPECT_FALSE(f.server_cert_status->stapled);
  EXPECT_EQ(f.server_cert_status->problem, CertStatusProblem::not_stapled);
}

TEST(ServeOcspStaple, AFileThatIsNoOcspResponseStopsTheStart) {
  ServeConfig cfg = testing::default_config();
  cfg.ocsp_staple_file = testing::shared_pki().ca_cert;  // PEM, not a DER OCSP response
  auto made = Server::create(cfg);
  ASSERT_FALSE(made);
  EXPECT_EQ(made.error().failure, StartFailure::identity);
  EXPECT_NE(made.error().message.find("is not a DER OCSP response"), std::string::npos)
      << made.error().message;
  cfg.ocsp_staple_file = testing::shared_pki().dir + "/no-such.der";
  made = Server::create(cfg);
  ASSERT_FALSE(made);
  EXPECT_NE(made.error().message.find("cannot read the OCSP response"), std::string::npos)
      << made.error().message;
}

}  // namespace
}  // namespace mtls_probe::serve
