// The HTTP/1.1 exchange: the request as build_request makes it, written whole, then the response read
// through HttpResponseParser until it is complete, the peer closes, or the deadline. Always write, then
// read: under TLS 1.3 the server judges our certificate after the handshake, and its verdict arrives as an
// alert on the first read.
#include <openssl/err.h>

#include <array>
#include <optional>

#include "mtls_probe/engine/http_exchange.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {
namespace {

class Http1Exchange final : public HttpExchange {
 public:
  explicit Http1Exchange(const ExchangeContext& ctx) : ctx_(ctx), start_(Clock::now()) {
    const TargetOptions& t = *ctx_.target;
    request_ = build_request(t.http, t.url.authority(), t.url.target);
    ctx_.facts->request_line = t.http.method + " " + t.url.target + " HTTP/1.1";
    const std::size_t data_bytes = t.http.data ? t.http.data->size() : 0;
    ctx_.facts->request_head_bytes = request_.size() - data_bytes;
    if (ctx_.log->tracing()) {
      for (const auto& line : request_trace_lines(request_)) ctx_.log->debug("> {}", escape_terminal(line));
    }
  }

  bool request_sent() const override { return parser_.has_value(); }

  Status step() override {
    if (!parser_) {
      if (auto st = send(); st) return *st;
    }
    return read();
  }

  void finish() override {
    ProbeFacts& f = *ctx_.facts;
    if (!got_bytes_) f.closed_before_response = !f.timed_out_in.has_value();
    if (!parser_) return;
    const HttpResponseParser& p = *parser_;
    if (ctx_.log->tracing() && p.status()) {
      ctx_.log->debug("< {} {}{}", escape_terminal(p.version()), *p.status(),
                      p.reason().empty() ? "" : " " + escape_terminal(p.reason()));
      for (const auto& [name, value] : p.headers())
        ctx_.log->debug("< {}", escape_terminal(header_trace_line(name, value)));
      for (const auto& [name, value] : p.trailers())
        ctx_.log->debug("< (trailer) {}", escape_terminal(header_trace_line(name, value)));
    }
    if (p.status()) {
      f.http_status = p.status();
      f.http_reason = p.reason();
      f.response_headers = p.headers();
      f.response_trailers = p.trailers();
    }
    f.body_excerpt = p.body_kept();
    f.body_bytes = p.body_bytes();
    f.body_truncated = p.body_truncated();
    f.oversize_content_length = p.oversize_length();
    if (p.state() == HttpResponseParser::State::error) {
      f.http_error = p.error();
    } else if (got_bytes_ && p.state() == HttpResponseParser::State::need_more && !f.timed_out_in) {
      f.http_error = f.reset_after_request ? "connection reset before the response was complete"
                                           : "connection closed before the response was complete";
    }
  }

 private:
  // nullopt: the request is out (or failed to go out) and reading starts.
  std::optional<Status> send() {
    const SslIo io = ssl_write_all(ctx_.ssl, request_, written_, *ctx_.facts);
    if (io == SslIo::want_read) return Status::want_read;
    if (io == SslIo::want_write) return Status::want_write;
    // A failed write still goes on to read: the server may already have sent its verdict as an alert.
    ctx_.facts->request_sent = io == SslIo::done;
    const std::uint64_t head = ctx_.facts->request_head_bytes;
    ctx_.facts->request_body_bytes = written_ > head ? written_ - head : 0;
    parser_.emplace(ctx_.limits, ctx_.target->http.method == "HEAD");
    return std::nullopt;
  }

  Status read() {
    std::array<char, std::size_t{16} * 1024> buf{};
    for (;;) {
      ERR_clear_error();
      const int rc = SSL_read(ctx_.ssl, buf.data(), static_cast<int>(buf.size()));
      if (rc > 0) {
        if (!got_bytes_) ctx_.facts->ttfb_ms = ms_since(start_);
        got_bytes_ = true;
        if (parser_->feed(std::string_view(buf.data(), static_cast<size_t>(rc))) !=
            HttpResponseParser::State::need_more)
          return Status::done;
        if (Clock::now() >= ctx_.deadline) return Status::timed_out;
        continue;
      }
      const SslIo io = classify_ssl_result(ctx_.ssl, rc, *ctx_.facts);
      if (io == SslIo::want_read) return Status::want_read;
      if (io == SslIo::want_write) return Status::want_write;
      if (io == SslIo::eof) {
        parser_->finish();
      } else if (io == SslIo::reset) {
        ctx_.facts->reset_after_request = true;
      }
      return Status::done;
    }
  }

  ExchangeContext ctx_;
  Clock::time_point start_;
  std::string request_;
  std::size_t written_ = 0;
  std::optional<HttpResponseParser> parser_;  // set once the request is out
  bool got_bytes_ = false;
};

}  // namespace

std::unique_ptr<HttpExchange> make_http1_exchange(const ExchangeContext& ctx) {
  return std::make_unique<Http1Exchange>(ctx);
}

}  // namespace mtls_probe
