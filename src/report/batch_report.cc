#include "mtls_probe/report/batch_report.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "mtls_probe/report/text_layout.h"

namespace mtls_probe {
namespace {

std::string pad(const std::string& s, std::size_t width) {
  const std::size_t c = text::display_width(s);
  return c >= width ? s : s + std::string(width - c, ' ');
}

std::string days(long n) {
  // days_left is any long: LONG_MIN cannot be negated.
  const long abs =
      n == std::numeric_limits<long>::min() ? std::numeric_limits<long>::max() : (n < 0 ? -n : n);
  return fmt::format("{} day{}", abs, abs == 1 ? "" : "s");
}

// "42s", "3m05s", "2h07m"
std::string duration_text(double seconds) {
  if (!(seconds >= 0) || seconds > 1e8) return "?";
  const auto s = static_cast<long long>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

}  // namespace

std::string expiry_note(const batch::ExpiryWarning& w) {
  const char* who = w.certificate == Side::server ? "server certificate" : "client certificate";
  if (w.days_left < 0) return fmt::format("{} expired {} ago", who, days(w.days_left));
  if (w.days_left == 0) return fmt::format("{} expires within a day", who);
  return fmt::format("{} expires in {}", who, days(w.days_left));
}

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
  if (r.expiry_warning) {
    j["expiry_warning"] = {
        {"certificate", r.expiry_warning->certificate == Side::server ? "server" : "client"},
        {"not_after", sanitize_utf8(r.expiry_warning->not_after)},
        {"days_left", r.expiry_warning->days_left}};
  } else {
    j["expiry_warning"] = nullptr;
  }
  return j;
}

std::string batch_row(const batch::BatchResult& r, const TextStyle& style, std::size_t label_width) {
  const std::string label = escape_terminal(r.line.name.empty() ? r.result.facts.url : r.line.name);
  const std::string mark = r.met ? "✓" : "✗";
  const std::string painted =
      style.color ? fmt::format("{}{}{}", r.met ? text::kGreen : text::kRed, mark, text::kReset) : mark;
  const auto& f = r.result.facts;
  const std::string ms = f.total_ms ? fmt::format("{:.0f} ms", *f.total_ms) : "-";
  std::string row = fmt::format("{} {} {:<22} {:<22} {:<8} {:>8}", painted, pad(label, label_width),
                                verdict_name(r.result.diagnosis.verdict), expected_text(r.line.expected),
                                f.tls_version.value_or("-"), ms);
  if (r.expiry_warning) row += "  ⚠ " + expiry_note(*r.expiry_warning);
  return row + "\n";
}

BatchFailure batch_failure(const batch::BatchResult& r) {
  BatchFailure b;
  b.label = escape_terminal(r.line.name.empty() ? r.result.facts.url : r.line.name);
  b.line = r.line.line;
  b.met = r.met;
  if (r.expiry_warning)
    b.expiry = fmt::format("{} (not after {})", expiry_note(*r.expiry_warning),
                           escape_terminal(r.expiry_warning->not_after));
  b.verdict = std::string(verdict_name(r.result.diagnosis.verdict));
  b.expected = expected_text(r.line.expected);
  b.summary = escape_terminal(r.result.diagnosis.summary);
  if (!r.result.diagnosis.hints.empty()) b.hint = escape_terminal(r.result.diagnosis.hints.front());
  return b;
}

std::string render_batch_failures(const std::vector<BatchFailure>& failures, const TextStyle& style) {
  std::size_t unmet = 0, warned = 0;
  for (const auto& b : failures) {
    if (!b.met)
      ++unmet;
    else if (!b.expiry.empty())
      ++warned;
  }
  const std::size_t width = style.width > 8 ? style.width - 4 : style.width;
  std::string out;
  if (unmet > 0) {
    out += fmt::format("\n{} unmet:\n", unmet);
    for (const auto& b : failures) {
      if (b.met) continue;
      const std::string head =
          fmt::format("✗ {} (line {}): {}, expected {}", b.label, b.line, b.verdict, b.expected);
      out += style.color ? fmt::format("{}{}{}\n", text::kRed, head, text::kReset) : head + "\n";
      for (const auto& l : text::wrap(b.summary, width, width)) out += "    " + l + "\n";
      if (!b.hint.empty()) {
        for (const auto& l : text::wrap("hint: " + b.hint, width, width)) out += "    " + l + "\n";
      }
      if (!b.expiry.empty()) {
        for (const auto& l : text::wrap("⚠ " + b.expiry, width, width)) out += "    " + l + "\n";
      }
    }
  }
  if (warned > 0) {
    out += fmt::format("\n{} met with a certificate warning:\n", warned);
    for (const auto& b : failures) {
      if (!b.met || b.expiry.empty()) continue;
      out += fmt::format("⚠ {} (line {}): {}\n", b.label, b.line, b.expiry);
    }
  }
  return out;
}

std::string batch_summary(std::size_t total, std::size_t met, double seconds,
                          std::optional<std::size_t> warned) {
  const std::string warnings =
      warned ? fmt::format(", {} certificate warning{}", *warned, *warned == 1 ? "" : "s") : "";
  return fmt::format("{} target{}: {} met, {} unmet{}, in {:.1f} s\n", total, total == 1 ? "" : "s", met,
                     total - met, warnings, seconds);
}

std::string batch_progress(std::size_t done, std::size_t total, double seconds) {
  std::string out = fmt::format("{}/{} done", done, total);
  if (done == 0 || !(seconds > 0)) return out;
  const double rate = static_cast<double>(done) / seconds;
  out += fmt::format(", {:.1f}/s", rate);
  if (done < total) out += ", ETA " + duration_text(static_cast<double>(total - done) / rate);
  return out;
}

}  // namespace mtls_probe
