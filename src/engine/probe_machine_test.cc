// The probe state machine without the CLI and without a network: each test hands the probe one end of a
// socketpair (the ProbeSeams socket seam) and scripts the peer on the other end — raw bytes, a close, or a
// real OpenSSL server — then checks the facts the engine recorded and the verdict diagnosis gives them.
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "mtls_probe/diagnosis/diagnosis.h"
#include "mtls_probe/engine/event_loop.h"
#include "mtls_probe/engine/probe.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/serve/serve.h"
#include "serve/serve_testutil.h"

namespace mtls_probe {
namespace {

using namespace std::chrono_literals;
using serve::testing::client_context;

// The throw-away PKI of `serve` (CA, server and client certificates), made once for these tests.
const serve::PkiFiles& pki() {
  return serve::testing::shared_pki();
}

TargetOptions target_for(const std::string& url_text) {
  TargetOptions t;
  t.url_text = url_text;
  auto url = parse_url(url_text);
  EXPECT_TRUE(url.has_value());
  if (url) t.url = *url;
  t.resolve.push_back(ResolveOverride{t.url.host, t.url.port, {"127.0.0.1"}});  // no lookup
  t.connect_timeout = 5s;
  t.max_time = 10s;
  return t;
}

// The peer's end of the socketpair, with a script run on a thread of its own.
class ScriptedPeer {
 public:
  using Script = std::function<void(int fd)>;
  explicit ScriptedPeer(Script script) {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    probe_end_ = sv[0];
    peer_end_ = sv[1];
    script_ = std::move(script);
  }
  ~ScriptedPeer() {
    if (thread_.joinable()) thread_.join();
    if (peer_end_ >= 0) ::close(peer_end_);
    if (probe_end_ >= 0) ::close(probe_end_);
  }
  // The seam: the probe's one connection attempt gets our end, already connected.
  ProbeSeams seams() {
    ProbeSeams s;
    s.start_socket = [this](const Endpoint&, int& err) {
      err = 0;
      const int fd = probe_end_;
      probe_end_ = -1;
      return fd;
    };
    return s;
  }
  void start() {
    thread_ = std::thread([this] {
      // The peer's writes may meet a probe that has already closed: EPIPE for this thread, never a SIGPIPE
      // for the process (the probe's own writes are what ClosedPeerIsAnErrorNotASignal checks).
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
      script_(peer_end_);
    });
  }

 private:
  int probe_end_ = -1;
  int peer_end_ = -1;
  Script script_;
  std::thread thread_;
};

// Reads whatever arrives within `wait` (the ClientHello, a request).
std::string read_some(int fd, std::chrono::milliseconds wait = 2000ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0) return "";
  char buf[4096];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

ProbeFacts run_with_peer(ScriptedPeer& peer, const ClientTlsContext& ctx,
                         const std::string& url = "https://localhost:8443/") {
  Probe probe(target_for(url), ctx, ProbeLog{}, peer.seams());
  peer.start();
  probe.start();
  EventLoop loop;
  loop.add(probe);
  loop.run();
  EXPECT_TRUE(probe.done());
  return probe.take_facts();
}

// A TLS server on the peer's end: `configure` sets verification, `after_handshake` scripts the rest.
ScriptedPeer::Script tls_server(std::function<void(SSL_CTX*)> configure,
                                std::function<void(SSL*)> after_handshake) {
  return [configure = std::move(configure), after = std::move(after_handshake)](int fd) {
    UniqueSslCtx ctx(SSL_CTX_new(TLS_server_method()));
    SSL_CTX_use_certificate_chain_file(ctx.get(), pki().server_cert.c_str());
    SSL_CTX_use_PrivateKey_file(ctx.get(), pki().server_key.c_str(), SSL_FILETYPE_PEM);
    SSL_CTX_load_verify_locations(ctx.get(), pki().ca_cert.c_str(), nullptr);
    configure(ctx.get());
    UniqueSsl ssl(SSL_new(ctx.get()));
    SSL_set_fd(ssl.get(), fd);
    if (SSL_accept(ssl.get()) == 1) after(ssl.get());
    ERR_clear_error();
  };
}

void answer(SSL* ssl, const std::string& response) {
  char buf[4096];
  SSL_read(ssl, buf, sizeof buf);  // the request (and, under TLS 1.3, our certificate's judgement)
  SSL_write(ssl, response.data(), static_cast<int>(response.size()));
  SSL_shutdown(ssl);
}

TEST(ProbeMachine, PeerThatIsNotTls) {
  ScriptedPeer peer([](int fd) {
    read_some(fd);
    const std::string reply = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    (void)::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::shutdown(fd, SHUT_WR);
  });
  auto ctx = client_context(false);
  ProbeFacts f = run_with_peer(peer, *ctx);
  EXPECT_TRUE(f.tls_attempted);
  EXPECT_FALSE(f.handshake_completed);
  EXPECT_TRUE(f.peer_not_tls) << f.tls_error;
  EXPECT_EQ(diagnose(f).verdict, Verdict::tls_handshake_failure);
}

TEST(ProbeMachine, PeerClosesAfterClientHello) {
  ScriptedPeer peer([](int fd) {
    EXPECT_FALSE(read_some(fd).empty()) << "no ClientHello arrived";
    ::shutdown(fd, SHUT_RDWR);
  });
  auto ctx = client_context(false);
  ProbeFacts f = run_with_peer(peer, *ctx);
  EXPECT_TRUE(f.peer_closed_during_handshake);
  EXPECT_FALSE(f.handshake_completed);
  EXPECT_EQ(f.sni, "localhost");
}

// The engine writes with MSG_NOSIGNAL: a peer gone before our first byte is an error value (EPIPE), not a
// SIGPIPE that kills the process, whatever the process's signal disposition.
TEST(ProbeMachine, ClosedPeerIsAnErrorNotASignal) {
  auto previous = std::signal(SIGPIPE, SIG_DFL);
  ScriptedPeer peer([](int fd) { ::shutdown(fd, SHUT_RDWR); });
  peer.start();  // the peer closes before the probe writes its ClientHello
  auto ctx = client_context(false);
  Probe probe(target_for("https://localhost:8443/"), *ctx, ProbeLog{}, peer.seams());
  std::this_thread::sleep_for(50ms);
  probe.start();
  drive(probe);
  std::signal(SIGPIPE, previous);
  const ProbeFacts& f = probe.facts();
  EXPECT_TRUE(f.peer_closed_during_handshake) << f.tls_error;
  EXPECT_FALSE(f.handshake_completed);
}

TEST(ProbeMachine, GoodExchangeRecordsEveryPhase) {
  ScriptedPeer peer(tls_server(
      [](SSL_CTX* c) { SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr); },
      [](SSL* ssl) { answer(ssl, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"); }));
  auto ctx = client_context(true);
  ProbeFacts f = run_with_peer(peer, *ctx);
  EXPECT_TRUE(f.handshake_completed) << f.tls_error;
  EXPECT_TRUE(f.client_cert_requested);
  EXPECT_TRUE(f.client_cert_sent);
  EXPECT_FALSE(f.verify_error.has_value()) << *f.verify_error;
  EXPECT_EQ(f.http_status, 200);
  EXPECT_EQ(f.body_excerpt, "ok");
  EXPECT_EQ(f.request_line, "GET / HTTP/1.1");
  ASSERT_EQ(f.connect_attempts.size(), 1u);
  EXPECT_EQ(f.connect_attempts[0].result, "connected");
  EXPECT_TRUE(f.dns_ms && f.connect_ms && f.tls_ms && f.ttfb_ms && f.total_ms);
  EXPECT_EQ(diagnose(f).verdict, Verdict::ok);
}

// TLS 1.3: the client's handshake is done before the server judges the certificate; the verdict arrives as
// an alert on the first read, after the request went out.
TEST(ProbeMachine, Tls13CertificateRequiredArrivesOnTheFirstRead) {
  ScriptedPeer peer(tls_server(
      [](SSL_CTX* c) {
        SSL_CTX_set_min_proto_version(c, TLS1_3_VERSION);
        SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
      },
      [](SSL*) {}));
  auto ctx = client_context(false);
  ProbeFacts f = run_with_peer(peer, *ctx);
  EXPECT_TRUE(f.handshake_completed);
  EXPECT_TRUE(f.empty_certificate_sent);
  ASSERT_TRUE(f.fatal_alert.has_value());
  EXPECT_EQ(f.fatal_alert->code, 116);  // certificate_required
  EXPECT_EQ(f.fatal_alert->from, Side::server);
  EXPECT_EQ(diagnose(f).verdict, Verdict::client_cert_required);
}

// The probe offers the ALPN protocols of its target, in order, and records the one chosen.
TEST(ProbeMachine, AlpnComesFromTheTarget) {
  ScriptedPeer peer(tls_server(
      [](SSL_CTX* c) {
        SSL_CTX_set_alpn_select_cb(
            c,
            [](SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
               unsigned inlen, void*) {
              // Picks the last protocol offered: the probe must have sent both.
              const unsigned char* last = nullptr;
              for (unsigned i = 0; i < inlen; i += 1u + in[i]) last = in + i;
              if (last == nullptr) return SSL_TLSEXT_ERR_NOACK;
              *out = last + 1;
              *outlen = *last;
              return SSL_TLSEXT_ERR_OK;
            },
            nullptr);
      },
      [](SSL* ssl) { answer(ssl, "HTTP/1.1 204 No Content\r\n\r\n"); }));
  auto ctx = client_context(false);
  TargetOptions t = target_for("https://localhost:8443/");
  t.alpn = {"http/1.1", "x-probe-test"};
  Probe probe(t, *ctx, ProbeLog{}, peer.seams());
  peer.start();
  probe.start();
  drive(probe);
  EXPECT_EQ(probe.facts().alpn, "x-probe-test");
  EXPECT_EQ(probe.facts().http_status, 204);
}

// A peer that completes TCP but never answers the ClientHello: the probe ends at its connect limit, in the
// TLS phase, and says which limit it was.
TEST(ProbeMachine, SilentPeerEndsAtTheConnectLimit) {
  ScriptedPeer peer([](int fd) {
    read_some(fd, 3000ms);
    read_some(fd, 3000ms);  // holds the connection open past the probe's limit
  });
  auto ctx = client_context(false);
  TargetOptions t = target_for("https://localhost:8443/");
  t.connect_timeout = 300ms;
  Probe probe(t, *ctx, ProbeLog{}, peer.seams());
  peer.start();
  const auto started = Clock::now();
  probe.start(started);
  drive(probe);
  const auto took = Clock::now() - started;
  const ProbeFacts& f = probe.facts();
  EXPECT_EQ(f.timed_out_in, Phase::tls);
  EXPECT_EQ(f.time_limit_hit, ProbeFacts::TimeLimit::connect);
  EXPECT_EQ(f.time_limit_value, 300ms);
  EXPECT_GE(took, 300ms);  // never before the limit (the upper bound is the loop test's, measured)
  EXPECT_EQ(diagnose(f).verdict, Verdict::timeout);
}

}  // namespace
}  // namespace mtls_probe
