// The revocation options the probe and `inspect` share: --check-revocation, --crl FILE (repeatable),
// --ocsp-url URL, --revocation-timeout SECONDS (the last three only with the first).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/base/result.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/inspect/revocation.h"

namespace CLI {
class App;
}

namespace mtls_probe::tool {

struct RawRevocationArgs {
  bool check = false;
  std::vector<std::string> crl;
  std::string ocsp_url;
  std::optional<double> timeout;
};

void add_revocation_options(CLI::App& app, RawRevocationArgs& raw, const std::string& group);

// nullopt: not asked. A usage error: --crl/--ocsp-url/--revocation-timeout without --check-revocation, an
// --ocsp-url that is not http://, a timeout out of range.
Expected<std::optional<inspect::RevocationOptions>, std::string> make_revocation_options(
    const RawRevocationArgs& raw);

// The probe's check, after the probe: the identity's leaf and the chain it carries, their issuers among them
// or in cacert_file (the probe's --cacert, which often holds the client CA too).
RevocationFacts check_identity_revocation(const ClientIdentity& identity,
                                          const inspect::RevocationOptions& opts,
                                          const std::vector<inspect::LocalCrl>& crls,
                                          const std::string& cacert_file);

}  // namespace mtls_probe::tool
