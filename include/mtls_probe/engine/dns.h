// Asynchronous name lookup with c-ares: A and AAAA (or one family), /etc/hosts first, no threads. The
// lookup is a Pollable: its sockets are polled by the caller, and it is cancelled at its deadline.
#pragma once

#include <ares.h>

#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/engine/net.h"
#include "mtls_probe/engine/options.h"
#include "mtls_probe/engine/pollable.h"

namespace mtls_probe {

const char* family_name(int af);  // "ipv4" | "ipv6"

struct DnsConfig {
  IpFamily family = IpFamily::any;
  // "" = the system's (/etc/resolv.conf); else c-ares' "host[:port],..." ("127.0.0.1:5353,[::1]:53").
  std::string servers;
};

// RFC 6761 6.3 (as curl): "localhost" and "*.localhost" are the loopback addresses, without a lookup:
// [::1] and 127.0.0.1 (those of family). nullopt when host is no such name.
std::optional<std::vector<Endpoint>> localhost_endpoints(const std::string& host, uint16_t port,
                                                         IpFamily family);

// Checks a --dns-servers value (as c-ares parses it); an error message, or nullopt when usable.
std::optional<std::string> check_dns_servers(const std::string& csv);

class DnsQuery final : public Pollable {
 public:
  DnsQuery() = default;
  DnsQuery(const DnsQuery&) = delete;  // c-ares holds a pointer to this object while a lookup runs
  DnsQuery& operator=(const DnsQuery&) = delete;
  ~DnsQuery() override;  // cancels a running lookup and closes its sockets

  // Starts the lookup (may finish at once: /etc/hosts). A failure to set up is an outcome too (done()).
  void start(const std::string& host, uint16_t port, const DnsConfig& config, Deadline deadline);
  void cancel();  // ends a running lookup: outcome timed_out

  bool done() const override { return done_; }
  std::vector<pollfd> poll_fds() const override;
  Clock::time_point wake_at() const override;
  void process(const std::vector<pollfd>& ready, Clock::time_point now) override;

  const DnsOutcome& outcome() const { return outcome_; }  // valid once done()

 private:
  static void on_result(void* arg, int status, int timeouts, ares_addrinfo* res);
  void finish(NetStatus status, std::string error);

  ares_channel channel_ = nullptr;
  Deadline deadline_{};
  uint16_t port_ = 0;
  IpFamily family_ = IpFamily::any;
  bool done_ = false;
  DnsOutcome outcome_;
};

// Runs a DnsQuery to completion with drive().
DnsOutcome resolve_host(const std::string& host, uint16_t port, const DnsConfig& config, Deadline deadline);

}  // namespace mtls_probe
