// HTTP/1.1 over any byte stream: the request we send and an incremental, bounded response parser.
//
// The parser reads what a possibly hostile or broken server sends: every buffer is bounded (one
// incomplete line at most, capped by max_header_bytes or kMaxChunkLine), body bytes are counted and only
// the first body_keep are kept, and reading stops at max_body_bytes. Each input byte is looked at a
// constant number of times, whatever the split of the input.
#include "mtls_probe/engine/http.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "mtls_probe/base/ascii.h"
#include "mtls_probe/engine/url.h"

#ifndef MTLS_PROBE_VERSION
#define MTLS_PROBE_VERSION "0"
#endif

namespace mtls_probe {
namespace {

constexpr std::size_t kMaxChunkLine = 4096;  // chunk-size line with extensions
constexpr std::size_t kSnippet = 48;         // bytes of a bad line quoted in an error message

bool is_ows(char c) {
  return c == ' ' || c == '\t';
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

// Untrusted bytes for a message: printable ASCII as is, the rest escaped, at most kSnippet bytes.
std::string escape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < kSnippet; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '\r': out += "\\r"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (c >= 0x20 && c < 0x7f) {
          out += static_cast<char>(c);
        } else {
          out += fmt::format("\\x{:02x}", c);
        }
    }
  }
  if (s.size() > kSnippet) out += "...";
  return out;
}

// Field content: anything but NUL and CR (a bare CR is a classic smuggling vector); other bytes pass.
bool field_ok(std::string_view v) {
  return std::none_of(v.begin(), v.end(), [](char c) { return c == '\0' || c == '\r' || c == '\n'; });
}

}  // namespace

bool is_credential_header(std::string_view name) {
  for (std::string_view c : {"authorization", "proxy-authorization", "cookie", "set-cookie"}) {
    if (iequals(trim(name), c)) return true;
  }
  return false;
}

std::string header_trace_line(std::string_view name, std::string_view value) {
  return fmt::format("{}: {}", name, is_credential_header(name) ? std::string_view("<redacted>") : value);
}

std::vector<std::string> request_trace_lines(std::string_view request) {
  std::vector<std::string> lines;
  std::string_view head = request.substr(0, request.find("\r\n\r\n"));
  while (!head.empty()) {
    const std::size_t eol = head.find("\r\n");
    std::string_view line = head.substr(0, eol);
    const std::size_t colon = line.find(':');
    if (lines.empty() || colon == std::string_view::npos) {
      lines.emplace_back(line);  // the request line (or a header line without a colon: never built)
    } else if (is_credential_header(line.substr(0, colon))) {
      lines.push_back(header_trace_line(line.substr(0, colon), ""));
    } else {
      lines.emplace_back(line);  // as sent: "Name:value" and "Name;"-made "Name:" stay as they are
    }
    if (eol == std::string_view::npos) break;
    head.remove_prefix(eol + 2);
  }
  return lines;
}

std::string build_request(const HttpOptions& opts, const std::string& authority, const std::string& target) {
  const std::vector<RequestHeader>& user = opts.headers;
  auto user_has = [&](std::string_view name) {
    return std::any_of(user.begin(), user.end(),
                       [&](const RequestHeader& h) { return iequals(h.name, name); });
  };
  bool target_ok = !target.empty() && std::none_of(target.begin(), target.end(), [](char c) {
    return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
  });

  std::string out;
  out.reserve(256 + target.size() + (opts.data ? opts.data->size() : 0));
  out += is_http_token(opts.method) ? opts.method : std::string("GET");
  out += ' ';
  out += target_ok ? target : std::string("/");
  out += " HTTP/1.1\r\n";
  if (!user_has("Host")) out += "Host: " + authority + "\r\n";
  if (!user_has("User-Agent")) out += "User-Agent: mtls-probe/" MTLS_PROBE_VERSION "\r\n";
  if (!user_has("Accept")) out += "Accept: */*\r\n";
  if (opts.data) {
    if (!user_has("Content-Length")) out += fmt::format("Content-Length: {}\r\n", opts.data->size());
    if (!user_has("Content-Type")) out += "Content-Type: application/x-www-form-urlencoded\r\n";
  }
  if (!user_has("Connection")) out += "Connection: close\r\n";
  for (const auto& h : user) {
    // The front end parsed these (parse_request_header); a header built past it that could inject a line
    // is still never sent.
    if (!h.send || !is_http_token(h.name) ||
        h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      continue;
    out += h.name;
    out += h.value.empty() ? ":" : ": ";
    out += h.value;
    out += "\r\n";
  }
  out += "\r\n";
  if (opts.data) out += *opts.data;
  return out;
}

HttpResponseParser::HttpResponseParser(HttpLimits limits, bool head_request)
    : limits_(limits), head_request_(head_request) {}

std::optional<std::string> HttpResponseParser::header(std::string_view name) const {
  for (const auto& [n, v] : headers_) {
    if (iequals(n, name)) return v;
  }
  return std::nullopt;
}

HttpResponseParser::State HttpResponseParser::fail(std::string message) {
  state_ = State::error;
  error_ = std::move(message);
  buf_.clear();
  return state_;
}

HttpResponseParser::State HttpResponseParser::complete() {
  state_ = State::complete;
  buf_.clear();
  return state_;
}

// Consumes up to `max` body bytes from `in` (and never past max_body_bytes); returns the rest of `in`.
std::string_view HttpResponseParser::take_body(std::string_view in, std::uint64_t max) {
  std::uint64_t room = limits_.max_body_bytes > body_bytes_ ? limits_.max_body_bytes - body_bytes_ : 0;
  auto n = static_cast<std::size_t>(std::min<std::uint64_t>({in.size(), max, room}));
  if (body_.size() < limits_.body_keep)
    body_.append(in.substr(0, std::min(n, limits_.body_keep - body_.size())));
  if (limits_.sink != nullptr && n > 0 && !limits_.sink->write(in.substr(0, n))) sink_failed_ = true;
  body_bytes_ += n;
  return in.substr(n);
}

HttpLimits http_limits_for(const HttpOptions& http) {
  HttpLimits limits;
  if (!http.body_sink) return limits;
  limits.sink = http.body_sink.get();
  limits.max_body_bytes = http.max_filesize.value_or(std::numeric_limits<std::uint64_t>::max());
  limits.refuse_oversize_length = http.max_filesize.has_value();
  limits.sink_skips_redirects = http.sink_skips_redirects;
  return limits;
}

void skip_sink_for_redirect(HttpLimits& limits, int status, bool has_location) {
  if (limits.sink == nullptr || !limits.sink_skips_redirects || !is_followed_redirect(status) || !has_location)
    return;
  const HttpLimits report_only;
  limits.sink = nullptr;
  limits.max_body_bytes = std::min(limits.max_body_bytes, report_only.max_body_bytes);
  limits.refuse_oversize_length = false;
}

// The first bytes of a response must be "HTTP/1.<digit>": fail as soon as they are not, rather than
// waiting for a line end that a non-HTTP peer may never send.
bool HttpResponseParser::check_status_prefix(std::string_view in) {
  constexpr std::string_view kPrefix = "HTTP/1.";
  for (std::size_t i = buf_.size(), j = 0; i <= kPrefix.size() && j < in.size(); ++i, ++j) {
    bool ok = i < kPrefix.size() ? in[j] == kPrefix[i] : is_digit(in[j]);
    if (!ok) {
      std::string seen = buf_;
      seen.append(in.substr(0, kSnippet + 1));
      fail(fmt::format("not an HTTP response (received \"{}\")", escape(seen)));
      return false;
    }
  }
  return true;
}

HttpResponseParser::State HttpResponseParser::feed(std::string_view in) {
  while (state_ == State::need_more && !in.empty()) {
    switch (phase_) {
      case Phase::body_length:
      case Phase::chunk_data: {
        if (body_bytes_ >= limits_.max_body_bytes) {  // more is announced: stop here
          truncated_ = true;
          return complete();
        }
        std::size_t before = in.size();
        in = take_body(in, remaining_);
        remaining_ -= before - in.size();
        if (sink_failed_) return complete();
        if (remaining_ == 0) {
          if (phase_ == Phase::body_length) return complete();
          phase_ = Phase::chunk_crlf;
        } else if (body_bytes_ >= limits_.max_body_bytes) {
          truncated_ = true;
          return complete();
        }
        break;
      }
      case Phase::body_close:
        if (body_bytes_ >= limits_.max_body_bytes) {  // and still more comes: an endless body
          truncated_ = true;
          return complete();
        }
        in = take_body(in, std::numeric_limits<std::uint64_t>::max());
        if (sink_failed_) return complete();
        break;
      case Phase::chunk_crlf:
        // Exactly CRLF (or a bare LF) after the chunk data.
        if (in.front() == '\n') {
          buf_.clear();
          phase_ = Phase::chunk_size;
        } else if (in.front() == '\r' && buf_.empty()) {
          buf_ = "\r";
        } else {
          return fail(fmt::format("malformed chunked body: chunk data longer than its size (then \"{}\")",
                                  escape(in)));
        }
        in.remove_prefix(1);
        break;
      case Phase::status_line:
      case Phase::headers:
      case Phase::chunk_size:
      case Phase::trailers: {
        if (phase_ == Phase::status_line && buf_.size() <= 7 && !check_status_prefix(in)) return state_;
        std::size_t lf = in.find('\n');
        std::size_t line_len = buf_.size() + (lf == std::string_view::npos ? in.size() : lf + 1);
        if (phase_ == Phase::status_line || phase_ == Phase::headers) {
          if (head_bytes_ + line_len > limits_.max_header_bytes) {
            return fail(fmt::format("response headers exceed {} bytes", limits_.max_header_bytes));
          }
        } else if (phase_ == Phase::trailers) {
          if (trailer_bytes_ + line_len > limits_.max_header_bytes) {
            return fail(fmt::format("response trailers exceed {} bytes", limits_.max_header_bytes));
          }
        } else if (line_len > kMaxChunkLine) {
          return fail(
              fmt::format("malformed chunked body: chunk size line longer than {} bytes", kMaxChunkLine));
        }
        if (lf == std::string_view::npos) {
          buf_.append(in);
          return state_;
        }
        std::string_view line;
        if (buf_.empty()) {
          line = in.substr(0, lf);
        } else {
          buf_.append(in.substr(0, lf));
          line = buf_;
        }
        in.remove_prefix(lf + 1);
        if (phase_ == Phase::trailers) {
          trailer_bytes_ += line_len;
        } else if (phase_ != Phase::chunk_size) {
          head_bytes_ += line_len;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        on_line(line);
        buf_.clear();
        break;
      }
    }
  }
  return state_;
}

HttpResponseParser::State HttpResponseParser::on_line(std::string_view line) {
  switch (phase_) {
    case Phase::status_line: return on_status_line(line);
    case Phase::headers: return on_header_line(line);
    case Phase::chunk_size: return on_chunk_size_line(line);
    case Phase::trailers:
      if (line.empty()) return complete();
      return on_field_line(line, trailers_, "trailer");
    default: return state_;
  }
}

// "HTTP/1.x SSS reason" or "HTTP/1.x SSS" (the prefix was checked as it arrived).
HttpResponseParser::State HttpResponseParser::on_status_line(std::string_view line) {
  bool ok = line.size() >= 12 && line[8] == ' ' && is_digit(line[9]) && is_digit(line[10]) &&
            is_digit(line[11]) && line[9] != '0' && (line.size() == 12 || line[12] == ' ') && field_ok(line);
  if (!ok) return fail(fmt::format("not an HTTP response (status line \"{}\")", escape(line)));
  status_ = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  reason_ = line.size() > 13 ? std::string(line.substr(13)) : std::string();
  version_ = std::string(line.substr(0, 8));
  phase_ = Phase::headers;
  return state_;
}

HttpResponseParser::State HttpResponseParser::on_header_line(std::string_view line) {
  if (line.empty()) return on_head_end();
  return on_field_line(line, headers_, "header");
}

// One "name: value" line of the header section or of the trailer section (what says which, for the
// messages): the same syntax and the same count cap for both.
HttpResponseParser::State HttpResponseParser::on_field_line(std::string_view line, Fields& fields,
                                                            std::string_view what) {
  if (!field_ok(line)) return fail(fmt::format("malformed response {} line \"{}\"", what, escape(line)));
  if (is_ows(line.front())) {
    // obs-fold (RFC 7230 3.2.4): a continuation of the previous field, joined with one space.
    if (fields.empty()) {
      return fail(fmt::format("malformed response {}: continuation line \"{}\" before any {}", what,
                              escape(line), what));
    }
    std::string_view more = trim(line);
    auto& value = fields.back().second;
    if (!more.empty()) {
      if (!value.empty()) value += ' ';
      value.append(more);
    }
    return state_;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    return fail(fmt::format("malformed response {} line \"{}\" (no ':')", what, escape(line)));
  }
  std::string_view name = line.substr(0, colon);
  while (!name.empty() && is_ows(name.back())) name.remove_suffix(1);  // proxies strip it (RFC 7230 3.2.4)
  if (!is_http_token(name)) return fail(fmt::format("invalid response {} name \"{}\"", what, escape(name)));
  if (fields.size() >= limits_.max_headers) {
    return fail(fmt::format("more than {} {}s in the response", limits_.max_headers, what));
  }
  fields.emplace_back(std::string(name), std::string(trim(line.substr(colon + 1))));
  return state_;
}

HttpResponseParser::State HttpResponseParser::on_head_end() {
  int status = *status_;
  if (status >= 100 && status < 200 && status != 101) {  // interim (100 Continue, 103 Early Hints)
    ++interim_responses_;
    status_.reset();
    reason_.clear();
    headers_.clear();
    phase_ = Phase::status_line;
    return state_;
  }
  headers_done_ = true;
  skip_sink_for_redirect(limits_, status, header("Location").has_value());
  if (head_request_ || status == 204 || status == 304 || status == 101) return complete();

  // Transfer-Encoding wins over Content-Length (RFC 7230 3.3.3); chunked must be the last coding.
  bool has_te = false;
  std::string last_coding;
  for (const auto& [name, value] : headers_) {
    if (!iequals(name, "Transfer-Encoding")) continue;
    has_te = true;
    std::string_view rest = value;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view coding = trim(rest.substr(0, comma));
      if (!coding.empty()) {
        last_coding.assign(coding);
        std::transform(last_coding.begin(), last_coding.end(), last_coding.begin(), ascii_lower);
      }
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  if (has_te) {
    phase_ = last_coding == "chunked" ? Phase::chunk_size : Phase::body_close;
    return state_;
  }

  std::optional<std::uint64_t> length;
  for (const auto& [name, value] : headers_) {
    if (!iequals(name, "Content-Length")) continue;
    std::string_view rest = value;
    do {  // "42, 42" is a list of equal values
      std::size_t comma = rest.find(',');
      std::string_view item = trim(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      bool ok = !item.empty() && item.size() <= 19 && std::all_of(item.begin(), item.end(), is_digit);
      if (!ok) return fail(fmt::format("invalid Content-Length \"{}\" in the response", escape(value)));
      std::uint64_t v = 0;
      for (char c : item) v = v * 10 + static_cast<std::uint64_t>(c - '0');
      if (length && *length != v) {
        return fail(
            fmt::format("conflicting Content-Length headers in the response ({} and {})", *length, v));
      }
      length = v;
    } while (!rest.empty());
  }
  if (length) {
    content_length_ = remaining_ = *length;
    if (*length == 0) return complete();
    if (limits_.refuse_oversize_length && *length > limits_.max_body_bytes) {  // as curl: not even started
      oversize_length_ = *length;
      truncated_ = true;
      return complete();
    }
    phase_ = Phase::body_length;
    if (limits_.max_body_bytes == 0) {
      truncated_ = true;
      return complete();
    }
    return state_;
  }
  phase_ = Phase::body_close;
  return state_;
}

// "1a2b[ ;ext=val...]": hex size, optional extensions (ignored).
HttpResponseParser::State HttpResponseParser::on_chunk_size_line(std::string_view line) {
  std::uint64_t size = 0;
  std::size_t i = 0;
  for (; i < line.size(); ++i) {
    int h = hex_value(line[i]);
    if (h < 0) break;
    if (size > (std::numeric_limits<std::uint64_t>::max() >> 4)) {
      return fail(fmt::format("malformed chunked body: chunk size \"{}\" overflows", escape(line)));
    }
    size = (size << 4) | static_cast<std::uint64_t>(h);
  }
  std::size_t digits = i;
  while (i < line.size() && is_ows(line[i])) ++i;
  if (digits == 0 || (i < line.size() && line[i] != ';') || !field_ok(line)) {
    return fail(fmt::format("malformed chunked body: invalid chunk size line \"{}\"", escape(line)));
  }
  if (size == 0) {
    phase_ = Phase::trailers;
    return state_;
  }
  remaining_ = size;
  phase_ = Phase::chunk_data;
  if (body_bytes_ >= limits_.max_body_bytes) {
    truncated_ = true;
    return complete();
  }
  return state_;
}

HttpResponseParser::State HttpResponseParser::finish() {
  if (state_ != State::need_more) return state_;
  switch (phase_) {
    case Phase::status_line:
      if (head_bytes_ == 0 && buf_.empty()) return fail("connection closed before any response was received");
      if (buf_.empty()) {
        return fail("connection closed after an interim 1xx response, before the final response");
      }
      return fail(
          fmt::format("connection closed in the middle of the status line (got \"{}\")", escape(buf_)));
    case Phase::headers: return fail("connection closed before the response headers were complete");
    case Phase::body_close: return complete();
    case Phase::body_length:
      return fail(fmt::format("connection closed before the response was complete (got {} of {} body bytes)",
                              content_length_ - remaining_, content_length_));
    case Phase::chunk_size:
    case Phase::chunk_data:
    case Phase::chunk_crlf:
      return fail(fmt::format(
          "connection closed before the response was complete (chunked body: got {} bytes, no last chunk)",
          body_bytes_));
    case Phase::trailers:
      return fail(
          "connection closed before the response was complete (chunked body: last chunk without the final "
          "CRLF)");
  }
  return state_;
}

}  // namespace mtls_probe
