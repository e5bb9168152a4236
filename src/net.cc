#include "mtls_probe/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

namespace mtls_probe {

int Deadline::remaining_ms() const {
  auto left = std::chrono::duration_cast<std::chrono::microseconds>(at - Clock::now()).count();
  if (left <= 0) return 0;
  return static_cast<int>((left + 999) / 1000);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

std::string Endpoint::text() const {
  if (addr.ss_family == AF_INET6) return "[" + ip + "]:" + std::to_string(port);
  return ip + ":" + std::to_string(port);
}

namespace {

Endpoint endpoint_from_sockaddr(const sockaddr* sa, socklen_t len) {
  Endpoint ep;
  std::memcpy(&ep.addr, sa, len);
  ep.len = len;
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &in6->sin6_addr, buf, sizeof buf);
    ep.port = ntohs(in6->sin6_port);
  } else {
    const auto* in4 = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &in4->sin_addr, buf, sizeof buf);
    ep.port = ntohs(in4->sin_port);
  }
  ep.ip = buf;
  return ep;
}

// Shared between the caller and the lookup thread, which may outlive the caller after a timeout.
struct LookupState {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;
  std::vector<Endpoint> endpoints;
};

}  // namespace

bool numeric_endpoint(const std::string& ip, uint16_t port, Endpoint& out) {
  sockaddr_in in4{};
  if (inet_pton(AF_INET, ip.c_str(), &in4.sin_addr) == 1) {
    in4.sin_family = AF_INET;
    in4.sin_port = htons(port);
    out = endpoint_from_sockaddr(reinterpret_cast<sockaddr*>(&in4), sizeof in4);
    return true;
  }
  sockaddr_in6 in6{};
  if (inet_pton(AF_INET6, ip.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    out = endpoint_from_sockaddr(reinterpret_cast<sockaddr*>(&in6), sizeof in6);
    return true;
  }
  return false;
}

DnsOutcome resolve_host(const std::string& host, uint16_t port, Deadline deadline) {
  DnsOutcome out;
  auto state = std::make_shared<LookupState>();
  std::thread([state, host, port] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_ADDRCONFIG;
    addrinfo* res = nullptr;
    const std::string service = std::to_string(port);
    int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &res);
    std::vector<Endpoint> eps;
    if (rc == 0) {
      for (addrinfo* ai = res; ai != nullptr && eps.size() < 16; ai = ai->ai_next) {
        if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
        eps.push_back(endpoint_from_sockaddr(ai->ai_addr, ai->ai_addrlen));
      }
      freeaddrinfo(res);
    }
    std::lock_guard lock(state->mu);
    state->rc = rc;
    state->endpoints = std::move(eps);
    state->done = true;
    state->cv.notify_all();
  }).detach();

  std::unique_lock lock(state->mu);
  if (!state->cv.wait_until(lock, deadline.at, [&] { return state->done; })) {
    out.status = NetStatus::timed_out;
    out.error = "name lookup did not finish in time";
    return out;
  }
  if (state->rc != 0) {
    out.error = gai_strerror(state->rc);
    return out;
  }
  if (state->endpoints.empty()) {
    out.error = "no IPv4 or IPv6 address";
    return out;
  }
  out.status = NetStatus::ok;
  out.endpoints = std::move(state->endpoints);
  return out;
}

WaitResult wait_fd(int fd, short events, Deadline deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, deadline.remaining_ms());
    if (rc > 0) return WaitResult::ready;
    if (rc == 0) {
      if (deadline.expired()) return WaitResult::timed_out;
      continue;
    }
    if (errno == EINTR) continue;
    return WaitResult::failed;
  }
}

ConnectOutcome connect_any(const std::vector<Endpoint>& endpoints, Deadline deadline) {
  ConnectOutcome out;
  for (const Endpoint& ep : endpoints) {
    out.endpoint = ep;
    if (deadline.expired()) {
      out.status = NetStatus::timed_out;
      return out;
    }
    UniqueFd fd(::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      out.error_number = errno;
      out.error = std::strerror(errno);
      out.attempts.push_back(ep.text() + ": " + out.error);
      continue;
    }
    int rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
    int err = rc == 0 ? 0 : errno;
    if (err == EINPROGRESS) {
      WaitResult w = wait_fd(fd.get(), POLLOUT, deadline);
      if (w == WaitResult::timed_out) {
        out.status = NetStatus::timed_out;
        out.error = "connection did not complete in time";
        out.attempts.push_back(ep.text() + ": timed out");
        return out;
      }
      socklen_t len = sizeof err;
      if (getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    }
    if (err == 0) {
      // The request follows the handshake's last flight at once: without this, Nagle's algorithm holds it
      // back until the peer's delayed ACK (~40 ms), which would show up as server latency in ttfb.
      const int one = 1;
      setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      out.status = NetStatus::ok;
      out.fd = std::move(fd);
      out.error.clear();
      out.error_number = 0;
      return out;
    }
    out.error_number = err;
    out.error = std::strerror(err);
    out.attempts.push_back(ep.text() + ": " + out.error);
  }
  out.status = NetStatus::failed;
  return out;
}

}  // namespace mtls_probe
