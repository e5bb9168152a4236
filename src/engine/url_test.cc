#include "mtls_probe/engine/url.h"

#include <gtest/gtest.h>

#include <string>

namespace mtls_probe {
namespace {

Url ok_url(const std::string& text) {
  auto u = parse_url(text);
  EXPECT_TRUE(u.has_value()) << text << ": " << (u ? "" : u.error().message);
  return u ? *u : Url{};
}

std::string url_error(const std::string& text) {
  auto u = parse_url(text);
  EXPECT_FALSE(u.has_value()) << text << " was accepted";
  return u ? std::string() : u.error().message;
}

TEST(Url, DefaultPortAndTarget) {
  Url u = ok_url("https://example.com");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.port, 443);
  EXPECT_EQ(u.target, "/");
  EXPECT_FALSE(u.host_is_ip);
  EXPECT_FALSE(u.host_is_ipv6);
  EXPECT_EQ(u.authority(), "example.com");
  EXPECT_EQ(ok_url("https://example.com/").target, "/");
}

TEST(Url, ExplicitPort) {
  Url u = ok_url("https://example.com:8443/api/v1");
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.target, "/api/v1");
  EXPECT_EQ(u.authority(), "example.com:8443");
  EXPECT_EQ(ok_url("https://example.com:443/").authority(), "example.com");
  EXPECT_EQ(ok_url("https://example.com:1/").port, 1);
  EXPECT_EQ(ok_url("https://example.com:65535/").port, 65535);
  EXPECT_EQ(ok_url("https://example.com:/x").port, 443);  // empty port = default (RFC 3986)
}

TEST(Url, QueryAndFragment) {
  EXPECT_EQ(ok_url("https://h/p?a=1&b=2").target, "/p?a=1&b=2");
  EXPECT_EQ(ok_url("https://h?a=1").target, "/?a=1");
  EXPECT_EQ(ok_url("https://h/p?a=1#frag").target, "/p?a=1");
  EXPECT_EQ(ok_url("https://h#frag").target, "/");
  EXPECT_EQ(ok_url("https://h:8443#frag").port, 8443);
  EXPECT_EQ(ok_url("https://h/a%20b").target, "/a%20b");
  EXPECT_EQ(ok_url("https://h/a@b").target, "/a@b");  // '@' in the path is not userinfo
}

TEST(Url, NonAsciiPathIsPercentEncoded) {
  EXPECT_EQ(ok_url("https://h/\xc3\xa4").target, "/%C3%A4");
}

TEST(Url, UppercaseSchemeAndHost) {
  Url u = ok_url("HTTPS://Example.COM/Path");
  EXPECT_EQ(u.host, "example.com");
  EXPECT_EQ(u.target, "/Path");  // the path is case-sensitive
  EXPECT_TRUE(parse_url("HtTpS://a.b/").has_value());
}

TEST(Url, HostNameCharacters) {
  EXPECT_EQ(ok_url("https://my_host-1.example.com./").host, "my_host-1.example.com.");
  EXPECT_EQ(ok_url("https://localhost:9443/").host, "localhost");
  EXPECT_NE(url_error("https://exa$mple.com/").find("invalid character"), std::string::npos);
  EXPECT_NE(url_error("https://a..b/").find("empty label"), std::string::npos);
  url_error("https://.a/");
  url_error("https://\xc3\xa4.example/");
  url_error("https://h\\x/");
  url_error("https://" + std::string(64, 'a') + ".com/");
  EXPECT_TRUE(parse_url("https://" + std::string(63, 'a') + ".com/").has_value());
}

TEST(Url, Ipv4Literal) {
  Url u = ok_url("https://127.0.0.1:8443/x");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_TRUE(u.host_is_ip);
  EXPECT_FALSE(u.host_is_ipv6);
  EXPECT_EQ(u.authority(), "127.0.0.1:8443");
  url_error("https://256.1.1.1/");
  url_error("https://127.1/");
  url_error("https://1.2.3.4.5/");
  url_error("https://0x7f.1/");
}

TEST(Url, Ipv6Literal) {
  Url u = ok_url("https://[::1]:8443/x");
  EXPECT_EQ(u.host, "::1");
  EXPECT_TRUE(u.host_is_ip);
  EXPECT_TRUE(u.host_is_ipv6);
  EXPECT_EQ(u.port, 8443);
  EXPECT_EQ(u.authority(), "[::1]:8443");
  Url d = ok_url("https://[2001:DB8::1]");
  EXPECT_EQ(d.host, "2001:db8::1");
  EXPECT_EQ(d.port, 443);
  EXPECT_EQ(d.authority(), "[2001:db8::1]");
  EXPECT_EQ(ok_url("https://[::ffff:127.0.0.1]/").host, "::ffff:127.0.0.1");
}

TEST(Url, Ipv6ZoneId) {
  Url u = ok_url("https://[fe80::1%25eth0]:8443/");
  EXPECT_EQ(u.host, "fe80::1%eth0");
  EXPECT_EQ(u.authority(), "[fe80::1]:8443");  // the zone is not sent in Host
  EXPECT_EQ(ok_url("https://[fe80::1%eth0]/").host, "fe80::1%eth0");
  url_error("https://[fe80::1%25]/");
  url_error("https://[fe80::1%25a/b]/");
}

TEST(Url, BadIpv6Refused) {
  url_error("https://[::1/");
  url_error("https://[::g]/");
  url_error("https://[]/");
  url_error("https://[::1]x/");
  url_error("https://[v1.abc]/");
  EXPECT_NE(url_error("https://::1/").find("brackets"), std::string::npos);
  EXPECT_NE(url_error("https://fe80::1:443/").find("brackets"), std::string::npos);
}

TEST(Url, OtherSchemesRefused) {
  EXPECT_NE(url_error("http://example.com/").find("only https:// URLs are probed (got 'http')"),
            std::string::npos);
  EXPECT_NE(url_error("HTTP://example.com/").find("(got 'HTTP')"), std::string::npos);
  EXPECT_NE(url_error("ftp://example.com/").find("'ftp'"), std::string::npos);
  url_error("wss://example.com/");
}

TEST(Url, MissingSchemeSuggestsHttps) {
  std::string e = url_error("example.com/path");
  EXPECT_NE(e.find("https://example.com/path"), std::string::npos) << e;
  e = url_error("example.com:8443");
  EXPECT_NE(e.find("https://example.com:8443"), std::string::npos) << e;
  url_error("//example.com/");
  url_error("https:/example.com/");
  url_error("https:example.com");
  url_error("");
}

TEST(Url, UserinfoRefusedWithoutEchoingIt) {
  std::string e = url_error("https://user:s3cret@example.com/");
  EXPECT_NE(e.find("credentials"), std::string::npos) << e;
  EXPECT_EQ(e.find("s3cret"), std::string::npos) << e;
  url_error("https://user@example.com/");
  url_error("https://@example.com/");
  e = url_error("user:s3cret@example.com");
  EXPECT_EQ(e.find("s3cret"), std::string::npos) << e;
}

TEST(Url, PasswordWithSlashIsNotEchoedAsAPort) {
  for (const char* u : {"https://user:PW1/PW2@example.com/", "https://user:PW1?PW2@example.com/",
                        "https://user:PW1#PW2@example.com/", "user:PW1/PW2@example.com/"}) {
    std::string e = url_error(u);
    EXPECT_EQ(e.find("PW1"), std::string::npos) << u << ": " << e;
    EXPECT_EQ(e.find("PW2"), std::string::npos) << u << ": " << e;
  }
  EXPECT_NE(url_error("https://user:PW1/PW2@example.com/").find("credentials"), std::string::npos);
  // A real port with an '@' later in the path is no password.
  EXPECT_EQ(ok_url("https://example.com:8443/a@b").port, 8443);
}

TEST(RedactUrl, UserinfoBecomesStars) {
  EXPECT_EQ(redact_url("https://user:SECRETPW@127.0.0.1:1/"), "https://***@127.0.0.1:1/");
  EXPECT_EQ(redact_url("https://user@host/"), "https://***@host/");
  EXPECT_EQ(redact_url("https://@host/"), "https://***@host/");
  EXPECT_EQ(redact_url("HTTPS://u:p@host?q=1"), "HTTPS://***@host?q=1");
  EXPECT_EQ(redact_url("https://u:p@ss@host/x"), "https://***@host/x");  // the '@' before the host
}

TEST(RedactUrl, ValidUrlsAreUnchanged) {
  for (const char* u : {"https://example.com/", "https://h/a@b", "https://h:8443/p?mail=a@b.example#x@y",
                        "https://[::1]:8443/"}) {
    EXPECT_EQ(redact_url(u), u);
  }
}

TEST(RedactUrl, MalformedUrlsAreRedactedToo) {
  // Other schemes, a mangled authority, no scheme, a space: the password still never shows.
  EXPECT_EQ(redact_url("http://u:SECRET@h/"), "http://***@h/");
  EXPECT_EQ(redact_url("ftp://u:SECRET@h"), "ftp://***@h");
  EXPECT_EQ(redact_url("https://user:pa/SECRET@host/"), "https://***@host/");
  EXPECT_EQ(redact_url("https://u:SECRET@ho st/"), "https://***@ho st/");
  EXPECT_EQ(redact_url("u:SECRET@host/"), "***@host/");
  EXPECT_EQ(redact_url("https://u:SECRET@[::1/"), "https://***@[::1/");
  EXPECT_EQ(redact_url("not a url"), "not a url");
  EXPECT_EQ(redact_url(""), "");
}

TEST(RedactUrl, InFreeText) {
  EXPECT_EQ(redact_urls_in_text("The following argument was not expected: https://u:SECRET@h/"),
            "The following argument was not expected: https://***@h/");
  EXPECT_EQ(redact_urls_in_text("GET https://u:SECRET@h/x HTTP/1.1"), "GET https://***@h/x HTTP/1.1");
  EXPECT_EQ(redact_urls_in_text("url 'https://a:SECRET@h' and \"ftp://b:SECRET@g\""),
            "url 'https://***@h' and \"ftp://***@g\"");
  EXPECT_EQ(redact_urls_in_text("mail me at a@b.example, see https://h/a@b"),
            "mail me at a@b.example, see https://h/a@b");
  EXPECT_EQ(redact_urls_in_text(""), "");
}

TEST(Url, BadPortsRefused) {
  url_error("https://example.com:0/");
  url_error("https://example.com:65536/");
  url_error("https://example.com:99999999999999999999/");
  url_error("https://example.com:abc/");
  url_error("https://example.com:-1/");
  url_error("https://example.com:+443/");
  url_error("https://example.com:44 3/");
  url_error("https://[::1]:0/");
}

TEST(Url, EmptyHostRefused) {
  url_error("https://");
  url_error("https:///path");
  url_error("https://:8443/");
  url_error("https://?q");
}

TEST(Url, WhitespaceAndControlRefused) {
  url_error("https://example.com/a b");
  url_error(" https://example.com/");
  url_error("https://example.com/\t");
  url_error("https://example.com/\r\nX: y");
  url_error(std::string("https://example.com/\0x", 22));
  url_error("https://exa mple.com/");
  url_error("https://example.com/\x7f");
}

TEST(Url, LengthCapped) {
  EXPECT_TRUE(parse_url("https://h/" + std::string(4000, 'a')).has_value());
  EXPECT_NE(url_error("https://h/" + std::string(9000, 'a')).find("too long"), std::string::npos);
}

TEST(Url, HttpToken) {
  EXPECT_TRUE(is_http_token("GET"));
  EXPECT_TRUE(is_http_token("X-Custom_1!#$%&'*+.^`|~"));
  EXPECT_FALSE(is_http_token(""));
  EXPECT_FALSE(is_http_token("GET "));
  EXPECT_FALSE(is_http_token("A:B"));
  EXPECT_FALSE(is_http_token("A\r\nB"));
  EXPECT_FALSE(is_http_token("(x)"));
  EXPECT_FALSE(is_http_token("\xc3\xa4"));
}

// --connect-to

TEST(ConnectTo, AllFourParts) {
  auto r = parse_connect_to("Example.Test:443:127.0.0.1:8443");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->host1, "example.test");
  EXPECT_EQ(r->port1, 443);
  EXPECT_EQ(r->host2, "127.0.0.1");
  EXPECT_EQ(r->port2, 8443);
}

TEST(ConnectTo, EmptyPartsMatchAnyOrKeep) {
  auto r = parse_connect_to("::other.test:");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->host1, "");
  EXPECT_EQ(r->port1, 0);
  EXPECT_EQ(r->host2, "other.test");
  EXPECT_EQ(r->port2, 0);
  r = parse_connect_to(":::");
  ASSERT_TRUE(r.has_value()) << r.error().message;
}

TEST(ConnectTo, Ipv6InBrackets) {
  auto r = parse_connect_to("[2001:DB8::1]:443:[::1]:9443");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->host1, "2001:db8::1");
  EXPECT_EQ(r->host2, "::1");
  EXPECT_EQ(r->port2, 9443);
}

TEST(ConnectTo, RefusesBadForms) {
  EXPECT_FALSE(parse_connect_to("h:443:x").has_value());           // three parts
  EXPECT_FALSE(parse_connect_to("h:443:x:1:2").has_value());       // five
  EXPECT_FALSE(parse_connect_to("h:99999:x:1").has_value());       // port
  EXPECT_FALSE(parse_connect_to("h:443:x:0").has_value());         // port 0
  EXPECT_FALSE(parse_connect_to("[::1:443:x:1").has_value());      // bracket
  EXPECT_FALSE(parse_connect_to("h:443:bad host:1").has_value());  // space
  EXPECT_FALSE(parse_connect_to("h:443:ex_a$mple:1").has_value());
}

TEST(ConnectTo, FirstMatchWinsAndEmptyPartsKeepTheOriginal) {
  std::vector<ConnectToRule> rules{
      *parse_connect_to("other.test:443:10.0.0.1:1"),
      *parse_connect_to("example.test::127.0.0.1:"),
      *parse_connect_to("::127.0.0.2:9"),
  };
  auto to = apply_connect_to(rules, "example.test", 8443);
  ASSERT_TRUE(to.has_value());
  EXPECT_EQ(to->first, "127.0.0.1");
  EXPECT_EQ(to->second, 8443);
  to = apply_connect_to(rules, "third.test", 443);
  ASSERT_TRUE(to.has_value());
  EXPECT_EQ(to->first, "127.0.0.2");
  EXPECT_EQ(to->second, 9);
  EXPECT_FALSE(apply_connect_to({rules[0]}, "other.test", 8443).has_value());  // port differs
}

// --resolve

TEST(Resolve, Ipv4) {
  auto r = parse_resolve("Example.com:443:127.0.0.1");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->host, "example.com");
  EXPECT_EQ(r->port, 443);
  ASSERT_EQ(r->addresses.size(), 1u);
  EXPECT_EQ(r->addresses[0], "127.0.0.1");
}

TEST(Resolve, Ipv6BracketedAndBare) {
  auto r = parse_resolve("h:8443:[::1]");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->port, 8443);
  EXPECT_EQ(r->addresses, std::vector<std::string>{"::1"});
  r = parse_resolve("h:8443:::1");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->addresses, std::vector<std::string>{"::1"});
  r = parse_resolve("h:443:2001:DB8::5");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->addresses, std::vector<std::string>{"2001:db8::5"});
}

TEST(Resolve, SeveralAddresses) {
  auto r = parse_resolve("h:443:10.0.0.1,[::1],10.0.0.2");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->addresses, (std::vector<std::string>{"10.0.0.1", "::1", "10.0.0.2"}));
}

TEST(Resolve, WildcardHost) {
  auto r = parse_resolve("*:8443:127.0.0.1");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->host, "*");
  EXPECT_EQ(r->port, 8443);
}

TEST(Resolve, BracketedHostAndPlusPrefix) {
  auto r = parse_resolve("[::1]:443:127.0.0.1");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->host, "::1");
  r = parse_resolve("+h.example:443:127.0.0.1");
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->host, "h.example");
}

TEST(Resolve, Refused) {
  for (const char* bad : {"",
                          "h",
                          "h:443",
                          "h:443:",
                          ":443:127.0.0.1",
                          "h::127.0.0.1",
                          "h:0:127.0.0.1",
                          "h:65536:127.0.0.1",
                          "h:abc:127.0.0.1",
                          "h:443:localhost",
                          "h:443:256.0.0.1",
                          "h:443:127.0.0.1,",
                          "h:443:,127.0.0.1",
                          "h:443:[::1",
                          "h:443:[127.0.0.1]",
                          "h:443:::g",
                          "h:443:127.0.0.1 ",
                          "h :443:127.0.0.1",
                          "-h:443",
                          "**:443:127.0.0.1",
                          "h/x:443:127.0.0.1"}) {
    auto r = parse_resolve(bad);
    EXPECT_FALSE(r.has_value()) << "accepted: " << bad;
    if (!r) {
      EXPECT_FALSE(r.error().message.empty());
    }
  }
}

TEST(Resolve, MessagesSayWhatIsWrong) {
  EXPECT_NE(parse_resolve("h:99999:127.0.0.1").error().message.find("port"), std::string::npos);
  EXPECT_NE(parse_resolve("h:443:nope").error().message.find("nope"), std::string::npos);
  EXPECT_NE(parse_resolve("h:443").error().message.find("HOST:PORT:ADDRESS"), std::string::npos);
}

// -H

TEST(Header, NameValue) {
  auto h = parse_header_option("X-Test: hello world");
  ASSERT_TRUE(h.has_value()) << h.error().message;
  EXPECT_EQ(h->first, "X-Test");
  EXPECT_EQ(h->second, "hello world");
  h = parse_header_option("Accept:\t application/json \t");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->second, "application/json");
  h = parse_header_option("X-Url: https://a:b/c");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->second, "https://a:b/c");
}

TEST(Header, EmptyValueAllowed) {
  auto h = parse_header_option("X-Empty:");
  ASSERT_TRUE(h.has_value()) << h.error().message;
  EXPECT_EQ(h->first, "X-Empty");
  EXPECT_EQ(h->second, "");
  h = parse_header_option("X-Empty:   ");
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->second, "");
  h = parse_header_option("X-Empty;");  // curl's spelling of "send it empty"
  ASSERT_TRUE(h.has_value());
  EXPECT_EQ(h->first, "X-Empty");
  EXPECT_EQ(h->second, "");
}

TEST(Header, InjectionRefused) {
  EXPECT_FALSE(parse_header_option("X: a\r\nEvil: 1").has_value());
  EXPECT_FALSE(parse_header_option("X: a\nEvil: 1").has_value());
  EXPECT_FALSE(parse_header_option("X: a\rb").has_value());
  EXPECT_FALSE(parse_header_option(std::string("X: a\0b", 6)).has_value());
  EXPECT_FALSE(parse_header_option("X\r\n: a").has_value());
  EXPECT_FALSE(parse_header_option("X: a\r\n").has_value());
  EXPECT_NE(parse_header_option("X: a\r\nEvil: 1").error().message.find("inject"), std::string::npos);
}

TEST(Header, BadNamesRefused) {
  for (const char* bad : {"NoColon", ": value", "Bad Name: v", "Bad Name : v", "X-Foo : v", "(x): v",
                          "\xc3\xa4: v", "X: v\x01", "X;y"}) {
    EXPECT_FALSE(parse_header_option(bad).has_value()) << "accepted: " << bad;
  }
}

}  // namespace
}  // namespace mtls_probe
