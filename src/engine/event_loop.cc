#include "mtls_probe/engine/event_loop.h"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>

namespace mtls_probe {
namespace {

// Milliseconds until `at`, rounded up (so that a wait never ends just before a deadline and spins).
int timeout_until(Clock::time_point at, Clock::time_point now) {
  if (at <= now) return 0;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(at - now).count();
  const long long ms = (us + 999) / 1000;
  return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

}  // namespace

void EventLoop::add(Pollable& p) {
  incoming_.push_back(&p);
}

std::size_t EventLoop::active() const {
  // Finished components are nulled during a round and erased at its end.
  return incoming_.size() +
         static_cast<std::size_t>(
             std::count_if(active_.begin(), active_.end(), [](const Pollable* p) { return p != nullptr; }));
}

void EventLoop::run(const Finished& finished) {
  while (!active_.empty() || !incoming_.empty()) round(finished);
}

// One round: collect every component's fds and its earliest wake-up, poll once, then advance each component
// that has a ready fd or whose wake-up time has come. Components that finished leave the loop.
void EventLoop::round(const Finished& finished) {
  active_.insert(active_.end(), incoming_.begin(), incoming_.end());
  incoming_.clear();
  fds_.clear();
  first_fd_.clear();
  Clock::time_point wake = Clock::time_point::max();
  for (Pollable* p : active_) {
    first_fd_.push_back(fds_.size());
    if (p->done()) {
      wake = Clock::time_point::min();
      continue;
    }
    for (pollfd f : p->poll_fds()) {
      f.revents = 0;
      fds_.push_back(f);
    }
    wake = std::min(wake, p->wake_at());
  }
  first_fd_.push_back(fds_.size());

  const int rc = ::poll(fds_.data(), fds_.size(), timeout_until(wake, Clock::now()));
  if (rc < 0) {
    for (pollfd& f : fds_) f.revents = 0;  // EINTR: a round without events; deadlines still apply
  }
  const Clock::time_point now = Clock::now();
  std::vector<pollfd> ready;
  for (std::size_t i = 0; i < active_.size(); ++i) {
    Pollable* p = active_[i];
    if (!p->done()) {
      ready.clear();
      for (std::size_t k = first_fd_[i]; k < first_fd_[i + 1]; ++k) {
        if (fds_[k].revents != 0) ready.push_back(fds_[k]);
      }
      if (!ready.empty() || now >= p->wake_at()) p->process(ready, now);
    }
    if (p->done()) {
      active_[i] = nullptr;
      if (finished) finished(*p);
    }
  }
  std::erase(active_, nullptr);
}

}  // namespace mtls_probe
