// serve's HTTP/2 answer, with nghttp2's server session: nghttp2 frames, we move bytes (mem_send/mem_recv).
#include "serve_h2.h"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <string_view>

namespace mtls_probe::serve_h2 {
namespace {

// Points into fields, which must outlive the result.
std::vector<nghttp2_nv> to_nva(std::vector<std::pair<std::string, std::string>>& fields) {
  std::vector<nghttp2_nv> nva;
  for (auto& [n, v] : fields)
    nva.push_back({reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()), n.size(),
                   v.size(), NGHTTP2_NV_FLAG_NONE});
  return nva;
}

// nghttp2 copies the fields. No exception leaves (a C callback calls this).
bool submit_trailers(nghttp2_session* session, int32_t stream_id,
                     std::vector<std::pair<std::string, std::string>>& trailers) noexcept {
  try {
    std::vector<nghttp2_nv> nva = to_nva(trailers);
    return nghttp2_submit_trailer(session, stream_id, nva.data(), nva.size()) == 0;
  } catch (...) {
    return false;
  }
}

}  // namespace

struct H2ServerSession::Callbacks {
  static H2ServerSession& self(void* ud) { return *static_cast<H2ServerSession*>(ud); }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    H2ServerSession& s = self(ud);
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST && s.stream_id_ == 0)
      s.stream_id_ = frame->hd.stream_id;
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
                       const uint8_t* value, size_t valuelen, uint8_t, void* ud) noexcept {
    H2ServerSession& s = self(ud);
    if (frame->hd.stream_id != s.stream_id_) return 0;
    s.header_bytes_ += namelen + valuelen;
    if (s.header_bytes_ > s.max_header_bytes_) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    try {
      const std::string_view n(reinterpret_cast<const char*>(name), namelen);
      std::string v(reinterpret_cast<const char*>(value), valuelen);
      if (n == ":method") s.req_.method = std::move(v);
      if (n == ":path") s.req_.path = std::move(v);
      if (n == ":authority") s.req_.authority = std::move(v);
    } catch (...) {
      return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* ud) {
    H2ServerSession& s = self(ud);
    // The request is complete at END_STREAM (on its HEADERS, or on its last DATA: the body is dropped).
    if (frame->hd.stream_id == s.stream_id_ && (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0 &&
        (frame->hd.type == NGHTTP2_HEADERS || frame->hd.type == NGHTTP2_DATA))
      s.request_complete_ = true;
    return 0;
  }

  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* ud) {
    H2ServerSession& s = self(ud);
    if (stream_id == s.stream_id_) s.response_done_ = true;
    return 0;
  }

  static ssize_t read_body(nghttp2_session* session, int32_t stream_id, uint8_t* buf, size_t length,
                           uint32_t* flags, nghttp2_data_source*, void* ud) {
    H2ServerSession& s = self(ud);
    const size_t n = std::min(length, s.body_.size() - s.body_off_);
    std::copy_n(s.body_.data() + s.body_off_, n, buf);
    s.body_off_ += n;
    if (s.body_off_ == s.body_.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!s.trailers_.empty()) {
        // The stream ends with the trailers' HEADERS frame instead.
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        if (!submit_trailers(session, stream_id, s.trailers_)) return NGHTTP2_ERR_CALLBACK_FAILURE;
      }
    }
    return static_cast<ssize_t>(n);
  }
};

H2ServerSession::H2ServerSession(ReadFn read, WriteFn write, std::size_t max_header_bytes)
    : read_(std::move(read)), write_(std::move(write)), max_header_bytes_(max_header_bytes) {
  nghttp2_session_callbacks* cbs = nullptr;
  if (nghttp2_session_callbacks_new(&cbs) != 0) return;
  nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(cbs, Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_stream_close_callback(cbs, Callbacks::on_stream_close);
  if (nghttp2_session_server_new(&session_, cbs, this) != 0) session_ = nullptr;
  nghttp2_session_callbacks_del(cbs);
}

H2ServerSession::~H2ServerSession() {
  if (session_ != nullptr) nghttp2_session_del(session_);
}

bool H2ServerSession::flush() {
  for (;;) {
    const uint8_t* data = nullptr;
    const ssize_t n = nghttp2_session_mem_send(session_, &data);
    if (n < 0) {
      error_ = nghttp2_strerror(static_cast<int>(n));
      return false;
    }
    if (n == 0) return true;
    if (!write_(data, static_cast<std::size_t>(n))) {
      error_ = "writing to the client failed";
      return false;
    }
  }
}

bool H2ServerSession::pump_until(const std::function<bool()>& done) {
  std::array<uint8_t, 16384> buf{};
  for (;;) {
    if (!flush()) return false;
    if (done()) return true;
    if (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0) {
      if (error_.empty()) error_ = "the HTTP/2 session ended";
      return false;
    }
    const long n = read_(buf.data(), buf.size());
    if (n <= 0) {
      error_ = n == 0 ? "the client closed the connection" : "reading from the client failed";
      return false;
    }
    const ssize_t used = nghttp2_session_mem_recv(session_, buf.data(), static_cast<size_t>(n));
    if (used < 0) {
      error_ = std::string("the client broke HTTP/2: ") + nghttp2_strerror(static_cast<int>(used));
      flush();  // the GOAWAY nghttp2 queued
      return false;
    }
  }
}

std::optional<H2Request> H2ServerSession::read_request() {
  if (session_ == nullptr) {
    error_ = "cannot start an HTTP/2 session";
    return std::nullopt;
  }
  const nghttp2_settings_entry settings{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, &settings, 1);
  if (!pump_until([&] { return request_complete_; })) return std::nullopt;
  return req_;
}

bool H2ServerSession::respond(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string body, std::vector<std::pair<std::string, std::string>> trailers) {
  trailers_ = std::move(trailers);
  return respond(status, headers, std::move(body));
}

bool H2ServerSession::respond(int status, const std::vector<std::pair<std::string, std::string>>& headers,
                              std::string body) {
  body_ = std::move(body);
  std::vector<std::pair<std::string, std::string>> fields{{":status", std::to_string(status)}};
  for (const auto& [n, v] : headers) {
    std::string name = n;
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    if (name != "connection") fields.emplace_back(std::move(name), v);
  }
  std::vector<nghttp2_nv> nva = to_nva(fields);
  nghttp2_data_provider provider{};
  provider.read_callback = Callbacks::read_body;
  if (nghttp2_submit_response(session_, stream_id_, nva.data(), nva.size(),
                              body_.empty() ? nullptr : &provider) != 0)
    return false;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, stream_id_, NGHTTP2_NO_ERROR, nullptr, 0);
  return pump_until([&] { return response_done_ && nghttp2_session_want_write(session_) == 0; }) ||
         response_done_;
}

bool H2ServerSession::refuse(uint32_t code) {
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream_id_, code);
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE, stream_id_, NGHTTP2_NO_ERROR, nullptr, 0);
  return flush();
}

}  // namespace mtls_probe::serve_h2
