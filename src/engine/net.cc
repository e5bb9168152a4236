#include "mtls_probe/engine/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "mtls_probe/engine/event_loop.h"
#include "mtls_probe/engine/pollable.h"

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

void drive(Pollable& p) {
  EventLoop loop;  // the one loop implementation, with one component
  loop.add(p);
  loop.run();
}

}  // namespace mtls_probe
