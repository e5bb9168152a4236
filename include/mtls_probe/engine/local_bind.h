// --interface (curl's CURLOPT_INTERFACE): the local end a probe's socket is bound to before connect(), so
// that the connection leaves by that interface or from that address. Binding happens on this machine only:
// a name or address that is not here fails before anything is sent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/engine/net.h"

namespace mtls_probe {

// The local addresses a spec stands for: an interface's addresses (first of each family) or one address.
struct LocalBind {
  std::optional<Endpoint> v4, v6;  // port 0: the system picks the port
  const Endpoint* for_family(int family) const;
};

// "if!NAME": an interface only; "host!NAME": an address or a host name only (a name resolves here, with
// the system resolver: /etc/hosts first); otherwise an interface of that name, else an address (or
// "localhost"): unlike curl, a bare word is not looked up in DNS, so a mistyped interface sends nothing. The
// error says why no local address exists ("no interface or address nosuchif0 here").
struct LocalBindResult {
  LocalBind bind;
  std::string error;  // "" when bind has at least one address
};
LocalBindResult resolve_local_bind(const std::string& spec);

// The addresses of the interfaces named `name` (getifaddrs); an empty LocalBind when there is none.
LocalBind interface_addresses(const std::string& name);

// Binds fd to local (port 0). 0, or the errno of bind().
int bind_local(int fd, const Endpoint& local);

// start_tcp_connect with the local end bound first (a failed bind: -1 and its errno in err).
int start_bound_tcp_connect(const Endpoint& ep, const LocalBind& local, int& err);

// The connected socket's local end (getsockname); nullopt when it cannot be read.
std::optional<Endpoint> local_endpoint(int fd);

}  // namespace mtls_probe
