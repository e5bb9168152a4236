// Unit tests of the text layout pieces: the report width, word wrap, DNs kept whole.
#include "mtls_probe/report/text_layout.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace mtls_probe::text {
namespace {

TEST(TextWidth, ColumnsWinsThenTheTerminalThenEighty) {
  EXPECT_EQ(choose_width("120", 200, true), 120u);
  EXPECT_EQ(choose_width(nullptr, 132, true), 132u);
  EXPECT_EQ(choose_width("", 132, true), 132u);
  EXPECT_EQ(choose_width(nullptr, std::nullopt, true), kDefaultWidth);
  EXPECT_EQ(choose_width(nullptr, std::nullopt, false), 80u);
}

TEST(TextWidth, AtMostEightyWhenNotATerminal) {
  EXPECT_EQ(choose_width("120", std::nullopt, false), 80u);
  EXPECT_EQ(choose_width("40", std::nullopt, false), 40u);
  EXPECT_EQ(choose_width(nullptr, 200, false), 80u);  // no terminal: its size does not count
}

TEST(TextWidth, BadColumnsIsIgnoredAndTinyWidthsAreRaised) {
  EXPECT_EQ(choose_width("wide", 100, true), 100u);
  EXPECT_EQ(choose_width("0", 100, true), 100u);
  EXPECT_EQ(choose_width("-5", 100, true), 100u);
  EXPECT_EQ(choose_width("90x", 100, true), 100u);
  EXPECT_EQ(choose_width("5", 100, true), kMinWidth);
  EXPECT_EQ(choose_width(nullptr, 3, true), kMinWidth);
}

TEST(TextWrap, BreaksAtSpacesWithinTheWidth) {
  const auto lines = wrap("the quick brown fox jumps over the lazy dog", 10, 10);
  ASSERT_EQ(lines, (std::vector<std::string>{"the quick", "brown fox", "jumps over", "the lazy", "dog"}));
  for (const auto& l : lines) EXPECT_LE(display_width(l), 10u) << l;
}

TEST(TextWrap, FirstLineHasItsOwnWidth) {
  const auto lines = wrap("aa bb cc dd", 2, 5);
  EXPECT_EQ(lines, (std::vector<std::string>{"aa", "bb cc", "dd"}));
}

TEST(TextWrap, AWordLongerThanTheLineStaysWholeOnItsOwnLine) {
  const auto lines = wrap("fingerprint AB:CD:EF:01:23:45:67:89 end", 12, 12);
  EXPECT_EQ(lines, (std::vector<std::string>{"fingerprint", "AB:CD:EF:01:23:45:67:89", "end"}));
}

TEST(TextWrap, NeverReturnsNoLine) {
  EXPECT_EQ(wrap("", 10, 10), (std::vector<std::string>{""}));
  EXPECT_EQ(wrap("   ", 10, 10), (std::vector<std::string>{""}));
}

TEST(TextWrap, CountsCodePointsNotBytes) {
  const auto lines = wrap("café café café", 9, 9);
  EXPECT_EQ(lines, (std::vector<std::string>{"café café", "café"}));
}

TEST(TextNoBreak, ADnIsNeverSplitAndPrintsWithSpaces) {
  const std::string dn = "CN=foo,O=Bar Baz";
  const auto lines = wrap("we sent " + no_break(dn) + ", issued by " + no_break("CN=Test Root CA"), 12, 12);
  EXPECT_EQ(lines,
            (std::vector<std::string>{"we sent", "CN=foo,O=Bar Baz,", "issued by", "CN=Test Root CA"}));
}

TEST(TextNoBreak, KeepTogetherGluesEveryOccurrenceOfEachPhrase) {
  const std::vector<std::string> dns = {"CN=Other CA,O=Example Corp", "CN=bob"};
  const std::string glued =
      keep_together("CN=bob from CN=Other CA,O=Example Corp; again CN=Other CA,O=Example Corp", dns);
  EXPECT_EQ(glued.find("CN=Other CA"), std::string::npos);  // its spaces are no-break spaces now
  const auto lines = wrap(glued, 20, 20);
  EXPECT_EQ(lines, (std::vector<std::string>{"CN=bob from", "CN=Other CA,O=Example Corp;", "again",
                                             "CN=Other CA,O=Example Corp"}));
  EXPECT_EQ(keep_together("no names here", dns), "no names here");
}

TEST(TextNoBreak, ALongDnAloneIsLeftWhole) {
  const std::string dn = "CN=a very long common name,OU=Platform Engineering,O=Example Corporation Ltd,C=GB";
  for (std::size_t w : {20u, 40u, 80u}) {
    const auto lines = wrap("issued by " + no_break(dn) + " (not trusted)", w, w);
    std::size_t whole = 0;
    for (const auto& l : lines) whole += l == dn;
    if (dn.size() > w) {
      EXPECT_EQ(whole, 1u) << w;
    }
    std::string joined;
    for (const auto& l : lines) joined += l + "\n";
    EXPECT_NE(joined.find(dn), std::string::npos) << joined;
  }
}

}  // namespace
}  // namespace mtls_probe::text
