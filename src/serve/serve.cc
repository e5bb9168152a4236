// The `serve` engine: a TLS listener on loopback that treats client certificates the way Apache mod_ssl
// and nginx do, and logs what their admins would read. One thread per connection (capped), non-blocking
// sockets driven by poll with per-phase deadlines, so that a silent client only ever holds its own thread.
#include "mtls_probe/serve/serve.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <poll.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <ctime>
#include <list>
#include <mutex>
#include <thread>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/base/ascii.h"
#include "mtls_probe/base/ossl.h"
#include "mtls_probe/engine/grpc.h"
#include "mtls_probe/engine/net.h"
#include "mtls_probe/engine/tls_context.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/inspect/revocation.h"
#include "serve_grpc.h"
#include "serve_h2.h"
#include "serve_ocsp.h"

#ifndef MTLS_PROBE_VERSION
#define MTLS_PROBE_VERSION "0"
#endif

namespace mtls_probe::serve {

namespace {

using namespace std::chrono_literals;

// How often a waiting connection looks at the stop flag: the bound on how long SIGTERM can take.
constexpr int kStopPollMs = 100;
// Request bodies are read (and dropped) up to this size so that closing does not reset the connection
// before the client has read the answer; larger ones are left to the lingering close.
constexpr std::size_t kMaxBodyDrain = 1 << 20;

}  // namespace

std::shared_ptr<spdlog::logger> stderr_logger() {
  static std::mutex mu;
  std::lock_guard<std::mutex> lock(mu);
  if (auto existing = spdlog::get("serve")) return existing;
  auto logger = spdlog::stderr_color_mt("serve");
  logger->set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%l] %v");
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::trace);  // scripts grep the log while the server still runs
  return logger;
}

namespace {

// ---------------------------------------------------------------------------------------------------
// Per-connection facts that OpenSSL callbacks fill in (attached to the SSL object as ex_data).

struct TlsFacts {
  bool accept_any_cert = false;       // nginx: the verify callback always returns 1, the HTTP layer decides
  bool require_cert = false;          // a missing client certificate is a failure (--client-auth require)
  bool close_without_alert = false;   // --close-without-alert: a failure ends in a plain TCP close
  bool closed_without_alert = false;  // the TLS 1.2 handshake was cut that way (inside the info callback)
  long verify_error = X509_V_OK;      // the first failure the verify callback saw
  int verify_depth = -1;
  std::string verify_subject;  // of the certificate that failed
  std::vector<int> alerts_sent;
  std::vector<int> alerts_received;
  std::optional<inspect::RevocationOptions> ocsp;  // --ocsp-url: ask about the client's leaf
  std::optional<RevocationCheck> ocsp_answer;      // what the responder said
};

int facts_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

TlsFacts* facts_of(const SSL* ssl) {
  return static_cast<TlsFacts*>(SSL_get_ex_data(ssl, facts_index()));
}

// --ocsp-url: the responder's word on the client's leaf, once its chain verified (this connection's thread
// waits, bounded by the OCSP timeout). Anything but good fails the handshake: revoked with
// certificate_revoked, the rest (unknown, unreachable, not verifiable) with certificate_unknown.
int ocsp_verdict(X509_STORE_CTX* store, TlsFacts& facts) {
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(store);
  X509* leaf = X509_STORE_CTX_get_current_cert(store);
  X509* issuer = chain != nullptr && sk_X509_num(chain) > 1 ? sk_X509_value(chain, 1) : nullptr;
  facts.ocsp_answer = inspect::ocsp_check(leaf, issuer, *facts.ocsp);
  if (facts.ocsp_answer->status == RevocationStatus::good) return 1;
  const int error = facts.ocsp_answer->status == RevocationStatus::revoked ? X509_V_ERR_CERT_REVOKED
                                                                           : X509_V_ERR_OCSP_VERIFY_FAILED;
  X509_STORE_CTX_set_error(store, error);
  if (facts.verify_error == X509_V_OK) {
    facts.verify_error = error;
    facts.verify_depth = 0;
    facts.verify_subject = name_to_string(X509_get_subject_name(leaf));
  }
  return facts.accept_any_cert ? 1 : 0;
}

int verify_callback(int preverify_ok, X509_STORE_CTX* store) {
  auto* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  TlsFacts* facts = ssl != nullptr ? facts_of(ssl) : nullptr;
  if (facts == nullptr) return preverify_ok;
  if (preverify_ok == 0 && facts->verify_error == X509_V_OK) {
    facts->verify_error = X509_STORE_CTX_get_error(store);
    facts->verify_depth = X509_STORE_CTX_get_error_depth(store);
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    facts->verify_subject = cert != nullptr ? name_to_string(X509_get_subject_name(cert)) : "";
  }
  if (preverify_ok == 1 && facts->ocsp && X509_STORE_CTX_get_error_depth(store) == 0)
    return ocsp_verdict(store, *facts);
  return facts->accept_any_cert ? 1 : preverify_ok;
}

// True when the client certificate (or its absence) fails this server's policy. Only meaningful once the
// client's Certificate message has been processed.
bool client_cert_unacceptable(const SSL* ssl, const TlsFacts& facts) {
  if (SSL_get0_peer_certificate(ssl) == nullptr) return facts.require_cert;
  return facts.verify_error != X509_V_OK;
}

// --close-without-alert under TLS 1.2: the client's whole flight (Certificate ... Finished) has been read
// and the server is about to send ChangeCipherSpec. Shutting the socket down here makes that write fail,
// so the client sees the connection end inside its handshake, with no alert, as from GnuTLS.
void close_tls12_handshake_if_unacceptable(const SSL* ssl, TlsFacts& facts) {
  if (!facts.close_without_alert || facts.closed_without_alert) return;
  if (SSL_version(ssl) >= TLS1_3_VERSION || SSL_get_state(ssl) != TLS_ST_SW_CHANGE) return;
  if (!client_cert_unacceptable(ssl, facts)) return;
  facts.closed_without_alert = true;
  ::shutdown(SSL_get_fd(ssl), SHUT_RDWR);
}

void info_callback(const SSL* ssl, int where, int ret) {
  TlsFacts* facts = facts_of(ssl);
  if (facts == nullptr) return;
  if ((where & SSL_CB_LOOP) != 0) close_tls12_handshake_if_unacceptable(ssl, *facts);
  if ((where & SSL_CB_ALERT) == 0) return;
  const int code = ret & 0xff;
  if (code == SSL_AD_CLOSE_NOTIFY) return;
  ((where & SSL_CB_WRITE) != 0 ? facts->alerts_sent : facts->alerts_received).push_back(code);
}

std::string alert_text(int code) {
  return alert_name(code) + " (" + std::to_string(code) + ")";
}

std::string verify_text(long code) {
  return "(" + std::to_string(code) + ":" + X509_verify_cert_error_string(code) + ")";
}

// The error queue as Apache's mod_ssl logs it: "error:0A0000C7:SSL routines::peer did not return a
// certificate", with mod_ssl's hard-coded annotation for that one error. Reasons are kept for decisions.
struct SslErrors {
  std::string text;
  std::vector<int> reasons;  // ERR_GET_REASON of each SSL-library entry
  bool has(int reason) const { return std::find(reasons.begin(), reasons.end(), reason) != reasons.end(); }
};

SslErrors take_ssl_errors() {
  SslErrors out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof buf);
    std::string entry = buf;
    if (ERR_GET_LIB(code) == ERR_LIB_SSL) {
      out.reasons.push_back(ERR_GET_REASON(code));
      if (ERR_GET_REASON(code) == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
        entry += " -- No CAs known to server for verification?";
      }
    }
    if (out.text.size() < 1024) out.text += (out.text.empty() ? "" : "; ") + entry;
  }
  return out;
}

std::string http_date() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  static const char* const kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return buf;
}

struct Request {
  std::string line;  // "GET /x HTTP/1.1"
  std::string method;
  std::string target;
  std::string path;  // target without the query, origin form
  std::string host;
  std::optional<std::size_t> content_length;
};

// Parses the request head (up to and without the blank line). False: not HTTP/1.x.
bool parse_request_head(std::string_view head, Request& req) {
  const auto eol = head.find("\r\n");
  req.line = std::string(head.substr(0, eol));
  const auto sp1 = req.line.find(' ');
  const auto sp2 = req.line.rfind(' ');
  if (sp1 == std::string::npos || sp2 == sp1) return false;
  req.method = req.line.substr(0, sp1);
  req.target = req.line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (req.line.compare(sp2 + 1, 7, "HTTP/1.") != 0 || req.target.empty()) return false;
  std::string_view path = req.target;
  if (path.substr(0, 8) == "https://" || path.substr(0, 7) == "http://") {  // absolute form
    const auto slash = path.find('/', path.find("//") + 2);
    path = slash == std::string_view::npos ? std::string_view("/") : path.substr(slash);
  }
  req.path = std::string(path.substr(0, path.find('?')));
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    const auto end = rest.find("\r\n");
    std::string_view field = rest.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 2);
    const auto colon = field.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = field.substr(0, colon);
    std::string_view value = field.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (iequals(name, "host")) req.host = std::string(value);
    if (iequals(name, "content-length")) {
      std::size_t n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec == std::errc() && p == value.data() + value.size()) req.content_length = n;
    }
  }
  return true;
}

// Log lines keep to printable ASCII: a request line is attacker-controlled text going into a terminal.
// An absolute-form target ("GET https://user:pw@host/") never shows its userinfo.
std::string printable(std::string_view raw, std::size_t max = 200) {
  const std::string redacted = redact_urls_in_text(raw);
  const std::string_view s = redacted;
  std::string out;
  for (char ch : s.substr(0, max)) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c < 0x7f) {
      out += ch;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Shared state: owned by the Server and by every connection thread (which may outlive run() briefly).

struct Shared {
  ServeConfig config;
  UniqueSslCtx ctx;
  std::shared_ptr<spdlog::logger> log;
  bool per_location = false;  // client certificate requested only under auth_prefix, after the handshake
  std::string auth_prefix = "/";
  std::string ocsp_staple;  // --ocsp-staple: the DER response stapled (ctx points here)
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> next_id{1};
  std::mutex mu;
  std::condition_variable cv;
  int active = 0;
};

struct Server::Impl {
  std::shared_ptr<Shared> shared;
  UniqueFd listener;
  int wake_read = -1;  // self-pipe: request_stop() writes, run() polls
  int wake_write = -1;
  std::string host;
  uint16_t port = 0;
  ~Impl() {
    if (wake_read >= 0) ::close(wake_read);
    if (wake_write >= 0) ::close(wake_write);
  }
};

namespace {

enum class Io { ok, closed, timed_out, stopped, failed };

// One client connection, from accept to close.
class Connection {
 public:
  Connection(std::shared_ptr<Shared> shared, UniqueFd fd, std::string peer)
      : sh_(std::move(shared)), fd_(std::move(fd)), peer_(std::move(peer)), id_(sh_->next_id++) {
    prefix_ = "[client " + peer_ + "] #" + std::to_string(id_) + " ";
  }

  void serve();

 private:
  // Waits until the socket is ready as OpenSSL asked, in slices so that a stop request is seen quickly.
  Io wait(int ssl_error) {
    const short events = ssl_error == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN;
    for (;;) {
      if (sh_->stop.load()) return Io::stopped;
      if (deadline_.expired()) return Io::timed_out;
      pollfd p{fd_.get(), events, 0};
      const int r = ::poll(&p, 1, std::min(deadline_.remaining_ms(), kStopPollMs));
      if (r > 0) return Io::ok;
      if (r < 0 && errno != EINTR) return Io::failed;
    }
  }

  // Runs one OpenSSL call until it completes, fails, or the deadline passes. The error queue of a
  // failure is left in errors_.
  template <typename Op>
  Io drive(Op op, int* out = nullptr) {
    for (;;) {
      ERR_clear_error();
      errno = 0;
      const int r = op();
      if (r > 0) {
        if (out != nullptr) *out = r;
        return Io::ok;
      }
      const int e = SSL_get_error(ssl_.get(), r);
      if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        const Io w = wait(e);
        if (w != Io::ok) return w;
        continue;
      }
      const int saved_errno = errno;
      errors_ = take_ssl_errors();
      if (e == SSL_ERROR_ZERO_RETURN) return Io::closed;
      if (e == SSL_ERROR_SYSCALL && errors_.reasons.empty()) {
        if (errors_.text.empty())
          errors_.text = saved_errno != 0 ? std::strerror(saved_errno) : "unexpected EOF";
        return saved_errno == 0 ? Io::closed : Io::failed;
      }
      if (errors_.has(SSL_R_UNEXPECTED_EOF_WHILE_READING)) return Io::closed;
      return Io::failed;
    }
  }

  bool handshake();
  bool close_if_unacceptable();
  void log_closed_without_alert();
  void log_handshake_failure(Io io);
  bool answered_unverified(const Request& req, bool head_only);
  long verify_result() const;
  void log_ocsp_answer() const;
  bool read_request(Request& req);
  enum class AuthOutcome { ok, no_pha, failed };
  AuthOutcome authenticate_after_handshake(const Request& req);
  void respond(int status, const std::string& content_type, const std::string& body, bool head_only,
               bool nginx_headers);
  void answer_plain_http();
  void lingering_close();
  std::string client_cert_text() const;
  std::string describe_page(const Request& req, int status) const;
  bool start_h2();
  void answer_grpc_health(const std::string& req_text);
  bool read_h2_request(Request& req);

  std::shared_ptr<Shared> sh_;
  UniqueFd fd_;
  std::string peer_;
  uint64_t id_;
  std::string prefix_;
  UniqueSsl ssl_;
  TlsFacts facts_;
  SslErrors errors_;
  Deadline deadline_{};
  std::unique_ptr<serve_h2::H2ServerSession> h2_;  // set when the client picked h2 (--http2)
};

void Connection::serve() {
  const auto& cfg = sh_->config;
  sh_->log->debug("{}accepted", prefix_);
  ssl_.reset(SSL_new(sh_->ctx.get()));
  if (!ssl_ || SSL_set_fd(ssl_.get(), fd_.get()) != 1) {
    sh_->log->error("{}cannot set up TLS: {}", prefix_, drain_openssl_errors());
    return;
  }
  // Verification failures never make OpenSSL send an alert in these modes: the HTTP layer (nginx,
  // optional-no-verify) or the plain close decides.
  facts_.accept_any_cert =
      cfg.nginx_style || cfg.client_auth == ClientAuth::optional_no_verify || cfg.close_without_alert;
  facts_.require_cert = cfg.client_auth == ClientAuth::require;
  facts_.close_without_alert = cfg.close_without_alert;
  if (cfg.ocsp_url)
    facts_.ocsp = inspect::RevocationOptions{{}, cfg.ocsp_url, cfg.ocsp_timeout, std::nullopt};
  SSL_set_ex_data(ssl_.get(), facts_index(), &facts_);

  if (!handshake()) return;

  Request req;
  if (!read_request(req)) {
    lingering_close();
    return;
  }
  const bool head_only = req.method == "HEAD";
  const std::string req_text = printable(req.line);
  X509* cert = SSL_get0_peer_certificate(ssl_.get());

  // nginx: the handshake went through whatever the client sent; ngx_http_process_request decides
  // (with optional_no_ca it leaves a bad certificate to the application).
  if (cfg.nginx_style && cfg.client_auth != ClientAuth::none) {
    const long verify = SSL_get_verify_result(ssl_.get());
    if (cert != nullptr && verify != X509_V_OK && cfg.client_auth != ClientAuth::optional_no_verify) {
      sh_->log->warn(
          "{}client SSL certificate verify error: {} while reading client request headers, "
          "request: \"{}\"",
          prefix_, verify_text(verify), req_text);
      respond(400, "text/html", nginx_error_page(NginxPage::certificate_error), head_only, true);
      sh_->log->info("{}\"{}\" 400 (nginx 495: The SSL certificate error)", prefix_, req_text);
      lingering_close();
      return;
    }
    if (cert == nullptr && cfg.client_auth == ClientAuth::require) {
      sh_->log->warn(
          "{}client sent no required SSL certificate while reading client request headers, "
          "request: \"{}\"",
          prefix_, req_text);
      respond(400, "text/html", nginx_error_page(NginxPage::no_certificate), head_only, true);
      sh_->log->info("{}\"{}\" 400 (nginx 496: No required SSL certificate was sent)", prefix_, req_text);
      lingering_close();
      return;
    }
  }

  const std::string_view path = req.path;
  if (sh_->per_location && path.substr(0, sh_->auth_prefix.size()) == sh_->auth_prefix && cert == nullptr) {
    if (h2_) {
      // HTTP/2 forbids renegotiation and post-handshake auth (RFC 9113 9.2.1, RFC 8740): Apache's
      // mod_http2 refuses the stream with HTTP_1_1_REQUIRED, and the client is to retry over HTTP/1.1.
      sh_->log->warn(
          "{}AH10158: \"{}\" needs a client certificate after the handshake, impossible over "
          "HTTP/2: RST_STREAM HTTP_1_1_REQUIRED",
          prefix_, req_text);
      h2_->refuse(0xd);
      lingering_close();
      return;
    }
    switch (authenticate_after_handshake(req)) {
      case AuthOutcome::ok: break;
      case AuthOutcome::no_pha:
        respond(403, "text/html; charset=iso-8859-1", apache_pha_forbidden_page(), head_only, false);
        sh_->log->info("{}\"{}\" 403 (post-handshake authentication impossible)", prefix_, req_text);
        lingering_close();
        return;
      case AuthOutcome::failed:
        return;  // the alert has been sent; nothing more can be said on this connection
    }
  }

  if (answered_unverified(req, head_only)) return;
  if (cfg.grpc_health && h2_ && req.path == kGrpcHealthCheckPath) return answer_grpc_health(req_text);

  const int status = status_for_path(cfg.status_rules, req.path, cfg.status);
  respond(status, "text/plain; charset=utf-8", describe_page(req, status), head_only, cfg.nginx_style);
  sh_->log->info("{}\"{}\" {} {}", prefix_, req_text, status, client_cert_text());
  lingering_close();
}

bool Connection::handshake() {
  deadline_ = Deadline::after(sh_->config.io_timeout);
  const Io io = drive([&] { return SSL_accept(ssl_.get()); });
  log_ocsp_answer();
  if (io == Io::ok) {
    X509* cert = SSL_get0_peer_certificate(ssl_.get());
    std::string who = "no client certificate";
    if (cert != nullptr) {
      who = "client certificate subject \"" + name_to_string(X509_get_subject_name(cert)) + "\", issuer \"" +
            name_to_string(X509_get_issuer_name(cert)) + "\"";
      const long verify = SSL_get_verify_result(ssl_.get());
      who += verify == X509_V_OK ? ", verified" : ", verify error " + verify_text(verify);
    }
    sh_->log->info("{}{} {}, {}", prefix_, SSL_get_version(ssl_.get()), SSL_get_cipher_name(ssl_.get()), who);
    return !close_if_unacceptable();
  }
  if (facts_.closed_without_alert) {
    log_closed_without_alert();
    return false;  // the socket is shut down already: no alert, no close_notify, nothing to drain
  }
  log_handshake_failure(io);
  if (errors_.has(SSL_R_HTTP_REQUEST)) {
    answer_plain_http();
  } else if (io == Io::failed || io == Io::closed) {
    // Under TLS 1.3 the client writes its request before it reads our alert; closing with that request
    // unread would send a reset that can destroy the alert in the client's receive buffer.
    lingering_close();
  }
  return false;
}

void Connection::log_ocsp_answer() const {
  if (!facts_.ocsp_answer) return;
  const RevocationCheck& a = *facts_.ocsp_answer;
  const std::string answer = describe_revocation_answer(a);
  if (a.status == RevocationStatus::good) {
    sh_->log->info("{}OCSP {}: the client certificate is good", prefix_, a.source);
  } else {
    sh_->log->warn("{}OCSP {}: {}: the client certificate is refused ({})", prefix_, a.source, answer,
                   a.status == RevocationStatus::revoked ? "certificate_revoked" : "certificate_unknown");
  }
}

// --close-without-alert after a completed handshake (TLS 1.3: the client's certificate arrives with its
// Finished, after our Finished): close the socket before reading the request, without close_notify.
bool Connection::close_if_unacceptable() {
  if (!sh_->config.close_without_alert || !client_cert_unacceptable(ssl_.get(), facts_)) return false;
  log_closed_without_alert();
  fd_ = UniqueFd();
  return true;
}

void Connection::log_closed_without_alert() {
  const char* how = SSL_version(ssl_.get()) >= TLS1_3_VERSION
                        ? "after the handshake, before reading the request"
                        : "before sending Finished (TLS 1.2)";
  if (SSL_get0_peer_certificate(ssl_.get()) == nullptr) {
    sh_->log->warn("{}peer did not return a certificate: closed the connection without an alert {}", prefix_,
                   how);
    return;
  }
  sh_->log->warn(
      "{}client SSL certificate verify error: {}, depth {}, subject \"{}\": closed the connection without "
      "an alert {}",
      prefix_, verify_text(facts_.verify_error), facts_.verify_depth, facts_.verify_subject, how);
}

long Connection::verify_result() const {
  return facts_.verify_error != X509_V_OK ? facts_.verify_error : SSL_get_verify_result(ssl_.get());
}

// --status-if-unverified: the answer of an application that requested a certificate but lets the TLS
// layer accept anything (node's `if (!req.client.authorized) res.status(401)`). True when it answered.
bool Connection::answered_unverified(const Request& req, bool head_only) {
  const auto& cfg = sh_->config;
  if (cfg.client_auth != ClientAuth::optional && cfg.client_auth != ClientAuth::optional_no_verify)
    return false;
  const bool sent = SSL_get0_peer_certificate(ssl_.get()) != nullptr;
  const long verify = sent ? verify_result() : X509_V_OK;
  const std::string req_text = printable(req.line);
  if (!sent) {
    sh_->log->info("{}peer did not return a certificate (the request goes on: --client-auth {})", prefix_,
                   client_auth_name(cfg.client_auth));
  } else if (verify != X509_V_OK) {
    sh_->log->warn(
        "{}client SSL certificate verify error: {} while reading client request headers, subject \"{}\" "
        "(accepted by the TLS layer: --client-auth {})",
        prefix_, verify_text(verify), facts_.verify_subject, client_auth_name(cfg.client_auth));
  }
  if (!cfg.status_if_unverified || (sent && verify == X509_V_OK)) return false;
  const int status = *cfg.status_if_unverified;
  const std::string body = unverified_page(sent, verify);
  respond(status, "text/plain; charset=utf-8", body, head_only, cfg.nginx_style);
  sh_->log->info("{}\"{}\" {} ({})", prefix_, req_text, status, body.substr(0, body.size() - 1));
  lingering_close();
  return true;
}

void Connection::log_handshake_failure(Io io) {
  auto& log = *sh_->log;
  switch (io) {
    case Io::timed_out:
      log.warn("{}client timed out in SSL handshake ({} ms)", prefix_, sh_->config.io_timeout.count());
      return;
    case Io::stopped: log.info("{}SSL handshake abandoned: server stopping", prefix_); return;
    default: break;
  }
  if (errors_.has(SSL_R_HTTP_REQUEST)) {
    log.warn("{}client sent plain HTTP request to HTTPS port", prefix_);
    return;
  }
  if (io == Io::closed && facts_.alerts_received.empty()) {
    log.warn("{}peer closed connection in SSL handshake", prefix_);
    return;
  }
  if (errors_.has(SSL_R_WRONG_VERSION_NUMBER) || errors_.has(SSL_R_UNKNOWN_PROTOCOL) ||
      errors_.has(SSL_R_PACKET_LENGTH_TOO_LONG) || errors_.has(SSL_R_RECORD_LENGTH_MISMATCH)) {
    log.warn("{}SSL handshake failed: the client did not speak TLS (SSL Library Error: {})", prefix_,
             errors_.text);
    return;
  }
  std::string alerts;
  for (int a : facts_.alerts_sent) alerts += (alerts.empty() ? "" : ", ") + alert_text(a);
  const std::string sent = alerts.empty() ? "" : "; sent alert " + alerts;
  if (facts_.verify_error != X509_V_OK) {
    // nginx's words for the rejected certificate, plus what the client was told.
    log.warn("{}client SSL certificate verify error: {} while SSL handshaking, depth {}, subject \"{}\"{}",
             prefix_, verify_text(facts_.verify_error), facts_.verify_depth, facts_.verify_subject, sent);
    return;
  }
  if (!facts_.alerts_received.empty()) {
    const int a = facts_.alerts_received.front();
    std::string why;
    if (a == SSL_AD_UNKNOWN_CA || a == SSL_AD_BAD_CERTIFICATE || a == SSL_AD_CERTIFICATE_EXPIRED ||
        a == SSL_AD_CERTIFICATE_UNKNOWN) {
      why = " (the client does not accept this server's certificate)";
    }
    log.warn("{}SSL handshake failed: client sent alert {}{} (SSL Library Error: {})", prefix_, alert_text(a),
             why, errors_.text);
    return;
  }
  // Apache's form, including mod_ssl's "No CAs known" guess for a missing certificate.
  log.warn("{}SSL Library Error: {}{}", prefix_, errors_.text, sent);
}

bool Connection::read_request(Request& req) {
  deadline_ = Deadline::after(sh_->config.io_timeout);
  if (start_h2()) return read_h2_request(req);
  const std::size_t limit = sh_->config.max_request_head;
  std::string buf;
  std::size_t head_end = std::string::npos;
  char chunk[4096];
  while (head_end == std::string::npos) {
    int n = 0;
    const Io io = drive([&] { return SSL_read(ssl_.get(), chunk, sizeof chunk); }, &n);
    if (io != Io::ok) {
      if (io == Io::timed_out) {
        sh_->log->warn("{}client timed out ({} ms) while waiting for the request", prefix_,
                       sh_->config.io_timeout.count());
      } else if (io == Io::closed) {
        sh_->log->info("{}client closed the connection {}", prefix_,
                       buf.empty() ? "without sending a request" : "in the middle of the request");
      } else if (io == Io::failed) {
        std::string received;
        for (int a : facts_.alerts_received) received += (received.empty() ? "" : ", ") + alert_text(a);
        sh_->log->warn("{}reading the request failed{}: {}", prefix_,
                       received.empty() ? "" : " (client sent alert " + received + ")", errors_.text);
      }
      return false;
    }
    buf.append(chunk, static_cast<std::size_t>(n));
    head_end = buf.find("\r\n\r\n");
    if (head_end == std::string::npos && buf.size() > limit) {
      sh_->log->warn("{}request head larger than {} bytes", prefix_, limit);
      respond(431, "text/plain; charset=utf-8", "request head too large\n", false, false);
      return false;
    }
  }
  if (!parse_request_head(std::string_view(buf).substr(0, head_end), req)) {
    sh_->log->warn("{}not an HTTP/1.x request: \"{}\"", prefix_, printable(buf.substr(0, buf.find("\r\n"))));
    respond(400, "text/plain; charset=utf-8", "bad request\n", false, false);
    return false;
  }
  // Read (and drop) a small body now: answering before it is read makes the close look like a reset.
  std::size_t have = buf.size() - (head_end + 4);
  const std::size_t want = std::min(req.content_length.value_or(0), kMaxBodyDrain);
  while (have < want) {
    int n = 0;
    if (drive([&] { return SSL_read(ssl_.get(), chunk, sizeof chunk); }, &n) != Io::ok) break;
    have += static_cast<std::size_t>(n);
  }
  return true;
}

// --grpc-health: what a gRPC server with the standard health service answers (SERVING, or --grpc-status).
void Connection::answer_grpc_health(const std::string& req_text) {
  const int code = sh_->config.grpc_status;
  serve_grpc::GrpcAnswer a = serve_grpc::health_check_answer(code);
  a.headers.insert(a.headers.begin(), {"server", "mtls-probe-serve/" MTLS_PROBE_VERSION});
  deadline_ = Deadline::after(sh_->config.io_timeout);
  if (!h2_->respond(200, a.headers, std::move(a.body), std::move(a.trailers)))
    sh_->log->warn("{}could not send the gRPC answer: {}", prefix_, h2_->error());
  sh_->log->info("{}\"{}\" 200 grpc-status {} {}{} {}", prefix_, req_text, code, grpc_status_name(code),
                 code == 0 ? " SERVING" : "", client_cert_text());
  lingering_close();
}

// ALPN h2: an nghttp2 server session whose bytes go through drive(), under the connection's deadline.
bool Connection::start_h2() {
  const unsigned char* alpn = nullptr;
  unsigned len = 0;
  SSL_get0_alpn_selected(ssl_.get(), &alpn, &len);
  if (std::string_view(reinterpret_cast<const char*>(alpn), len) != "h2") return false;
  auto read = [this](uint8_t* buf, std::size_t cap) -> long {
    int n = 0;
    const Io io = drive([&] { return SSL_read(ssl_.get(), buf, static_cast<int>(cap)); }, &n);
    return io == Io::ok ? n : io == Io::closed ? 0 : -1;
  };
  auto write = [this](const uint8_t* data, std::size_t size) {
    return drive([&] { return SSL_write(ssl_.get(), data, static_cast<int>(size)); }) == Io::ok;
  };
  h2_ = std::make_unique<serve_h2::H2ServerSession>(read, write, sh_->config.max_request_head);
  return true;
}

bool Connection::read_h2_request(Request& req) {
  auto r = h2_->read_request();
  if (!r) {
    sh_->log->warn("{}no HTTP/2 request: {}", prefix_, h2_->error());
    return false;
  }
  req.method = r->method;
  req.target = r->path.empty() ? "/" : r->path;
  req.path = req.target.substr(0, req.target.find('?'));
  req.host = r->authority;
  req.line = req.method + " " + req.target + " HTTP/2";
  return true;
}

Connection::AuthOutcome Connection::authenticate_after_handshake(const Request& req) {
  auto& log = *sh_->log;
  SSL* ssl = ssl_.get();
  const bool tls13 = SSL_version(ssl) >= TLS1_3_VERSION;
  deadline_ = Deadline::after(sh_->config.io_timeout);
  SSL_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_callback);
  if (tls13) {
    ERR_clear_error();
    if (SSL_verify_client_post_handshake(ssl) != 1) {
      // Apache 2.4, AH10158: answered with 403 and "Cannot perform Post-Handshake Authentication".
      log.warn(
          "{}AH10158: cannot perform post-handshake authentication: the client did not offer it "
          "(no post_handshake_auth extension) for \"{}\" under {} ({})",
          prefix_, printable(req.line), sh_->auth_prefix, take_ssl_errors().text);
      return AuthOutcome::no_pha;
    }
    log.debug("{}requesting a client certificate after the handshake (TLS 1.3 post-handshake auth)", prefix_);
  } else {
    if (SSL_renegotiate(ssl) != 1) {
      log.warn("{}AH02225: Re-negotiation request failed: {}", prefix_, take_ssl_errors().text);
      return AuthOutcome::failed;
    }
    log.debug("{}requesting a client certificate by renegotiation (TLS 1.2)", prefix_);
  }
  // Sends the CertificateRequest (1.3) or HelloRequest (1.2); the client answers when it next reads.
  Io io = drive([&] { return SSL_do_handshake(ssl); });
  auto done = [&] {
    return SSL_get0_peer_certificate(ssl) != nullptr && SSL_is_init_finished(ssl) &&
           (tls13 || SSL_renegotiate_pending(ssl) == 0);
  };
  // Apache peeks to make OpenSSL process the client's answer; the peek returns "want read" once the
  // exchange is over and no application data follows, so completion is checked after every call.
  while (io == Io::ok && !done()) {
    char byte;
    ERR_clear_error();
    const int r = SSL_peek(ssl, &byte, 1);
    if (done()) break;
    if (r > 0) {
      io = Io::failed;
      errors_.text = "the client sent data instead of a certificate";
      break;
    }
    const int e = SSL_get_error(ssl, r);
    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
      io = wait(e);
      continue;
    }
    errors_ = take_ssl_errors();
    io = e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && errors_.reasons.empty()) ? Io::closed
                                                                                           : Io::failed;
  }
  if (io == Io::ok && done()) {
    X509* cert = SSL_get0_peer_certificate(ssl);
    log.info("{}client certificate accepted {}: subject \"{}\", issuer \"{}\"", prefix_,
             tls13 ? "after the handshake (TLS 1.3 post-handshake auth)" : "by renegotiation (TLS 1.2)",
             name_to_string(X509_get_subject_name(cert)), name_to_string(X509_get_issuer_name(cert)));
    return AuthOutcome::ok;
  }
  const char* what =
      tls13 ? "AH10159: verify client post handshake failed" : "AH02261: Re-negotiation handshake failed";
  std::string sent;
  for (int a : facts_.alerts_sent) sent += (sent.empty() ? "; sent alert " : ", ") + alert_text(a);
  if (io == Io::timed_out) {
    log.warn("{}{}: the client did not answer the certificate request within {} ms", prefix_, what,
             sh_->config.io_timeout.count());
  } else if (io == Io::stopped) {
    log.info("{}client authentication abandoned: server stopping", prefix_);
  } else if (facts_.verify_error != X509_V_OK) {
    log.warn("{}{}: client SSL certificate verify error: {}, subject \"{}\"{}", prefix_, what,
             verify_text(facts_.verify_error), facts_.verify_subject, sent);
  } else {
    log.warn("{}{}: SSL Library Error: {}{}", prefix_, what,
             errors_.text.empty() ? "connection closed" : errors_.text, sent);
  }
  // Apache's access log says 403 here, but the client only saw the alert (or nothing): say so.
  log.info("{}\"{}\" - no response: client certificate required for {} (Apache logs 403)", prefix_,
           printable(req.line), sh_->auth_prefix);
  return AuthOutcome::failed;
}

std::string Connection::client_cert_text() const {
  X509* cert = SSL_get0_peer_certificate(ssl_.get());
  if (cert == nullptr) return "(no client certificate)";
  return "(client certificate \"" + name_to_string(X509_get_subject_name(cert)) + "\")";
}

std::string Connection::describe_page(const Request& req, int status) const {
  const auto& cfg = sh_->config;
  SSL* ssl = ssl_.get();
  std::string out = "mtls-probe serve: " + std::to_string(status) + " " + reason_phrase(status) + "\n";
  out += "request: " + printable(req.line) + "\n";
  out += std::string("tls: ") + SSL_get_version(ssl) + " " + SSL_get_cipher_name(ssl) + "\n";
  out += std::string("client auth: ") + client_auth_name(cfg.client_auth);
  if (sh_->per_location) out += " (for paths under " + sh_->auth_prefix + ")";
  out += cfg.no_ca_names ? ", no CA names sent" : "";
  out += "\n";
  if (X509* cert = SSL_get0_peer_certificate(ssl)) {
    const long verify = verify_result();
    out += "client certificate: " + name_to_string(X509_get_subject_name(cert)) + "\n";
    out += "client certificate issuer: " + name_to_string(X509_get_issuer_name(cert)) + "\n";
    out += std::string("client certificate verified: ") +
           (verify == X509_V_OK ? "yes" : std::string("no ") + verify_text(verify)) + "\n";
  } else {
    out += "client certificate: none\n";
  }
  if (status >= 400) {
    out += cfg.client_auth == ClientAuth::optional_no_verify
               ? "note: this status is the configured answer (--status / --status-for-path)\n"
               : "note: the client certificate (if any) was accepted; this status is the configured answer "
                 "(--status / --status-for-path), an authorization decision\n";
  }
  return out;
}

void Connection::respond(int status, const std::string& content_type, const std::string& body, bool head_only,
                         bool nginx_headers) {
  if (h2_) {
    deadline_ = Deadline::after(sh_->config.io_timeout);
    const std::vector<std::pair<std::string, std::string>> headers{
        {"server", nginx_headers ? kNginxServerHeader : "mtls-probe-serve/" MTLS_PROBE_VERSION},
        {"date", http_date()},
        {"content-type", content_type},
        {"content-length", std::to_string(head_only ? 0 : body.size())}};
    if (!h2_->respond(status, headers, head_only ? std::string() : body))
      sh_->log->warn("{}could not send the response over HTTP/2: {}", prefix_, h2_->error());
    return;
  }
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason_phrase(status) + "\r\n";
  head += std::string("Server: ") +
          (nginx_headers ? kNginxServerHeader : "mtls-probe-serve/" MTLS_PROBE_VERSION) + "\r\n";
  head += "Date: " + http_date() + "\r\n";
  head += "Content-Type: " + content_type + "\r\n";
  head += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  head += "Connection: close\r\n\r\n";
  const std::string msg = head_only ? head : head + body;
  deadline_ = Deadline::after(sh_->config.io_timeout);
  const Io io = drive([&] { return SSL_write(ssl_.get(), msg.data(), static_cast<int>(msg.size())); });
  if (io != Io::ok) sh_->log->warn("{}could not send the response: {}", prefix_, errors_.text);
}

void Connection::answer_plain_http() {
  // Both servers answer a plain HTTP request on the TLS port with a plain 400 page.
  const bool nginx = sh_->config.nginx_style;
  const std::string body =
      nginx
          ? nginx_error_page(NginxPage::plain_http)
          : "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>400 Bad "
            "Request</title>\n</head><body>\n<h1>Bad Request</h1>\n<p>Your browser sent a request that this "
            "server could not understand.<br />\nReason: You're speaking plain HTTP to an SSL-enabled server "
            "port.<br />\n Instead use the HTTPS scheme to access this URL, please.<br "
            "/>\n</p>\n</body></html>\n";
  std::string msg = "HTTP/1.1 400 Bad Request\r\nServer: ";
  msg += nginx ? kNginxServerHeader : "mtls-probe-serve/" MTLS_PROBE_VERSION;
  msg += "\r\nDate: " + http_date() +
         "\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
  deadline_ = Deadline::after(1s);
  std::size_t done = 0;
  while (done < msg.size() && !deadline_.expired()) {
    const ssize_t n = ::send(fd_.get(), msg.data() + done, msg.size() - done, MSG_NOSIGNAL);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait(SSL_ERROR_WANT_WRITE) != Io::ok) break;
    } else {
      break;
    }
  }
  lingering_close();
}

void Connection::lingering_close() {
  // close_notify, then half-close and read what the client still sends for a moment: closing with
  // unread bytes makes the kernel send a reset that can destroy the response before the client reads it.
  if (ssl_ && SSL_is_init_finished(ssl_.get())) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    ERR_clear_error();
  }
  ::shutdown(fd_.get(), SHUT_WR);
  deadline_ = Deadline::after(1s);
  char buf[4096];
  std::size_t drained = 0;
  while (drained < (1u << 20)) {
    const ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n > 0) {
      drained += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (wait(SSL_ERROR_WANT_READ) != Io::ok) break;
      continue;
    }
    break;
  }
}

std::string endpoint_text(const sockaddr_storage& ss) {
  char ip[INET6_ADDRSTRLEN] = "?";
  uint16_t port = 0;
  if (ss.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
    ::inet_ntop(AF_INET, &a->sin_addr, ip, sizeof ip);
    port = ntohs(a->sin_port);
    return std::string(ip) + ":" + std::to_string(port);
  }
  const auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
  ::inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof ip);
  port = ntohs(a->sin6_port);
  return "[" + std::string(ip) + "]:" + std::to_string(port);
}

Expected<bool> load_identity(SSL_CTX* ctx, const ServeConfig& cfg) {
  if (!cfg.p12_file.empty()) {
    IdentityOptions io;
    io.p12_file = cfg.p12_file;
    io.password = cfg.p12_password;
    auto id = load_client_identity(io);
    if (!id) return Unexpected(Error{"server identity: " + id.error().message, id.error().openssl_detail});
    bool ok =
        SSL_CTX_use_certificate(ctx, id->leaf.get()) == 1 && SSL_CTX_use_PrivateKey(ctx, id->key.get()) == 1;
    for (const auto& c : id->chain) ok = ok && SSL_CTX_add1_chain_cert(ctx, c.get()) == 1;
    if (!ok)
      return Unexpected(Error{"server identity " + cfg.p12_file + " cannot be used", drain_openssl_errors()});
  } else {
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg.cert_file.c_str()) != 1) {
      return Unexpected(Error{"cannot load the server certificate (and chain) from " + cfg.cert_file,
                              drain_openssl_errors()});
    }
    const std::string& key = cfg.key_file.empty() ? cfg.cert_file : cfg.key_file;
    if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Unexpected(Error{"cannot load the server private key from " + key, drain_openssl_errors()});
    }
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Unexpected(
        Error{"the server private key does not match the server certificate", drain_openssl_errors()});
  }
  return true;
}

// --http2: h2 when the client offers it, else http/1.1, else no ALPN at all (as nginx with http2).
int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned inlen, void*) {
  for (const char* want : {"h2", "http/1.1"}) {
    const std::string_view w(want);
    for (unsigned i = 0; i < inlen; i += 1u + in[i]) {
      if (i + 1u + in[i] > inlen) break;
      if (std::string_view(reinterpret_cast<const char*>(in + i + 1), in[i]) == w) {
        *out = in + i + 1;
        *outlen = in[i];
        return SSL_TLSEXT_ERR_OK;
      }
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

Expected<UniqueSslCtx> make_context(const ServeConfig& cfg, bool per_location) {
  UniqueSslCtx ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Unexpected(Error{"cannot create a TLS context", drain_openssl_errors()});
  SSL_CTX* c = ctx.get();
  if (SSL_CTX_set_min_proto_version(c, openssl_version(cfg.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(c, openssl_version(cfg.max_version)) != 1) {
    return Unexpected(Error{"unsupported --tls-min/--tls-max", drain_openssl_errors()});
  }
  // No resumption: every connection shows the full handshake, including the certificate request that a
  // resumed session would skip. Renegotiation stays allowed (it is the TLS 1.2 per-location request).
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(c, SSL_OP_NO_TICKET | SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
  SSL_CTX_clear_options(c, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_num_tickets(c, 0);
  static const unsigned char kSidCtx[] = "mtls-probe-serve";
  SSL_CTX_set_session_id_context(c, kSidCtx, sizeof kSidCtx - 1);
  SSL_CTX_set_info_callback(c, info_callback);
  if (cfg.http2) SSL_CTX_set_alpn_select_cb(c, select_alpn, nullptr);

  auto identity = load_identity(c, cfg);
  if (!identity) return Unexpected(identity.error());

  if (!cfg.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(c, cfg.client_ca_file.c_str(), nullptr) != 1) {
      return Unexpected(
          Error{"cannot load the client CA from " + cfg.client_ca_file, drain_openssl_errors()});
    }
    if (!cfg.no_ca_names) {
      STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(cfg.client_ca_file.c_str());
      if (names == nullptr) {
        return Unexpected(Error{"no CA certificate in " + cfg.client_ca_file, drain_openssl_errors()});
      }
      SSL_CTX_set_client_CA_list(c, names);  // takes ownership
    }
    // else: the list stays empty, and OpenSSL then sends no names at all (TLS 1.2 and 1.3).
  }
  if (!cfg.crl_file.empty()) {
    auto crls = inspect::load_crl_files({cfg.crl_file});
    if (!crls) return Unexpected(crls.error());
    X509_STORE* store = SSL_CTX_get_cert_store(c);
    for (const auto& l : *crls) X509_STORE_add_crl(store, l.crl.get());  // the store takes a reference
    X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);                  // the leaf's CRL (Apache: leaf)
  }
  int mode = SSL_VERIFY_NONE;
  if (!per_location) {
    if (cfg.client_auth == ClientAuth::optional || cfg.client_auth == ClientAuth::optional_no_verify) {
      mode = SSL_VERIFY_PEER;
    }
    if (cfg.client_auth == ClientAuth::require) {
      // nginx asks but never fails the handshake; Apache fails it with the matching alert. With
      // --close-without-alert the server itself closes after the handshake.
      mode = cfg.nginx_style || cfg.close_without_alert ? SSL_VERIFY_PEER
                                                        : SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
  }
  SSL_CTX_set_verify(c, mode, verify_callback);
  return ctx;
}

Expected<UniqueFd> listen_on(const std::string& address, uint16_t port, Endpoint& bound) {
  Endpoint ep;
  if (!numeric_endpoint(address, port, ep)) {
    return Unexpected(
        Error{"--bind " + address + " is not a numeric IPv4/IPv6 address (e.g. 127.0.0.1, ::1)", ""});
  }
  UniqueFd fd(::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd) return Unexpected(Error{std::string("socket: ") + std::strerror(errno), ""});
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len) != 0) {
    return Unexpected(Error{"cannot bind " + ep.text() + ": " + std::strerror(errno), ""});
  }
  // A deep backlog: a batch of probes may connect all at once; they wait there for a worker, not for a
  // SYN retransmission.
  if (::listen(fd.get(), SOMAXCONN) != 0) {
    return Unexpected(Error{"cannot listen on " + ep.text() + ": " + std::strerror(errno), ""});
  }
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
    return Unexpected(Error{std::string("getsockname: ") + std::strerror(errno), ""});
  }
  bound = ep;
  bound.port = ss.ss_family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port)
                                       : ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port);
  return fd;
}

}  // namespace

// ---------------------------------------------------------------------------------------------------

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() = default;

const std::string& Server::host() const {
  return impl_->host;
}
uint16_t Server::port() const {
  return impl_->port;
}

Expected<std::unique_ptr<Server>, StartError> Server::create(const ServeConfig& config) {
  auto failed = [](StartFailure why, Error e) {
    StartError out;
    static_cast<Error&>(out) = std::move(e);
    out.failure = why;
    return Unexpected(std::move(out));
  };
  const auto problems = check_config(config);
  if (!problems.empty()) return failed(StartFailure::config, Error{problems.front(), ""});
  // A client that disappears mid-write must not kill the whole server (OpenSSL writes with write(2)).
  std::signal(SIGPIPE, SIG_IGN);

  auto shared = std::make_shared<Shared>();
  shared->config = config;
  shared->log = config.logger ? config.logger : stderr_logger();
  shared->per_location = config.client_auth == ClientAuth::post_handshake ||
                         (config.client_auth == ClientAuth::require && config.client_auth_path.has_value());
  shared->auth_prefix = config.client_auth_path.value_or("/");
  auto ctx = make_context(config, shared->per_location);
  if (!ctx) return failed(StartFailure::identity, ctx.error());
  shared->ctx = std::move(*ctx);
  if (!config.ocsp_staple_file.empty()) {
    if (auto bad = serve_ocsp::load_staple(config.ocsp_staple_file, shared->ocsp_staple)) {
      return failed(StartFailure::identity, *bad);
    }
    serve_ocsp::staple_on(shared->ctx.get(), &shared->ocsp_staple);
  }

  auto impl = std::make_unique<Impl>();
  Endpoint bound;
  auto fd = listen_on(config.bind_address, config.port, bound);
  if (!fd) {
    Endpoint numeric;
    const bool is_numeric = numeric_endpoint(config.bind_address, config.port, numeric);
    return failed(is_numeric ? StartFailure::listen : StartFailure::config, fd.error());
  }
  impl->listener = std::move(*fd);
  impl->host = bound.ip;
  impl->port = bound.port;
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_NONBLOCK | O_CLOEXEC) != 0) {
    return failed(StartFailure::listen, Error{std::string("pipe: ") + std::strerror(errno), ""});
  }
  impl->wake_read = pipe_fds[0];
  impl->wake_write = pipe_fds[1];
  impl->shared = std::move(shared);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

void Server::request_stop() noexcept {
  impl_->shared->stop.store(true);
  if (impl_->wake_write >= 0) {
    const char byte = 'x';
    [[maybe_unused]] ssize_t n = ::write(impl_->wake_write, &byte, 1);
  }
}

void Server::run() {
  Shared& sh = *impl_->shared;
  const auto& cfg = sh.config;
  const int max_active = cfg.max_connections;
  std::string style = cfg.nginx_style ? ", nginx style" : "";
  if (cfg.status_if_unverified) style += ", " + std::to_string(*cfg.status_if_unverified) + " if unverified";
  if (cfg.close_without_alert) style += ", close without alert";
  sh.log->info("serving {} (client auth: {}{}{}{}, TLS {}..{}){}", https_url(impl_->host, impl_->port),
               client_auth_name(cfg.client_auth),
               sh.per_location ? " for paths under " + sh.auth_prefix : std::string(),
               cfg.client_auth == ClientAuth::none ? ""
               : cfg.no_ca_names                   ? ", no CA names sent"
                                                   : ", CA names from " + cfg.client_ca_file,
               style, cfg.min_version == TlsVersion::v1_3 ? "1.3" : "1.2",
               cfg.max_version == TlsVersion::v1_2 ? "1.2" : "1.3", cfg.once ? ", one connection" : "");
  // Connection threads are joined, never detached: a detached one could still hold the shared state (and
  // with it the SSL_CTX) when the process exits. done[i] says that workers[i] has finished its connection.
  std::list<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> workers;
  auto reap = [&workers](bool all) {
    for (auto it = workers.begin(); it != workers.end();) {
      if (all || it->second->load()) {
        it->first.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  };
  while (!sh.stop.load()) {
    reap(false);
    {
      std::unique_lock<std::mutex> lock(sh.mu);
      if (sh.active >= max_active) {
        // At the cap, new clients wait in the listen backlog instead of costing a thread each.
        sh.cv.wait_for(lock, std::chrono::milliseconds(kStopPollMs));
        continue;
      }
    }
    pollfd fds[2] = {{impl_->listener.get(), POLLIN, 0}, {impl_->wake_read, POLLIN, 0}};
    const int r = ::poll(fds, 2, 1000);
    if (r < 0 && errno != EINTR) {
      sh.log->error("poll: {}", std::strerror(errno));
      break;
    }
    if (r <= 0 || (fds[0].revents & POLLIN) == 0) continue;
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    UniqueFd client(::accept4(impl_->listener.get(), reinterpret_cast<sockaddr*>(&ss), &len,
                              SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        sh.log->error("accept: {} (waiting before the next one)", std::strerror(errno));
        std::this_thread::sleep_for(100ms);
      }
      continue;
    }
    const std::string peer = endpoint_text(ss);
    if (cfg.once) {
      impl_->listener = UniqueFd();  // later clients are refused rather than left waiting
      Connection(impl_->shared, std::move(client), peer).serve();
      break;
    }
    {
      std::lock_guard<std::mutex> lock(sh.mu);
      ++sh.active;
    }
    try {
      auto done = std::make_shared<std::atomic<bool>>(false);
      std::thread worker([shared = impl_->shared, fd = std::move(client), peer, done]() mutable {
        Connection(shared, std::move(fd), peer).serve();
        std::lock_guard<std::mutex> lock(shared->mu);
        --shared->active;
        shared->cv.notify_all();
        done->store(true);
      });
      workers.emplace_back(std::move(worker), std::move(done));
    } catch (const std::system_error& e) {
      sh.log->error("[client {}] cannot start a thread: {}", peer, e.what());
      std::lock_guard<std::mutex> lock(sh.mu);
      --sh.active;
    }
  }
  sh.stop.store(true);  // connections still open give up at their next wait
  std::unique_lock<std::mutex> lock(sh.mu);
  if (!sh.cv.wait_for(lock, 3s, [&] { return sh.active == 0; })) {
    sh.log->warn("{} connection(s) still open at exit", sh.active);
  }
  lock.unlock();
  // Every connection gives up within kStopPollMs of the stop flag, so these joins are short.
  reap(true);
  sh.log->info("stopped");
}

}  // namespace mtls_probe::serve
