// DNS (c-ares, never a real DNS server: a silent socket on loopback stands in) and Happy Eyeballs over
// loopback, with an injected clock for the 250 ms stagger.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "mtls_probe/engine/dns.h"
#include "mtls_probe/engine/happy_eyeballs.h"

namespace mtls_probe {
namespace {

using std::chrono::milliseconds;

Endpoint ep(const std::string& ip, uint16_t port = 443) {
  Endpoint e;
  EXPECT_TRUE(numeric_endpoint(ip, port, e)) << ip;
  return e;
}

std::vector<std::string> ips(const std::vector<Endpoint>& eps) {
  std::vector<std::string> out;
  for (const auto& e : eps) out.push_back(e.ip);
  return out;
}

// A socket bound to ip on an ephemeral port: TCP listening, or UDP that never answers.
struct BoundSocket {
  UniqueFd fd;
  uint16_t port = 0;
};
BoundSocket bind_loopback(const std::string& ip, int type) {
  Endpoint e = ep(ip, 0);
  BoundSocket s{UniqueFd(::socket(e.addr.ss_family, type | SOCK_CLOEXEC, 0)), 0};
  if (!s.fd) return s;
  if (e.addr.ss_family == AF_INET6) {
    const int one = 1;
    setsockopt(s.fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  }
  if (::bind(s.fd.get(), reinterpret_cast<sockaddr*>(&e.addr), e.len) != 0) return {UniqueFd(), 0};
  if (type == SOCK_STREAM && ::listen(s.fd.get(), 8) != 0) return {UniqueFd(), 0};
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(s.fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  s.port = endpoint_from_sockaddr(reinterpret_cast<sockaddr*>(&ss), len).port;
  return s;
}

// ---- ordering

TEST(HappyEyeballsOrder, Ipv6FirstThenAlternating) {
  auto out = happy_eyeballs_order(
      {ep("10.0.0.1"), ep("10.0.0.2"), ep("2001:db8::1"), ep("10.0.0.3"), ep("2001:db8::2")});
  EXPECT_EQ(ips(out),
            (std::vector<std::string>{"2001:db8::1", "10.0.0.1", "2001:db8::2", "10.0.0.2", "10.0.0.3"}));
}

TEST(HappyEyeballsOrder, OneFamilyKeepsItsOrder) {
  EXPECT_EQ(ips(happy_eyeballs_order({ep("10.0.0.2"), ep("10.0.0.1")})),
            (std::vector<std::string>{"10.0.0.2", "10.0.0.1"}));
  EXPECT_EQ(ips(happy_eyeballs_order({ep("::2"), ep("::1"), ep("127.0.0.1")})),
            (std::vector<std::string>{"::2", "127.0.0.1", "::1"}));
  EXPECT_TRUE(happy_eyeballs_order({}).empty());
}

TEST(AttemptResult, Words) {
  EXPECT_EQ(attempt_result_text(0), "connected");
  EXPECT_EQ(attempt_result_text(ECONNREFUSED), "refused");
  EXPECT_EQ(attempt_result_text(ENETUNREACH), "unreachable");
  EXPECT_EQ(attempt_result_text(EHOSTUNREACH), "unreachable");
  EXPECT_EQ(attempt_result_text(EACCES), std::strerror(EACCES));
}

// ---- localhost (RFC 6761)

TEST(Localhost, LoopbackWithoutLookup) {
  auto both = localhost_endpoints("localhost", 8443, IpFamily::any);
  ASSERT_TRUE(both);
  EXPECT_EQ(ips(*both), (std::vector<std::string>{"::1", "127.0.0.1"}));
  EXPECT_EQ((*both)[0].port, 8443);
  EXPECT_EQ(ips(*localhost_endpoints("API.localhost.", 1, IpFamily::v4)),
            (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(ips(*localhost_endpoints("LocalHost", 1, IpFamily::v6)), (std::vector<std::string>{"::1"}));
  EXPECT_FALSE(localhost_endpoints("localhost.example", 1, IpFamily::any));
  EXPECT_FALSE(localhost_endpoints("notlocalhost", 1, IpFamily::any));
  EXPECT_FALSE(localhost_endpoints(".localhost", 1, IpFamily::any));
}

// ---- DNS with c-ares

TEST(DnsServers, Checked) {
  EXPECT_FALSE(check_dns_servers("127.0.0.1:5353"));
  EXPECT_FALSE(check_dns_servers("127.0.0.1,[::1]:53"));
  EXPECT_TRUE(check_dns_servers(""));
  EXPECT_TRUE(check_dns_servers("127.0.0.1:"));
}

TEST(DnsQuery, EtcHostsWithoutAskingDns) {
  // Every query would go to this silent socket: the name must come from /etc/hosts (which names localhost).
  BoundSocket silent = bind_loopback("127.0.0.1", SOCK_DGRAM);
  ASSERT_TRUE(silent.fd);
  DnsConfig cfg{IpFamily::v4, "127.0.0.1:" + std::to_string(silent.port)};
  DnsOutcome out = resolve_host("localhost", 8443, cfg, Deadline::after(milliseconds(2000)));
  ASSERT_EQ(out.status, NetStatus::ok) << out.error;
  EXPECT_EQ(ips(out.endpoints), (std::vector<std::string>{"127.0.0.1"}));
  EXPECT_EQ(out.endpoints[0].port, 8443);
  char buf[512];
  EXPECT_LT(::recv(silent.fd.get(), buf, sizeof buf, MSG_DONTWAIT), 0) << "a DNS query was sent";
}

TEST(DnsQuery, SilentServerTimesOutAtTheDeadline) {
  BoundSocket silent = bind_loopback("127.0.0.1", SOCK_DGRAM);
  ASSERT_TRUE(silent.fd);
  const auto t0 = Clock::now();
  {
    DnsQuery q;
    q.start("nothing-here.invalid", 443, DnsConfig{IpFamily::any, "127.0.0.1:" + std::to_string(silent.port)},
            Deadline::after(milliseconds(300)));
    EXPECT_FALSE(q.done());
    EXPECT_FALSE(q.poll_fds().empty());
    EXPECT_LE(q.wake_at(), t0 + milliseconds(300) + milliseconds(5));
    drive(q);
    EXPECT_EQ(q.outcome().status, NetStatus::timed_out);
    EXPECT_TRUE(q.poll_fds().empty());
  }
  const auto took = Clock::now() - t0;
  EXPECT_GE(took, milliseconds(290));
  EXPECT_LT(took, milliseconds(1500));
  char buf[512];
  EXPECT_GT(::recv(silent.fd.get(), buf, sizeof buf, MSG_DONTWAIT), 0) << "the query went elsewhere";
}

TEST(DnsQuery, CancelEndsALookup) {
  BoundSocket silent = bind_loopback("127.0.0.1", SOCK_DGRAM);
  ASSERT_TRUE(silent.fd);
  DnsQuery q;
  q.start("nothing-here.invalid", 443, DnsConfig{IpFamily::any, "127.0.0.1:" + std::to_string(silent.port)},
          Deadline::after(milliseconds(5000)));
  ASSERT_FALSE(q.done());
  q.cancel();
  EXPECT_TRUE(q.done());
  EXPECT_EQ(q.outcome().status, NetStatus::timed_out);
}

TEST(DnsQuery, BadServersAreAnOutcomeNotAFallback) {
  DnsQuery q;
  q.start("localhost", 443, DnsConfig{IpFamily::any, "127.0.0.1:"}, Deadline::after(milliseconds(1000)));
  ASSERT_TRUE(q.done());
  EXPECT_EQ(q.outcome().status, NetStatus::failed);
  EXPECT_NE(q.outcome().error.find("--dns-servers"), std::string::npos);
}

// ---- the connection race over loopback

bool have_ipv6_loopback() {
  return static_cast<bool>(bind_loopback("::1", SOCK_STREAM).fd);
}

TEST(ConnectRace, ListenerOnIpv6OnlyConnectsViaIpv6) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "::1 is not configured";
  BoundSocket l = bind_loopback("::1", SOCK_STREAM);
  ASSERT_TRUE(l.fd);
  // localhost's addresses, IPv4 first as a hosts file might give them: the order puts ::1 first.
  auto order = happy_eyeballs_order(*localhost_endpoints("localhost", l.port, IpFamily::any));
  ConnectOutcome out = connect_happy_eyeballs(order, Deadline::after(milliseconds(2000)));
  ASSERT_EQ(out.status, NetStatus::ok) << out.error;
  EXPECT_EQ(out.endpoint.ip, "::1");
  ASSERT_FALSE(out.attempts.empty());
  EXPECT_EQ(out.attempts[0].address, "[::1]:" + std::to_string(l.port));
  EXPECT_EQ(out.attempts[0].family, "ipv6");
  EXPECT_EQ(out.attempts[0].result, "connected");
}

TEST(ConnectRace, RefusedFirstThenTheNextAtOnce) {
  if (!have_ipv6_loopback()) GTEST_SKIP() << "::1 is not configured";
  BoundSocket l = bind_loopback("::1", SOCK_STREAM);
  ASSERT_TRUE(l.fd);
  const auto t0 = Clock::now();
  ConnectOutcome out = connect_happy_eyeballs({ep("127.0.0.1", l.port), ep("::1", l.port)},
                                              Deadline::after(milliseconds(2000)));
  ASSERT_EQ(out.status, NetStatus::ok) << out.error;
  EXPECT_LT(Clock::now() - t0, milliseconds(200)) << "a refusal must not wait for the 250 ms stagger";
  ASSERT_EQ(out.attempts.size(), 2u);
  EXPECT_EQ(out.attempts[0].family, "ipv4");
  EXPECT_EQ(out.attempts[0].result, "refused");
  EXPECT_EQ(out.attempts[1].result, "connected");
  EXPECT_TRUE(out.fd);
}

TEST(ConnectRace, AllRefused) {
  BoundSocket l = bind_loopback("127.0.0.1", SOCK_STREAM);
  ASSERT_TRUE(l.fd);
  const uint16_t port = l.port;
  l.fd = UniqueFd();  // closed: nothing listens there now
  ConnectOutcome out = connect_happy_eyeballs({ep("127.0.0.1", port)}, Deadline::after(milliseconds(2000)));
  EXPECT_EQ(out.status, NetStatus::failed);
  EXPECT_EQ(out.error_number, ECONNREFUSED);
  ASSERT_EQ(out.attempts.size(), 1u);
  EXPECT_EQ(out.attempts[0].result, "refused");
}

// A blackhole: the read end of a pipe never becomes writable, like a SYN nobody answers.
struct Blackholes {
  std::vector<UniqueFd> write_ends;
  int open(int& err) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC | O_NONBLOCK) != 0) return -1;
    write_ends.emplace_back(p[1]);
    err = EINPROGRESS;
    return p[0];
  }
};

TEST(ConnectRace, StaggersTheNextAttemptBy250ms) {
  BoundSocket l = bind_loopback("127.0.0.1", SOCK_STREAM);
  ASSERT_TRUE(l.fd);
  Blackholes holes;
  auto starter = [&](const Endpoint& e, int& err) {
    return e.ip == "2001:db8::1" ? holes.open(err) : start_tcp_connect(e, err);
  };
  const auto t0 = Clock::now();
  ConnectRace race({ep("2001:db8::1", l.port), ep("127.0.0.1", l.port)}, Deadline{t0 + milliseconds(5000)},
                   ConnectRace::kAttemptDelay, starter);
  race.start(t0);
  EXPECT_EQ(race.poll_fds().size(), 1u);
  EXPECT_EQ(race.wake_at(), t0 + milliseconds(250));
  race.process({}, t0 + milliseconds(249));
  EXPECT_EQ(race.poll_fds().size(), 1u) << "the second attempt started before its time";
  race.process({}, t0 + milliseconds(250));
  EXPECT_EQ(race.poll_fds().size() + (race.done() ? 1 : 0), 2u);
  drive(race);
  ConnectOutcome out = race.take_outcome();
  ASSERT_EQ(out.status, NetStatus::ok) << out.error;
  EXPECT_EQ(out.endpoint.ip, "127.0.0.1");
  ASSERT_EQ(out.attempts.size(), 2u);
  EXPECT_EQ(out.attempts[0].result, "cancelled");
  EXPECT_EQ(out.attempts[1].result, "connected");
}

TEST(ConnectRace, ImmediateFailureStartsTheNextAtOnce) {
  Blackholes holes;
  auto starter = [&](const Endpoint& e, int& err) {
    if (e.ip == "2001:db8::1") {
      err = ENETUNREACH;
      return -1;
    }
    return holes.open(err);
  };
  const auto t0 = Clock::now();
  ConnectRace race({ep("2001:db8::1"), ep("192.0.2.1"), ep("192.0.2.2")}, Deadline{t0 + milliseconds(600)},
                   ConnectRace::kAttemptDelay, starter);
  race.start(t0);
  EXPECT_EQ(race.poll_fds().size(), 1u);  // the blackhole 192.0.2.1, started at t0
  race.process({}, t0 + milliseconds(250));
  EXPECT_EQ(race.poll_fds().size(), 2u);
  race.process({}, t0 + milliseconds(600));  // the deadline
  ASSERT_TRUE(race.done());
  ConnectOutcome out = race.take_outcome();
  EXPECT_EQ(out.status, NetStatus::timed_out);
  ASSERT_EQ(out.attempts.size(), 3u);
  EXPECT_EQ(out.attempts[0].result, "unreachable");
  EXPECT_EQ(out.attempts[1].result, "timeout");
  EXPECT_DOUBLE_EQ(out.attempts[1].ms, 600.0);
  EXPECT_EQ(out.attempts[2].result, "timeout");
  EXPECT_DOUBLE_EQ(out.attempts[2].ms, 350.0);
  EXPECT_FALSE(out.fd);
}

TEST(ConnectRace, NoAddresses) {
  ConnectRace race({}, Deadline::after(milliseconds(100)));
  race.start(Clock::now());
  EXPECT_TRUE(race.done());
  EXPECT_EQ(race.take_outcome().status, NetStatus::failed);
}

}  // namespace
}  // namespace mtls_probe
