// The proxy options: -x, --proxy-user, --proxy-password-env, --noproxy and the environment they meet.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <map>

#include "front_end.h"
#include "tool_test_support.h"
#include "tool_options.h"

namespace mtls_probe::tool {
namespace {

struct Env {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end() || it->second.empty()) return std::nullopt;
      return it->second;
    };
  }
};

bool warned(const ProbeCommand& c, std::string_view w) {
  return std::find(c.warnings.begin(), c.warnings.end(), w) != c.warnings.end();
}

TEST(ProxyOptions, NoProxyByDefaultAndNoEnvironmentInTests) {
  ProbeCommand c = parse({"https://server.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_FALSE(c.target.proxy);
}

TEST(ProxyOptions, DashXGivesTheProxyAndItsSource) {
  ProbeCommand c = parse({"-x", "127.0.0.1:3128", "https://server.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  ASSERT_TRUE(c.target.proxy);
  EXPECT_EQ(c.target.proxy->host, "127.0.0.1");
  EXPECT_EQ(c.target.proxy->port, 3128);
  EXPECT_EQ(c.target.proxy_source, "--proxy");
}

TEST(ProxyOptions, TheEnvironmentIsReadAndNoProxyExempts) {
  Env env{{{"HTTPS_PROXY", "http://proxy.corp:8080"}, {"NO_PROXY", ".internal.test"}}};
  ProbeCommand c = parse({"https://server.test/"}, env.lookup());
  ASSERT_TRUE(c.target.proxy);
  EXPECT_EQ(c.target.proxy_source, "HTTPS_PROXY");
  ProbeCommand d = parse({"https://api.internal.test/"}, env.lookup());
  EXPECT_FALSE(d.target.proxy);
  EXPECT_EQ(d.target.proxy_bypassed_by, "NO_PROXY");
  ProbeCommand e = parse({"--noproxy", "server.test", "https://server.test/"}, env.lookup());
  EXPECT_FALSE(e.target.proxy);
  EXPECT_EQ(e.target.proxy_bypassed_by, "--noproxy");
}

TEST(ProxyOptions, ProxyUserWithPasswordWarnsThatItIsVisible) {
  ProbeCommand c = parse({"-x", "p:1", "--proxy-user", "bob:s3cret", "https://server.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.target.proxy->user, "bob");
  EXPECT_EQ(c.target.proxy->password, "s3cret");
  EXPECT_TRUE(warned(c, kProxyPasswordVisible));
  for (const auto& w : c.warnings) EXPECT_EQ(w.find("s3cret"), std::string::npos);
}

TEST(ProxyOptions, ProxyPasswordFromTheEnvironment) {
  Env env{{{"PXPW", "from-env"}}};
  ProbeCommand c =
      parse({"-x", "p:1", "-U", "bob", "--proxy-password-env", "PXPW", "https://server.test/"}, env.lookup());
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.target.proxy->password, "from-env");
  EXPECT_FALSE(warned(c, kProxyPasswordVisible));
}

TEST(ProxyOptions, ProxyPasswordMistakesAreUsageErrors) {
  Env env{{{"PXPW", "from-env"}}};
  EXPECT_TRUE(parse({"-x", "p:1", "--proxy-password-env", "PXPW", "https://s.test/"}, env.lookup()).usage_error);
  EXPECT_TRUE(parse({"-x", "p:1", "-U", "bob:x", "--proxy-password-env", "PXPW", "https://s.test/"}, env.lookup())
                  .usage_error);
  auto unset = parse({"-x", "p:1", "-U", "bob", "--proxy-password-env", "NOPE", "https://s.test/"}, env.lookup());
  ASSERT_TRUE(unset.usage_error);
  EXPECT_NE(unset.usage_error->find("NOPE"), std::string::npos);
}

TEST(ProxyOptions, TheProxyUrlsOwnCredentialsWinAsInCurl) {
  ProbeCommand c = parse({"-x", "http://url-user:url-pw@p:1", "-U", "flag-user:flag-pw", "https://s.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.target.proxy->user, "url-user");
  EXPECT_EQ(c.target.proxy->password, "url-pw");
  EXPECT_TRUE(warned(c, kProxyUrlPasswordVisible));
}

TEST(ProxyOptions, UnsupportedProxiesAreUsageErrors) {
  auto socks = parse({"-x", "socks5://p:1080", "https://s.test/"});
  ASSERT_TRUE(socks.usage_error);
  EXPECT_NE(socks.usage_error->find("not supported"), std::string::npos);
  EXPECT_TRUE(parse({"-x", "https://p", "--proxy-key", "k.pem", "https://s.test/"}).usage_error);
}

TEST(ProxyOptions, HttpsProxyTlsOptionsAreTheProxysOwn) {
  ProbeCommand c =
      parse({"-x", "https://p.corp", "--proxy-cacert", "pca.pem", "--proxy-insecure", "--proxy-cert",
             "pc.pem", "--proxy-key", "pk.pem", "--cacert", "server-ca.pem", "https://s.test/"});
  ASSERT_FALSE(c.usage_error) << *c.usage_error;
  EXPECT_EQ(c.target.proxy->scheme, ProxySpec::Scheme::https);
  EXPECT_EQ(c.target.proxy->port, 443);
  EXPECT_EQ(c.run.tls.proxy.cacert_file, "pca.pem");
  EXPECT_TRUE(c.run.tls.proxy.insecure);
  EXPECT_EQ(c.run.tls.proxy.cert_file, "pc.pem");
  EXPECT_EQ(c.run.tls.proxy.key_file, "pk.pem");
  EXPECT_EQ(c.run.tls.cacert_file, "server-ca.pem");
  EXPECT_FALSE(c.run.tls.insecure);
}

TEST(ProxyOptions, ProxyPasswordsAreBlankedInArgv) {
  EXPECT_EQ(blanked({"--proxy-user", "bob:hunter2", "https://h/"}), "--proxy-user bob:******* https://h/");
  EXPECT_EQ(blanked({"-Ubob:hunter2", "https://h/"}), "-Ubob:******* https://h/");
  EXPECT_EQ(blanked({"-x", "http://bob:hunter2@p:1", "https://h/"}), "-x http://bob:*******@p:1 https://h/");
  EXPECT_EQ(blanked({"--proxy=bob:p@ss@p:1"}), "--proxy=bob:****@p:1");
  EXPECT_EQ(blanked({"-x", "p:3128", "https://h/"}), "-x p:3128 https://h/");
  EXPECT_EQ(blanked({"-x", "http://bob@p:1"}), "-x http://bob@p:1");
}

}  // namespace
}  // namespace mtls_probe::tool
