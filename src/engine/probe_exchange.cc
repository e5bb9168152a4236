// The probe's TLS handshake step by step over the engine's transport, and the hand-over to the HTTP exchange
// the negotiated ALPN names. SSL_ERROR_WANT_READ / WANT_WRITE become the fd events the loop waits for.
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "mtls_probe/engine/grpc.h"
#include "mtls_probe/engine/probe.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe {
namespace {

std::string alpn_wire(const std::vector<std::string>& protocols) {
  std::string wire;
  for (const auto& p : protocols) {
    if (p.empty() || p.size() > 255) continue;  // not a protocol name ALPN can carry
    wire += static_cast<char>(p.size());
    wire += p;
  }
  return wire;
}

}  // namespace

Probe::Io Probe::after_ssl_call(int rc) {
  return classify_ssl_result(ssl_.get(), rc, facts_);
}

// ---- TLS

void Probe::begin_handshake(UniqueFd fd) {
  transport_ = std::make_unique<SocketTransport>(std::move(fd));
  begin_tls();
}

// TLS to the origin over transport_: the socket itself, or the tunnel through a proxy.
void Probe::begin_tls() {
  stage_ = ProbeStage::tls_handshake;
  stage_start_ = Clock::now();
  ProbeFacts& f = facts_;
  f.tls_attempted = true;
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
  if (target_.cert_status) {  // on_cert_status (cert_status.cc) checks the answer during the handshake
    f.server_cert_status = ServerCertStatus{};
    SSL_set_tlsext_status_type(ssl, TLSEXT_STATUSTYPE_ocsp);
  }
  for (const auto& p : target_.alpn)
    if (!p.empty() && p.size() <= 255) f.alpn_offered.push_back(p);
  f.h2_fallback_noted = target_.note_h1_fallback;
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
  record_signing_failure(ssl_.get(), tls_.identity(), f);
  // The CertificateRequest may have arrived before the handshake failed (TLS 1.3: it comes before the
  // server's Certificate, whose verification can abort the handshake): OpenSSL has parsed its CA list
  // then, but our certificate callback never ran to record it.
  if (f.client_cert_requested && f.acceptable_ca_names.empty()) {
    f.issuer_in_acceptable_ca_names = record_ca_names(ssl_.get(), f, tls_.identity());
  }
  finish();
}

// ---- HTTP: the exchange the negotiated ALPN names (no ALPN, or anything but h2: HTTP/1.1, as curl).

void Probe::begin_request() {
  stage_ = ProbeStage::send_request;
  stage_start_ = Clock::now();
  const bool h2 = facts_.alpn == std::optional<std::string>("h2");
  facts_.http_version = h2 ? "2" : "1.1";
  if (target_.grpc_health) {
    facts_.grpc.emplace();
    facts_.grpc->service = *target_.grpc_health;
  }
  const ExchangeContext ctx{ssl_.get(), &facts_,       &log_,
                            &target_,   max_deadline_, http_limits_for(target_.http)};
  exchange_ = h2 ? make_http2_exchange(ctx) : make_http1_exchange(ctx);
}

bool Probe::exchange_step() {
  const HttpExchange::Status st = exchange_->step();
  if (exchange_->request_sent()) stage_ = ProbeStage::read_response;
  switch (st) {
    case HttpExchange::Status::want_read: io_events_ = POLLIN; return false;
    case HttpExchange::Status::want_write: io_events_ = POLLOUT; return false;
    case HttpExchange::Status::timed_out: mark_timeout(Phase::http, false); break;
    case HttpExchange::Status::done: break;
  }
  finish_response();
  return true;
}

namespace {

// -o: where the body went, and whether --max-filesize (or the sink) stopped it. Both exchanges count
// body_bytes as what they handed to the sink.
void record_body_sink(ProbeFacts& f, const HttpOptions& http) {
  if (!http.body_sink) return;
  f.body_file = http.body_sink->name();
  f.max_filesize = http.max_filesize;
  if (!f.body_write_error && !http.body_sink->error().empty()) f.body_write_error = http.body_sink->error();
  f.max_filesize_exceeded = http.max_filesize && f.body_truncated && !f.body_write_error;
}

}  // namespace

void Probe::finish_response() {
  ProbeFacts& f = facts_;
  SSL* ssl = ssl_.get();
  // Post-handshake authentication or renegotiation may have brought a (new) CA list.
  if (f.cert_request_post_handshake || f.renegotiation_cert_request) {
    if (auto m = record_ca_names(ssl, f, tls_.identity()); m) f.issuer_in_acceptable_ca_names = m;
  }
  exchange_->finish();
  record_body_sink(f, target_.http);
  if (f.grpc) record_grpc_response(f, HttpLimits{});
  // A polite close: our close_notify. Non-blocking, best effort, no waiting for the peer's.
  SSL_shutdown(ssl);
  if (h1_retry_due()) return begin_h1_retry();
  finish();
}

// At most one retry, only when allowed and HTTP/1.1 was part of the offer.
bool Probe::h1_retry_due() const {
  const auto& offer = target_.alpn;
  const bool h1_offered = std::find(offer.begin(), offer.end(), "http/1.1") != offer.end();
  // A gRPC call is HTTP/2 only: there is nothing to retry over HTTP/1.1.
  return target_.h1_retry && h1_offered && !target_.grpc_health && !facts_.h2_refusal && endpoint_ &&
         refused_for_http1(facts_);
}

// A new connection to the same address (no new lookup) offering only http/1.1, as curl does after
// HTTP_1_1_REQUIRED. The connect limit bounds the retry's own connect and handshake; the total limit
// still counts from the probe's start, so it covers both attempts.
void Probe::begin_h1_retry() {
  const Clock::time_point now = Clock::now();
  const H2ErrorRecord* e = facts_.h2_error ? &*facts_.h2_error : nullptr;
  log_.debug("the server refused HTTP/2 ({}): retrying once over HTTP/1.1 on a new connection to {}",
             e != nullptr ? (e->goaway ? "GOAWAY " : "RST_STREAM ") + e->name : std::string("HTTP 403"),
             endpoint_->text());
  facts_ = facts_for_h1_retry(facts_, ms_since(start_));
  exchange_.reset();
  ssl_.reset();
  transport_.reset();
  target_.alpn = {"http/1.1"};
  target_.note_h1_fallback = false;
  connect_deadline_ = std::min(now + target_.connect_timeout, max_deadline_);
  begin_connect({*endpoint_});
}

}  // namespace mtls_probe
