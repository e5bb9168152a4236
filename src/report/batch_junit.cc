#include "mtls_probe/report/batch_junit.h"

#include <fmt/format.h>

#include <cstdint>

#include "mtls_probe/report/batch_report.h"

namespace mtls_probe {
namespace {

// The code point at s[i] (s is valid UTF-8) and its length.
char32_t decode(std::string_view s, std::size_t i, std::size_t& len) {
  const auto b = static_cast<unsigned char>(s[i]);
  auto cont = [&](std::size_t k) {
    return static_cast<char32_t>(static_cast<unsigned char>(s[i + k]) & 0x3F);
  };
  if (b < 0x80) {
    len = 1;
    return b;
  }
  if (b < 0xE0 && i + 1 < s.size()) {
    len = 2;
    return (static_cast<char32_t>(b & 0x1F) << 6) | cont(1);
  }
  if (b < 0xF0 && i + 2 < s.size()) {
    len = 3;
    return (static_cast<char32_t>(b & 0x0F) << 12) | (cont(1) << 6) | cont(2);
  }
  if (i + 3 < s.size()) {
    len = 4;
    return (static_cast<char32_t>(b & 0x07) << 18) | (cont(1) << 12) | (cont(2) << 6) | cont(3);
  }
  len = s.size() - i;  // cannot happen after sanitize_utf8
  return 0xFFFD;
}

std::string seconds_text(double s) {
  return fmt::format("{:.3f}", s > 0 ? s : 0.0);
}

std::string property(std::string_view name, std::string_view value) {
  return fmt::format("      <property name=\"{}\" value=\"{}\"/>\n", xml_escape(name, true),
                     xml_escape(value, true));
}

}  // namespace

std::string xml_escape(std::string_view raw, bool attribute) {
  const std::string s = sanitize_utf8(raw);
  std::string out;
  out.reserve(s.size() + s.size() / 8);
  for (std::size_t i = 0; i < s.size();) {
    std::size_t len = 1;
    const char32_t c = decode(s, i, len);
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += attribute ? "&quot;" : "\""; break;
      case '\'': out += attribute ? "&apos;" : "'"; break;
      case '\t': out += attribute ? "&#9;" : "\t"; break;
      case '\n': out += attribute ? "&#10;" : "\n"; break;
      case '\r': out += "&#13;"; break;  // a literal CR would become LF in the parser's hands
      default:
        if (c < 0x20 || c == 0x7F) {
          out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
        } else if (c >= 0x80 && c <= 0x9F) {
          out += fmt::format("\\u{{{:04X}}}", static_cast<unsigned>(c));
        } else if (c == 0xFFFE || c == 0xFFFF) {
          out += "\xEF\xBF\xBD";
        } else {
          out.append(s, i, len);
        }
    }
    i += len;
  }
  return out;
}

JunitCase junit_case(const batch::BatchResult& r) {
  JunitCase c;
  c.url = r.result.facts.url.empty() ? r.line.url : r.result.facts.url;
  c.name = r.line.name.empty() ? c.url : r.line.name;
  c.line = r.line.line;
  c.seconds = r.result.facts.total_ms ? *r.result.facts.total_ms / 1000.0 : 0.0;
  c.met = r.met;
  c.verdict = std::string(verdict_name(r.result.diagnosis.verdict));
  c.expected = expected_text(r.line.expected);
  c.exit_code = exit_code(r.result.diagnosis.verdict);
  c.expiry = r.expiry_warning;
  if (!r.met) {
    c.summary = r.result.diagnosis.summary;
    c.details = fmt::format("expected {}, got {} (targets file line {})\n\n", c.expected, c.verdict, c.line) +
                render_text(r.result, TextStyle{false, 100});
  }
  return c;
}

std::string render_junit(const std::vector<JunitCase>& cases, const JunitRun& run) {
  std::size_t failures = 0;
  for (const auto& c : cases) failures += c.met ? 0 : 1;
  const std::string counts =
      fmt::format("tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{}\"", cases.size(),
                  failures, seconds_text(run.seconds));
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  out += fmt::format("<testsuites name=\"mtls-probe batch\" {}>\n", counts);
  out += fmt::format("  <testsuite name=\"mtls-probe batch\" {}{}>\n", counts,
                     run.timestamp.empty() ? "" : " timestamp=\"" + xml_escape(run.timestamp, true) + "\"");
  for (const auto& c : cases) {
    out += fmt::format("    <testcase name=\"{}\" classname=\"mtls-probe.batch\" time=\"{}\">\n",
                       xml_escape(c.name, true), seconds_text(c.seconds));
    out += "      <properties>\n";
    out += property("line", std::to_string(c.line));
    out += property("url", c.url);
    out += property("verdict", c.verdict);
    out += property("expected", c.expected);
    out += property("exit_code", std::to_string(c.exit_code));
    if (c.expiry) {
      out +=
          property("expiry_warning.certificate", c.expiry->certificate == Side::server ? "server" : "client");
      out += property("expiry_warning.not_after", c.expiry->not_after);
      out += property("expiry_warning.days_left", std::to_string(c.expiry->days_left));
    }
    out += "      </properties>\n";
    if (!c.met) {
      out +=
          fmt::format("      <failure message=\"{}\" type=\"{}\">{}</failure>\n", xml_escape(c.summary, true),
                      xml_escape(c.verdict, true), xml_escape(c.details, false));
    }
    if (c.expiry) {
      out += fmt::format("      <system-out>warning: {} (not after {})</system-out>\n",
                         xml_escape(expiry_note(*c.expiry), false), xml_escape(c.expiry->not_after, false));
    }
    out += "    </testcase>\n";
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

}  // namespace mtls_probe
