// The JUnit printer: XML escaping of every special character, control byte and invalid UTF-8, and a document
// that an XML parser (expat, when installed) accepts, with the counts, names and texts round-tripping.
#include "mtls_probe/report/batch_junit.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#ifdef MTLS_PROBE_HAVE_EXPAT
#include <expat.h>
#endif

namespace mtls_probe {
namespace {

TEST(JunitEscape, SpecialCharactersInAttributesAndText) {
  EXPECT_EQ(xml_escape("a&b<c>d\"e'f", true), "a&amp;b&lt;c&gt;d&quot;e&apos;f");
  EXPECT_EQ(xml_escape("a&b<c>d\"e'f", false), "a&amp;b&lt;c&gt;d\"e'f");
  EXPECT_EQ(xml_escape("]]>", false), "]]&gt;");
  EXPECT_EQ(xml_escape("&amp;", true), "&amp;amp;");  // escaped again: the text is data, not markup
}

TEST(JunitEscape, WhitespaceControls) {
  EXPECT_EQ(xml_escape("a\tb\nc\rd", true), "a&#9;b&#10;c&#13;d");
  EXPECT_EQ(xml_escape("a\tb\nc\rd", false), "a\tb\nc&#13;d");
}

TEST(JunitEscape, EveryOtherControlByteIsReplacedVisibly) {
  for (int b = 0; b < 0x20; ++b) {
    if (b == '\t' || b == '\n' || b == '\r') continue;
    const std::string in = std::string("x") + static_cast<char>(b) + "y";
    for (bool attr : {true, false}) {
      const std::string out = xml_escape(in, attr);
      for (char c : out) EXPECT_GE(static_cast<unsigned char>(c), 0x20u) << b;
      char want[8];
      std::snprintf(want, sizeof want, "\\x%02x", b);
      EXPECT_EQ(out, std::string("x") + want + "y") << b;
    }
  }
  EXPECT_EQ(xml_escape(std::string("a\x7f"), false), "a\\x7f");
  EXPECT_EQ(xml_escape("\xc2\x85\xc2\x9b", false), "\\u{0085}\\u{009B}");  // C1: NEL, CSI
  EXPECT_EQ(xml_escape(std::string("\0", 1), true), "\\x00");
}

TEST(JunitEscape, InvalidUtf8AndNonCharacters) {
  EXPECT_EQ(xml_escape("a\xff"
                       "b",
                       false),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(xml_escape("\xed\xa0\x80", false).find('\xed'), std::string::npos);  // a surrogate
  EXPECT_EQ(xml_escape("\xef\xbf\xbe\xef\xbf\xbf", false), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(xml_escape("caf\xc3\xa9 \xf0\x9f\x94\x92", true), "caf\xc3\xa9 \xf0\x9f\x94\x92");  // kept
}

// A hostile name: every byte 0x01..0x7f, an invalid sequence and markup.
std::string hostile() {
  std::string s = "evil ";
  for (int b = 1; b < 0x80; ++b) s += static_cast<char>(b);
  s += "\xff\xfe ]]> <!-- &amp; \xc2\x85";
  return s;
}

std::vector<JunitCase> sample_cases() {
  JunitCase ok;
  ok.name = "orders";
  ok.url = "https://api.example/orders";
  ok.line = 2;
  ok.seconds = 0.0125;
  ok.met = true;
  ok.verdict = ok.expected = "ok";
  JunitCase bad;
  bad.name = hostile();
  bad.url = "https://admin.example/";
  bad.line = 5;
  bad.seconds = 1.5;
  bad.verdict = "client-cert-required";
  bad.expected = "ok";
  bad.exit_code = 8;
  bad.summary = "The server <admin> wants a \"client\" certificate & none was sent.\x1b[2J";
  bad.details = "expected ok, got client-cert-required\n\nTLS   alert certificate_required\nhint: x < y\x01";
  JunitCase warn = ok;
  warn.name = "soon";
  warn.line = 7;
  warn.expiry = batch::ExpiryWarning{Side::client, "2027-01-02T03:04:05Z", 12};
  return {ok, bad, warn};
}

TEST(Junit, DocumentShape) {
  const std::string xml = render_junit(sample_cases(), JunitRun{2.345, "2026-12-02T01:02:03"});
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites ", 0), 0u);
  EXPECT_NE(
      xml.find("<testsuite name=\"mtls-probe batch\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"0\" "
               "time=\"2.345\" timestamp=\"2026-12-02T01:02:03\">"),
      std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<testcase name=\"orders\" classname=\"mtls-probe.batch\" time=\"0.013\">"),
            std::string::npos);
  EXPECT_NE(
      xml.find("<failure message=\"The server &lt;admin&gt; wants a &quot;client&quot; certificate &amp; "
               "none was sent.\\x1b[2J\" type=\"client-cert-required\">"),
      std::string::npos)
      << xml;
  EXPECT_NE(xml.find("<system-out>warning: client certificate expires in 12 days (not after "
                     "2027-01-02T03:04:05Z)</system-out>"),
            std::string::npos);
  EXPECT_NE(xml.find("<property name=\"expiry_warning.days_left\" value=\"12\"/>"), std::string::npos);
  EXPECT_EQ(xml.back(), '\n');
  for (char c : xml) {
    const auto u = static_cast<unsigned char>(c);
    EXPECT_TRUE(u >= 0x20 || c == '\n' || c == '\t') << static_cast<int>(u);
  }
  // An empty run is still a document.
  const std::string empty = render_junit({}, JunitRun{});
  EXPECT_NE(empty.find("tests=\"0\" failures=\"0\""), std::string::npos);
  EXPECT_EQ(empty.find("timestamp"), std::string::npos);
}

#ifdef MTLS_PROBE_HAVE_EXPAT
struct Parsed {
  std::vector<std::string> path;  // element stack
  std::vector<std::map<std::string, std::string>> testcases;
  std::map<std::string, std::string> suite;
  int suites = 0;
  std::vector<std::string> failure_messages, failure_texts, system_out;
  std::string* text = nullptr;
};

void on_start(void* data, const XML_Char* name, const XML_Char** attrs) {
  auto* p = static_cast<Parsed*>(data);
  std::map<std::string, std::string> a;
  for (int i = 0; attrs[i] != nullptr; i += 2) a[attrs[i]] = attrs[i + 1];
  const std::string n = name;
  if (n == "testsuite") {
    ++p->suites;
    p->suite = a;
  } else if (n == "testcase") {
    p->testcases.push_back(a);
  } else if (n == "failure") {
    p->failure_messages.push_back(a["message"]);
    p->failure_texts.emplace_back();
    p->text = &p->failure_texts.back();
  } else if (n == "system-out") {
    p->system_out.emplace_back();
    p->text = &p->system_out.back();
  }
  p->path.push_back(n);
}
void on_end(void* data, const XML_Char*) {
  auto* p = static_cast<Parsed*>(data);
  p->path.pop_back();
  p->text = nullptr;
}
void on_text(void* data, const XML_Char* s, int len) {
  auto* p = static_cast<Parsed*>(data);
  if (p->text != nullptr) p->text->append(s, static_cast<std::size_t>(len));
}

TEST(Junit, ExpatParsesItAndEveryValueRoundTrips) {
  const auto cases = sample_cases();
  const std::string xml = render_junit(cases, JunitRun{1.0, "2026-12-02T01:02:03"});
  XML_Parser parser = XML_ParserCreate("UTF-8");
  Parsed parsed;
  XML_SetUserData(parser, &parsed);
  XML_SetElementHandler(parser, on_start, on_end);
  XML_SetCharacterDataHandler(parser, on_text);
  const auto status = XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), 1);
  EXPECT_EQ(status, XML_STATUS_OK) << XML_ErrorString(XML_GetErrorCode(parser)) << " at line "
                                   << XML_GetCurrentLineNumber(parser) << "\n"
                                   << xml;
  XML_ParserFree(parser);
  ASSERT_EQ(status, XML_STATUS_OK);
  EXPECT_EQ(parsed.suites, 1);
  EXPECT_EQ(parsed.suite["name"], "mtls-probe batch");
  EXPECT_EQ(parsed.suite["tests"], "3");
  EXPECT_EQ(parsed.suite["failures"], "1");
  ASSERT_EQ(parsed.testcases.size(), 3u);
  EXPECT_EQ(parsed.testcases[0]["name"], "orders");
  for (auto& tc : parsed.testcases) EXPECT_EQ(tc["classname"], "mtls-probe.batch");
  // The hostile name arrives as xml_escape wrote it, decoded: printable, no markup lost.
  const std::string name = parsed.testcases[1]["name"];
  EXPECT_NE(name.find("!\"#$%&'()*+,-./0123456789:;<=>?@"), std::string::npos) << name;
  EXPECT_NE(name.find("\\x01\\x02"), std::string::npos);
  EXPECT_NE(name.find("\t\n\\x0b\\x0c\r"), std::string::npos);  // kept through attribute normalisation
  EXPECT_NE(name.find("]]> <!-- &amp; \\u{0085}"), std::string::npos);
  EXPECT_NE(name.find("\xEF\xBF\xBD"), std::string::npos);
  ASSERT_EQ(parsed.failure_messages.size(), 1u);
  EXPECT_EQ(parsed.failure_messages[0],
            "The server <admin> wants a \"client\" certificate & none was sent.\\x1b[2J");
  ASSERT_EQ(parsed.failure_texts.size(), 1u);
  EXPECT_EQ(parsed.failure_texts[0],
            "expected ok, got client-cert-required\n\nTLS   alert certificate_required\nhint: x < y\\x01");
  ASSERT_EQ(parsed.system_out.size(), 1u);
  EXPECT_NE(parsed.system_out[0].find("client certificate expires in 12 days"), std::string::npos);
}
#endif

}  // namespace
}  // namespace mtls_probe
