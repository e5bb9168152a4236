// HTTP/1.1 over any byte stream: the request we send and an incremental, bounded response parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtls_probe/engine/options.h"

namespace mtls_probe {

// "METHOD target HTTP/1.1\r\nHost: ...\r\nUser-Agent: mtls-probe/VERSION\r\nAccept: */*\r\n
//  [Content-Length + Content-Type for -d]\r\nConnection: close\r\n<user headers>\r\n\r\n<data>".
// A user header replaces the default of the same name (case-insensitive), as curl does.
std::string build_request(const HttpOptions& opts, const std::string& authority, const std::string& target);

// Headers whose value is a credential: Authorization, Proxy-Authorization, Cookie, Set-Cookie
// (case-insensitive). Their values are never shown: not in the -v trace, not in a report.
bool is_credential_header(std::string_view name);

// The head of a request as build_request made it, one entry per line without CRLF ("GET / HTTP/1.1",
// "Host: h", ...), for the -v trace; a credential header's value is "<redacted>". The body is left out.
std::vector<std::string> request_trace_lines(std::string_view request);

// "Name: value" for the -v trace, the value "<redacted>" for a credential header.
std::string header_trace_line(std::string_view name, std::string_view value);

struct HttpLimits {
  std::size_t max_header_bytes = std::size_t{64} * 1024;  // status line + all headers
  std::size_t max_headers = 256;
  std::size_t body_keep = std::size_t{16} * 1024;  // kept for the report
  std::uint64_t max_body_bytes = 1 << 20;          // read at most this much, then stop (truncated)
  BodySink* sink = nullptr;  // -o: every body byte read goes here too (max_body_bytes is then --max-filesize)
  // -o --max-filesize: a Content-Length above max_body_bytes stops the exchange before any body is read.
  bool refuse_oversize_length = false;
  bool sink_skips_redirects = false;  // -L: a followed redirect's body does not go to the sink
};

// A status that -L follows when the response has a Location (curl's set).
constexpr bool is_followed_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// -L and a redirect that will be followed: this response's body is not written to -o's sink, and is read
// only as far as the report's caps (HttpLimits' defaults). Changes limits in place.
void skip_sink_for_redirect(HttpLimits& limits, int status, bool has_location);

// The limits for target's exchange: the report's caps, or -o's sink bounded by --max-filesize.
HttpLimits http_limits_for(const HttpOptions& http);

class HttpResponseParser {
 public:
  enum class State { need_more, complete, error };

  explicit HttpResponseParser(HttpLimits limits = {}, bool head_request = false);

  // Feed the next bytes (any split). Returns the state after consuming them.
  State feed(std::string_view bytes);
  // The peer closed the stream: completes a read-until-close body, else it is an error.
  State finish();

  State state() const { return state_; }
  bool status_seen() const { return status_.has_value(); }
  bool headers_complete() const { return headers_done_; }
  std::optional<int> status() const { return status_; }
  const std::string& reason() const { return reason_; }
  const std::string& version() const { return version_; }  // "HTTP/1.1" as the status line said
  using Fields = std::vector<std::pair<std::string, std::string>>;
  const Fields& headers() const { return headers_; }
  // A chunked body's trailer fields, in order (the same caps as the headers: max_headers fields, and
  // max_header_bytes of trailer section on its own).
  const Fields& trailers() const { return trailers_; }
  std::optional<std::string> header(std::string_view name) const;  // first, case-insensitive
  const std::string& body_kept() const { return body_; }
  std::uint64_t body_bytes() const { return body_bytes_; }
  bool body_truncated() const { return truncated_; }  // stopped at max_body_bytes (state complete)
  // Content-Length announced more than max_body_bytes and refuse_oversize_length: no body was read.
  std::optional<std::uint64_t> oversize_length() const { return oversize_length_; }
  bool sink_failed() const { return sink_failed_; }  // the sink refused bytes: reading stopped
  const std::string& error() const { return error_; }

 private:
  // Where the parser is. Line phases buffer at most one incomplete line in buf_ (bounded by
  // max_header_bytes or the chunk line cap); body phases consume the input directly.
  enum class Phase {
    status_line,
    headers,
    body_length,
    body_close,
    chunk_size,
    chunk_data,
    chunk_crlf,
    trailers
  };

  State fail(std::string message);
  State complete();
  State on_line(std::string_view line);
  State on_status_line(std::string_view line);
  State on_header_line(std::string_view line);
  State on_field_line(std::string_view line, Fields& fields, std::string_view what);
  State on_head_end();
  State on_chunk_size_line(std::string_view line);
  std::string_view take_body(std::string_view in, std::uint64_t max);
  bool check_status_prefix(std::string_view in);

  HttpLimits limits_;
  bool head_request_;
  State state_ = State::need_more;
  Phase phase_ = Phase::status_line;
  std::string buf_;  // an incomplete line
  bool headers_done_ = false;
  std::optional<int> status_;
  std::string reason_;
  std::string version_;
  Fields headers_;
  Fields trailers_;
  std::uint64_t content_length_ = 0;  // Content-Length framing: the announced length
  std::uint64_t remaining_ = 0;       // content-length left, or current chunk left
  std::string body_;
  std::uint64_t body_bytes_ = 0;
  bool truncated_ = false;
  std::optional<std::uint64_t> oversize_length_;
  bool sink_failed_ = false;
  std::string error_;
  std::size_t head_bytes_ = 0;  // status lines + headers so far, 1xx interim responses included
  std::size_t trailer_bytes_ = 0;
  int interim_responses_ = 0;
};

}  // namespace mtls_probe
