// parse_resolve (--resolve HOST:PORT:ADDR[,ADDR...]) on arbitrary bytes. Invariants for an accepted spec:
// a non-empty host without control bytes, port 1-65535, 1..64 addresses, each a numeric IPv4/IPv6 address.
#include <arpa/inet.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "mtls_probe/engine/url.h"

using namespace mtls_probe;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto r = parse_resolve(text);
  if (!r) {
    FUZZ_CHECK(!r.error().message.empty());
    return 0;
  }
  FUZZ_CHECK(!r->host.empty());
  FUZZ_CHECK(mtls_probe_fuzz::printable_no_space(r->host));
  FUZZ_CHECK(r->port > 0);
  FUZZ_CHECK(!r->addresses.empty() && r->addresses.size() <= 64);
  for (const auto& a : r->addresses) {
    FUZZ_CHECK(mtls_probe_fuzz::printable_no_space(a));
    in_addr v4{};
    in6_addr v6{};
    FUZZ_CHECK(inet_pton(AF_INET, a.c_str(), &v4) == 1 || inet_pton(AF_INET6, a.c_str(), &v6) == 1);
  }
  return 0;
}
