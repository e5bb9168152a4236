// One bounded HTTP/1.0 request for revocation data (an OCSP POST, a CRL GET): http:// only, never through a
// proxy (the environment's http_proxy is not read: a revocation check names the responder it asks), the
// name looked up with the engine's DNS, and one deadline for lookup + connect + send + read. The answer's
// size is bounded before it is read (Content-Length) and while it is read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/revocation_facts.h"

namespace mtls_probe::inspect {

inline constexpr std::size_t kMaxCrlBytes = 10u << 20;           // a CRL: 10 MiB
inline constexpr std::size_t kMaxOcspResponseBytes = 1u << 20;   // an OCSP response: 1 MiB
inline constexpr std::size_t kMaxResponseHeadBytes = 16u << 10;  // status line + headers

struct HttpUrl {
  std::string host;  // IPv6 without brackets
  uint16_t port = 80;
  std::string path = "/";  // with the query
};

// http://host[:port][/path]; nullopt for anything else (https://, ldap://, a bad port, userinfo, no host).
std::optional<HttpUrl> parse_http_url(std::string_view url);

struct ResponseHead {
  int status = 0;
  std::optional<std::size_t> content_length;
  bool chunked = false;
  std::size_t size = 0;  // bytes of the head, the blank line included
};

// The status line and headers at the start of data. nullopt: not complete yet. A head that is not HTTP
// gives status 0.
std::optional<ResponseHead> parse_response_head(std::string_view data);

// The body when it is no more than `limit` bytes: Content-Length above it refuses at once.
enum class SizeVerdict { fits, too_large };
SizeVerdict check_size(std::optional<std::size_t> content_length, std::size_t bytes_so_far,
                       std::size_t limit);

struct FetchRequest {
  std::string url;
  std::string content_type;  // of the body ("application/ocsp-request"); "" with an empty body: GET
  std::string body;
  std::size_t max_body = kMaxCrlBytes;
  std::chrono::milliseconds timeout{10000};
};

struct FetchError {
  RevocationFailure failure = RevocationFailure::io;
  std::string detail;  // "connection refused (127.0.0.1:9)", "no answer within 2 s", "HTTP 404 Not Found"
  std::optional<int> http_status;
};

struct FetchAnswer {
  std::string body;
  int http_status = 200;
};

Expected<FetchAnswer, FetchError> http_fetch(const FetchRequest& request);

}  // namespace mtls_probe::inspect
