// TCP connection to every address of a host, Happy Eyeballs (RFC 8305): IPv6 first, families interleaved,
// the next attempt 250 ms after the previous one (at once when it failed), the first success wins and the
// others are closed, all within one deadline. A Pollable: resumable, driven by the caller's poll loop.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/net.h"
#include "mtls_probe/engine/pollable.h"

namespace mtls_probe {

// "refused" (ECONNREFUSED), "unreachable" (ENETUNREACH, EHOSTUNREACH), else strerror(err).
std::string attempt_result_text(int err);

// RFC 8305 section 4: the first address family of the list first (IPv6 when there is any IPv6 address),
// then alternating families; the order within a family is kept.
std::vector<Endpoint> happy_eyeballs_order(const std::vector<Endpoint>& endpoints);

struct ConnectOutcome {
  NetStatus status = NetStatus::failed;
  UniqueFd fd;        // non-blocking, connected, TCP_NODELAY
  Endpoint endpoint;  // the one that answered (or the last tried)
  std::string error;  // strerror of the last failure
  int error_number = 0;
  std::vector<ConnectAttempt> attempts;  // in the order they started
};

// Opens a non-blocking socket and starts connect(): the fd (>= 0) and 0 or EINPROGRESS in err; -1 and errno
// in err when it failed at once. A seam: tests substitute fds that never become writable.
using SocketStarter = std::function<int(const Endpoint&, int& err)>;
int start_tcp_connect(const Endpoint& ep, int& err);

class ConnectRace final : public Pollable {
 public:
  static constexpr std::chrono::milliseconds kAttemptDelay{250};  // RFC 8305's "Connection Attempt Delay"

  // endpoints: in the order to try (see happy_eyeballs_order).
  ConnectRace(std::vector<Endpoint> endpoints, Deadline deadline,
              std::chrono::milliseconds delay = kAttemptDelay, SocketStarter starter = start_tcp_connect);
  void start(Clock::time_point now);

  bool done() const override { return done_; }
  std::vector<pollfd> poll_fds() const override;
  Clock::time_point wake_at() const override;
  void process(const std::vector<pollfd>& ready, Clock::time_point now) override;

  ConnectOutcome take_outcome() { return std::move(outcome_); }  // once done()

 private:
  struct Pending {
    UniqueFd fd;
    std::size_t index = 0;  // into endpoints_ and outcome_.attempts
    Clock::time_point started;
  };
  void start_next(Clock::time_point now);
  void on_writable(Pending& p, Clock::time_point now);
  void record(std::size_t index, std::string result, Clock::time_point started, Clock::time_point now);
  void fail_attempt(std::size_t index, int err, Clock::time_point started, Clock::time_point now);
  void finish_if_exhausted(Clock::time_point now);
  void close_pending(const char* result, Clock::time_point now);

  std::vector<Endpoint> endpoints_;
  Deadline deadline_;
  std::chrono::milliseconds delay_;
  SocketStarter starter_;
  std::size_t next_ = 0;  // the next endpoint to start
  Clock::time_point next_start_at_{};
  std::vector<Pending> pending_;
  bool done_ = false;
  ConnectOutcome outcome_;
};

// Runs a ConnectRace over endpoints (already ordered) with drive().
ConnectOutcome connect_happy_eyeballs(const std::vector<Endpoint>& endpoints, Deadline deadline);

}  // namespace mtls_probe
