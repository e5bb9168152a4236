// The probe's TLS handshake and HTTP/1.1 exchange, step by step over the engine's transport. Each step calls
// OpenSSL until it would block; SSL_ERROR_WANT_READ / WANT_WRITE become the fd events the loop waits for.
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "mtls_probe/engine/probe.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {
namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) continue;  // not a protocol name ALPN can carry
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

void trace_request(const ProbeLog& log, const std::string& request) {
  for (const auto& line : request_trace_lines(request)) log.debug("> {}", escape_terminal(line));
}

void trace_response(const ProbeLog& log, const HttpResponseParser& p) {
  if (!p.status()) return;
  log.debug("< {} {}{}", escape_terminal(p.version()), *p.status(),
            p.reason().empty() ? "" : " " + escape_terminal(p.reason()));
  for (const auto& [name, value] : p.headers())
    log.debug("< {}", escape_terminal(header_trace_line(name, value)));
}

}  // namespace

// What a non-blocking OpenSSL call's result means for the probe.
Probe::Io Probe::after_ssl_call(int rc) {
  ProbeFacts& f = facts_;
  switch (SSL_get_error(ssl_.get(), rc)) {
    case SSL_ERROR_NONE: return Io::done;
    case SSL_ERROR_WANT_READ: return Io::want_read;
    case SSL_ERROR_WANT_WRITE: return Io::want_write;
    case SSL_ERROR_ZERO_RETURN: return Io::eof;
    case SSL_ERROR_SYSCALL: {
      const int e = errno;
      if (ERR_peek_error() != 0) {
        record_tls_failure(f);
        return Io::failed;
      }
      if (e == ECONNRESET || e == EPIPE) return Io::reset;
      if (e == 0) return Io::eof;  // EOF without close_notify
      f.tls_error = std::strerror(e);
      return Io::failed;
    }
    default: record_tls_failure(f); return Io::failed;
  }
}

// ---- TLS

void Probe::begin_handshake(UniqueFd fd) {
  stage_ = ProbeStage::tls_handshake;
  stage_start_ = Clock::now();
  ProbeFacts& f = facts_;
  f.tls_attempted = true;
  transport_ = std::make_unique<SocketTransport>(std::move(fd));
  if (const auto& trust = tls_.ensure_trust(log_)) {
    f.tls_error = trust->message + (trust->openssl_detail.empty() ? "" : ": " + trust->openssl_detail);
    return finish();
  }
  ssl_.reset(SSL_new(tls_.ctx()));
  UniqueBio bio = ssl_ ? make_transport_bio(*transport_) : nullptr;
  if (!ssl_ || !bio) {
    f.tls_error = "cannot create a TLS connection: " + drain_openssl_errors();
    return finish();
  }
  SSL* ssl = ssl_.get();
  BIO* b = bio.release();
  SSL_set_bio(ssl, b, b);  // one BIO both ways; the SSL owns it
  // Whole flights in one recv: without read-ahead libssl reads each record's 5-byte header and then its
  // body (~22 recv calls a probe against nginx). Safe with our loop: the SSL calls return WANT_READ only
  // when what is buffered is not a whole record, so nothing buffered waits for a poll() that never fires.
  SSL_set_read_ahead(ssl, 1);
  session_ = ProbeSession{&f, &tls_, &log_, false, false, false};
  SSL_set_app_data(ssl, &session_);
  SSL_set_msg_callback(ssl, on_message);
  SSL_set_post_handshake_auth(ssl, 1);  // Apache's per-location SSLVerifyClient under TLS 1.3
  if (const std::string wire = alpn_wire(target_.alpn); !wire.empty()) {
    SSL_set_alpn_protos(ssl, reinterpret_cast<const unsigned char*>(wire.data()),
                        static_cast<unsigned>(wire.size()));
  }
  const Url& url = target_.url;
  std::string name = target_.servername.empty() ? url.host : target_.servername;
  // As curl: a trailing dot (fully qualified) is not part of the name in SNI or in the certificate.
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  // An IPv6 zone id ("fe80::1%eth0") is local routing, not part of the address a certificate names.
  if (const auto pct = name.find('%'); pct != std::string::npos && url.host_is_ipv6) name.resize(pct);
  const bool name_is_ip = target_.servername.empty() ? url.host_is_ip : [&] {
    Endpoint ep;
    return numeric_endpoint(name, 0, ep);
  }();
  if (!name_is_ip) {
    f.sni = name;
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set1_host(ssl, name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
  }
  SSL_set_connect_state(ssl);
}

// One SSL_connect; false while it waits for the peer.
bool Probe::handshake_step() {
  ERR_clear_error();
  const int rc = SSL_connect(ssl_.get());
  if (rc == 1) {
    ProbeFacts& f = facts_;
    f.handshake_completed = true;
    session_.handshake_done = true;
    f.tls_ms = ms_since(stage_start_);
    record_session_facts(ssl_.get(), f, epoch_, true);
    log_.debug("handshake done: {} {}; server certificate {}", f.tls_version.value_or("?"),
               f.cipher.value_or("?"), f.verify_error ? *f.verify_error : std::string("verified"));
    if (!f.client_cert_requested) f.issuer_in_acceptable_ca_names.reset();
    begin_request();
    return true;
  }
  const Io io = after_ssl_call(rc);
  if (io == Io::want_read || io == Io::want_write) {
    io_events_ = io == Io::want_read ? POLLIN : POLLOUT;
    return false;
  }
  handshake_failed(io);
  return true;
}

void Probe::handshake_failed(Io io) {
  ProbeFacts& f = facts_;
  if (io == Io::eof || io == Io::reset) {
    f.peer_closed_during_handshake = true;
    if (f.tls_error.empty()) {
      f.tls_error = io == Io::reset ? "connection reset by peer during the TLS handshake"
                                    : "connection closed by peer during the TLS handshake";
    }
  }
  record_session_facts(ssl_.get(), f, epoch_, session_.server_hello_seen);
  // The CertificateRequest may have arrived before the handshake failed (TLS 1.3: it comes before the
  // server's Certificate, whose verification can abort the handshake): OpenSSL has parsed its CA list
  // then, but our certificate callback never ran to record it.
  if (f.client_cert_requested && f.acceptable_ca_names.empty()) {
    f.issuer_in_acceptable_ca_names = record_ca_names(ssl_.get(), f, tls_.identity());
  }
  finish();
}

// ---- HTTP: always write the request, then read: under TLS 1.3 the server judges our certificate after
// the handshake, and its verdict arrives as an alert on the first read.

void Probe::begin_request() {
  stage_ = ProbeStage::send_request;
  stage_start_ = Clock::now();
  request_ = build_request(target_.http, target_.url.authority(), target_.url.target);
  facts_.request_line = target_.http.method + " " + target_.url.target + " HTTP/1.1";
  if (log_.tracing()) trace_request(log_, request_);
  written_ = 0;
}

bool Probe::send_step() {
  while (written_ < request_.size()) {
    ERR_clear_error();
    const int rc =
        SSL_write(ssl_.get(), request_.data() + written_, static_cast<int>(request_.size() - written_));
    if (rc > 0) {
      written_ += static_cast<std::size_t>(rc);
      continue;
    }
    const Io io = after_ssl_call(rc);
    if (io == Io::want_read || io == Io::want_write) {
      io_events_ = io == Io::want_read ? POLLIN : POLLOUT;
      return false;
    }
    // The server may already have sent its verdict as an alert: read it before concluding.
    if (io == Io::reset) facts_.reset_after_request = true;
    write_failed_ = true;
    break;
  }
  facts_.request_sent = !write_failed_;
  stage_ = ProbeStage::read_response;
  parser_.emplace(HttpLimits{}, target_.http.method == "HEAD");
  return true;
}

// Reads until the response is complete, the peer closes, or the read would block.
bool Probe::read_step() {
  std::array<char, std::size_t{16} * 1024> buf{};
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_read(ssl_.get(), buf.data(), static_cast<int>(buf.size()));
    if (rc > 0) {
      if (!got_bytes_) facts_.ttfb_ms = ms_since(stage_start_);
      got_bytes_ = true;
      if (parser_->feed(std::string_view(buf.data(), static_cast<size_t>(rc))) !=
          HttpResponseParser::State::need_more)
        break;
      if (Clock::now() >= max_deadline_) {
        mark_timeout(Phase::http, false);
        break;
      }
      continue;
    }
    const Io io = after_ssl_call(rc);
    if (io == Io::want_read || io == Io::want_write) {
      io_events_ = io == Io::want_read ? POLLIN : POLLOUT;
      return false;
    }
    if (io == Io::eof) {
      parser_->finish();
    } else if (io == Io::reset) {
      facts_.reset_after_request = true;
    }
    break;
  }
  finish_response();
  return true;
}

void Probe::finish_response() {
  ProbeFacts& f = facts_;
  SSL* ssl = ssl_.get();
  // Post-handshake authentication or renegotiation may have brought a (new) CA list.
  if (f.cert_request_post_handshake || f.renegotiation_cert_request) {
    if (auto m = record_ca_names(ssl, f, tls_.identity()); m) f.issuer_in_acceptable_ca_names = m;
  }
  if (!got_bytes_) f.closed_before_response = !f.timed_out_in.has_value();
  const HttpResponseParser& parser = *parser_;
  if (log_.tracing()) trace_response(log_, parser);
  if (parser.status()) {
    f.http_status = parser.status();
    f.http_reason = parser.reason();
    f.response_headers = parser.headers();
  }
  f.body_excerpt = parser.body_kept();
  f.body_bytes = parser.body_bytes();
  f.body_truncated = parser.body_truncated();
  if (parser.state() == HttpResponseParser::State::error) {
    f.http_error = parser.error();
  } else if (got_bytes_ && parser.state() == HttpResponseParser::State::need_more && !f.timed_out_in) {
    f.http_error = f.reset_after_request ? "connection reset before the response was complete"
                                         : "connection closed before the response was complete";
  }
  // A polite close: our close_notify. Non-blocking, best effort, no waiting for the peer's.
  SSL_shutdown(ssl);
  finish();
}

}  // namespace mtls_probe
