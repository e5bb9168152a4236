// A non-blocking, resumable step of a probe (DNS lookup, connection race, ...): it says which fds it waits
// on and until when, and it advances when process() is called. One EventLoop (event_loop.h) drives any
// number of them; drive() runs one to completion.
#pragma once

#include <poll.h>

#include <vector>

#include "mtls_probe/engine/net.h"

namespace mtls_probe {

class Pollable {
 public:
  virtual ~Pollable() = default;
  virtual bool done() const = 0;
  // The fds to wait on, with the events wanted (revents is ignored).
  virtual std::vector<pollfd> poll_fds() const = 0;
  // When process() must run even if no fd is ready (a retry, a stagger, the deadline).
  virtual Clock::time_point wake_at() const = 0;
  // Advances on ready fds (the entries of poll_fds() with revents filled in; may be empty on a timeout).
  virtual void process(const std::vector<pollfd>& ready, Clock::time_point now) = 0;
};

// Runs one component on an EventLoop of its own until it is done. The component's wake_at bounds every
// wait, so a component whose deadline has passed finishes on the next process().
void drive(Pollable& p);

}  // namespace mtls_probe
