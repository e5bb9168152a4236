// One bounded HTTP/1.0 exchange with an OCSP responder or a CRL server (revocation_fetch.h): non-blocking
// sockets and poll() against one deadline, so that a responder that accepts and never answers costs
// --revocation-timeout and no more.
#include "revocation_fetch.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <vector>

#include "mtls_probe/base/ascii.h"
#include "mtls_probe/engine/dns.h"
#include "mtls_probe/engine/net.h"

namespace mtls_probe::inspect {
namespace {

std::string revocation_seconds_text(std::chrono::milliseconds t) {
  return t.count() % 1000 == 0 ? fmt::format("{} s", t.count() / 1000) : fmt::format("{} ms", t.count());
}

FetchError fetch_failure(RevocationFailure f, std::string detail) {
  return FetchError{f, std::move(detail), {}};
}

std::optional<uint16_t> http_url_port(std::string_view s) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v == 0 || v > 65535) return std::nullopt;
  return static_cast<uint16_t>(v);
}

// The addresses of the responder: a numeric host as it is, else the engine's lookup (bounded).
Expected<std::vector<Endpoint>, FetchError> resolve_responder(const HttpUrl& u, Deadline deadline,
                                                              std::chrono::milliseconds timeout) {
  Endpoint numeric;
  if (numeric_endpoint(u.host, u.port, numeric)) return std::vector<Endpoint>{numeric};
  if (auto local = localhost_endpoints(u.host, u.port, IpFamily::any)) return *local;
  DnsQuery query;
  query.start(u.host, u.port, DnsConfig{}, deadline);
  drive(query);
  const DnsOutcome& out = query.outcome();
  if (out.status == NetStatus::timed_out)
    return Unexpected{
        fetch_failure(RevocationFailure::timeout,
                      fmt::format("{} did not resolve within {}", u.host, revocation_seconds_text(timeout)))};
  if (out.status != NetStatus::ok || out.endpoints.empty())
    return Unexpected{
        fetch_failure(RevocationFailure::dns, fmt::format("{} did not resolve: {}", u.host, out.error))};
  return out.endpoints;
}

// Waits for `events` on fd until the deadline; false when it passed.
bool wait_for_fd(int fd, short events, Deadline deadline) {
  for (;;) {
    if (deadline.expired()) return false;
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, deadline.remaining_ms());
    if (n > 0) return true;
    if (n < 0 && errno != EINTR) return true;  // the next call on fd says what is wrong
  }
}

Expected<UniqueFd, FetchError> connect_responder_at(const Endpoint& ep, Deadline deadline,
                                                    std::chrono::milliseconds timeout) {
  UniqueFd fd(::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return Unexpected{fetch_failure(RevocationFailure::io, std::strerror(errno))};
  int err = 0;
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
    if (errno != EINPROGRESS) {
      err = errno;
    } else if (!wait_for_fd(fd.get(), POLLOUT, deadline)) {
      return Unexpected{fetch_failure(
          RevocationFailure::timeout,
          fmt::format("no connection to {} within {}", ep.text(), revocation_seconds_text(timeout)))};
    } else {
      socklen_t len = sizeof err;
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    }
  }
  if (err == ECONNREFUSED)
    return Unexpected{
        fetch_failure(RevocationFailure::refused, fmt::format("connection refused ({})", ep.text()))};
  if (err != 0)
    return Unexpected{
        fetch_failure(RevocationFailure::io, fmt::format("{} ({})", std::strerror(err), ep.text()))};
  return fd;
}

Expected<UniqueFd, FetchError> connect_responder(const std::vector<Endpoint>& eps, Deadline deadline,
                                                 std::chrono::milliseconds timeout) {
  FetchError last = fetch_failure(RevocationFailure::dns, "no address");
  for (const Endpoint& ep : eps) {
    auto fd = connect_responder_at(ep, deadline, timeout);
    if (fd) return fd;
    last = fd.error();
    if (last.failure == RevocationFailure::timeout) break;  // the one deadline is spent
  }
  return Unexpected{last};
}

std::string http10_request(const FetchRequest& r, const HttpUrl& u) {
  const bool v6 = u.host.find(':') != std::string::npos;
  const std::string host = v6 ? "[" + u.host + "]" : u.host;
  const std::string authority = u.port == 80 ? host : fmt::format("{}:{}", host, u.port);
  std::string out =
      fmt::format("{} {} HTTP/1.0\r\nHost: {}\r\nUser-Agent: mtls-probe\r\nConnection: close\r\n",
                  r.body.empty() ? "GET" : "POST", u.path, authority);
  if (!r.body.empty())
    out += fmt::format("Content-Type: {}\r\nContent-Length: {}\r\n", r.content_type, r.body.size());
  return out + "\r\n" + r.body;
}

std::optional<FetchError> send_request_bytes(int fd, std::string_view data, Deadline deadline,
                                             std::chrono::milliseconds timeout) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
    } else if (n < 0 && (would_block(errno) || errno == EINTR)) {
      if (!wait_for_fd(fd, POLLOUT, deadline))
        return fetch_failure(RevocationFailure::timeout, fmt::format("the request was not taken within {}",
                                                                     revocation_seconds_text(timeout)));
    } else {
      return fetch_failure(RevocationFailure::io,
                           fmt::format("sending the request: {}", std::strerror(errno)));
    }
  }
  return std::nullopt;
}

// What has come so far, judged: the answer once complete, an error, or nullopt to read on.
struct AnswerReader {
  std::size_t limit;
  std::string data;
  std::optional<ResponseHead> head;

  std::optional<FetchError> check(bool eof) {
    if (!head) {
      head = parse_response_head(data);
      if (!head && (eof || data.size() > kMaxResponseHeadBytes))
        return fetch_failure(RevocationFailure::not_a_response, eof && data.empty()
                                                                    ? "the server closed without answering"
                                                                    : "the answer is not HTTP");
      if (!head) return std::nullopt;
      if (head->status == 0)
        return fetch_failure(RevocationFailure::not_a_response, "the answer is not HTTP");
      if (head->status != 200) {
        FetchError e = fetch_failure(RevocationFailure::http_status, fmt::format("HTTP {}", head->status));
        e.http_status = head->status;
        return e;
      }
      if (head->chunked)
        return fetch_failure(RevocationFailure::not_a_response, "a chunked answer to HTTP/1.0");
    }
    const std::size_t body = data.size() - head->size;
    if (check_size(head->content_length, body, limit) == SizeVerdict::too_large) {
      return fetch_failure(
          RevocationFailure::too_large,
          head->content_length && *head->content_length > limit
              ? fmt::format("Content-Length {} is above the limit of {} bytes", *head->content_length, limit)
              : fmt::format("more than {} bytes", limit));
    }
    if (eof && head->content_length && body < *head->content_length)
      return fetch_failure(RevocationFailure::io,
                           fmt::format("closed after {} of {} bytes", body, *head->content_length));
    return std::nullopt;
  }
  bool complete(bool eof) const {
    return head && (eof || (head->content_length && data.size() - head->size >= *head->content_length));
  }
};

Expected<FetchAnswer, FetchError> read_responder_answer(int fd, std::size_t limit, Deadline deadline,
                                                        std::chrono::milliseconds timeout) {
  AnswerReader r{limit, {}, {}};
  char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    const bool eof = n == 0;
    if (n > 0) r.data.append(buf, static_cast<std::size_t>(n));
    if (n < 0 && (would_block(errno) || errno == EINTR)) {
      if (!wait_for_fd(fd, POLLIN, deadline))
        return Unexpected{fetch_failure(
            RevocationFailure::timeout,
            r.data.empty()
                ? fmt::format("no answer within {}", revocation_seconds_text(timeout))
                : fmt::format("the answer did not complete within {}", revocation_seconds_text(timeout)))};
      continue;
    }
    if (n < 0)
      return Unexpected{
          fetch_failure(RevocationFailure::io, fmt::format("reading the answer: {}", std::strerror(errno)))};
    if (auto e = r.check(eof)) return Unexpected{*e};
    if (r.complete(eof)) {
      std::string body = r.data.substr(r.head->size);
      if (r.head->content_length) body.resize(*r.head->content_length);
      return FetchAnswer{std::move(body), r.head->status};
    }
  }
}

}  // namespace

std::optional<HttpUrl> parse_http_url(std::string_view url) {
  constexpr std::string_view scheme = "http://";
  if (url.size() < scheme.size() || !contains_ci(url.substr(0, scheme.size()), scheme)) return std::nullopt;
  url.remove_prefix(scheme.size());
  const std::size_t slash = std::min(url.find_first_of("/?"), url.size());
  std::string_view authority = url.substr(0, slash);
  HttpUrl out;
  if (slash < url.size()) out.path = std::string(url.substr(slash));
  if (out.path.front() == '?') out.path = std::string("/").append(out.path);
  if (out.path.find_first_of(" \r\n\t") != std::string::npos) return std::nullopt;
  if (authority.empty() || authority.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view port;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return std::nullopt;
    if (!rest.empty()) port = rest.substr(1);
    if (rest.size() == 1) return std::nullopt;
  } else {
    const std::size_t colon = authority.find(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty()) return std::nullopt;
    }
  }
  if (out.host.empty()) return std::nullopt;
  if (!port.empty()) {
    auto p = http_url_port(port);
    if (!p) return std::nullopt;
    out.port = *p;
  }
  return out;
}

std::optional<ResponseHead> parse_response_head(std::string_view data) {
  const std::size_t end = data.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    // Not HTTP at all is known from the first bytes.
    const std::string_view start = data.substr(0, 5);
    if (!std::string_view("HTTP/").starts_with(start)) return ResponseHead{};
    return std::nullopt;
  }
  ResponseHead h;
  h.size = end + 4;
  std::string_view head = data.substr(0, end);
  const std::size_t eol = std::min(head.find("\r\n"), head.size());
  const std::string_view status_line = head.substr(0, eol);
  if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') return h;
  int status = 0;
  auto [p, ec] = std::from_chars(status_line.data() + 9, status_line.data() + 12, status);
  if (ec != std::errc() || p != status_line.data() + 12 || status < 100) return h;
  head.remove_prefix(std::min(eol + 2, head.size()));
  while (!head.empty()) {
    const std::size_t e = std::min(head.find("\r\n"), head.size());
    const std::string_view line = head.substr(0, e);
    head.remove_prefix(std::min(e + 2, head.size()));
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    const std::string name = ascii_lowered(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (name == "content-length") {
      std::size_t n = 0;
      auto [q, err] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (err != std::errc() || q != value.data() + value.size()) return ResponseHead{};  // ambiguous length
      h.content_length = n;
    } else if (name == "transfer-encoding" && contains_ci(value, "chunked")) {
      h.chunked = true;
    }
  }
  h.status = status;
  return h;
}

SizeVerdict check_size(std::optional<std::size_t> content_length, std::size_t bytes_so_far,
                       std::size_t limit) {
  if (content_length && *content_length > limit) return SizeVerdict::too_large;
  return bytes_so_far > limit ? SizeVerdict::too_large : SizeVerdict::fits;
}

Expected<FetchAnswer, FetchError> http_fetch(const FetchRequest& request) {
  const auto url = parse_http_url(request.url);
  if (!url)
    return Unexpected{fetch_failure(RevocationFailure::bad_url, "not an http:// URL: " + request.url)};
  const Deadline deadline = Deadline::after(request.timeout);
  auto endpoints = resolve_responder(*url, deadline, request.timeout);
  if (!endpoints) return Unexpected{endpoints.error()};
  auto fd = connect_responder(*endpoints, deadline, request.timeout);
  if (!fd) return Unexpected{fd.error()};
  if (auto e = send_request_bytes(fd->get(), http10_request(request, *url), deadline, request.timeout))
    return Unexpected{*e};
  return read_responder_answer(fd->get(), request.max_body, deadline, request.timeout);
}

}  // namespace mtls_probe::inspect
