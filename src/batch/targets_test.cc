// The targets file: every key, every way a line can be malformed (each one a result of its own, with its
// line number, while the next lines still parse), comments, CRLF, indexes for --shard.
#include "mtls_probe/batch/targets.h"

#include <gtest/gtest.h>

#include <set>

namespace mtls_probe::batch {
namespace {

const std::string kUrl = "https://127.0.0.1:8443/";

TargetLine one(const std::string& line) {
  auto lines = parse_targets(line);
  EXPECT_EQ(lines.size(), 1u) << line;
  return lines.empty() ? TargetLine{} : lines.front();
}

std::string error_of(const std::string& line) {
  auto t = one(line);
  return t.error.value_or("<no error>");
}

TEST(TargetsParse, CommentsAndBlankLinesAreSkippedButCountAsLines) {
  const auto lines = parse_targets(
      "# a comment\n"
      "\n"
      "   \t\n"
      "https://a.example/ name=a\n"
      "  # indented comment\n"
      "https://b.example:8443/x?y=1\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].line, 4);
  EXPECT_EQ(lines[0].index, 0u);
  EXPECT_EQ(lines[0].url, "https://a.example/");
  EXPECT_EQ(lines[0].name, "a");
  EXPECT_EQ(lines[1].line, 6);
  EXPECT_EQ(lines[1].index, 1u);
  EXPECT_EQ(lines[1].url, "https://b.example:8443/x?y=1");
  EXPECT_FALSE(lines[0].error);
  EXPECT_FALSE(lines[1].error);
}

TEST(TargetsParse, EmptyTextHasNoTargets) {
  EXPECT_TRUE(parse_targets("").empty());
  EXPECT_TRUE(parse_targets("\n\n# only comments\n").empty());
}

TEST(TargetsParse, CrlfAndTabsAndNoFinalNewline) {
  const auto lines = parse_targets("https://a.example/\tname=a\r\n\r\nhttps://b.example/ expect=timeout");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0].name, "a");
  EXPECT_FALSE(lines[0].error);
  EXPECT_EQ(lines[1].line, 3);
  EXPECT_EQ(lines[1].expected, std::vector<Verdict>{Verdict::timeout});
}

TEST(TargetsParse, DefaultExpectationIsOk) {
  EXPECT_EQ(one(kUrl).expected, std::vector<Verdict>{Verdict::ok});
}

TEST(TargetsParse, ExpectTakesOneVerdictOrACommaList) {
  EXPECT_EQ(one(kUrl + " expect=client-cert-required").expected,
            std::vector<Verdict>{Verdict::client_cert_required});
  EXPECT_EQ(one(kUrl + " expect=client-cert-required,client-cert-rejected").expected,
            (std::vector<Verdict>{Verdict::client_cert_required, Verdict::client_cert_rejected}));
  EXPECT_EQ(one(kUrl + " expect=ok,ok,http-error").expected,
            (std::vector<Verdict>{Verdict::ok, Verdict::http_error}));
  EXPECT_EQ(one(kUrl + " expect=usage-error").expected, std::vector<Verdict>{Verdict::usage_error});
}

TEST(TargetsParse, UnknownVerdictIsAnError) {
  EXPECT_NE(error_of(kUrl + " expect=fine").find("'fine' is not a verdict"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " expect=ok,").find("'' is not a verdict"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " expect=OK").find("not a verdict"), std::string::npos);
  // A bad list leaves the default, not a part of the list.
  EXPECT_EQ(one(kUrl + " expect=timeout,fine").expected, std::vector<Verdict>{Verdict::ok});
}

TEST(TargetsParse, EveryKeyIsRead) {
  const auto t = one(kUrl +
                     " name=api p12=/id/a.p12 cacert=/ca.pem servername=api.internal resolve=a:443:127.0.0.1"
                     " resolve=b:443:::1 max-time=2.5 connect-timeout=1 method=POST tls-min=1.2 tls-max=1.3");
  ASSERT_FALSE(t.error) << *t.error;
  EXPECT_EQ(t.name, "api");
  EXPECT_EQ(t.overrides.p12, "/id/a.p12");
  EXPECT_EQ(t.overrides.cacert, "/ca.pem");
  EXPECT_EQ(t.overrides.servername, "api.internal");
  EXPECT_EQ(t.overrides.resolve, (std::vector<std::string>{"a:443:127.0.0.1", "b:443:::1"}));
  EXPECT_EQ(t.overrides.max_time, 2.5);
  EXPECT_EQ(t.overrides.connect_timeout, 1.0);
  EXPECT_EQ(t.overrides.method, "POST");
  EXPECT_EQ(t.overrides.tls_min, "1.2");
  EXPECT_EQ(t.overrides.tls_max, "1.3");
  EXPECT_FALSE(t.overrides.no_cert);

  const auto pem = one(kUrl + " cert=/id/a.pem key=/id/a.key");
  ASSERT_FALSE(pem.error);
  EXPECT_EQ(pem.overrides.cert, "/id/a.pem");
  EXPECT_EQ(pem.overrides.key, "/id/a.key");
  EXPECT_TRUE(one(kUrl + " no-cert").overrides.no_cert);
}

TEST(TargetsParse, TrailingCommentEndsTheWords) {
  const auto t = one(kUrl + " name=a # expect=timeout bogus");
  EXPECT_FALSE(t.error);
  EXPECT_EQ(t.name, "a");
  EXPECT_EQ(t.expected, std::vector<Verdict>{Verdict::ok});
}

TEST(TargetsParse, LabelIsNameElseUrl) {
  EXPECT_EQ(one(kUrl + " name=x").label(), "x");
  EXPECT_EQ(one(kUrl).label(), kUrl);
}

TEST(TargetsParse, BadUrlIsAnError) {
  EXPECT_NE(error_of("http://a.example/").find("bad URL"), std::string::npos);
  EXPECT_NE(error_of("a.example").find("bad URL"), std::string::npos);
  EXPECT_NE(error_of("https://user:pw@a.example/").find("bad URL"), std::string::npos);
  EXPECT_NE(error_of("https://a.example:99999/").find("bad URL"), std::string::npos);
  EXPECT_NE(error_of("expect=ok").find("bad URL"), std::string::npos);
}

TEST(TargetsParse, UnknownKeyAndNotKeyValueAreErrors) {
  EXPECT_NE(error_of(kUrl + " colour=red").find("unknown key 'colour'"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " insecure").find("is not key=value"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " =ok").find("is not key=value"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " name=").find("needs a value"), std::string::npos);
}

TEST(TargetsParse, RepeatedKeysAreErrorsButResolveRepeats) {
  EXPECT_NE(error_of(kUrl + " name=a name=b").find("given twice"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " expect=ok expect=timeout").find("given twice"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " no-cert no-cert").find("given twice"), std::string::npos);
  EXPECT_FALSE(one(kUrl + " resolve=a:1:127.0.0.1 resolve=b:2:127.0.0.1").error);
}

TEST(TargetsParse, ValuesAreChecked) {
  for (const char* bad : {"max-time=0", "max-time=-1", "max-time=abc", "max-time=1e9", "max-time=2s",
                          "connect-timeout=nan", "connect-timeout=inf"}) {
    EXPECT_NE(error_of(kUrl + " " + bad).find("not a number of seconds"), std::string::npos) << bad;
  }
  EXPECT_NE(error_of(kUrl + " tls-min=1.4").find("takes 1.0, 1.1, 1.2 or 1.3"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " tls-max=TLSv1.3").find("takes 1.0"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " method=GE(T").find("not an HTTP method token"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " resolve=nonsense").find("resolve=nonsense"), std::string::npos);
}

TEST(TargetsParse, ConflictingIdentityWordsAreErrors) {
  EXPECT_NE(error_of(kUrl + " p12=a.p12 cert=a.pem").find("not both"), std::string::npos);
  EXPECT_NE(error_of(kUrl + " key=a.key").find("key= goes with cert="), std::string::npos);
  EXPECT_NE(error_of(kUrl + " p12=a.p12 key=a.key").find("key= goes with cert="), std::string::npos);
  EXPECT_NE(error_of(kUrl + " no-cert p12=a.p12").find("exclude each other"), std::string::npos);
}

TEST(TargetsParse, MalformedLineKeepsItsNumberAndOthersStillParse) {
  const auto lines = parse_targets(
      "https://a.example/\n"
      "# comment\n"
      "https://b.example/ bogus=1\n"
      "ftp://c.example/\n"
      "https://d.example/ expect=timeout\n");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_FALSE(lines[0].error);
  ASSERT_TRUE(lines[1].error);
  EXPECT_EQ(lines[1].line, 3);
  EXPECT_EQ(lines[1].index, 1u);  // malformed lines are target lines: shards stay aligned
  ASSERT_TRUE(lines[2].error);
  EXPECT_EQ(lines[2].line, 4);
  EXPECT_FALSE(lines[3].error);
  EXPECT_EQ(lines[3].index, 3u);
  EXPECT_EQ(lines[3].expected, std::vector<Verdict>{Verdict::timeout});
}

TEST(TargetsParse, MalformedLineKeepsItsName) {
  EXPECT_EQ(one(kUrl + " bogus=1 name=x").name, "x");
  EXPECT_EQ(one("http://a.example/ name=y").name, "y");
  EXPECT_TRUE(one(kUrl + " bogus=1 name=x").error);
}

TEST(TargetsParse, NulByteIsAnError) {
  const std::string text = std::string("https://a.example/ name=a\0b\n", 28);
  const auto lines = parse_targets(text);
  ASSERT_EQ(lines.size(), 1u);
  ASSERT_TRUE(lines[0].error);
  EXPECT_NE(lines[0].error->find("NUL"), std::string::npos);
}

TEST(TargetsParse, ExpectationMet) {
  EXPECT_TRUE(expectation_met({Verdict::ok}, Verdict::ok));
  EXPECT_FALSE(expectation_met({Verdict::ok}, Verdict::timeout));
  EXPECT_TRUE(expectation_met({Verdict::client_cert_required, Verdict::client_cert_rejected},
                              Verdict::client_cert_rejected));
  EXPECT_FALSE(expectation_met({}, Verdict::ok));
}

TEST(TargetsShard, ParsesKOverN) {
  auto s = parse_shard("2/3");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->k, 2u);
  EXPECT_EQ(s->n, 3u);
  EXPECT_TRUE(parse_shard("1/1"));
  for (const char* bad : {"", "0/3", "4/3", "1/0", "a/b", "1/", "/3", "1-3", "1/3/5", " 1/3", "-1/3"}) {
    EXPECT_FALSE(parse_shard(bad)) << bad;
  }
}

TEST(TargetsShard, EveryIndexInExactlyOneShard) {
  for (std::size_t n = 1; n <= 7; ++n) {
    for (std::size_t index = 0; index < 50; ++index) {
      int owners = 0;
      for (std::size_t k = 1; k <= n; ++k) owners += Shard{k, n}.contains(index) ? 1 : 0;
      EXPECT_EQ(owners, 1) << index << " in " << n << " shards";
    }
  }
  EXPECT_TRUE((Shard{1, 3}.contains(0)));
  EXPECT_TRUE((Shard{2, 3}.contains(1)));
  EXPECT_TRUE((Shard{3, 3}.contains(5)));
}

}  // namespace
}  // namespace mtls_probe::batch
