#include "mtls_probe/report/batch_report.h"

#include <fmt/format.h>

#include "mtls_probe/report/text_layout.h"

namespace mtls_probe {
namespace {

constexpr const char* kGreen = "\033[32m";
constexpr const char* kRed = "\033[31m";
constexpr const char* kReset = "\033[0m";

std::string pad(const std::string& s, std::size_t width) {
  const std::size_t c = text::display_width(s);
  return c >= width ? s : s + std::string(width - c, ' ');
}

}  // namespace

std::string expected_text(const std::vector<Verdict>& expected) {
  std::string out;
  for (Verdict v : expected) {
    if (!out.empty()) out += ',';
    out += verdict_name(v);
  }
  return out;
}

nlohmann::json batch_json(const batch::BatchResult& r) {
  nlohmann::json j = to_json(r.result);
  j["line"] = r.line.line;
  j["name"] = r.line.name.empty() ? nlohmann::json(nullptr) : nlohmann::json(sanitize_utf8(r.line.name));
  nlohmann::json expected = nlohmann::json::array();
  for (Verdict v : r.line.expected) expected.push_back(std::string(verdict_name(v)));
  j["expected"] = std::move(expected);
  j["met"] = r.met;
  return j;
}

std::string batch_row(const batch::BatchResult& r, const TextStyle& style, std::size_t label_width) {
  const std::string label = escape_terminal(r.line.name.empty() ? r.result.facts.url : r.line.name);
  const std::string mark = r.met ? "✓" : "✗";
  const std::string painted = style.color ? fmt::format("{}{}{}", r.met ? kGreen : kRed, mark, kReset) : mark;
  const auto& f = r.result.facts;
  const std::string ms = f.total_ms ? fmt::format("{:.0f} ms", *f.total_ms) : "-";
  return fmt::format("{} {} {:<22} {:<22} {:<8} {:>8}\n", painted, pad(label, label_width),
                     verdict_name(r.result.diagnosis.verdict), expected_text(r.line.expected),
                     f.tls_version.value_or("-"), ms);
}

BatchFailure batch_failure(const batch::BatchResult& r) {
  BatchFailure b;
  b.label = escape_terminal(r.line.name.empty() ? r.result.facts.url : r.line.name);
  b.line = r.line.line;
  b.verdict = std::string(verdict_name(r.result.diagnosis.verdict));
  b.expected = expected_text(r.line.expected);
  b.summary = escape_terminal(r.result.diagnosis.summary);
  if (!r.result.diagnosis.hints.empty()) b.hint = escape_terminal(r.result.diagnosis.hints.front());
  return b;
}

std::string render_batch_failures(const std::vector<BatchFailure>& failures, const TextStyle& style) {
  if (failures.empty()) return "";
  std::string out = fmt::format("\n{} unmet:\n", failures.size());
  const std::size_t width = style.width > 8 ? style.width - 4 : style.width;
  for (const auto& b : failures) {
    const std::string head =
        fmt::format("✗ {} (line {}): {}, expected {}", b.label, b.line, b.verdict, b.expected);
    out += style.color ? fmt::format("{}{}{}\n", kRed, head, kReset) : head + "\n";
    for (const auto& l : text::wrap(b.summary, width, width)) out += "    " + l + "\n";
    if (!b.hint.empty()) {
      for (const auto& l : text::wrap("hint: " + b.hint, width, width)) out += "    " + l + "\n";
    }
  }
  return out;
}

std::string batch_summary(std::size_t total, std::size_t met, double seconds) {
  return fmt::format("{} target{}: {} met, {} unmet, in {:.1f} s\n", total, total == 1 ? "" : "s", met,
                     total - met, seconds);
}

}  // namespace mtls_probe
