// HTTP/1.1 over any byte stream: the request we send and an incremental, bounded response parser.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtls_probe/options.h"

namespace mtls_probe {

// "METHOD target HTTP/1.1\r\nHost: ...\r\nUser-Agent: mtls-probe/VERSION\r\nAccept: */*\r\n
//  [Content-Length + Content-Type for -d]\r\nConnection: close\r\n<user headers>\r\n\r\n<data>".
// A user header replaces the default of the same name (case-insensitive), as curl does.
std::string build_request(const HttpOptions& opts, const std::string& authority, const std::string& target);

struct HttpLimits {
  std::size_t max_header_bytes = 64 * 1024;  // status line + all headers
  std::size_t max_headers = 256;
  std::size_t body_keep = 16 * 1024;         // kept for the report
  std::uint64_t max_body_bytes = 1 << 20;    // read at most this much, then stop (truncated)
};

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
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  std::optional<std::string> header(std::string_view name) const;  // first, case-insensitive
  const std::string& body_kept() const { return body_; }
  std::uint64_t body_bytes() const { return body_bytes_; }
  bool body_truncated() const { return truncated_; }  // stopped at max_body_bytes (state complete)
  const std::string& error() const { return error_; }

 private:
  // implementation detail members, see http.cc
  State fail(std::string message);
  State parse_head();
  State parse_body();

  HttpLimits limits_;
  bool head_request_;
  State state_ = State::need_more;
  std::string buf_;
  bool headers_done_ = false;
  std::optional<int> status_;
  std::string reason_;
  std::vector<std::pair<std::string, std::string>> headers_;
  enum class Framing { none, length, chunked, close } framing_ = Framing::none;
  std::uint64_t remaining_ = 0;       // content-length left, or current chunk left
  enum class ChunkStep { size, data, data_crlf, trailers } chunk_step_ = ChunkStep::size;
  std::string body_;
  std::uint64_t body_bytes_ = 0;
  bool truncated_ = false;
  std::string error_;
  std::size_t head_bytes_ = 0;
};

}  // namespace mtls_probe
