#include "mtls_probe/engine/proxy.h"

#include <gtest/gtest.h>

#include <map>

namespace mtls_probe {
namespace {

// ---- the proxy URL

TEST(ParseProxyUrl, BareHostAndPortIsAnHttpProxy) {
  auto p = parse_proxy_url("proxy.corp:3128");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->scheme, ProxySpec::Scheme::http);
  EXPECT_EQ(p->host, "proxy.corp");
  EXPECT_EQ(p->port, 3128);
  EXPECT_FALSE(p->user);
  EXPECT_EQ(p->display(), "http://proxy.corp:3128");
}

TEST(ParseProxyUrl, DefaultPortsAreCurls) {
  auto http = parse_proxy_url("http://proxy");
  ASSERT_TRUE(http);
  EXPECT_EQ(http->port, 1080);
  auto bare = parse_proxy_url("proxy");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->port, 1080);
  auto https = parse_proxy_url("HTTPS://Proxy.Corp/");
  ASSERT_TRUE(https);
  EXPECT_EQ(https->scheme, ProxySpec::Scheme::https);
  EXPECT_EQ(https->host, "proxy.corp");
  EXPECT_EQ(https->port, 443);
}

TEST(ParseProxyUrl, CredentialsArePercentDecodedAndNeverDisplayed) {
  auto p = parse_proxy_url("http://al%3Aice:s3cr%40t@proxy:8080");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->user, "al:ice");
  EXPECT_EQ(p->password, "s3cr@t");
  EXPECT_EQ(p->display(), "http://proxy:8080");
  EXPECT_EQ(p->display().find("s3cr"), std::string::npos);
}

TEST(ParseProxyUrl, AnUnencodedAtInThePasswordEndsAtTheLastAt) {
  auto p = parse_proxy_url("http://bob:p@ss@proxy:8080");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->user, "bob");
  EXPECT_EQ(p->password, "p@ss");
  EXPECT_EQ(p->host, "proxy");
}

TEST(ParseProxyUrl, UserWithoutPassword) {
  auto p = parse_proxy_url("http://bob@proxy:8080");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->user, "bob");
  EXPECT_FALSE(p->password);
}

TEST(ParseProxyUrl, Ipv6LiteralInBrackets) {
  auto p = parse_proxy_url("http://[::1]:3128");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->host, "::1");
  EXPECT_TRUE(p->host_is_ipv6);
  EXPECT_EQ(p->authority(), "[::1]:3128");
}

TEST(ParseProxyUrl, RefusesWhatIsNotAnHttpProxy) {
  for (const char* bad : {"socks5://proxy:1080", "socks5h://proxy", "ftp://proxy", "http://", "http://:3128",
                          "http://proxy:99999", "http://proxy:0", "http://proxy/path", "http://proxy?x=1",
                          "http://pro xy", "", "http://::1:3128"}) {
    auto p = parse_proxy_url(bad);
    EXPECT_FALSE(p) << bad;
  }
  EXPECT_NE(parse_proxy_url("socks5://proxy").error().message.find("not supported"), std::string::npos);
}

TEST(ParseProxyUrl, AMangledPasswordIsNeverQuoted) {
  for (const char* bad : {"http://bob:pa/ss1234@proxy:8080", "bob:zz?ss1234@proxy", "http://bob:pass1234@"}) {
    auto p = parse_proxy_url(bad);
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().message.find("1234"), std::string::npos) << p.error().message;
  }
}

// ---- the no-proxy list (curl's lib/proxy.c rules)

TEST(NoProxy, NameEntriesMatchTheHostAndNamesBelowIt) {
  EXPECT_TRUE(no_proxy_matches("example.com", "example.com"));
  EXPECT_TRUE(no_proxy_matches("www.example.com", "example.com"));
  EXPECT_TRUE(no_proxy_matches("www.example.com", ".example.com"));
  EXPECT_TRUE(no_proxy_matches("example.com", ".example.com"));
  EXPECT_FALSE(no_proxy_matches("notexample.com", "example.com"));
  EXPECT_FALSE(no_proxy_matches("example.com.org", "example.com"));
  EXPECT_FALSE(no_proxy_matches("example.com", "www.example.com"));
}

TEST(NoProxy, CaseAndTrailingDotsAreIgnored) {
  EXPECT_TRUE(no_proxy_matches("WWW.Example.COM.", "example.com"));
  EXPECT_TRUE(no_proxy_matches("www.example.com", "EXAMPLE.com."));
}

TEST(NoProxy, ListsAreSplitOnCommasAndBlanks) {
  EXPECT_TRUE(no_proxy_matches("b.test", "a.test, b.test"));
  EXPECT_TRUE(no_proxy_matches("c.test", "a.test,,  b.test ,c.test"));
  EXPECT_TRUE(no_proxy_matches("b.test", "a.test b.test"));
  EXPECT_FALSE(no_proxy_matches("d.test", "a.test, b.test"));
  EXPECT_FALSE(no_proxy_matches("a.test", " , "));
}

TEST(NoProxy, StarAloneMatchesEverythingButInAListIsAName) {
  EXPECT_TRUE(no_proxy_matches("anything.example", "*"));
  EXPECT_TRUE(no_proxy_matches("10.1.2.3", "*"));
  EXPECT_FALSE(no_proxy_matches("anything.example", "a.test,*"));
}

TEST(NoProxy, IpEntriesMatchAddressesAndCidrRanges) {
  EXPECT_TRUE(no_proxy_matches("127.0.0.1", "127.0.0.1"));
  EXPECT_TRUE(no_proxy_matches("192.168.7.9", "192.168.0.0/16"));
  EXPECT_FALSE(no_proxy_matches("192.169.0.1", "192.168.0.0/16"));
  EXPECT_TRUE(no_proxy_matches("10.200.0.1", "10.0.0.0/8"));
  EXPECT_TRUE(no_proxy_matches("::1", "::1"));
  EXPECT_TRUE(no_proxy_matches("fd00:1::5", "fd00::/8"));
  EXPECT_FALSE(no_proxy_matches("fe80::1", "fd00::/8"));
  EXPECT_TRUE(no_proxy_matches("1.2.3.4", "0.0.0.0/0"));
  EXPECT_FALSE(no_proxy_matches("1.2.3.4", "1.2.3.0/33"));
  EXPECT_FALSE(no_proxy_matches("1.2.3.4", "1.2.3.0/x"));
}

TEST(NoProxy, NamesAndAddressesNeverMatchEachOther) {
  EXPECT_FALSE(no_proxy_matches("127.0.0.1", "localhost"));
  EXPECT_FALSE(no_proxy_matches("localhost", "127.0.0.1"));
  EXPECT_FALSE(no_proxy_matches("::1", "127.0.0.1"));
}

// ---- the decision

struct FakeEnv {
  std::map<std::string, std::string> vars;
  EnvLookup lookup() const {
    return [this](const char* name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end() || it->second.empty()) return std::nullopt;
      return it->second;
    };
  }
};

TEST(DecideProxy, NothingConfiguredConnectsDirectly) {
  FakeEnv env;
  auto d = decide_proxy({}, "server.test", env.lookup());
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->proxy);
  EXPECT_FALSE(d->bypassed);
}

TEST(DecideProxy, EnvironmentOrderIsLowerThenUpperThenAll) {
  FakeEnv env{{{"HTTPS_PROXY", "upper:1"}, {"all_proxy", "all:2"}, {"ALL_PROXY", "ALL:3"}}};
  auto d = decide_proxy({}, "server.test", env.lookup());
  ASSERT_TRUE(d);
  ASSERT_TRUE(d->proxy);
  EXPECT_EQ(d->proxy->host, "upper");
  EXPECT_EQ(d->source, "HTTPS_PROXY");

  env.vars["https_proxy"] = "lower:4";
  d = decide_proxy({}, "server.test", env.lookup());
  EXPECT_EQ(d->source, "https_proxy");
  EXPECT_EQ(d->proxy->host, "lower");

  env.vars.erase("https_proxy");
  env.vars.erase("HTTPS_PROXY");
  d = decide_proxy({}, "server.test", env.lookup());
  EXPECT_EQ(d->source, "all_proxy");
  env.vars.erase("all_proxy");
  d = decide_proxy({}, "server.test", env.lookup());
  EXPECT_EQ(d->source, "ALL_PROXY");
}

TEST(DecideProxy, HttpProxyVariablesAreNotForHttpsUrls) {
  FakeEnv env{{{"http_proxy", "h:1"}, {"HTTP_PROXY", "H:2"}}};
  auto d = decide_proxy({}, "server.test", env.lookup());
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->proxy);
}

TEST(DecideProxy, TheFlagBeatsTheEnvironmentAndEmptyTurnsProxiesOff) {
  FakeEnv env{{{"https_proxy", "env:1"}}};
  ProxyRequest flag{std::string("flag:2"), std::nullopt};
  auto d = decide_proxy(flag, "server.test", env.lookup());
  ASSERT_TRUE(d);
  EXPECT_EQ(d->proxy->host, "flag");
  EXPECT_EQ(d->source, "--proxy");

  ProxyRequest off{std::string(), std::nullopt};
  d = decide_proxy(off, "server.test", env.lookup());
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->proxy);
}

TEST(DecideProxy, NoProxyBypassesTheFlagAndTheEnvironment) {
  FakeEnv env{{{"https_proxy", "env:1"}, {"no_proxy", "internal.test"}, {"NO_PROXY", "other.test"}}};
  auto d = decide_proxy({}, "api.internal.test", env.lookup());
  ASSERT_TRUE(d);
  EXPECT_FALSE(d->proxy);
  EXPECT_TRUE(d->bypassed);
  EXPECT_EQ(d->bypass_source, "no_proxy");
  // no_proxy is read before NO_PROXY: other.test is not in the list used.
  d = decide_proxy({}, "other.test", env.lookup());
  EXPECT_TRUE(d->proxy);

  ProxyRequest flag{std::string("flag:2"), std::nullopt};
  d = decide_proxy(flag, "api.internal.test", env.lookup());
  EXPECT_TRUE(d->bypassed);
}

TEST(DecideProxy, AnEmptyNoProxyFlagProxiesEveryHost) {
  FakeEnv env{{{"https_proxy", "env:1"}, {"NO_PROXY", "*"}}};
  ProxyRequest request{std::nullopt, std::string()};
  auto d = decide_proxy(request, "server.test", env.lookup());
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->proxy);
  request.no_proxy = "server.test";
  d = decide_proxy(request, "server.test", env.lookup());
  EXPECT_TRUE(d->bypassed);
  EXPECT_EQ(d->bypass_source, "--noproxy");
}

TEST(DecideProxy, ABadProxyUrlNamesItsSourceAndNoPassword) {
  FakeEnv env{{{"HTTPS_PROXY", "socks5://u:hunter2@proxy"}}};
  auto d = decide_proxy({}, "server.test", env.lookup());
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().message.find("HTTPS_PROXY"), std::string::npos) << d.error().message;
  EXPECT_EQ(d.error().message.find("hunter2"), std::string::npos);
}

}  // namespace
}  // namespace mtls_probe
