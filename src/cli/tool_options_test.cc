#include "tool_options.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>

#include "front_end.h"
#include "tool_test_support.h"
#include "tool_inspect.h"
#include "tool_serve.h"

extern char** environ;

namespace mtls_probe::tool {
namespace {

TEST(Options, IpFamilyAndDnsServers) {
  EXPECT_EQ(parse({"https://example.test/"}).target.ip_family, IpFamily::any);
  EXPECT_EQ(parse({"-4", "https://example.test/"}).target.ip_family, IpFamily::v4);
  EXPECT_EQ(parse({"--ipv6", "https://example.test/"}).target.ip_family, IpFamily::v6);
  EXPECT_TRUE(parse({"-4", "-6", "https://example.test/"}).usage_error);
  ProbeCommand c = parse({"--dns-servers", "127.0.0.1:5353,[::1]:53", "https://example.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.target.dns_servers, "127.0.0.1:5353,[::1]:53");
  EXPECT_TRUE(parse({"--dns-servers", "not,,an address", "https://example.test/"}).usage_error);
  EXPECT_TRUE(parse({"--dns-servers", "", "https://example.test/"}).usage_error);
}

TEST(Options, CertStatusIsAskedForPerTarget) {
  EXPECT_FALSE(parse({"https://example.test/"}).target.cert_status);
  const ProbeCommand c = parse({"--cert-status", "-k", "https://example.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_TRUE(c.target.cert_status);
  EXPECT_TRUE(c.run.tls.insecure);  // both: -k does not switch the status check off (the engine's business)
}

TEST(Options, MinimalUrlDefaults) {
  ProbeCommand c = parse({"https://example.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.target.url_text, "https://example.test/");
  EXPECT_EQ(c.target.http.method, "GET");
  EXPECT_EQ(c.run.tls.min_version, TlsVersion::v1_2);
  EXPECT_FALSE(c.run.tls.insecure);
  EXPECT_EQ(c.target.connect_timeout.count(), 10000);
  EXPECT_EQ(c.target.max_time.count(), 30000);
  EXPECT_FALSE(c.run.identity.configured());
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
  EXPECT_EQ(c.target.url_text, "https://h.test/");
  ASSERT_EQ(c.target.http.headers.size(), 2u);
  EXPECT_EQ(c.target.http.headers[1].name, "X-B");  // parsed once, here
  EXPECT_EQ(c.target.http.headers[1].value, "2");
  EXPECT_EQ(c.target.url.host, "h.test");
  ASSERT_EQ(c.target.resolve.size(), 2u);
  EXPECT_EQ(c.target.resolve[1].port, 8443);
}

TEST(Options, HeaderInjectionIsRefused) {
  EXPECT_TRUE(parse({"-H", "X-A: 1\r\nEvil: yes", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"-H", "no colon", "https://h.test/"}).usage_error);
}

TEST(Options, DataMakesItAPost) {
  ProbeCommand c = parse({"-d", "a=1", "https://h.test/"});
  EXPECT_EQ(c.target.http.method, "POST");
  EXPECT_EQ(c.target.http.data, "a=1");
  EXPECT_EQ(parse({"-X", "PUT", "-d", "x", "https://h.test/"}).target.http.method, "PUT");
  EXPECT_TRUE(parse({"-X", "GE T", "https://h.test/"}).usage_error);
}

TEST(Options, TlsVersions) {
  EXPECT_EQ(parse({"--tls-min", "1.3", "https://h.test/"}).run.tls.min_version, TlsVersion::v1_3);
  EXPECT_EQ(parse({"--tls-max", "1.2", "https://h.test/"}).run.tls.max_version, TlsVersion::v1_2);
  EXPECT_EQ(parse({"--tls-min", "1.0", "https://h.test/"}).run.tls.min_version, TlsVersion::v1_0);
  EXPECT_TRUE(parse({"--tls-min", "1.4", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--tls-min", "1.3", "--tls-max", "1.2", "https://h.test/"}).usage_error);
  // TLS below 1.2 only when --tls-min names it: --tls-max 1.1 alone is refused.
  EXPECT_TRUE(parse({"--tls-max", "1.1", "https://h.test/"}).usage_error);
  ProbeCommand old = parse({"--tls-min", "1.1", "--tls-max", "1.1", "https://h.test/"});
  ASSERT_FALSE(old.usage_error);
  EXPECT_EQ(old.run.tls.min_version, TlsVersion::v1_1);
}

TEST(Options, Timeouts) {
  ProbeCommand c = parse({"--connect-timeout", "0.5", "-m", "2", "https://h.test/"});
  EXPECT_EQ(c.target.connect_timeout.count(), 500);
  EXPECT_EQ(c.target.max_time.count(), 2000);
  EXPECT_TRUE(parse({"-m", "0", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--connect-timeout", "-1", "https://h.test/"}).usage_error);
}

TEST(Options, CurlCertSpellings) {
  ProbeCommand p12 = parse({"--cert", "id.p12", "--cert-type", "P12", "https://h.test/"});
  EXPECT_EQ(p12.run.identity.p12_file, "id.p12");
  EXPECT_TRUE(p12.run.identity.cert_file.empty());

  ProbeCommand pem = parse({"--cert", "c.pem", "--key", "k.pem", "https://h.test/"});
  EXPECT_EQ(pem.run.identity.cert_file, "c.pem");
  EXPECT_EQ(pem.run.identity.key_file, "k.pem");

  ProbeCommand with_pw = parse({"--cert", "id.p12:pa:ss", "--cert-type", "p12", "https://h.test/"});
  EXPECT_EQ(with_pw.run.identity.p12_file, "id.p12");
  EXPECT_EQ(with_pw.run.identity.password, "pa:ss");
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
  EXPECT_EQ(c.run.identity.password, "hunter2");
  ASSERT_EQ(c.warnings.size(), 1u);
  EXPECT_NE(c.warnings[0].find("process list"), std::string::npos);
  EXPECT_EQ(c.warnings[0].find("hunter2"), std::string::npos);
}

TEST(Options, PasswordFromEnvironmentAndFile) {
  ::setenv("MTLS_PROBE_TEST_PW", "from-env", 1);
  ProbeCommand env = parse({"--p12", "a.p12", "--p12-password-env", "MTLS_PROBE_TEST_PW", "https://h.test/"});
  EXPECT_EQ(env.run.identity.password, "from-env");
  EXPECT_TRUE(env.warnings.empty());

  ProbeCommand unset =
      parse({"--p12", "a.p12", "--p12-password-env", "MTLS_PROBE_NOT_SET_XYZ", "https://h.test/"});
  ASSERT_TRUE(unset.identity_error);
  EXPECT_EQ(unset.identity_error->problem, IdentityProblem::password_source);

  const std::string file = ::testing::TempDir() + "/mtls_probe_pw.txt";
  std::ofstream(file) << "from-file\r\nsecond line\n";
  ProbeCommand f = parse({"--p12", "a.p12", "--p12-password-file", file, "https://h.test/"});
  EXPECT_EQ(f.run.identity.password, "from-file");

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

TEST(Options, AsOpensslOrStrict) {
  EXPECT_EQ(parse({"https://h.test/"}).run.client_behaviour, ClientBehaviour::openssl);
  EXPECT_EQ(parse({"--as", "openssl", "https://h.test/"}).run.client_behaviour, ClientBehaviour::openssl);
  EXPECT_EQ(parse({"--as", "strict", "https://h.test/"}).run.client_behaviour, ClientBehaviour::strict);
  EXPECT_TRUE(parse({"--as", "java", "https://h.test/"}).usage_error);
}

// ALPN as curl: h2,http/1.1 by default; --http1.1 and --http2-only narrow it; --alpn is taken as given.
TEST(Options, AlpnOfferAsCurl) {
  using V = std::vector<std::string>;
  EXPECT_EQ(parse({"https://h.test/"}).target.alpn, (V{"h2", "http/1.1"}));
  EXPECT_FALSE(parse({"https://h.test/"}).target.note_h1_fallback);
  EXPECT_EQ(parse({"--http1.1", "https://h.test/"}).target.alpn, (V{"http/1.1"}));
  const ProbeCommand h2 = parse({"--http2", "https://h.test/"});
  EXPECT_FALSE(h2.usage_error);
  EXPECT_EQ(h2.target.alpn, (V{"h2", "http/1.1"}));
  EXPECT_TRUE(h2.target.note_h1_fallback);
  EXPECT_EQ(parse({"--http2-only", "https://h.test/"}).target.alpn, (V{"h2"}));
  EXPECT_EQ(parse({"--alpn", "istio", "https://h.test/"}).target.alpn, (V{"istio"}));
  EXPECT_EQ(parse({"--alpn", "istio-peer-exchange,h2,http/1.1", "https://h.test/"}).target.alpn,
            (V{"istio-peer-exchange", "h2", "http/1.1"}));
}

TEST(Options, NoH1Retry) {
  EXPECT_TRUE(parse({"https://h.test/"}).target.h1_retry);
  EXPECT_FALSE(parse({"--no-h1-retry", "https://h.test/"}).target.h1_retry);
}

TEST(Options, AlpnOfferErrors) {
  EXPECT_TRUE(parse({"--alpn", "", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--alpn", "h2,,http/1.1", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--alpn", "h2,", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--alpn", "has space", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--alpn", std::string(256, 'a'), "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--http1.1", "--http2", "https://h.test/"}).usage_error);
  EXPECT_TRUE(parse({"--http2-only", "--alpn", "h2", "https://h.test/"}).usage_error);
}

// --grpc-health [SERVICE]: a health-check POST over h2 only (unless the user chose the ALPN offer).
TEST(Options, GrpcHealth) {
  using V = std::vector<std::string>;
  EXPECT_FALSE(parse({"https://h.test/"}).target.grpc_health);
  for (const V& args :
       {V{"--grpc-health", "https://h.test:8443"}, V{"https://h.test:8443", "--grpc-health"}}) {
    const ProbeCommand c = parse(args);
    ASSERT_FALSE(c.usage_error) << *c.usage_error;
    EXPECT_EQ(c.target.url_text, "https://h.test:8443");  // the URL after the flag is the URL
    EXPECT_EQ(c.target.grpc_health, std::optional<std::string>(""));
    EXPECT_EQ(c.target.alpn, (V{"h2"}));
    EXPECT_EQ(c.target.http.method, "POST");
    EXPECT_EQ(c.target.url.target, "/grpc.health.v1.Health/Check");
  }
  for (const V& args : {V{"--grpc-health", "orders.v1.Orders", "https://h.test/"},
                        V{"--grpc-health=orders.v1.Orders", "https://h.test/"}}) {
    const ProbeCommand c = parse(args);
    ASSERT_FALSE(c.usage_error) << *c.usage_error;
    EXPECT_EQ(c.target.grpc_health, std::optional<std::string>("orders.v1.Orders"));
  }
  EXPECT_EQ(parse({"--grpc-health", "--alpn", "h2,http/1.1", "https://h.test/"}).target.alpn,
            (V{"h2", "http/1.1"}));
  EXPECT_EQ(parse({"--grpc-health", "--http2", "https://h.test/"}).target.alpn, (V{"h2", "http/1.1"}));
  const ProbeCommand meta = parse({"--grpc-health", "-H", "authorization: Bearer t", "https://h.test/"});
  ASSERT_FALSE(meta.usage_error);
  ASSERT_EQ(meta.target.http.headers.size(), 3U);
  EXPECT_EQ(meta.target.http.headers[2].name, "authorization");
}

TEST(Options, GrpcHealthErrors) {
  auto error_of = [](std::vector<std::string> args) {
    return parse(std::move(args)).usage_error.value_or("");
  };
  EXPECT_NE(error_of({"--grpc-health", "-d", "x", "https://h.test/"}).find("leave out -d and -X"),
            std::string::npos);
  EXPECT_NE(error_of({"--grpc-health", "-X", "PUT", "https://h.test/"}).find("leave out -d and -X"),
            std::string::npos);
  EXPECT_NE(error_of({"--grpc-health", "--http1.1", "https://h.test/"}).find("needs HTTP/2"),
            std::string::npos);
  EXPECT_NE(error_of({"--grpc-health", "https://h.test/some/path"}).find("without a path"),
            std::string::npos);
}

TEST(Options, UnknownOptionThrowsForTheCallerToReport) {
  EXPECT_THROW(parse({"--bogus", "https://h.test/"}), CLI::ParseError);
}

// ---- the shared front-end rules (front_end.h): one for the probe, inspect and serve

TEST(PasswordSource, OneSourceEach) {
  ::setenv("MTLS_PROBE_TEST_PW", "from-env", 1);
  EXPECT_EQ(resolve_password_source({"MTLS_PROBE_TEST_PW", "", "", {}}, true).password, "from-env");
  const std::string file = ::testing::TempDir() + "/mtls_probe_front_pw.txt";
  std::ofstream(file) << "from-file\n";
  EXPECT_EQ(resolve_password_source({"", file, "", {}}, true).password, "from-file");
  PasswordSource pass = resolve_password_source({"", "", "hunter2", {}}, true);
  EXPECT_EQ(pass.password, "hunter2");
  ASSERT_EQ(pass.warnings.size(), 1u);
  EXPECT_EQ(pass.warnings[0], kPassVisible);
  PasswordSource cert = resolve_password_source({"", "", "", "pa:ss"}, true);
  EXPECT_EQ(cert.password, "pa:ss");
  ASSERT_EQ(cert.warnings.size(), 1u);
  EXPECT_EQ(cert.warnings[0], kCertPasswordVisible);
  for (const auto& w : {pass.warnings[0], cert.warnings[0]}) {
    EXPECT_EQ(w.find("hunter2"), std::string::npos);
    EXPECT_EQ(w.find("pa:ss"), std::string::npos);
  }
  PasswordSource none = resolve_password_source({}, false);
  EXPECT_FALSE(none.password || none.usage_error || none.read_error);
}

TEST(PasswordSource, TwoSourcesAreAUsageErrorAndNothingIsRead) {
  // Neither source could be read; the command line is wrong first.
  PasswordSource two = resolve_password_source({"MTLS_PROBE_NOT_SET_XYZ", "/nonexistent/pw", "", {}}, true);
  ASSERT_TRUE(two.usage_error);
  EXPECT_FALSE(two.read_error);
  EXPECT_FALSE(two.password);
  EXPECT_NE(two.usage_error->find("--pass or --cert FILE:PASSWORD"), std::string::npos);
  // serve has no curl spellings: the message names only what it offers.
  PasswordSource serve = resolve_password_source({"A", "B", "", {}}, true, PasswordRules{false, "--p12"});
  ASSERT_TRUE(serve.usage_error);
  EXPECT_EQ(*serve.usage_error, "give the password once: --p12-password-env or --p12-password-file");
  // The visible ones still warn: the password was on the command line all the same.
  EXPECT_EQ(resolve_password_source({"", "", "x", "y"}, true).warnings.size(), 2u);
}

TEST(PasswordSource, UnreadableSourceIsAnIdentityProblemAndAPasswordNeedsAnIdentity) {
  PasswordSource unset = resolve_password_source({"MTLS_PROBE_NOT_SET_XYZ", "", "", {}}, true);
  ASSERT_TRUE(unset.read_error);
  EXPECT_EQ(unset.read_error->problem, IdentityProblem::password_source);
  EXPECT_FALSE(unset.usage_error);
  // Read first: an unreadable source stays an identity problem even with no identity (the probe's rule).
  EXPECT_TRUE(resolve_password_source({"MTLS_PROBE_NOT_SET_XYZ", "", "", {}}, false).read_error);
  PasswordSource orphan = resolve_password_source({"", "", "hunter2", {}}, false);
  ASSERT_TRUE(orphan.usage_error);
  EXPECT_FALSE(orphan.password) << "a dropped password is not handed out";
  EXPECT_EQ(*orphan.usage_error, "a password was given but no identity (--p12 or --cert)");
  EXPECT_EQ(*resolve_password_source({"", "", "x", {}}, false, PasswordRules{false, "--p12"}).usage_error,
            "a password was given but no identity (--p12)");
}

// A pseudo-terminal, for the colour rule.
struct Pty {
  int master = -1, slave = -1;
  Pty() {
    master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) return;
    slave = ::open(ptsname(master), O_RDWR | O_NOCTTY);
  }
  ~Pty() {
    if (slave >= 0) ::close(slave);
    if (master >= 0) ::close(master);
  }
};

TEST(FrontEnd, ColourOnlyOnATerminalAndNeverWithNoColor) {
  Pty pty;
  ASSERT_GE(pty.slave, 0);
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  ::unsetenv("NO_COLOR");
  EXPECT_TRUE(use_color(pty.slave));
  EXPECT_FALSE(use_color(fds[1]));
  ::setenv("NO_COLOR", "", 1);  // empty: as if unset (no-color.org)
  EXPECT_TRUE(use_color(pty.slave));
  ::setenv("NO_COLOR", "1", 1);
  EXPECT_FALSE(use_color(pty.slave));
  ::unsetenv("NO_COLOR");
  close(fds[0]);
  close(fds[1]);
}

TEST(FrontEnd, LoggerStyles) {
  std::ostringstream trace;
  auto quiet = make_stream_logger(trace, 0);
  quiet->debug("hidden");
  quiet->warn("warning: {}", "shown");
  EXPECT_EQ(trace.str(), "* warning: shown\n");
  std::ostringstream verbose_out;
  auto verbose = make_stream_logger(verbose_out, 1);
  verbose->debug("> GET / HTTP/1.1");
  EXPECT_EQ(verbose_out.str(), "* > GET / HTTP/1.1\n");
  // Callable more than once: the loggers are not registered with spdlog.
  EXPECT_NE(make_stderr_logger(0), make_stderr_logger(0));

  std::ostringstream server_out;
  auto server = make_stream_logger(server_out, 0, LogStyle::server);
  server->debug("hidden");
  server->info("peer did not return a certificate");
  EXPECT_NE(server_out.str().find("] [info] peer did not return a certificate\n"), std::string::npos)
      << server_out.str();
  EXPECT_EQ(server_out.str().find("hidden"), std::string::npos);
}

TEST(FrontEnd, UsageErrorText) {
  std::ostringstream err;
  EXPECT_EQ(print_usage_error(err, "serve", "The following argument was not expected: --json"), 1);
  EXPECT_EQ(err.str(),
            "mtls-probe serve: The following argument was not expected: --json\n"
            "Run with --help for more information.\n");
  std::ostringstream escaped;
  print_usage_error(escaped, "inspect", "bad \x1b[2J name");
  EXPECT_EQ(escaped.str().find('\x1b'), std::string::npos);
}

TEST(FrontEnd, ExitCodesOfServe) {
  EXPECT_EQ(kExitUsage, 1);
  EXPECT_EQ(kServeStopped, 0);
  EXPECT_EQ(kServeIdentityError, 2);
  EXPECT_EQ(kServeCannotListen, 4) << "docs/exit-codes.md and the contract's appended section say 4";
}

// Each subcommand's arguments live in the object given to add_*_command: two command lines parsed side by
// side do not share anything.
TEST(FrontEnd, SubcommandArgumentsAreNotGlobal) {
  auto parse = [](CLI::App& app, std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());  // CLI11 takes them last first
    app.parse(args);
  };
  CLI::App a, b;
  RawInspectArgs ra, rb;
  RawServeArgs sa, sb;
  add_inspect_command(a, ra);
  add_serve_command(a, sa);
  add_inspect_command(b, rb);
  add_serve_command(b, sb);
  parse(a, {"inspect", "--json", "x.p12"});
  parse(b, {"serve", "--port", "8443", "--client-auth-path", "/admin"});
  EXPECT_EQ(ra.file, "x.p12");
  EXPECT_TRUE(ra.json);
  EXPECT_TRUE(rb.file.empty());
  EXPECT_FALSE(rb.json);
  EXPECT_EQ(sb.port, 8443);
  EXPECT_EQ(sb.client_auth_path, "/admin");
  EXPECT_EQ(sa.port, 0);
  EXPECT_FALSE(sa.client_auth_path);
  EXPECT_FALSE(sb.status_if_unverified) << "not given: unset, not 0";
}

// ---- blanking secrets in argv

// The tool's whole command line: probe options and the subcommands (they have --pass / --cert too).
TEST(BlankArgv, EverySpellingOfCertPassword) {
  EXPECT_EQ(blanked({"--cert=id.p12:hunter2", "https://h/"}), "--cert=id.p12:******* https://h/");
  EXPECT_EQ(blanked({"--cert", "id.p12:hunter2", "https://h/"}), "--cert id.p12:******* https://h/");
  EXPECT_EQ(blanked({"-Eid.p12:hunter2", "https://h/"}), "-Eid.p12:******* https://h/");
  EXPECT_EQ(blanked({"-E", "id.p12:hunter2", "https://h/"}), "-E id.p12:******* https://h/");
  EXPECT_EQ(blanked({"-kEid.p12:hunter2", "https://h/"}), "-kEid.p12:******* https://h/");
  EXPECT_EQ(blanked({"-kvE", "id.p12:hunter2", "https://h/"}), "-kvE id.p12:******* https://h/");
  // Only the part after the first unescaped ':' is the password; the file name stays readable.
  EXPECT_EQ(blanked({"--cert", "C\\:/x.p12:pa:ss"}), "--cert C\\:/x.p12:*****");
  EXPECT_EQ(blanked({"--cert", "c.pem", "--key", "k.pem"}), "--cert c.pem --key k.pem");
}

TEST(BlankArgv, EverySpellingOfPass) {
  EXPECT_EQ(blanked({"--pass", "hunter2", "https://h/"}), "--pass ******* https://h/");
  EXPECT_EQ(blanked({"--pass=hunter2", "https://h/"}), "--pass=******* https://h/");
  EXPECT_EQ(blanked({"inspect", "--pass", "hunter2", "a.p12"}), "inspect --pass ******* a.p12");
  EXPECT_EQ(blanked({"inspect", "--cert=a.p12:hunter2"}), "inspect --cert=a.p12:*******");
}

TEST(BlankArgv, OnlyOptionsNotTheirValues) {
  // "--pass" as the value of -H, -d or -X is no option: the word after it is left alone.
  EXPECT_EQ(blanked({"-H", "--pass", "https://h/"}), "-H --pass https://h/");
  EXPECT_EQ(blanked({"-d", "-E", "x:y", "https://h/"}), "-d -E x:y https://h/");
  EXPECT_EQ(blanked({"-H--pass", "https://h/"}), "-H--pass https://h/");
  EXPECT_EQ(blanked({"--", "--pass", "x"}), "-- --pass x");
  EXPECT_EQ(blanked({"--pass"}), "--pass");  // no value: nothing to blank, CLI11 reports it
}

TEST(BlankArgv, TheListNamesRealOptions) {
  ToolApp t;
  for (const auto& s : secret_options()) {
    EXPECT_NE(t.app.get_option_no_throw(s.long_name), nullptr) << s.long_name;
    if (s.short_name != 0) {
      const CLI::Option* o = t.app.get_option_no_throw(std::string{'-', s.short_name});
      ASSERT_NE(o, nullptr) << s.short_name;
      EXPECT_EQ(o, t.app.get_option_no_throw(s.long_name)) << s.short_name;
    }
  }
}

TEST(BlankArgv, ParsingACopyMadeBeforeStillSeesThePassword) {
  ToolApp t;
  WritableArgv a({"-Eid.p12:hunter2", "--cert-type", "P12", "https://h.test/"});
  std::vector<std::string> args;
  for (int i = a.argc() - 1; i > 0; --i) args.emplace_back(a.ptrs[static_cast<size_t>(i)]);
  blank_argv_secrets(t.app, a.argc(), a.ptrs.data());
  t.app.parse(args);
  ProbeCommand c = make_probe_command(t.raw);
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.run.identity.p12_file, "id.p12");
  EXPECT_EQ(c.run.identity.password, "hunter2");
  EXPECT_EQ(a.joined().find("hunter2"), std::string::npos) << a.joined();
}

// The real thing: /proc/PID/cmdline of a process that blanked its own argv. This test binary runs itself
// again with MTLS_PROBE_ARGV_CHILD set; before main() (glibc hands argc/argv to .init_array functions)
// the child blanks its real argv, prints its own /proc/self/cmdline and exits.
constexpr const char* kChildEnv = "MTLS_PROBE_ARGV_CHILD";

void argv_child(int argc, char** argv, char** /*envp*/) {
  if (std::getenv(kChildEnv) == nullptr) return;
  // This runs before the static objects of other files are constructed (CLI11's validators among them), so
  // only the probe options and a stand-in "inspect" with plain options are used here.
  CLI::App app;
  RawProbeArgs raw;
  add_probe_options(app, raw);
  std::string pass, cert, file;
  CLI::App* inspect = app.add_subcommand("inspect");
  inspect->add_option("--pass", pass);
  inspect->add_option("--cert", cert);
  inspect->add_option("file", file);
  blank_argv_secrets(app, argc, argv);
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::fwrite(cmdline.data(), 1, cmdline.size(), stdout);
  std::fflush(stdout);
  _exit(0);
}
__attribute__((section(".init_array"), used)) void (*kArgvChildHook)(int, char**, char**) = argv_child;

// Runs this binary with args and kChildEnv set; returns the child's /proc/self/cmdline (NULs as ' ').
std::string child_cmdline(const std::vector<std::string>& args) {
  int fds[2];
  if (pipe(fds) != 0) return "pipe failed";
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    std::vector<char*> argv{const_cast<char*>("argv-child")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    setenv(kChildEnv, "1", 1);
    execve("/proc/self/exe", argv.data(), environ);
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  for (char& c : out) c = c == '\0' ? ' ' : c;
  return out;
}

TEST(BlankArgv, ProcSelfCmdlineNoLongerShowsThePassword) {
  const std::vector<std::vector<std::string>> spellings{
      {"--cert=id.p12:s3cr3t-pw", "--cert-type", "P12"}, {"--cert", "id.p12:s3cr3t-pw", "--cert-type", "P12"},
      {"-Eid.p12:s3cr3t-pw", "--cert-type", "P12"},      {"-E", "id.p12:s3cr3t-pw", "--cert-type", "P12"},
      {"--p12", "id.p12", "--pass", "s3cr3t-pw"},        {"--p12", "id.p12", "--pass=s3cr3t-pw"},
      {"inspect", "--pass", "s3cr3t-pw", "id.p12"},
  };
  for (auto args : spellings) {
    args.emplace_back("https://127.0.0.1:1/");
    const std::string cmdline = child_cmdline(args);
    EXPECT_NE(cmdline.find("argv-child"), std::string::npos) << cmdline;  // the child did run
    EXPECT_NE(cmdline.find("id.p12"), std::string::npos) << cmdline;
    EXPECT_EQ(cmdline.find("s3cr3t-pw"), std::string::npos) << cmdline;
    EXPECT_NE(cmdline.find("*********"), std::string::npos) << cmdline;
  }
}

}  // namespace
}  // namespace mtls_probe::tool
