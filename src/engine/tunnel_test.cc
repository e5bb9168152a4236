#include "mtls_probe/engine/tunnel.h"

#include <gtest/gtest.h>

namespace mtls_probe {
namespace {

TEST(ConnectRequest, NamesTheOriginWithItsPort) {
  const std::string req = build_connect_request("server.test:8443", std::nullopt);
  EXPECT_EQ(req.rfind("CONNECT server.test:8443 HTTP/1.1\r\nHost: server.test:8443\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Proxy-Connection: Keep-Alive\r\n"), std::string::npos);
  EXPECT_EQ(req.find("Proxy-Authorization"), std::string::npos);
  EXPECT_EQ(req.substr(req.size() - 4), "\r\n\r\n");
}

TEST(ConnectRequest, BasicCredentialsAreBase64OfUserColonPassword) {
  const std::string req = build_connect_request("[::1]:443", ProxyCredentials{"Aladdin", "open sesame"});
  EXPECT_EQ(req.rfind("CONNECT [::1]:443 HTTP/1.1\r\n", 0), 0u);
  EXPECT_NE(req.find("Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n"), std::string::npos)
      << req;
}

TEST(ConnectResponse, A200EndsAtTheBlankLineAndLeavesTheTunnelsBytes) {
  ConnectResponseReader r;
  const std::string in = "HTTP/1.1 200 Connection established\r\nVia: 1.1 squid\r\n\r\n\x16\x03\x03";
  std::size_t used = 0;
  EXPECT_EQ(r.feed(in, used), ConnectResponseReader::State::complete);
  EXPECT_EQ(used, in.size() - 3);
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.reason(), "Connection established");
  ASSERT_EQ(r.headers().size(), 1u);
  EXPECT_EQ(r.headers()[0].first, "Via");
}

TEST(ConnectResponse, AnySplitGivesTheSameAnswer) {
  const std::string in =
      "HTTP/1.0 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n";
  for (std::size_t step = 1; step <= 7; ++step) {
    ConnectResponseReader r;
    std::size_t total = 0;
    ConnectResponseReader::State st = ConnectResponseReader::State::need_more;
    for (std::size_t i = 0; i < in.size() && st == ConnectResponseReader::State::need_more; i += step) {
      std::size_t used = 0;
      st = r.feed(std::string_view(in).substr(i, step), used);
      total += used;
    }
    EXPECT_EQ(st, ConnectResponseReader::State::complete) << step;
    EXPECT_EQ(total, in.size()) << step;
    EXPECT_EQ(r.status(), 407) << step;
  }
}

TEST(ConnectResponse, BareLineFeedsEndTheHeadToo) {
  ConnectResponseReader r;
  std::size_t used = 0;
  EXPECT_EQ(r.feed("HTTP/1.1 200 OK\n\n", used), ConnectResponseReader::State::complete) << r.error();
  EXPECT_EQ(used, 17u);
}

TEST(ConnectResponse, NotHttpIsAnError) {
  ConnectResponseReader r;
  std::size_t used = 0;
  EXPECT_EQ(r.feed("SSH-2.0-OpenSSH_9.2\r\n\r\n", used), ConnectResponseReader::State::error);
  EXPECT_NE(r.error().find("not HTTP"), std::string::npos) << r.error();
}

TEST(ConnectResponse, AnEndlessHeadStopsAtTheCap) {
  HttpLimits limits;
  limits.max_header_bytes = 1024;
  ConnectResponseReader r(limits);
  std::size_t used = 0;
  auto st = r.feed("HTTP/1.1 200 OK\r\n", used);
  const std::string line = "X-Pad: " + std::string(100, 'a') + "\r\n";
  for (int i = 0; i < 100 && st == ConnectResponseReader::State::need_more; ++i) st = r.feed(line, used);
  EXPECT_EQ(st, ConnectResponseReader::State::error);
  EXPECT_FALSE(r.error().empty());
}

TEST(ConnectResponse, CloseBeforeTheHeadEndsIsNamed) {
  ConnectResponseReader silent;
  EXPECT_EQ(silent.finish(), ConnectResponseReader::State::error);
  EXPECT_NE(silent.error().find("without answering"), std::string::npos);
  ConnectResponseReader half;
  std::size_t used = 0;
  half.feed("HTTP/1.1 200 OK\r\nVia", used);
  EXPECT_EQ(half.finish(), ConnectResponseReader::State::error);
  EXPECT_NE(half.error().find("middle"), std::string::npos);
}

TEST(ConnectResponse, AnInterimResponseAloneIsAnError) {
  ConnectResponseReader r;
  std::size_t used = 0;
  EXPECT_EQ(r.feed("HTTP/1.1 100 Continue\r\n\r\n", used), ConnectResponseReader::State::error);
}

TEST(ProxyAuthSchemes, EveryChallengeOnceInOrder) {
  const std::vector<std::pair<std::string, std::string>> headers{
      {"Proxy-Authenticate", "Negotiate"},
      {"Via", "1.1 squid"},
      {"proxy-authenticate", "NTLM, Basic realm=\"corp, inc\", charset=\"UTF-8\""},
      {"Proxy-Authenticate", "Digest realm=\"x\", nonce=\"abc\", qop=\"auth\""},
      {"Proxy-Authenticate", "basic realm=y"},
  };
  EXPECT_EQ(proxy_auth_schemes(headers), (std::vector<std::string>{"Negotiate", "NTLM", "Basic", "Digest"}));
}

TEST(ProxyAuthSchemes, WwwAuthenticateWhenAsked) {
  const std::vector<std::pair<std::string, std::string>> headers{
      {"WWW-Authenticate", "Basic realm=\"Tinyproxy\""}};
  EXPECT_TRUE(proxy_auth_schemes(headers).empty());
  EXPECT_EQ(proxy_auth_schemes(headers, "www-authenticate"), (std::vector<std::string>{"Basic"}));
}

TEST(ProxyAuthSchemes, Token68IsNotAScheme) {
  EXPECT_EQ(proxy_auth_schemes({{"Proxy-Authenticate", "Negotiate YIIabc=="}}),
            (std::vector<std::string>{"Negotiate"}));
  EXPECT_TRUE(proxy_auth_schemes({{"WWW-Authenticate", "Basic"}}).empty());
}

}  // namespace
}  // namespace mtls_probe
