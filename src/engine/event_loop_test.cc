// Many probes on one EventLoop, in process, against the project's own `serve` on loopback: every verdict,
// the wall time and peak RSS of 500 concurrent probes, and deadlines that hold for each probe while others
// on the same loop go on. Time bounds are margins measured in the same run, never figures for one machine.
#include "mtls_probe/engine/event_loop.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "mtls_probe/diagnosis/diagnosis.h"
#include "mtls_probe/engine/probe.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/serve/serve.h"
#include "serve/serve_testutil.h"

namespace mtls_probe {
namespace {

using namespace std::chrono_literals;

double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

long peak_rss_kb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

// Enough descriptors for N probes and the server's end of each connection (soft limit up to the hard one).
void raise_fd_limit() {
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

// `serve` (require a client certificate, answer 200) on a thread, its log discarded, and a client context
// with the shared PKI's client identity and CA.
class LocalServe : public serve::testing::RunningServer {
 public:
  explicit LocalServe(int max_connections) : RunningServer(serve::testing::default_config(max_connections)) {}

  std::shared_ptr<ClientTlsContext> client_context() const {
    const serve::PkiFiles& pki = serve::testing::shared_pki();
    IdentityOptions id;
    id.cert_file = pki.client_cert;
    id.key_file = pki.client_key;
    auto loaded = load_client_identity(id);
    EXPECT_TRUE(loaded.has_value());
    TlsOptions tls;
    tls.cacert_file = pki.ca_cert;
    auto identity = loaded ? std::make_shared<const ClientIdentity>(std::move(loaded.value())) : nullptr;
    auto ctx = ClientTlsContext::create(tls, identity, false);
    EXPECT_TRUE(ctx.has_value());
    return ctx ? *ctx : nullptr;
  }
};

TargetOptions target(const std::string& url_text, std::chrono::milliseconds connect_timeout = 10s) {
  TargetOptions t;
  t.url_text = url_text;
  auto url = parse_url(url_text);
  EXPECT_TRUE(url.has_value()) << url_text;
  if (url) t.url = *url;
  t.connect_timeout = connect_timeout;
  t.max_time = 30s;
  return t;
}

// The good probes of a test run together on a loop of their own, to learn how long they take here, now: the
// margin of every time bound below (a loop runs its handshakes one after another, so N probes take about N
// times one; under a sanitizer, many times more).
std::chrono::milliseconds measured_margin(const LocalServe& server, const ClientTlsContext& ctx, int probes) {
  const auto url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  Clock::duration slowest{};
  for (int round = 0; round < 2; ++round) {
    std::vector<std::unique_ptr<Probe>> good;
    EventLoop loop;
    const auto t0 = Clock::now();
    for (int i = 0; i < probes; ++i) {
      good.push_back(std::make_unique<Probe>(target(url), ctx));
      good.back()->start(t0);
      loop.add(*good.back());
    }
    loop.run();
    slowest = std::max(slowest, Clock::now() - t0);
    for (const auto& p : good) EXPECT_EQ(diagnose(p->facts()).verdict, Verdict::ok) << p->facts().tls_error;
  }
  return std::max(std::chrono::milliseconds(250), std::chrono::ceil<std::chrono::milliseconds>(3 * slowest));
}

TEST(EventLoop, FiveHundredConcurrentProbesAllGetTheirVerdict) {
  raise_fd_limit();
  constexpr int kProbes = 500;
  LocalServe server(kProbes);
  ASSERT_NE(server.port(), 0);
  auto ctx = server.client_context();
  ASSERT_TRUE(ctx);
  const long rss_before = peak_rss_kb();
  const auto url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";

  std::vector<std::unique_ptr<Probe>> probes;
  EventLoop loop;
  int finished = 0;
  const auto t0 = Clock::now();
  for (int i = 0; i < kProbes; ++i) {
    probes.push_back(std::make_unique<Probe>(target(url), *ctx));
    probes.back()->start(t0);
    loop.add(*probes.back());
  }
  loop.run([&](Pollable&) { ++finished; });
  const double wall_ms = ms(Clock::now() - t0);

  EXPECT_EQ(finished, kProbes);
  int ok = 0;
  for (const auto& p : probes) {
    ASSERT_TRUE(p->done());
    const ProbeFacts& f = p->facts();
    const Verdict v = diagnose(f).verdict;
    EXPECT_EQ(v, Verdict::ok) << verdict_name(v) << ": " << f.tls_error << " "
                              << f.connect_error.value_or("");
    EXPECT_TRUE(f.client_cert_sent);
    ok += v == Verdict::ok ? 1 : 0;
  }
  EXPECT_EQ(ok, kProbes);
  const long rss_after = peak_rss_kb();
  // For the record (the closing note quotes these): the whole process, server threads included.
  std::printf("[ 500 probes ] wall %.0f ms, peak RSS %ld KB (before the probes %ld KB)\n", wall_ms, rss_after,
              rss_before);
  RecordProperty("wall_ms", static_cast<int>(wall_ms));
  RecordProperty("peak_rss_kb", static_cast<int>(rss_after));
}

// A socket of `type` bound to 127.0.0.1 on a port the kernel picks; closed with the object.
class LoopbackSocket {
 public:
  explicit LoopbackSocket(int type) : fd_(::socket(AF_INET, type, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~LoopbackSocket() { ::close(fd_); }
  LoopbackSocket(const LoopbackSocket&) = delete;
  LoopbackSocket& operator=(const LoopbackSocket&) = delete;
  int fd() const { return fd_; }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

// A UDP socket on loopback that never answers: a DNS server that hangs every lookup.
class SilentDnsServer {
 public:
  std::string servers() const { return "127.0.0.1:" + std::to_string(socket_.port()); }

 private:
  LoopbackSocket socket_{SOCK_DGRAM};
};

// A TCP listener that never accepts: the kernel completes the connection, nothing ever answers the TLS
// ClientHello (a blackhole peer).
class BlackholeListener {
 public:
  BlackholeListener() { EXPECT_EQ(::listen(socket_.fd(), 16), 0); }
  uint16_t port() const { return socket_.port(); }

 private:
  LoopbackSocket socket_{SOCK_STREAM};
};

// A hung DNS lookup and a blackhole peer end at their own deadline, while good probes on the same loop
// finish as if they were alone: nothing waits for anything else.
TEST(EventLoop, HungProbesEndAtTheirDeadlineWhileOthersFinishOnTime) {
  LocalServe server(64);
  ASSERT_NE(server.port(), 0);
  auto ctx = server.client_context();
  ASSERT_TRUE(ctx);
  constexpr int kGood = 20;
  const std::chrono::milliseconds margin = measured_margin(server, *ctx, kGood);
  const std::chrono::milliseconds limit = 4 * margin;  // the hung probes' connect limit
  SilentDnsServer dns;
  BlackholeListener blackhole;

  TargetOptions hung_dns = target("https://never.answers.test/", limit);
  hung_dns.dns_servers = dns.servers();
  TargetOptions hung_peer = target("https://127.0.0.1:" + std::to_string(blackhole.port()) + "/", limit);
  std::vector<std::unique_ptr<Probe>> probes;
  probes.push_back(std::make_unique<Probe>(hung_dns, *ctx));
  probes.push_back(std::make_unique<Probe>(hung_peer, *ctx));
  for (int i = 0; i < kGood; ++i) {
    probes.push_back(
        std::make_unique<Probe>(target("https://127.0.0.1:" + std::to_string(server.port()) + "/"), *ctx));
  }
  std::vector<Clock::duration> ended(probes.size());
  EventLoop loop;
  const auto t0 = Clock::now();
  for (auto& p : probes) {
    p->start(t0);
    loop.add(*p);
  }
  loop.run([&](Pollable& done) {
    for (std::size_t i = 0; i < probes.size(); ++i) {
      if (probes[i].get() == &done) ended[i] = Clock::now() - t0;
    }
  });

  const ProbeFacts& d = probes[0]->facts();
  EXPECT_EQ(d.timed_out_in, Phase::dns) << d.dns_error.value_or("");
  const ProbeFacts& b = probes[1]->facts();
  EXPECT_EQ(b.timed_out_in, Phase::tls) << b.tls_error;
  for (std::size_t i = 0; i < 2; ++i) {
    EXPECT_GE(ended[i], limit) << "probe " << i << " gave up before its deadline";
    EXPECT_LE(ended[i], limit + margin) << "probe " << i << " ran past its deadline";
    EXPECT_EQ(diagnose(probes[i]->facts()).verdict, Verdict::timeout);
  }
  for (std::size_t i = 2; i < probes.size(); ++i) {
    EXPECT_EQ(diagnose(probes[i]->facts()).verdict, Verdict::ok) << probes[i]->facts().tls_error;
    EXPECT_LE(ended[i], margin) << "good probe " << i << " waited for the hung ones";
  }
}

// Components added from the Finished callback run too: how a batch keeps N probes in flight.
TEST(EventLoop, AddFromFinishedKeepsProbesInFlight) {
  LocalServe server(8);
  ASSERT_NE(server.port(), 0);
  auto ctx = server.client_context();
  ASSERT_TRUE(ctx);
  const auto url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  std::vector<std::unique_ptr<Probe>> probes;
  for (int i = 0; i < 12; ++i) probes.push_back(std::make_unique<Probe>(target(url), *ctx));
  EventLoop loop;
  std::size_t next = 0;
  std::size_t max_in_flight = 0;
  auto launch = [&] {
    probes[next]->start();
    loop.add(*probes[next++]);
  };
  for (int i = 0; i < 3; ++i) launch();
  loop.run([&](Pollable&) {
    max_in_flight = std::max(max_in_flight, loop.active());
    if (next < probes.size()) launch();
  });
  EXPECT_EQ(next, probes.size());
  EXPECT_LE(max_in_flight, 3u);
  for (const auto& p : probes) EXPECT_EQ(diagnose(p->facts()).verdict, Verdict::ok);
}

}  // namespace
}  // namespace mtls_probe
