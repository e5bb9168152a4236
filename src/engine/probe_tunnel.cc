// The probe's tunnel stage: CONNECT through an HTTP proxy, between TCP and TLS (curl's cf-h1-proxy). The
// request goes out and the proxy's answer comes in over the same non-blocking transport the TLS stage
// then uses; the stage is bounded by the connect deadline and its answer by the header caps.
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <poll.h>

#include <array>
#include <cerrno>

#include "mtls_probe/engine/net.h"
#include "mtls_probe/engine/probe.h"

namespace mtls_probe {
namespace {

// A 2xx answer to CONNECT: the tunnel stands.
bool opens_tunnel(std::optional<int> status) {
  return status && *status >= 200 && *status < 300;
}

}  // namespace

Probe::TunnelState::~TunnelState() {
  OPENSSL_cleanse(request.data(), request.size());
}

// ---- TLS to an https:// proxy, before the tunnel

void Probe::begin_proxy_tls() {
  stage_ = ProbeStage::proxy_tls;
  stage_start_ = Clock::now();
  ProxyFacts& p = *facts_.proxy;
  p.tls = true;
  std::optional<Error> error;
  const ProxyTlsContext* ctx = tls_.proxy_tls(error);
  if (ctx == nullptr) {
    p.tls_error = error ? error->message : "no TLS context for the proxy";
    p.error = "cannot use the proxy's TLS settings: " + p.tls_error;
    return finish();
  }
  proxy_ssl_ = new_proxy_ssl(*ctx, target_.proxy->host, p);
  UniqueBio bio = proxy_ssl_ ? make_transport_bio(*transport_) : nullptr;
  if (!proxy_ssl_ || !bio) {
    p.error = "cannot create the TLS connection to the proxy";
    return finish();
  }
  BIO* b = bio.release();
  SSL_set_bio(proxy_ssl_.get(), b, b);
  io_events_ = POLLOUT;
}

bool Probe::proxy_tls_step() {
  ProxyFacts& p = *facts_.proxy;
  ERR_clear_error();
  const int rc = SSL_connect(proxy_ssl_.get());
  if (rc == 1) {
    p.tls_ms = ms_since(stage_start_);
    std::optional<Error> unused;
    const bool trusted = record_proxy_handshake(proxy_ssl_.get(), *tls_.proxy_tls(unused), p);
    log_.debug("TLS to the proxy: {}; its certificate {}", p.tls_version.value_or("?"),
               p.tls_verify_error ? *p.tls_verify_error : std::string("verified"));
    if (!trusted) {
      p.error = "the proxy's certificate did not verify: " + *p.tls_verify_error;
      finish();
      return true;
    }
    transport_ = std::make_unique<TlsTransport>(std::move(transport_), std::move(proxy_ssl_));
    begin_tunnel();
    return true;
  }
  const int err = SSL_get_error(proxy_ssl_.get(), rc);
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
    io_events_ = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
    return false;
  }
  record_proxy_tls_error(p, err == SSL_ERROR_SYSCALL
                                ? "the proxy closed the connection during the TLS handshake"
                                : "the TLS handshake with the proxy failed");
  p.error = p.tls_error;
  finish();
  return true;
}

// A TLS connection to the proxy that broke under the tunnel (an alert from the proxy, a reset): the proxy's
// failure, recorded as such, whatever stage noticed it.
void Probe::record_transport_error() {
  if (!facts_.proxy || !transport_) return;
  const TransportError* e = transport_->error();
  if (e == nullptr) return;
  ProxyFacts& p = *facts_.proxy;
  if (e->alert != 0) p.tls_alert = proxy_alert(e->alert, p);
  if (p.tls_error.empty()) p.tls_error = e->text;
  if (!p.error) p.error = "the TLS connection to the proxy failed under the tunnel: " + e->text;
}

// ---- the CONNECT tunnel

void Probe::begin_tunnel() {
  stage_ = ProbeStage::tunnel;
  stage_start_ = Clock::now();
  ProxyFacts& p = *facts_.proxy;
  p.tunnel_attempted = true;
  std::optional<ProxyCredentials> creds;
  if (target_.proxy->user)
    creds = ProxyCredentials{*target_.proxy->user, target_.proxy->password.value_or("")};
  p.credentials_sent = creds.has_value();
  // The origin as the proxy must reach it: the URL's host and port, or --connect-to's (as curl), an IPv6
  // literal in brackets, no zone.
  const OriginEndpoint to = origin_endpoint(target_);
  Url origin = target_.url;
  origin.host = to.host;
  origin.host_is_ipv6 = to.host.find(':') != std::string::npos;
  origin.port = 443;  // authority() then leaves the port out: it is written always, as curl does
  const std::string authority = origin.authority() + ":" + std::to_string(to.port);
  tunnel_ = std::make_unique<TunnelState>();
  tunnel_->request = build_connect_request(authority, creds);
  if (creds) OPENSSL_cleanse(creds->password.data(), creds->password.size());
  log_.debug("> CONNECT {} HTTP/1.1{}", authority, p.credentials_sent ? " (with Proxy-Authorization)" : "");
  io_events_ = POLLOUT;
}

// Writes the CONNECT request, then reads the answer's head; false while it waits for the proxy.
bool Probe::tunnel_step() {
  TunnelState& t = *tunnel_;
  ProxyFacts& p = *facts_.proxy;
  while (t.sent < t.request.size()) {
    const ssize_t n = transport_->write(t.request.data() + t.sent, t.request.size() - t.sent);
    if (n < 0 && would_block(errno)) {
      io_events_ = POLLOUT;
      return false;
    }
    if (n <= 0) {
      // Its verdict may already be waiting: a TLS 1.3 proxy refuses our certificate with an alert after the
      // handshake, which only a read sees (the same as ssl_write_all does for the server).
      std::array<char, 512> drain{};
      (void)transport_->read(drain.data(), drain.size());
      p.error = "the proxy closed the connection before it took the CONNECT request";
      finish_tunnel();
      return true;
    }
    t.sent += static_cast<std::size_t>(n);
  }
  std::array<char, 4096> buf{};
  for (;;) {
    const ssize_t n = transport_->read(buf.data(), buf.size());
    if (n < 0 && would_block(errno)) {
      io_events_ = POLLIN;
      return false;
    }
    if (n <= 0) {
      t.reader.finish();
      break;
    }
    std::size_t used = 0;
    const auto st = t.reader.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)), used);
    if (st == ConnectResponseReader::State::complete && opens_tunnel(t.reader.status()) &&
        used < static_cast<std::size_t>(n)) {
      // TLS is ours to start: a proxy that sends tunnel bytes first is not relaying an origin.
      p.error = "the proxy sent " + std::to_string(static_cast<std::size_t>(n) - used) +
                " bytes after its answer to CONNECT, before the TLS handshake began";
    }
    if (st != ConnectResponseReader::State::need_more) break;
  }
  finish_tunnel();
  return true;
}

void Probe::finish_tunnel() {
  ProxyFacts& p = *facts_.proxy;
  TunnelState& t = *tunnel_;
  p.tunnel_ms = ms_since(stage_start_);
  if (t.reader.status()) {
    p.connect_status = t.reader.status();
    p.reason = t.reader.reason();
    p.headers = t.reader.headers();
    p.auth_schemes =
        proxy_auth_schemes(p.headers, p.connect_status == 401 ? "www-authenticate" : "proxy-authenticate");
  }
  if (!p.error && t.reader.state() == ConnectResponseReader::State::error) p.error = t.reader.error();
  log_.debug("< proxy answered CONNECT: {} {}", p.connect_status ? std::to_string(*p.connect_status) : "-",
             p.error ? *p.error : p.reason);
  const bool ok = !p.error && opens_tunnel(p.connect_status);
  tunnel_.reset();
  if (!ok) return finish();
  p.tunnel_established = true;
  begin_tls();
}

}  // namespace mtls_probe
