// Deadlines, fds and endpoints shared by the network components (dns.h, happy_eyeballs.h): non-blocking
// sockets and poll, so that no phase can hang past its limit.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace mtls_probe {

using Clock = std::chrono::steady_clock;

// Milliseconds from start to now: the phase timings of the facts.
// A non-blocking call that would have had to wait (not an error).
inline bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK; }

inline double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A point in time after which a phase gives up.
struct Deadline {
  Clock::time_point at;
  static Deadline after(std::chrono::milliseconds d) { return {Clock::now() + d}; }
  bool expired() const { return Clock::now() >= at; }
  int remaining_ms() const;  // >= 0, rounded up so that a poll never spins at 0 before the deadline
};

// Owns a file descriptor.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string ip;  // numeric, without brackets
  uint16_t port = 0;
  std::string text() const;  // "127.0.0.1:8443" or "[::1]:8443"
};

// A numeric IPv4/IPv6 address (no name lookup); false when text is not one.
bool numeric_endpoint(const std::string& ip, uint16_t port, Endpoint& out);
// An AF_INET / AF_INET6 socket address as an Endpoint.
Endpoint endpoint_from_sockaddr(const sockaddr* sa, socklen_t len);

enum class NetStatus { ok, failed, timed_out };

struct DnsOutcome {
  NetStatus status = NetStatus::failed;
  std::vector<Endpoint> endpoints;
  std::string error;  // getaddrinfo's wording ("Name or service not known") where it has one
};


}  // namespace mtls_probe
