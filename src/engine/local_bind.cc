#include "mtls_probe/engine/local_bind.h"

#include <ifaddrs.h>
#include <netdb.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

namespace mtls_probe {
namespace {

void keep_first(LocalBind& out, const sockaddr* sa) {
  if (sa == nullptr) return;
  if (sa->sa_family == AF_INET && !out.v4) {
    out.v4 = endpoint_from_sockaddr(sa, sizeof(sockaddr_in));
  } else if (sa->sa_family == AF_INET6 && !out.v6) {
    out.v6 = endpoint_from_sockaddr(sa, sizeof(sockaddr_in6));
  }
}

// A numeric address, or a host name resolved here (a local name: /etc/hosts, the system's resolver).
LocalBind host_addresses(const std::string& host) {
  LocalBind out;
  Endpoint ep;
  if (numeric_endpoint(host, 0, ep)) {
    (ep.addr.ss_family == AF_INET ? out.v4 : out.v6) = ep;
    return out;
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return out;
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) keep_first(out, a->ai_addr);
  return out;
}

bool empty(const LocalBind& b) {
  return !b.v4 && !b.v6;
}

}  // namespace

const Endpoint* LocalBind::for_family(int family) const {
  const auto& ep = family == AF_INET ? v4 : v6;
  return ep ? &*ep : nullptr;
}

LocalBind interface_addresses(const std::string& name) {
  LocalBind out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    if (name == i->ifa_name) keep_first(out, i->ifa_addr);
  }
  ::freeifaddrs(list);
  return out;
}

LocalBindResult resolve_local_bind(const std::string& spec) {
  LocalBindResult r;
  if (spec.rfind("if!", 0) == 0) {
    r.bind = interface_addresses(spec.substr(3));
    if (empty(r.bind)) r.error = "no interface " + spec.substr(3) + " with an IP address here";
  } else if (spec.rfind("host!", 0) == 0) {
    r.bind = host_addresses(spec.substr(5));
    if (empty(r.bind)) r.error = "the host " + spec.substr(5) + " did not resolve here";
  } else {
    // An interface name first, then an address (curl). A host name only with host!: a mistyped interface
    // name must not become a DNS query that leaves the machine.
    r.bind = interface_addresses(spec);
    Endpoint ep;
    if (empty(r.bind) && (numeric_endpoint(spec, 0, ep) || spec == "localhost"))
      r.bind = host_addresses(spec);
    if (empty(r.bind)) r.error = "no interface or address " + spec + " here (a host name: host!" + spec + ")";
  }
  return r;
}

int bind_local(int fd, const Endpoint& local) {
  Endpoint any_port = local;
  if (any_port.addr.ss_family == AF_INET) {
    reinterpret_cast<sockaddr_in*>(&any_port.addr)->sin_port = 0;
  } else {
    reinterpret_cast<sockaddr_in6*>(&any_port.addr)->sin6_port = 0;
  }
  return ::bind(fd, reinterpret_cast<const sockaddr*>(&any_port.addr), any_port.len) == 0 ? 0 : errno;
}

int start_bound_tcp_connect(const Endpoint& ep, const LocalBind& local, int& err) {
  const Endpoint* from = local.for_family(ep.addr.ss_family);
  if (from == nullptr) {
    err = EAFNOSUPPORT;
    return -1;
  }
  const int fd = ::socket(ep.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = errno;
    return -1;
  }
  if (const int e = bind_local(fd, *from); e != 0) {
    ::close(fd);
    err = e;
    return -1;
  }
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&ep.addr), ep.len);
  err = rc == 0 ? 0 : errno;
  return fd;
}

std::optional<Endpoint> local_endpoint(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return std::nullopt;
  if (ss.ss_family != AF_INET && ss.ss_family != AF_INET6) return std::nullopt;
  return endpoint_from_sockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
}

}  // namespace mtls_probe
