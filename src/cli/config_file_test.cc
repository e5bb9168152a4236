// -K/--config: curl's config syntax, without files (a map stands for them) and without CLI11.
#include "config_file.h"

#include <gtest/gtest.h>

#include <map>

namespace mtls_probe::tool {
namespace {

// A few options as the command line defines them.
std::optional<OptionInfo> known(std::string_view name) {
  if (name == "--url") return OptionInfo{"", true, false, true};
  if (name == "-k" || name == "--insecure") return OptionInfo{"--insecure", false, false, false};
  if (name == "--cacert") return OptionInfo{"--cacert", true, false, false};
  if (name == "-m" || name == "--max-time") return OptionInfo{"--max-time", true, false, false};
  if (name == "-H" || name == "--header") return OptionInfo{"--header", true, false, false};
  if (name == "--pass") return OptionInfo{"--pass", true, false, false};
  if (name == "--grpc-health") return OptionInfo{"--grpc-health", true, true, false};
  return std::nullopt;
}

std::vector<std::string> words(std::string_view text) {
  auto parsed = parse_config_text(text, "f.conf", known);
  EXPECT_TRUE(parsed.has_value()) << (parsed ? "" : parsed.error());
  std::vector<std::string> out;
  if (parsed)
    for (auto& o : *parsed) out.push_back(o.word);
  return out;
}

std::string error_of(std::string_view text) {
  auto parsed = parse_config_text(text, "f.conf", known);
  EXPECT_FALSE(parsed.has_value());
  return parsed ? "" : parsed.error();
}

using Words = std::vector<std::string>;

TEST(ConfigFile, WithOrWithoutDashesShortAndLong) {
  EXPECT_EQ(words("--insecure\ninsecure\n-k\n"), (Words{"--insecure", "--insecure", "--insecure"}));
}

TEST(ConfigFile, ValueAfterWhitespaceEqualsOrColon) {
  EXPECT_EQ(words("cacert ca.pem\ncacert = ca.pem\ncacert=ca.pem\nmax-time: 5\n-m 7\n"),
            (Words{"--cacert=ca.pem", "--cacert=ca.pem", "--cacert=ca.pem", "--max-time=5", "--max-time=7"}));
}

TEST(ConfigFile, QuotedValuesTakeCurlsEscapes) {
  EXPECT_EQ(words(R"(cacert = "dir with space/ca.pem")"), (Words{"--cacert=dir with space/ca.pem"}));
  EXPECT_EQ(words(R"(header = "X-A: a\"b\\c\td\ne\rf\vg\q")"), (Words{"--header=X-A: a\"b\\c\td\ne\rf\vgq"}));
  EXPECT_EQ(words(R"(pass "")"), (Words{"--pass="}));
}

TEST(ConfigFile, UnquotedValueEndsAtWhitespaceAndMoreIsAnError) {
  EXPECT_EQ(words("cacert ca.pem   \t\n"), (Words{"--cacert=ca.pem"}));
  const std::string e = error_of("pass secret1 secret2\n");
  EXPECT_NE(e.find("f.conf:1:"), std::string::npos) << e;
  EXPECT_EQ(e.find("secret"), std::string::npos) << e;  // never the value
}

TEST(ConfigFile, CommentsBlankLinesAndCrlf) {
  EXPECT_EQ(words("# a comment\n\n   # indented\r\n\tinsecure\r\nurl = https://h.test:8443/x\r\n"),
            (Words{"--insecure", "https://h.test:8443/x"}));
}

TEST(ConfigFile, UnknownOptionNamesFileLineAndOption) {
  const std::string e = error_of("insecure\n\n# c\nremote-name-all\n");
  EXPECT_NE(e.find("f.conf:4:"), std::string::npos) << e;
  EXPECT_NE(e.find("--remote-name-all"), std::string::npos) << e;
}

TEST(ConfigFile, MissingValueExtraValueAndOpenQuote) {
  EXPECT_NE(error_of("insecure\ncacert\n").find("f.conf:2: --cacert needs a value"), std::string::npos);
  EXPECT_NE(error_of("insecure yes\n").find("f.conf:1: --insecure takes no value"), std::string::npos);
  const std::string e = error_of("pass \"open secret\n");
  EXPECT_NE(e.find("f.conf:1:"), std::string::npos) << e;
  EXPECT_EQ(e.find("secret"), std::string::npos) << e;
  EXPECT_EQ(words("grpc-health\ngrpc-health svc\n"), (Words{"--grpc-health", "--grpc-health=svc"}));
}

struct Files {
  std::map<std::string, std::string> text;
  ExpandContext context() const {
    ExpandContext c;
    c.lookup_for = [](const std::vector<ArgWord>&) -> OptionLookup { return known; };
    c.reader = [this](const std::string& path) -> Expected<std::string, std::string> {
      auto it = text.find(path);
      if (it == text.end()) return Unexpected{std::string("No such file or directory")};
      return it->second;
    };
    return c;
  }
};

Words texts(const std::vector<ArgWord>& w) {
  Words out;
  for (const auto& a : w) out.push_back(a.text + (a.from_config ? "@" : ""));
  return out;
}

TEST(ConfigExpansion, InsertedAtTheKsPlace) {
  Files f{{{"a.conf", "cacert a.pem\nmax-time 3\n"}}};
  auto w =
      expand_config_args({"--cacert", "x.pem", "-K", "a.conf", "-m", "9", "https://h.test"}, f.context());
  ASSERT_TRUE(w.has_value()) << w.error();
  EXPECT_EQ(texts(*w),
            (Words{"--cacert", "x.pem", "--cacert=a.pem@", "--max-time=3@", "-m", "9", "https://h.test"}));
  w = expand_config_args({"--config=a.conf"}, f.context());
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->size(), 2u);
  w = expand_config_args({"-Ka.conf"}, f.context());
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->size(), 2u);
}

TEST(ConfigExpansion, AValueThatLooksLikeKIsAValue) {
  Files f;
  auto w = expand_config_args({"-H", "-K", "--", "-K"}, f.context());
  ASSERT_TRUE(w.has_value()) << w.error();
  EXPECT_EQ(texts(*w), (Words{"-H", "-K", "--", "-K"}));
}

TEST(ConfigExpansion, NestsAndTheDepthIsBounded) {
  Files f{{{"outer", "insecure\nconfig inner\n"}, {"inner", "-m 2\n"}, {"loop", "-K loop\n"}}};
  auto w = expand_config_args({"-K", "outer"}, f.context());
  ASSERT_TRUE(w.has_value()) << w.error();
  EXPECT_EQ(texts(*w), (Words{"--insecure@", "--max-time=2@"}));
  w = expand_config_args({"-K", "loop"}, f.context());
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().find("nested more than"), std::string::npos) << w.error();
}

TEST(ConfigExpansion, UnreadableAndOversizedFiles) {
  Files f{{{"big", std::string(kMaxConfigBytes + 1, '#')}}};
  auto w = expand_config_args({"-K", "missing"}, f.context());
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().find("-K missing: No such file"), std::string::npos) << w.error();
  w = expand_config_args({"-K", "big"}, f.context());
  ASSERT_FALSE(w.has_value());
  EXPECT_NE(w.error().find("larger than"), std::string::npos) << w.error();
  EXPECT_FALSE(expand_config_args({"-K"}, f.context()).has_value());
}

TEST(ConfigExpansion, LastOccurrenceDecidesWhereASecretCameFrom) {
  Files f{{{"s.conf", "pass p1\n"}}};
  auto w = expand_config_args({"-K", "s.conf"}, f.context());
  ASSERT_TRUE(w.has_value());
  EXPECT_TRUE(last_from_config(*w, "--pass", 0));
  w = expand_config_args({"-K", "s.conf", "--pass", "p2"}, f.context());
  ASSERT_TRUE(w.has_value());
  EXPECT_FALSE(last_from_config(*w, "--pass", 0));
  w = expand_config_args({"-E", "c.pem:pw", "-K", "s.conf"}, f.context());
  ASSERT_TRUE(w.has_value());
  EXPECT_FALSE(last_from_config(*w, "--cert", 'E'));
}

}  // namespace
}  // namespace mtls_probe::tool
