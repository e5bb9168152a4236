// One poll() loop for any number of Pollables (probes, lookups, connection races), each with its own fds and
// deadlines, as curl's multi interface drives many transfers. Nothing here blocks but poll() itself, and
// every wait is bounded by the earliest wake_at() of the components still running.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "mtls_probe/engine/pollable.h"

namespace mtls_probe {

class EventLoop {
 public:
  using Finished = std::function<void(Pollable&)>;

  // Adds a component (not owned: it must outlive its run). Allowed from within a Finished callback, so a
  // caller can keep N probes in flight. A component that is already done finishes on the next round.
  void add(Pollable& p);
  // Runs until every component added is done, calling finished(p) once for each as it completes.
  void run(const Finished& finished = {});
  // Components added and not yet finished.
  std::size_t active() const;

 private:
  void round(const Finished& finished);

  std::vector<Pollable*> active_;
  std::vector<Pollable*> incoming_;    // added while a round runs
  std::vector<pollfd> fds_;            // re-used from round to round
  std::vector<std::size_t> first_fd_;  // per active component: its first entry in fds_
};

}  // namespace mtls_probe
