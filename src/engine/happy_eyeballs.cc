#include "mtls_probe/engine/happy_eyeballs.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "mtls_probe/engine/dns.h"

namespace mtls_probe {
namespace {

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

std::string attempt_result_text(int err) {
  switch (err) {
    case 0: return "connected";
    case ECONNREFUSED: return "refused";
    case ENETUNREACH:
    case EHOSTUNREACH: return "unreachable";
    case ETIMEDOUT: return "timeout";
    default: return std::strerror(err);
  }
}

std::vector<Endpoint> happy_eyeballs_order(const std::vector<Endpoint>& endpoints) {
  std::vector<Endpoint> v6, v4;
  for (const Endpoint& ep : endpoints) (ep.addr.ss_family == AF_INET6 ? v6 : v4).push_back(ep);
  std::vector<Endpoint> out;
  out.reserve(endpoints.size());
  for (std::size_t i = 0; i < std::max(v6.size(), v4.size()); ++i) {
    if (i < v6.size()) out.push_back(v6[i]);
    if (i < v4.size()) out.push_back(v4[i]);
  }
  return out;
}

int start_tcp_connect(const Endpoint& ep, int& err) {
  const int fd = ::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
  err = rc == 0 ? 0 : errno;
  return fd;
}

ConnectRace::ConnectRace(std::vector<Endpoint> endpoints, Deadline deadline, std::chrono::milliseconds delay,
                         SocketStarter starter)
    : endpoints_(std::move(endpoints)), deadline_(deadline), delay_(delay), starter_(std::move(starter)) {}

void ConnectRace::start(Clock::time_point now) {
  if (endpoints_.empty()) {
    done_ = true;
    outcome_.status = NetStatus::failed;
    outcome_.error = "no address to connect to";
    return;
  }
  start_next(now);
}

std::vector<pollfd> ConnectRace::poll_fds() const {
  std::vector<pollfd> fds;
  if (done_) return fds;
  for (const Pending& p : pending_) fds.push_back(pollfd{p.fd.get(), POLLOUT, 0});
  return fds;
}

Clock::time_point ConnectRace::wake_at() const {
  if (done_) return Clock::now();
  if (next_ < endpoints_.size()) return std::min(next_start_at_, deadline_.at);
  return deadline_.at;
}

void ConnectRace::process(const std::vector<pollfd>& ready, Clock::time_point now) {
  if (done_) return;
  for (const pollfd& r : ready) {
    auto it =
        std::find_if(pending_.begin(), pending_.end(), [&](const Pending& p) { return p.fd.get() == r.fd; });
    if (it == pending_.end()) continue;
    on_writable(*it, now);
    if (done_) return;
    pending_.erase(it);  // failed: its fd closes here
  }
  if (now >= deadline_.at) {
    close_pending("timeout", now);
    done_ = true;
    outcome_.status = NetStatus::timed_out;
    outcome_.error = "connection did not complete in time";
    return;
  }
  if (next_ < endpoints_.size() && (pending_.empty() || now >= next_start_at_)) start_next(now);
  finish_if_exhausted(now);
}

void ConnectRace::start_next(Clock::time_point now) {
  while (!done_ && next_ < endpoints_.size()) {
    const std::size_t index = next_++;
    const Endpoint& ep = endpoints_[index];
    outcome_.attempts.push_back(ConnectAttempt{ep.text(), family_name(ep.addr.ss_family), "", 0});
    outcome_.endpoint = ep;
    int err = 0;
    UniqueFd fd(starter_(ep, err));
    if (!fd || (err != 0 && err != EINPROGRESS)) {
      fail_attempt(index, err, now, now);
      continue;  // a failure at once: the next address at once (RFC 8305 section 5)
    }
    pending_.push_back(Pending{std::move(fd), index, now});
    if (err == 0) {  // connected at once (loopback may)
      on_writable(pending_.back(), now);
      if (done_) return;
      pending_.pop_back();
      continue;
    }
    next_start_at_ = now + delay_;
    return;
  }
}

void ConnectRace::on_writable(Pending& p, Clock::time_point now) {
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(p.fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) return fail_attempt(p.index, err, p.started, now);
  // The request follows the handshake's last flight at once: without this, Nagle's algorithm holds it back
  // until the peer's delayed ACK (~40 ms), which would show up as server latency in ttfb.
  const int one = 1;
  setsockopt(p.fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  record(p.index, "connected", p.started, now);
  outcome_.status = NetStatus::ok;
  outcome_.endpoint = endpoints_[p.index];
  outcome_.fd = std::move(p.fd);
  outcome_.error.clear();
  outcome_.error_number = 0;
  done_ = true;
  close_pending("cancelled", now);
}

void ConnectRace::record(std::size_t index, std::string result, Clock::time_point started,
                         Clock::time_point now) {
  ConnectAttempt& a = outcome_.attempts[index];
  a.result = std::move(result);
  a.ms = ms_between(started, now);
}

void ConnectRace::fail_attempt(std::size_t index, int err, Clock::time_point started, Clock::time_point now) {
  record(index, attempt_result_text(err), started, now);
  next_start_at_ = now;  // a failed attempt does not hold back the next one
  outcome_.endpoint = endpoints_[index];
  outcome_.error_number = err;
  outcome_.error = std::strerror(err);
}

void ConnectRace::finish_if_exhausted(Clock::time_point /*now*/) {
  if (done_ || !pending_.empty() || next_ < endpoints_.size()) return;
  done_ = true;
  outcome_.status = NetStatus::failed;
}

void ConnectRace::close_pending(const char* result, Clock::time_point now) {
  for (Pending& p : pending_) {
    if (p.fd) record(p.index, result, p.started, now);
  }
  pending_.clear();
}

ConnectOutcome connect_happy_eyeballs(const std::vector<Endpoint>& endpoints, Deadline deadline) {
  ConnectRace race(endpoints, deadline);
  race.start(Clock::now());
  drive(race);
  return race.take_outcome();
}

}  // namespace mtls_probe
