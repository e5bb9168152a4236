#include "redirect.h"

#include <gtest/gtest.h>

namespace mtls_probe::tool {
namespace {

// RFC 3986 section 5.4.1, on an https base.
TEST(Redirect, ResolvesReferencesAsRfc3986) {
  const std::string base = "https://a/b/c/d;p?q";
  EXPECT_EQ(resolve_reference(base, "g"), "https://a/b/c/g");
  EXPECT_EQ(resolve_reference(base, "./g"), "https://a/b/c/g");
  EXPECT_EQ(resolve_reference(base, "g/"), "https://a/b/c/g/");
  EXPECT_EQ(resolve_reference(base, "/g"), "https://a/g");
  EXPECT_EQ(resolve_reference(base, "//g"), "https://g");
  EXPECT_EQ(resolve_reference(base, "?y"), "https://a/b/c/d;p?y");
  EXPECT_EQ(resolve_reference(base, "g?y"), "https://a/b/c/g?y");
  EXPECT_EQ(resolve_reference(base, "#s"), "https://a/b/c/d;p?q");  // the fragment is dropped
  EXPECT_EQ(resolve_reference(base, "g#s"), "https://a/b/c/g");
  EXPECT_EQ(resolve_reference(base, ""), "https://a/b/c/d;p?q");
  EXPECT_EQ(resolve_reference(base, "."), "https://a/b/c/");
  EXPECT_EQ(resolve_reference(base, ".."), "https://a/b/");
  EXPECT_EQ(resolve_reference(base, "../g"), "https://a/b/g");
  EXPECT_EQ(resolve_reference(base, "../.."), "https://a/");
  EXPECT_EQ(resolve_reference(base, "../../../g"), "https://a/g");
  EXPECT_EQ(resolve_reference(base, "/./g"), "https://a/g");
  EXPECT_EQ(resolve_reference(base, "g;x=1/../y"), "https://a/b/c/y");
  EXPECT_EQ(resolve_reference(base, "https://other:8443/x#frag"), "https://other:8443/x");
  EXPECT_EQ(resolve_reference("https://h:1/", "http://h:2/p"), "http://h:2/p");
  EXPECT_EQ(resolve_reference("https://h:1", "x"), "https://h:1/x");  // a base without a path
}

TEST(Redirect, MethodRulesAsCurl) {
  EXPECT_EQ(method_after_redirect(301, "POST"), "GET");
  EXPECT_EQ(method_after_redirect(302, "POST"), "GET");
  EXPECT_EQ(method_after_redirect(302, "PUT"), "PUT");
  EXPECT_EQ(method_after_redirect(303, "PUT"), "GET");
  EXPECT_EQ(method_after_redirect(303, "HEAD"), "HEAD");
  EXPECT_EQ(method_after_redirect(307, "POST"), "POST");
  EXPECT_EQ(method_after_redirect(308, "DELETE"), "DELETE");
}

ProbeFacts redirected(int status, std::string location) {
  ProbeFacts f;
  f.http_status = status;
  f.response_headers = {{"Location", std::move(location)}};
  return f;
}

TEST(Redirect, PlansTheNextHop) {
  RedirectPlan p = plan_redirect(redirected(302, "/login?x=1#top"), "https://h:8443/a/b", 0, 50);
  EXPECT_EQ(p.kind, RedirectPlan::Kind::follow);
  EXPECT_EQ(p.next_url, "https://h:8443/login?x=1");
  EXPECT_EQ(p.status, 302);
  EXPECT_EQ(plan_redirect(redirected(200, "/x"), "https://h/", 0, 50).kind, RedirectPlan::Kind::none);
  EXPECT_EQ(plan_redirect(redirected(304, "/x"), "https://h/", 0, 50).kind, RedirectPlan::Kind::none);
  ProbeFacts no_location;
  no_location.http_status = 301;
  EXPECT_EQ(plan_redirect(no_location, "https://h/", 0, 50).kind, RedirectPlan::Kind::none);
}

TEST(Redirect, MaxRedirsAsCurl) {
  const ProbeFacts f = redirected(301, "https://h/next");
  EXPECT_EQ(plan_redirect(f, "https://h/", 2, 3).kind, RedirectPlan::Kind::follow);
  EXPECT_EQ(plan_redirect(f, "https://h/", 3, 3).kind, RedirectPlan::Kind::too_many);
  EXPECT_EQ(plan_redirect(f, "https://h/", 0, 0).kind, RedirectPlan::Kind::too_many);
  EXPECT_EQ(plan_redirect(f, "https://h/", 100000, -1).kind, RedirectPlan::Kind::follow);  // -1: no limit
}

TEST(Redirect, PlainHttpAndOtherSchemesAreNotFollowed) {
  EXPECT_EQ(plan_redirect(redirected(302, "HTTP://h/"), "https://h/", 0, 50).kind,
            RedirectPlan::Kind::plain_http);
  const RedirectPlan ftp = plan_redirect(redirected(302, "ftp://h/"), "https://h/", 0, 50);
  EXPECT_EQ(ftp.kind, RedirectPlan::Kind::unusable);
  EXPECT_FALSE(ftp.problem.empty());
  const RedirectPlan secret = plan_redirect(redirected(302, "https://u:hunter2@h/"), "https://h/", 0, 50);
  EXPECT_EQ(secret.kind, RedirectPlan::Kind::unusable);
  for (const std::string& shown : {secret.location, secret.next_url, secret.problem})
    EXPECT_EQ(shown.find("hunter2"), std::string::npos) << shown;
}

RawProbeArgs first_args() {
  RawProbeArgs raw;
  raw.url = "https://a.example:8443/start";
  raw.servername = "sni.example";
  raw.data = "x=1";
  raw.headers = {"Authorization: Bearer t", "cookie: s=1", "X-Trace: 7"};
  return raw;
}

TEST(Redirect, PostTurnsGetWithoutItsBodyOn302) {
  const RawProbeArgs first = first_args();
  RedirectPlan plan{RedirectPlan::Kind::follow, 302, "/x", "https://a.example:8443/x", ""};
  bool dropped = true;
  const RawProbeArgs next = next_hop_args(first, first, plan, dropped);
  EXPECT_EQ(next.url, "https://a.example:8443/x");
  EXPECT_EQ(effective_method(next), "GET");
  EXPECT_FALSE(next.data);
  EXPECT_FALSE(dropped);
  EXPECT_EQ(next.headers, first.headers);  // same host and port: every header goes on
  EXPECT_EQ(next.servername, "sni.example");
}

TEST(Redirect, Post307KeepsMethodAndBody) {
  const RawProbeArgs first = first_args();
  RedirectPlan plan{RedirectPlan::Kind::follow, 307, "/x", "https://a.example:8443/x", ""};
  bool dropped = false;
  const RawProbeArgs next = next_hop_args(first, first, plan, dropped);
  EXPECT_EQ(effective_method(next), "POST");
  EXPECT_EQ(next.data, std::optional<std::string>("x=1"));
}

TEST(Redirect, AnotherHostGetsNoCredentialHeadersNorServername) {
  const RawProbeArgs first = first_args();
  for (const std::string url : {"https://b.example:8443/x", "https://a.example:9443/x"}) {
    RedirectPlan plan{RedirectPlan::Kind::follow, 308, url, url, ""};
    bool dropped = false;
    const RawProbeArgs next = next_hop_args(first, first, plan, dropped);
    EXPECT_TRUE(dropped) << url;
    EXPECT_EQ(next.headers, std::vector<std::string>{"X-Trace: 7"}) << url;
  }
  RedirectPlan other{RedirectPlan::Kind::follow, 302, "", "https://b.example:8443/x", ""};
  bool dropped = false;
  EXPECT_EQ(next_hop_args(first, first, other, dropped).servername, "");
  // Back on the first host, the headers go out again.
  RawProbeArgs on_b = next_hop_args(first, first, other, dropped);
  RedirectPlan back{RedirectPlan::Kind::follow, 302, "", "https://a.example:8443/y", ""};
  EXPECT_EQ(next_hop_args(first, on_b, back, dropped).headers, first.headers);
  EXPECT_FALSE(dropped);
}

TEST(Redirect, CredentialHeaderNames) {
  EXPECT_TRUE(is_credential_header("AUTHORIZATION: x"));
  EXPECT_TRUE(is_credential_header("Cookie;"));
  EXPECT_TRUE(is_credential_header("cookie:"));
  EXPECT_FALSE(is_credential_header("Cookie2: x"));
  EXPECT_FALSE(is_credential_header("X-Authorization: x"));
}

}  // namespace
}  // namespace mtls_probe::tool
