#include "mtls_probe/base/ascii.h"
#include "mtls_probe/engine/dns.h"

#include <arpa/inet.h>
#include <sys/time.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace mtls_probe {
namespace {

constexpr std::size_t kMaxEndpoints = 16;

void init_library_once() {
  static std::once_flag once;
  std::call_once(once, [] { ares_library_init(ARES_LIB_INIT_ALL); });
}

int af_of(IpFamily f) {
  switch (f) {
    case IpFamily::v4: return AF_INET;
    case IpFamily::v6: return AF_INET6;
    case IpFamily::any: return AF_UNSPEC;
  }
  return AF_UNSPEC;
}

bool family_allowed(int af, IpFamily f) {
  return f == IpFamily::any || af == af_of(f);
}

// getaddrinfo's wording for the common outcomes, so that reports read as they did before c-ares.
std::string status_text(int status) {
  switch (status) {
    case ARES_ENOTFOUND: return "Name or service not known";
    case ARES_ENODATA: return "No address associated with hostname";
    case ARES_ETIMEOUT: return "no answer from the DNS server";
    default: return ares_strerror(status);
  }
}

// A channel that reads /etc/hosts before asking DNS; servers replaced when given.
ares_channel make_channel(const DnsConfig& config, std::string& error) {
  init_library_once();
  ares_options opts{};
  char lookups[] = "fb";  // files (/etc/hosts), then DNS
  opts.lookups = lookups;
  ares_channel ch = nullptr;
  int rc = ares_init_options(&ch, &opts, ARES_OPT_LOOKUPS);
  if (rc != ARES_SUCCESS) {
    error = std::string("cannot start the resolver: ") + ares_strerror(rc);
    return nullptr;
  }
  if (!config.servers.empty()) {
    rc = ares_set_servers_ports_csv(ch, config.servers.c_str());
    if (rc != ARES_SUCCESS) {
      // Never fall back to the system's servers when others were asked for.
      error = std::string("--dns-servers: ") + ares_strerror(rc);
      ares_destroy(ch);
      return nullptr;
    }
  }
  return ch;
}

Endpoint with_port_of(Endpoint ep, uint16_t port) {
  ep.port = port;
  if (ep.addr.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6*>(&ep.addr)->sin6_port = htons(port);
  } else {
    reinterpret_cast<sockaddr_in*>(&ep.addr)->sin_port = htons(port);
  }
  return ep;
}

}  // namespace

const char* family_name(int af) {
  return af == AF_INET6 ? "ipv6" : "ipv4";
}

std::optional<std::vector<Endpoint>> localhost_endpoints(const std::string& host, uint16_t port,
                                                         IpFamily family) {
  std::string h = ascii_lowered(host);
  if (h.size() > 1 && h.back() == '.') h.pop_back();
  const std::string suffix = ".localhost";
  const bool is_localhost =
      h == "localhost" ||
      (h.size() > suffix.size() && h.compare(h.size() - suffix.size(), suffix.size(), suffix) == 0);
  if (!is_localhost) return std::nullopt;
  std::vector<Endpoint> eps;
  Endpoint ep;
  if (family != IpFamily::v4 && numeric_endpoint("::1", port, ep)) eps.push_back(ep);
  if (family != IpFamily::v6 && numeric_endpoint("127.0.0.1", port, ep)) eps.push_back(ep);
  return eps;
}

std::optional<std::string> check_dns_servers(const std::string& csv) {
  if (csv.empty()) return "--dns-servers takes a list of addresses (\"127.0.0.1:5353,[::1]:53\")";
  std::string error;
  ares_channel ch = make_channel(DnsConfig{IpFamily::any, csv}, error);
  if (ch == nullptr) return error + " (" + csv + ")";
  ares_destroy(ch);
  return std::nullopt;
}

DnsQuery::~DnsQuery() {
  if (channel_ != nullptr) {
    done_ = true;  // the callback (ARES_EDESTRUCTION) records nothing now
    ares_destroy(channel_);
  }
}

void DnsQuery::start(const std::string& host, uint16_t port, const DnsConfig& config, Deadline deadline) {
  deadline_ = deadline;
  port_ = port;
  family_ = config.family;
  std::string error;
  channel_ = make_channel(config, error);
  if (channel_ == nullptr) return finish(NetStatus::failed, error);
  ares_addrinfo_hints hints{};
  hints.ai_family = af_of(config.family);
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = ARES_AI_NUMERICSERV;
  const std::string service = std::to_string(port);
  ares_getaddrinfo(channel_, host.c_str(), service.c_str(), &hints, &DnsQuery::on_result, this);
}

void DnsQuery::cancel() {
  if (done_) return;
  finish(NetStatus::timed_out, "name lookup did not finish in time");
  if (channel_ != nullptr) ares_cancel(channel_);  // closes nothing yet; the destructor does
}

std::vector<pollfd> DnsQuery::poll_fds() const {
  std::vector<pollfd> fds;
  if (done_ || channel_ == nullptr) return fds;
  ares_socket_t socks[ARES_GETSOCK_MAXNUM];
  const int bits = ares_getsock(channel_, socks, ARES_GETSOCK_MAXNUM);
  for (int i = 0; i < ARES_GETSOCK_MAXNUM; ++i) {
    short events = 0;
    if (ARES_GETSOCK_READABLE(bits, i)) events |= POLLIN;
    if (ARES_GETSOCK_WRITABLE(bits, i)) events |= POLLOUT;
    if (events != 0) fds.push_back(pollfd{socks[i], events, 0});
  }
  return fds;
}

Clock::time_point DnsQuery::wake_at() const {
  if (done_ || channel_ == nullptr) return Clock::now();
  timeval tv{};
  const timeval* t = ares_timeout(channel_, nullptr, &tv);
  if (t == nullptr) return deadline_.at;
  const auto retry = Clock::now() + std::chrono::seconds(t->tv_sec) + std::chrono::microseconds(t->tv_usec);
  return std::min(retry, deadline_.at);
}

void DnsQuery::process(const std::vector<pollfd>& ready, Clock::time_point now) {
  if (done_) return;
  for (const pollfd& p : ready) {
    const bool readable = (p.revents & (POLLIN | POLLERR | POLLHUP)) != 0;
    const bool writable = (p.revents & POLLOUT) != 0;
    ares_process_fd(channel_, readable ? p.fd : ARES_SOCKET_BAD, writable ? p.fd : ARES_SOCKET_BAD);
  }
  if (ready.empty()) ares_process_fd(channel_, ARES_SOCKET_BAD, ARES_SOCKET_BAD);  // retries, timeouts
  if (!done_ && now >= deadline_.at) cancel();
}

void DnsQuery::on_result(void* arg, int status, int /*timeouts*/, ares_addrinfo* res) {
  auto* self = static_cast<DnsQuery*>(arg);
  if (self->done_) {
    if (res != nullptr) ares_freeaddrinfo(res);
    return;
  }
  if (status != ARES_SUCCESS) {
    if (res != nullptr) ares_freeaddrinfo(res);
    return self->finish(NetStatus::failed, status_text(status));
  }
  for (ares_addrinfo_node* n = res ? res->nodes : nullptr; n != nullptr; n = n->ai_next) {
    if (n->ai_family != AF_INET && n->ai_family != AF_INET6) continue;
    if (!family_allowed(n->ai_family, self->family_)) continue;
    Endpoint with_port = with_port_of(endpoint_from_sockaddr(n->ai_addr, n->ai_addrlen), self->port_);
    auto& eps = self->outcome_.endpoints;
    const bool seen =
        std::any_of(eps.begin(), eps.end(), [&](const Endpoint& e) { return e.ip == with_port.ip; });
    if (!seen && eps.size() < kMaxEndpoints) eps.push_back(with_port);
  }
  if (res != nullptr) ares_freeaddrinfo(res);
  if (self->outcome_.endpoints.empty()) return self->finish(NetStatus::failed, "no IPv4 or IPv6 address");
  self->finish(NetStatus::ok, "");
}

void DnsQuery::finish(NetStatus status, std::string error) {
  done_ = true;
  outcome_.status = status;
  outcome_.error = std::move(error);
  if (status != NetStatus::ok) outcome_.endpoints.clear();
}

DnsOutcome resolve_host(const std::string& host, uint16_t port, const DnsConfig& config, Deadline deadline) {
  DnsQuery q;
  q.start(host, port, config, deadline);
  drive(q);
  return q.outcome();
}

}  // namespace mtls_probe
