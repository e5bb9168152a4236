// The HTTP/2 exchange: an nghttp2 client session over the probe's SSL object, one stream (id 1). nghttp2
// does the framing; we move its bytes: nghttp2_session_mem_send's output goes out with SSL_write, what
// SSL_read returns goes into nghttp2_session_mem_recv, so the exchange blocks only where SSL does and the
// event loop resumes it (want-read / want-write) like every other stage. The bytes move through an
// ExchangeIo: SSL in production, the fuzz input in tests/fuzz/fuzz_http2_response.cc.
//
// The caps are HTTP/1.1's (HttpLimits): header count and bytes (trailers included), a bounded body excerpt,
// reading stops at max_body_bytes (the stream is cancelled). nghttp2's callbacks are C: none lets an
// exception through (guard()).
#include <fmt/format.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

#include "mtls_probe/base/ascii.h"
#include "mtls_probe/engine/http_exchange.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/report/report.h"

#ifndef MTLS_PROBE_VERSION
#define MTLS_PROBE_VERSION "0"
#endif

namespace mtls_probe {
namespace {

// Connection-specific fields HTTP/2 forbids (RFC 9113 8.2.2); Host becomes :authority.
bool not_for_h2(std::string_view lower_name) {
  for (std::string_view n :
       {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"})
    if (lower_name == n) return true;
  return false;
}

const char* frame_type_name(uint8_t type) {
  switch (type) {
    case NGHTTP2_DATA: return "DATA";
    case NGHTTP2_HEADERS: return "HEADERS";
    case NGHTTP2_PRIORITY: return "PRIORITY";
    case NGHTTP2_RST_STREAM: return "RST_STREAM";
    case NGHTTP2_SETTINGS: return "SETTINGS";
    case NGHTTP2_PUSH_PROMISE: return "PUSH_PROMISE";
    case NGHTTP2_PING: return "PING";
    case NGHTTP2_GOAWAY: return "GOAWAY";
    case NGHTTP2_WINDOW_UPDATE: return "WINDOW_UPDATE";
    case NGHTTP2_CONTINUATION: return "CONTINUATION";
    default: return "UNKNOWN";
  }
}

// "HEADERS stream 1 flags 0x05" plus what the frame says that is not payload: error codes, window sizes.
std::string frame_text(const nghttp2_frame* frame) {
  const nghttp2_frame_hd& hd = frame->hd;
  std::string out = fmt::format("{} stream {} flags 0x{:02x} length {}", frame_type_name(hd.type),
                                hd.stream_id, hd.flags, hd.length);
  switch (hd.type) {
    case NGHTTP2_RST_STREAM:
      out += fmt::format(" error 0x{:x} {}", frame->rst_stream.error_code,
                         h2_error_name(frame->rst_stream.error_code));
      break;
    case NGHTTP2_GOAWAY:
      out += fmt::format(" last_stream {} error 0x{:x} {}", frame->goaway.last_stream_id,
                         frame->goaway.error_code, h2_error_name(frame->goaway.error_code));
      break;
    case NGHTTP2_WINDOW_UPDATE:
      out += fmt::format(" increment {}", frame->window_update.window_size_increment);
      break;
    case NGHTTP2_SETTINGS: out += fmt::format(" entries {}", frame->settings.niv); break;
    default: break;
  }
  return out;
}

template <typename F>
int guard(F&& f) noexcept {
  try {
    return f();
  } catch (...) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
}

struct SessionDeleter {
  void operator()(nghttp2_session* s) const { nghttp2_session_del(s); }
};
struct CallbacksDeleter {
  void operator()(nghttp2_session_callbacks* c) const { nghttp2_session_callbacks_del(c); }
};

class Http2Exchange final : public HttpExchange {
 public:
  explicit Http2Exchange(const ExchangeContext& ctx)
      : ctx_(ctx), ssl_io_(ctx.ssl), io_(ctx.io != nullptr ? ctx.io : &ssl_io_), start_(Clock::now()) {
    const TargetOptions& t = *ctx_.target;
    ctx_.facts->request_line = t.http.method + " " + t.url.target + " HTTP/2";
    if (!open_session()) {
      error_ = "cannot start an HTTP/2 session (out of memory)";
      over_ = true;
    }
  }

  // Also when flow control holds the body back: the request is out as far as the server lets it, and
  // what comes next (a WINDOW_UPDATE, the response) is read.
  bool request_sent() const override { return request_out_ || write_failed_ || over_ || window_stall(); }

  Status step() override {
    std::array<uint8_t, std::size_t{16} * 1024> buf{};
    while (!over_) {
      if (auto st = flush(); st) return *st;
      if (finished_stream()) break;
      std::size_t got = 0;
      const SslIo io = io_->read(buf, got, *ctx_.facts);
      if (io == SslIo::done && got > 0) {
        if (!got_bytes_) ctx_.facts->ttfb_ms = ms_since(start_);
        got_bytes_ = true;
        const auto n = nghttp2_session_mem_recv(session_.get(), buf.data(), got);
        if (n < 0) {
          if (error_.empty())
            error_ = fmt::format("HTTP/2 session failed: {}", nghttp2_strerror(static_cast<int>(n)));
          break;
        }
        if (Clock::now() >= ctx_.deadline) return Status::timed_out;
        continue;
      }
      if (io == SslIo::want_write) return Status::want_write;
      if (io == SslIo::want_read) {
        // More to write (a SETTINGS ACK, a WINDOW_UPDATE) only when the last flush had something: nghttp2
        // may want to write DATA that flow control holds back, and that must wait for the peer.
        if (flushed_any_ && nghttp2_session_want_write(session_.get()) != 0 && !write_failed_) continue;
        return Status::want_read;
      }
      if (io == SslIo::eof) {
        closed_ = true;
      } else if (io == SslIo::reset) {
        ctx_.facts->reset_after_request = true;
        closed_ = true;
      }
      break;
    }
    over_ = true;
    return Status::done;
  }

  void finish() override {
    ProbeFacts& f = *ctx_.facts;
    f.request_sent = request_out_ && written_total_ >= request_end_;
    const ProbeLog& log = *ctx_.log;
    if (log.tracing() && status_) {
      log.debug("< HTTP/2 {}", *status_);
      for (const auto& [name, value] : headers_)
        log.debug("< {}", escape_terminal(header_trace_line(name, value)));
      for (const auto& [name, value] : trailers_)
        log.debug("< (trailer) {}", escape_terminal(header_trace_line(name, value)));
    }
    if (status_ && headers_done_) {
      f.http_status = status_;
      f.response_headers = std::move(headers_);
      f.response_trailers = std::move(trailers_);
    }
    f.body_excerpt = std::move(body_);
    f.body_bytes = body_bytes_;
    f.body_truncated = truncated_;
    f.oversize_content_length = oversize_length_;
    f.request_body_bytes = body_sent_;
    if (h2_error_) f.h2_error = h2_error_;
    f.h2_window_stall = window_stall();
    const bool response_done = headers_done_ && stream_closed_ && stream_error_ == NGHTTP2_NO_ERROR;
    if (!error_.empty()) {
      f.http_error = error_;
    } else if (f.h2_error && !response_done && !truncated_) {
      const H2ErrorRecord& e = *f.h2_error;
      f.http_error = fmt::format("{} {} ({}) {}", e.from == Side::server ? "the server sent" : "we sent",
                                 e.goaway ? "GOAWAY" : "RST_STREAM", e.name,
                                 headers_done_ ? "before the response was complete" : "before any response");
    } else if (headers_done_ && !response_done && !truncated_ && !f.timed_out_in) {
      f.http_error = f.reset_after_request ? "connection reset before the response was complete"
                                           : "connection closed before the response was complete";
    }
    // The server said nothing HTTP before it closed: the same fact as HTTP/1.1's close before any byte
    // (its SETTINGS alone are no answer to the request).
    if (!headers_done_ && !f.h2_error && error_.empty())
      f.closed_before_response = !f.timed_out_in.has_value();
  }

 private:
  bool open_session() {
    nghttp2_session_callbacks* raw = nullptr;
    if (nghttp2_session_callbacks_new(&raw) != 0) return false;
    std::unique_ptr<nghttp2_session_callbacks, CallbacksDeleter> cbs(raw);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs.get(), on_frame_recv);
    nghttp2_session_callbacks_set_on_frame_send_callback(cbs.get(), on_frame_send);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs.get(), on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs.get(), on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs.get(), on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs.get(), on_stream_close);
    nghttp2_session* s = nullptr;
    if (nghttp2_session_client_new(&s, cbs.get(), this) != 0) return false;
    session_.reset(s);
    // No server push; our SETTINGS also bound what the server may send us in one header block. The whole
    // body we read (up to max_body_bytes) fits in one flow-control window, stream and connection: the
    // server never waits on our WINDOW_UPDATEs for what we mean to read anyway.
    const auto window = static_cast<uint32_t>(
        std::min<uint64_t>(ctx_.limits.max_body_bytes + 64 * 1024, NGHTTP2_MAX_WINDOW_SIZE));
    const std::array<nghttp2_settings_entry, 3> settings{{
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<uint32_t>(ctx_.limits.max_header_bytes)},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, window},
    }};
    if (nghttp2_submit_settings(s, NGHTTP2_FLAG_NONE, settings.data(), settings.size()) != 0) return false;
    if (nghttp2_session_set_local_window_size(s, NGHTTP2_FLAG_NONE, 0, static_cast<int32_t>(window)) != 0)
      return false;
    return submit_request();
  }

  bool submit_request() {
    const TargetOptions& t = *ctx_.target;
    const HttpOptions& http = t.http;
    std::vector<std::pair<std::string, std::string>> fields;
    std::string authority = t.url.authority();
    auto user_has = [&](std::string_view name) {
      return std::any_of(http.headers.begin(), http.headers.end(),
                         [&](const RequestHeader& h) { return ascii_lowered(h.name) == name; });
    };
    for (const auto& h : http.headers)
      if (ascii_lowered(h.name) == "host" && h.send) authority = h.value;
    fields.emplace_back(":method", is_http_token(http.method) ? http.method : std::string("GET"));
    fields.emplace_back(":scheme", "https");
    fields.emplace_back(":authority", authority);
    fields.emplace_back(":path", t.url.target);
    if (!user_has("user-agent")) fields.emplace_back("user-agent", "mtls-probe/" MTLS_PROBE_VERSION);
    if (!user_has("accept")) fields.emplace_back("accept", "*/*");
    if (http.data) {
      if (!user_has("content-length"))
        fields.emplace_back("content-length", std::to_string(http.data->size()));
      if (!user_has("content-type")) fields.emplace_back("content-type", "application/x-www-form-urlencoded");
    }
    for (const auto& h : http.headers) {
      const std::string name = ascii_lowered(h.name);
      if (!h.send || !is_http_token(h.name) || not_for_h2(name) ||
          h.value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
        continue;
      fields.emplace_back(name, h.value);
    }
    // As curl counts an HTTP/2 request: its HTTP/1.1 form (request line, "name: value" lines, blank line).
    std::uint64_t head_bytes = ctx_.facts->request_line.size() + 4;
    for (const auto& [n, v] : fields)
      if (n.front() != ':') head_bytes += n.size() + 2 + v.size() + 2;
    ctx_.facts->request_head_bytes = head_bytes;
    std::vector<nghttp2_nv> nva;
    for (auto& [n, v] : fields) {
      nva.push_back(nghttp2_nv{reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                               n.size(), v.size(), NGHTTP2_NV_FLAG_NONE});
      if (ctx_.log->tracing()) {
        ctx_.log->debug("> {}", escape_terminal(header_trace_line(n, v)));
      }
    }
    nghttp2_data_provider provider{};
    provider.read_callback = read_body;
    stream_id_ = nghttp2_submit_request(session_.get(), nullptr, nva.data(), nva.size(),
                                        http.data ? &provider : nullptr, nullptr);
    return stream_id_ > 0;
  }

  // Writes what nghttp2 has queued. nullopt: all out (or writing failed: read what the server said).
  std::optional<Status> flush() {
    flushed_any_ = out_off_ < out_.size();
    while (!write_failed_) {
      if (out_off_ == out_.size()) {
        out_.clear();
        out_off_ = 0;
        // Collect what is queued (bounded: a few frames at most for one request).
        while (out_.size() < 64 * 1024) {
          const uint8_t* data = nullptr;
          const auto n = nghttp2_session_mem_send(session_.get(), &data);
          if (n < 0) {
            if (error_.empty())
              error_ = fmt::format("HTTP/2 session failed: {}", nghttp2_strerror(static_cast<int>(n)));
            over_ = true;
            return Status::done;
          }
          if (n == 0) break;
          out_.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
          produced_ += static_cast<uint64_t>(n);
        }
        if (out_.empty()) return std::nullopt;
        flushed_any_ = true;
      }
      const std::size_t before = out_off_;
      const SslIo io = io_->write_all(out_, out_off_, *ctx_.facts);
      written_total_ += static_cast<uint64_t>(out_off_ - before);
      if (io == SslIo::want_read) return Status::want_read;
      if (io == SslIo::want_write) return Status::want_write;
      // A failed write still goes on to read: the server may already have sent its verdict as an alert.
      if (io == SslIo::failed) write_failed_ = true;
    }
    return std::nullopt;
  }

  // The request body waits on a window the server keeps shut: everything nghttp2 would send is written.
  std::optional<H2WindowStall> window_stall() const {
    const std::optional<std::string>& data = ctx_.target->http.data;
    if (!data || !session_ || request_out_ || stream_id_ <= 0 || out_off_ < out_.size() || stream_closed_)
      return std::nullopt;
    const bool stream_shut = nghttp2_session_get_stream_remote_window_size(session_.get(), stream_id_) <= 0;
    const bool connection_shut = nghttp2_session_get_remote_window_size(session_.get()) <= 0;
    if (!stream_shut && !connection_shut) return std::nullopt;
    return H2WindowStall{
        !stream_shut, body_sent_, data->size(),
        nghttp2_session_get_remote_settings(session_.get(), NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE)};
  }

  bool finished_stream() const {
    if (stream_closed_ || truncated_ || closed_) return true;
    return nghttp2_session_want_read(session_.get()) == 0 && nghttp2_session_want_write(session_.get()) == 0;
  }

  void record_error(uint32_t code, Side from, bool goaway) {
    if (h2_error_ || code == NGHTTP2_NO_ERROR) return;
    h2_error_ = H2ErrorRecord{code, h2_error_name(code), from, goaway};
  }

  void trace_frame(char dir, const nghttp2_frame* frame) const {
    if (ctx_.log->tracing()) ctx_.log->debug("h2 {} {}", dir, frame_text(frame));
  }

  // ---- nghttp2 callbacks (user_data is the exchange)

  static Http2Exchange& self(void* user_data) { return *static_cast<Http2Exchange*>(user_data); }

  static int on_frame_recv(nghttp2_session* s, const nghttp2_frame* frame, void* ud) {
    return guard([&] {
      Http2Exchange& x = self(ud);
      x.trace_frame('<', frame);
      switch (frame->hd.type) {
        case NGHTTP2_GOAWAY: x.record_error(frame->goaway.error_code, Side::server, true); break;
        case NGHTTP2_RST_STREAM:
          if (frame->hd.stream_id == x.stream_id_)
            x.record_error(frame->rst_stream.error_code, Side::server, false);
          break;
        case NGHTTP2_HEADERS:
          if (frame->hd.stream_id == x.stream_id_ && (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS) != 0 &&
              x.status_ && *x.status_ >= 200 && !x.headers_done_) {
            x.headers_done_ = true;
            skip_sink_for_redirect(x.ctx_.limits, *x.status_, x.has_header("location"));
            x.refuse_oversize_body(s);
          }
          break;
        default: break;
      }
      return 0;
    });
  }

  static int on_frame_send(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    return guard([&] {
      Http2Exchange& x = self(ud);
      x.trace_frame('>', frame);
      const bool ours = frame->hd.stream_id == x.stream_id_;
      switch (frame->hd.type) {
        case NGHTTP2_GOAWAY: x.record_error(frame->goaway.error_code, Side::client, true); break;
        case NGHTTP2_RST_STREAM:
          if (ours && !x.cancelled_) x.record_error(frame->rst_stream.error_code, Side::client, false);
          break;
        case NGHTTP2_HEADERS:
        case NGHTTP2_DATA:
          // Called once nghttp2 has handed the frame over (it is in out_): the request is sent when the
          // bytes up to here are written.
          if (ours && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
            x.request_out_ = true;
            x.request_end_ = x.produced_;
          }
          break;
        default: break;
      }
      return 0;
    });
  }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    return guard([&] {
      Http2Exchange& x = self(ud);
      if (frame->hd.stream_id == x.stream_id_ && !x.headers_done_) {
        x.status_.reset();  // after an interim (1xx) response, the final one starts over
        x.headers_.clear();
      }
      return 0;
    });
  }

  static int on_header(nghttp2_session* s, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void* ud) {
    return guard([&] {
      Http2Exchange& x = self(ud);
      if (frame->hd.stream_id != x.stream_id_) return 0;
      const std::string_view n(reinterpret_cast<const char*>(name), namelen);
      const std::string_view v(reinterpret_cast<const char*>(value), valuelen);
      x.header_bytes_ += namelen + valuelen;
      ++x.header_count_;
      if (x.header_bytes_ > x.ctx_.limits.max_header_bytes || x.header_count_ > x.ctx_.limits.max_headers) {
        x.error_ = x.header_count_ > x.ctx_.limits.max_headers
                       ? fmt::format("more than {} headers in the response", x.ctx_.limits.max_headers)
                       : fmt::format("response headers exceed {} bytes", x.ctx_.limits.max_header_bytes);
        x.cancel(s);
        return static_cast<int>(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE);
      }
      if (n == ":status") {
        int code = 0;
        for (char c : v) code = code * 10 + (c - '0');  // nghttp2 checked: three digits
        x.status_ = code;
      } else if (!n.empty() && n.front() != ':') {
        (x.headers_done_ ? x.trailers_ : x.headers_).emplace_back(n, v);
      }
      return 0;
    });
  }

  static int on_data_chunk(nghttp2_session* s, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                           void* ud) {
    return guard([&] {
      Http2Exchange& x = self(ud);
      if (stream_id != x.stream_id_ || x.truncated_ || x.cancelled_) return 0;
      const size_t room = x.ctx_.limits.body_keep - std::min(x.body_.size(), x.ctx_.limits.body_keep);
      x.body_.append(reinterpret_cast<const char*>(data), std::min(room, len));
      // Counted up to the cap, as HTTP/1.1's parser counts: what lies past it was never read as body.
      const auto take =
          static_cast<size_t>(std::min<uint64_t>(len, x.ctx_.limits.max_body_bytes - x.body_bytes_));
      x.body_bytes_ += take;
      BodySink* sink = x.ctx_.limits.sink;
      if (sink != nullptr && take > 0 && !sink->write({reinterpret_cast<const char*>(data), take})) {
        x.cancel(s);  // nowhere to put the rest: the sink's error is the fact (record_body_sink)
        return 0;
      }
      // More than the cap arrived (HTTP/1.1's parser also stops only when more comes than it may read).
      const bool over =
          x.ctx_.limits.sink != nullptr ? take < len : x.body_bytes_ >= x.ctx_.limits.max_body_bytes;
      if (over) {
        x.truncated_ = true;  // enough read: the rest is not ours to wait for
        x.cancel(s);
      }
      return 0;
    });
  }

  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* ud) {
    return guard([&] {
      Http2Exchange& x = self(ud);
      if (stream_id != x.stream_id_) return 0;
      x.stream_closed_ = true;
      x.stream_error_ = error_code;
      // Closed for a GOAWAY that did not cover it (REFUSED_STREAM), or by an error nghttp2 gave no frame for.
      if (!x.cancelled_) x.record_error(error_code, Side::server, false);
      return 0;
    });
  }

  static ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                           nghttp2_data_source*, void* ud) {
    Http2Exchange& x = self(ud);
    const std::string& data = *x.ctx_.target->http.data;
    const size_t n = std::min(length, data.size() - x.body_sent_);
    std::copy_n(data.data() + x.body_sent_, n, buf);
    x.body_sent_ += n;
    if (x.body_sent_ == data.size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return static_cast<ssize_t>(n);
  }

  bool has_header(std::string_view lower_name) const {
    return std::any_of(headers_.begin(), headers_.end(), [&](const auto& h) { return h.first == lower_name; });
  }

  // -o --max-filesize: a content-length above it ends the stream before any DATA is read, as curl.
  void refuse_oversize_body(nghttp2_session* s) {
    if (!ctx_.limits.refuse_oversize_length) return;
    for (const auto& [name, value] : headers_) {
      if (name != "content-length") continue;
      std::uint64_t length = 0;
      const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec != std::errc() || end != value.data() + value.size() || length <= ctx_.limits.max_body_bytes)
        return;
      oversize_length_ = length;
      truncated_ = true;
      cancel(s);
      return;
    }
  }

  void cancel(nghttp2_session* s) {
    cancelled_ = true;
    nghttp2_submit_rst_stream(s, NGHTTP2_FLAG_NONE, stream_id_, NGHTTP2_CANCEL);
  }

  ExchangeContext ctx_;
  SslExchangeIo ssl_io_;
  ExchangeIo* io_;  // ssl_io_, or the one the context brought
  Clock::time_point start_;
  std::unique_ptr<nghttp2_session, SessionDeleter> session_;
  int32_t stream_id_ = -1;
  std::string out_;  // frames nghttp2 produced, not yet written
  size_t out_off_ = 0;
  size_t body_sent_ = 0;
  bool request_out_ = false;    // END_STREAM was handed to us by nghttp2
  uint64_t produced_ = 0;       // bytes nghttp2 gave us
  uint64_t written_total_ = 0;  // bytes SSL_write took
  uint64_t request_end_ = 0;    // produced_ when the request's END_STREAM frame was among them
  bool flushed_any_ = false;    // the last flush() had bytes to write
  bool write_failed_ = false;
  bool got_bytes_ = false;
  bool closed_ = false;  // the TLS connection ended
  bool over_ = false;
  std::optional<std::uint64_t> oversize_length_;  // content-length above --max-filesize (refused)
  bool cancelled_ = false;  // we reset our stream ourselves (a cap): not the server's error
  bool stream_closed_ = false;
  uint32_t stream_error_ = 0;
  std::optional<int> status_;
  bool headers_done_ = false;  // the final response's header block is complete
  std::vector<std::pair<std::string, std::string>> headers_, trailers_;
  size_t header_bytes_ = 0, header_count_ = 0;
  std::string body_;
  uint64_t body_bytes_ = 0;
  bool truncated_ = false;
  std::optional<H2ErrorRecord> h2_error_;
  std::string error_;  // a cap or a session failure: the response is broken
};

}  // namespace

std::unique_ptr<HttpExchange> make_http2_exchange(const ExchangeContext& ctx) {
  return std::make_unique<Http2Exchange>(ctx);
}

std::string h2_error_name(std::uint32_t code) {
  switch (code) {
    case 0x0: return "NO_ERROR";
    case 0x1: return "PROTOCOL_ERROR";
    case 0x2: return "INTERNAL_ERROR";
    case 0x3: return "FLOW_CONTROL_ERROR";
    case 0x4: return "SETTINGS_TIMEOUT";
    case 0x5: return "STREAM_CLOSED";
    case 0x6: return "FRAME_SIZE_ERROR";
    case 0x7: return "REFUSED_STREAM";
    case 0x8: return "CANCEL";
    case 0x9: return "COMPRESSION_ERROR";
    case 0xa: return "CONNECT_ERROR";
    case 0xb: return "ENHANCE_YOUR_CALM";
    case 0xc: return "INADEQUATE_SECURITY";
    case 0xd: return "HTTP_1_1_REQUIRED";
    default: return fmt::format("UNKNOWN_ERROR_0x{:x}", code);
  }
}

}  // namespace mtls_probe
