#include "tool_options.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <fstream>

namespace mtls_probe::tool {
namespace {

// Parses argv the way the tool does and returns the checked command.
ProbeCommand parse(std::vector<std::string> args) {
  CLI::App app;
  RawProbeArgs raw;
  add_probe_options(app, raw);
  std::vector<const char*> argv{"mtls-probe"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  return make_probe_command(raw);
}

TEST(Options, MinimalUrlDefaults) {
  ProbeCommand c = parse({"https://example.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.options.url, "https://example.test/");
  EXPECT_EQ(c.options.http.method, "GET");
  EXPECT_EQ(c.options.tls.min_version, TlsVersion::v1_2);
  EXPECT_FALSE(c.options.tls.insecure);
  EXPECT_EQ(c.options.connect_timeout.count(), 10000);
  EXPECT_EQ(c.options.max_time.count(), 30000);
  EXPECT_FALSE(c.options.identity.configured());
}

TEST(Options, MissingOrBadUrlIsUsage) {
  EXPECT_TRUE(parse({}).usage_error);
  EXPECT_TRUE(parse({"http://example.test/"}).usage_error);
  EXPECT_TRUE(parse({"https://"}).usage_error);
}

TEST(Options, RepeatableHeadersAndResolveDoNotEatTheUrl) {
  ProbeCommand c = parse({"-H", "X-A: 1", "-H", "X-B:2", "--resolve", "h.test:443:127.0.0.1", "--resolve",
                          "g.test:8443:[::1]", "https://h.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.options.url, "https://h.test/");
  ASSERT_EQ(c.options.http.headers.size(), 2u);
  EXPECT_EQ(c.options.http.headers[1], "X-B:2");  // kept as given, as curl sends it
  ASSERT_EQ(c.options.resolve.size(), 2u);
  EXPECT_EQ(c.options.resolve[1].port, 8443);
}

TEST(Options, HeaderInjectionIsRefused) {
  EXPECT_TRUE(parse({"-H", "X-A: 1\r\nEvil: yes", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"-H", "no colon", "https://h.test/"}).usage_error);
}

TEST(Options, DataMakesItAPost) {
  ProbeCommand c = parse({"-d", "a=1", "https://h.test/"});
  EXPECT_EQ(c.options.http.method, "POST");
  EXPECT_EQ(c.options.http.data, "a=1");
  EXPECT_EQ(parse({"-X", "PUT", "-d", "x", "https://h.test/"}).options.http.method, "PUT");
  EXPECT_TRUE(parse({"-X", "GE T", "https://h.test/"}).usage_error);
}

TEST(Options, TlsVersions) {
  EXPECT_EQ(parse({"--tls-min", "1.3", "https://h.test/"}).options.tls.min_version, TlsVersion::v1_3);
  EXPECT_EQ(parse({"--tls-max", "1.2", "https://h.test/"}).options.tls.max_version, TlsVersion::v1_2);
  EXPECT_EQ(parse({"--tls-min", "1.0", "https://h.test/"}).options.tls.min_version, TlsVersion::v1_0);
  EXPECT_TRUE(parse({"--tls-min", "1.4", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--tls-min", "1.3", "--tls-max", "1.2", "https://h.test/"}).usage_error);
  // TLS below 1.2 only when --tls-min names it: --tls-max 1.1 alone is refused.
  EXPECT_TRUE(parse({"--tls-max", "1.1", "https://h.test/"}).usage_error);
  ProbeCommand old = parse({"--tls-min", "1.1", "--tls-max", "1.1", "https://h.test/"});
  ASSERT_FALSE(old.usage_error);
  EXPECT_EQ(old.options.tls.min_version, TlsVersion::v1_1);
}

TEST(Options, Timeouts) {
  ProbeCommand c = parse({"--connect-timeout", "0.5", "-m", "2", "https://h.test/"});
  EXPECT_EQ(c.options.connect_timeout.count(), 500);
  EXPECT_EQ(c.options.max_time.count(), 2000);
  EXPECT_TRUE(parse({"-m", "0", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--connect-timeout", "-1", "https://h.test/"}).usage_error);
}

TEST(Options, CurlCertSpellings) {
  ProbeCommand p12 = parse({"--cert", "id.p12", "--cert-type", "P12", "https://h.test/"});
  EXPECT_EQ(p12.options.identity.p12_file, "id.p12");
  EXPECT_TRUE(p12.options.identity.cert_file.empty());

  ProbeCommand pem = parse({"--cert", "c.pem", "--key", "k.pem", "https://h.test/"});
  EXPECT_EQ(pem.options.identity.cert_file, "c.pem");
  EXPECT_EQ(pem.options.identity.key_file, "k.pem");

  ProbeCommand with_pw = parse({"--cert", "id.p12:pa:ss", "--cert-type", "p12", "https://h.test/"});
  EXPECT_EQ(with_pw.options.identity.p12_file, "id.p12");
  EXPECT_EQ(with_pw.options.identity.password, "pa:ss");
  ASSERT_EQ(with_pw.warnings.size(), 1u);
  EXPECT_EQ(with_pw.warnings[0].find("pa:ss"), std::string::npos);

  EXPECT_TRUE(parse({"--cert-type", "DER", "--cert", "x", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--key", "k.pem", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--p12", "a.p12", "--cert", "b.pem", "https://h.test/"}).usage_error);
}

TEST(Options, SplitCertPasswordHonoursEscapedColons) {
  auto [f1, p1] = split_cert_password("C\\:/x.p12:pw");
  EXPECT_EQ(f1, "C:/x.p12");
  EXPECT_EQ(p1, "pw");
  auto [f2, p2] = split_cert_password("plain.pem");
  EXPECT_EQ(f2, "plain.pem");
  EXPECT_FALSE(p2);
}

TEST(Options, PassWarnsWithoutRepeatingThePassword) {
  ProbeCommand c = parse({"--p12", "a.p12", "--pass", "hunter2", "https://h.test/"});
  ASSERT_FALSE(c.usage_error);
  EXPECT_EQ(c.options.identity.password, "hunter2");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("process list"), std::string::npos);
  EXPECT_EQ(c.warnings[0].find("hunter2"), std::string::npos);
}

TEST(Options, PasswordFromEnvironmentAndFile) {
  ::setenv("MTLS_PROBE_TEST_PW", "from-env", 1);
  ProbeCommand env = parse({"--p12", "a.p12", "--p12-password-env", "MTLS_PROBE_TEST_PW", "https://h.test/"});
  EXPECT_EQ(env.options.identity.password, "from-env");
  EXPECT_TRUE(env.warnings.empty());

  ProbeCommand unset =
      parse({"--p12", "a.p12", "--p12-password-env", "MTLS_PROBE_NOT_SET_XYZ", "https://h.test/"});
  ASSERT_TRUE(unset.identity_error);
  EXPECT_EQ(unset.identity_error->problem, IdentityProblem::password_source);

  const std::string file = ::testing::TempDir() + "/mtls_probe_pw.txt";
  std::ofstream(file) << "from-file\r\nsecond line\n";
  ProbeCommand f = parse({"--p12", "a.p12", "--p12-password-file", file, "https://h.test/"});
  EXPECT_EQ(f.options.identity.password, "from-file");

  ProbeCommand missing =
      parse({"--p12", "a.p12", "--p12-password-file", "/nonexistent/pw", "https://h.test/"});
  ASSERT_TRUE(missing.identity_error);
  EXPECT_EQ(missing.identity_error->problem, IdentityProblem::password_source);
}

TEST(Options, TwoPasswordSourcesOrPasswordWithoutIdentityAreUsageErrors) {
  ::setenv("MTLS_PROBE_TEST_PW", "x", 1);
  EXPECT_TRUE(
      parse({"--p12", "a.p12", "--pass", "a", "--p12-password-env", "MTLS_PROBE_TEST_PW", "https://h.test/"})
          .usage_error);
  EXPECT_TRUE(parse({"--pass", "a", "https://h.test/"}).usage_error);
}

TEST(Options, Http2IsRefusedHonestly) {
  EXPECT_TRUE(parse({"--http2", "https://h.test/"}).usage_error);
}

TEST(Options, UnknownOptionThrowsForTheCallerToReport) {
  EXPECT_THROW(parse({"--bogus", "https://h.test/"}), CLI::ParseError);
}

}  // namespace
}  // namespace mtls_probe::tool
