// -w/--write-out. curl's semantics where they exist: an unknown variable prints nothing and a warning, times
// are seconds since the start with six decimals, codes are three digits ("000" when there was none).
#include "mtls_probe/report/write_out.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "mtls_probe/engine/http.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {
namespace {

using nlohmann::json;

struct Value {
  json j;
  std::string text;
};

Value seconds(double ms) {
  return {json(ms / 1000.0), fmt::format("{:.6f}", ms / 1000.0)};
}
Value number(std::uint64_t n) {
  return {json(n), std::to_string(n)};
}
Value code(int n) {
  return {json(n), fmt::format("{:03d}", n)};
}
Value flag(bool b) {
  return {json(b), b ? "1" : "0"};
}
Value text(std::string s) {
  return {json(sanitize_utf8(s)), escape_terminal(s)};
}

// curl's times are cumulative from the start, each at least the one before (a phase not reached: 0, as
// curl). Ours are per phase: summed here, in the order the phases ran.
struct Times {
  double namelookup = 0, connect = 0, appconnect = 0, pretransfer = 0, starttransfer = 0, total = 0;
};

Times cumulative_times(const ProbeFacts& f) {
  Times t;
  double at = f.dns_ms.value_or(0);
  t.namelookup = f.dns_ms ? at : 0;
  at += f.connect_ms.value_or(0);
  t.connect = f.connect_ms ? at : 0;
  if (f.proxy) at += f.proxy->tls_ms.value_or(0) + f.proxy->tunnel_ms.value_or(0);
  at += f.tls_ms.value_or(0);
  t.appconnect = f.handshake_completed && f.tls_ms ? at : 0;
  t.pretransfer = f.request_sent ? at : 0;
  t.starttransfer = f.ttfb_ms ? at + *f.ttfb_ms : 0;
  t.total = std::max({f.total_ms.value_or(0), t.starttransfer, t.appconnect, t.connect, t.namelookup});
  return t;
}

// "127.0.0.1:8443" / "[::1]:8443" -> ("127.0.0.1", 8443) / ("::1", 8443).
std::pair<std::string, std::uint64_t> split_address(const std::optional<std::string>& a) {
  if (!a) return {"", 0};
  const std::size_t colon = a->rfind(':');
  if (colon == std::string::npos) return {*a, 0};
  std::string host = a->substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  std::uint64_t port = 0;
  for (char c : a->substr(colon + 1)) port = port * 10 + static_cast<std::uint64_t>(c - '0');
  return {host, port};
}

// What curl counts as header bytes: the status line and each field as HTTP/1.1 would carry them.
std::uint64_t header_bytes(const ProbeFacts& f) {
  if (!f.http_status) return 0;
  std::uint64_t n =
      fmt::format("HTTP/{} {} {}\r\n", f.http_version.value_or("1.1"), *f.http_status, f.http_reason).size();
  for (const auto& [name, value] : f.response_headers) n += name.size() + 2 + value.size() + 2;
  return n + 2;
}

std::vector<std::pair<std::string_view, Value>> variables(const ProbeResult& r) {
  const ProbeFacts& f = r.facts;
  const Times t = cumulative_times(f);
  const auto [remote_ip, remote_port] = split_address(f.connected_address);
  const std::string local_ip = f.local_ip.value_or("");
  const std::uint64_t local_port = f.local_port;
  const int status = f.http_status.value_or(0);
  const double total_s = t.total / 1000.0;
  const auto speed =
      total_s > 0 ? static_cast<std::uint64_t>(static_cast<double>(f.body_bytes) / total_s) : 0;
  const int connects = (f.connected_address ? 1 : 0) + (f.h2_refusal ? 1 : 0);
  const bool ok = r.diagnosis.verdict == Verdict::ok;
  return {
      {"http_code", code(status)},
      {"response_code", code(status)},
      {"http_version", text(f.http_version.value_or("0"))},
      {"time_namelookup", seconds(t.namelookup)},
      {"time_connect", seconds(t.connect)},
      {"time_appconnect", seconds(t.appconnect)},
      {"time_pretransfer", seconds(t.pretransfer)},
      {"time_starttransfer", seconds(t.starttransfer)},
      {"time_total", seconds(t.total)},
      {"remote_ip", text(remote_ip)},
      {"remote_port", number(remote_port)},
      {"local_ip", text(local_ip)},
      {"local_port", number(local_port)},
      {"size_download", number(f.body_bytes)},
      {"size_header", number(header_bytes(f))},
      {"size_request", number(f.request_sent ? f.request_head_bytes + f.request_body_bytes : 0)},
      {"size_upload", number(f.request_body_bytes)},
      {"speed_download", number(speed)},
      {"num_connects", number(static_cast<std::uint64_t>(connects))},
      {"num_headers", number(f.response_headers.size())},
      {"url_effective", text(f.url)},
      {"scheme", text("https")},
      {"exitcode", number(static_cast<std::uint64_t>(exit_code(r.diagnosis.verdict)))},
      {"errormsg", text(ok ? "" : r.diagnosis.summary)},
      {"content_type", text(response_header(f, "content-type").value_or(""))},
      {"ssl_verify_result", number(static_cast<std::uint64_t>(f.verify_code))},
      {"proxy_used", flag(f.proxy && f.proxy->tunnel_established)},
      // Ours.
      {"verdict", text(std::string(verdict_name(r.diagnosis.verdict)))},
      {"summary", text(r.diagnosis.summary)},
      {"tls_version", text(f.tls_version.value_or(""))},
      {"cipher", text(f.cipher.value_or(""))},
      {"alpn", text(f.alpn.value_or(""))},
      {"client_cert_requested", flag(f.client_cert_requested)},
      {"client_cert_sent", flag(f.client_cert_sent)},
      {"body_file", text(f.body_file)},
      {"max_filesize_exceeded", flag(f.max_filesize_exceeded || f.oversize_content_length)},
  };
}

// The values of every response header named `name`, joined with ", " (curl's %header{}).
std::optional<std::string> header_values(const ProbeFacts& f, std::string_view name) {
  std::optional<std::string> out;
  auto lower = [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); };
  for (const auto& [n, v] : f.response_headers) {
    const bool same =
        n.size() == name.size() &&
        std::equal(n.begin(), n.end(), name.begin(), [&](char a, char b) { return lower(a) == lower(b); });
    if (!same) continue;
    out = out ? *out + ", " + v : v;
  }
  return out;
}

class Expander {
 public:
  Expander(const ProbeResult& r, WriteOutStream start, bool lock) : r_(r), stream_(start), lock_(lock) {}

  WriteOut run(std::string_view fmt) {
    for (std::size_t i = 0; i < fmt.size();) i = step(fmt, i);
    return std::move(out_);
  }

 private:
  // Handles what starts at fmt[i]; returns where the next thing starts.
  std::size_t step(std::string_view fmt, std::size_t i) {
    const char c = fmt[i];
    const char next = i + 1 < fmt.size() ? fmt[i + 1] : '\0';
    if (c == '\\') {
      const char* esc = next == 'n'    ? "\n"
                        : next == 't'  ? "\t"
                        : next == 'r'  ? "\r"
                        : next == '\\' ? "\\"
                                       : nullptr;
      if (esc == nullptr) {
        emit("\\");
        return i + 1;
      }
      emit(esc);
      return i + 2;
    }
    if (c != '%') {
      const std::size_t end = std::min(fmt.find_first_of("%\\", i), fmt.size());
      emit(fmt.substr(i, end - i));
      return end;
    }
    if (next == '%') {
      emit("%");
      return i + 2;
    }
    constexpr std::string_view kHeader = "header{";
    if (next == '{' || fmt.substr(i + 1, kHeader.size()) == kHeader) {
      const std::size_t open = fmt.find('{', i);
      const std::size_t close = fmt.find('}', open);
      if (close != std::string_view::npos) {
        const std::string_view name = fmt.substr(open + 1, close - open - 1);
        next == '{' ? variable(name) : header(name);
        return close + 1;
      }
    }
    emit("%");  // a lone '%', or "%{" never closed: printed as it is
    return i + 1;
  }

  void variable(std::string_view name) {
    if (name == "stdout" || name == "stderr") {
      if (!lock_) stream_ = name == "stdout" ? WriteOutStream::out : WriteOutStream::err;
      return;
    }
    if (name == "json") {
      emit(write_out_variables(r_).dump(-1, ' ', false, json::error_handler_t::replace));
      return;
    }
    for (auto& [n, v] : variables(r_)) {
      if (n == name) {
        emit(v.text);
        return;
      }
    }
    out_.warnings.push_back(fmt::format("unknown --write-out variable: '{}'", escape_terminal(name)));
  }

  void header(std::string_view name) {
    if (auto v = header_values(r_.facts, name)) emit(escape_terminal(*v));
  }

  void emit(std::string_view s) {
    if (s.empty()) return;
    if (out_.pieces.empty() || out_.pieces.back().stream != stream_) out_.pieces.push_back({stream_, ""});
    out_.pieces.back().text += s;
  }

  const ProbeResult& r_;
  WriteOutStream stream_;
  bool lock_;
  WriteOut out_;
};

}  // namespace

nlohmann::json write_out_variables(const ProbeResult& result) {
  json j = json::object();
  for (auto& [name, value] : variables(result)) j[std::string(name)] = std::move(value.j);
  return j;
}

WriteOut render_write_out(const ProbeResult& result, std::string_view format, WriteOutStream start,
                          bool lock_stream) {
  return Expander(result, start, lock_stream).run(format);
}

}  // namespace mtls_probe
