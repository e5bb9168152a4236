#include "mtls_probe/batch/targets.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "mtls_probe/engine/url.h"

namespace mtls_probe::batch {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

std::vector<std::string_view> split_words(std::string_view s) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    if (j > i) words.push_back(s.substr(i, j - i));
    i = j;
  }
  return words;
}

std::optional<double> parse_seconds(std::string_view v) {
  double d = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  if (ec != std::errc() || end != v.data() + v.size() || !std::isfinite(d) || d <= 0 || d > 86400)
    return std::nullopt;
  return d;
}

bool is_tls_version(std::string_view v) {
  return v == "1.0" || v == "1.1" || v == "1.2" || v == "1.3";
}

// Checks the words after the URL; returns what is wrong, or nullopt.
std::optional<std::string> parse_words(const std::vector<std::string_view>& words, TargetLine& t) {
  std::set<std::string, std::less<>> seen;
  for (std::size_t w = 1; w < words.size(); ++w) {
    const std::string_view word = words[w];
    if (word.front() == '#') break;  // a trailing comment
    if (word == "no-cert") {
      if (t.overrides.no_cert) return "no-cert given twice";
      t.overrides.no_cert = true;
      continue;
    }
    const auto eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return fmt::format(
          "'{}' is not key=value (keys: expect, name, p12, cert, key, no-cert, cacert, "
          "servername, resolve, max-time, connect-timeout, method, tls-min, tls-max)",
          word);
    const std::string key(word.substr(0, eq));
    const std::string value(word.substr(eq + 1));
    if (value.empty()) return fmt::format("{}= needs a value", key);
    if (key != "resolve" && !seen.insert(key).second) return fmt::format("{}= given twice", key);
    TargetOverrides& o = t.overrides;
    if (key == "expect") {
      std::vector<Verdict> expected;  // assigned only when every name is a verdict
      std::size_t start = 0;
      for (;;) {
        const auto comma = value.find(',', start);
        const std::string_view name = std::string_view(value).substr(
            start, comma == std::string::npos ? std::string::npos : comma - start);
        const auto v = verdict_from_name(name);
        if (!v) return fmt::format("expect={}: '{}' is not a verdict", value, name);
        if (std::find(expected.begin(), expected.end(), *v) == expected.end()) expected.push_back(*v);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      t.expected = std::move(expected);
    } else if (key == "name") {
      t.name = value;
    } else if (key == "p12") {
      o.p12 = value;
    } else if (key == "cert") {
      o.cert = value;
    } else if (key == "key") {
      o.key = value;
    } else if (key == "cacert") {
      o.cacert = value;
    } else if (key == "servername") {
      o.servername = value;
    } else if (key == "resolve") {
      auto r = parse_resolve(value);
      if (!r) return fmt::format("resolve={}: {}", value, r.error().message);
      o.resolve.push_back(value);
    } else if (key == "max-time" || key == "connect-timeout") {
      auto s = parse_seconds(value);
      if (!s) return fmt::format("{}={} is not a number of seconds above 0 (at most 86400)", key, value);
      (key == "max-time" ? o.max_time : o.connect_timeout) = *s;
    } else if (key == "method") {
      if (!is_http_token(value)) return fmt::format("method={} is not an HTTP method token", value);
      o.method = value;
    } else if (key == "tls-min" || key == "tls-max") {
      if (!is_tls_version(value)) return fmt::format("{}={}: takes 1.0, 1.1, 1.2 or 1.3", key, value);
      (key == "tls-min" ? o.tls_min : o.tls_max) = value;
    } else {
      return fmt::format("unknown key '{}'", key);
    }
  }
  if (t.overrides.p12 && t.overrides.cert) return "give either p12= or cert=, not both";
  if (t.overrides.key && !t.overrides.cert) return "key= goes with cert=";
  if (t.overrides.no_cert && (t.overrides.p12 || t.overrides.cert))
    return "no-cert and an identity (p12=, cert=) exclude each other";
  return std::nullopt;
}

}  // namespace

std::vector<TargetLine> parse_targets(std::string_view text) {
  std::vector<TargetLine> out;
  int line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto nl = text.find('\n', pos);
    const std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    const auto words = split_words(line);
    if (words.empty() || words.front().front() == '#') continue;
    TargetLine t;
    t.line = line_no;
    t.index = out.size();
    t.url = std::string(words.front());
    if (line.find('\0') != std::string_view::npos) {
      t.error = "the line contains a NUL byte";
    } else if (auto url = parse_url(t.url); !url) {
      t.error = fmt::format("bad URL: {}", url.error().message);
    } else {
      t.error = parse_words(words, t);
    }
    if (t.error && t.name.empty()) {  // a malformed line keeps its label whatever the order of its words
      for (std::size_t w = 1; w < words.size() && words[w].front() != '#'; ++w) {
        if (words[w].starts_with("name=") && words[w].size() > 5) t.name = std::string(words[w].substr(5));
      }
    }
    out.push_back(std::move(t));
  }
  return out;
}

bool expectation_met(const std::vector<Verdict>& expected, Verdict got) {
  return std::find(expected.begin(), expected.end(), got) != expected.end();
}

Expected<Shard> parse_shard(std::string_view text) {
  const auto slash = text.find('/');
  auto number = [](std::string_view s) -> std::optional<std::size_t> {
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return n;
  };
  if (slash != std::string_view::npos) {
    auto k = number(text.substr(0, slash));
    auto n = number(text.substr(slash + 1));
    if (k && n && *n >= 1 && *k >= 1 && *k <= *n && *n <= 1'000'000) return Shard{*k, *n};
  }
  return Unexpected(Error{fmt::format("--shard takes K/N with 1 <= K <= N (got '{}')", text), ""});
}

}  // namespace mtls_probe::batch
