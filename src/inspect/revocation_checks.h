// What the two methods of revocation.h (revocation_ocsp.cc, revocation_crl.cc) share.
#pragma once

#include <vector>

#include "mtls_probe/inspect/revocation.h"

namespace mtls_probe::inspect {

// An unreachable check: failure and its words.
RevocationCheck unreachable(RevocationCheck c, RevocationFailure f, std::string detail);
// The clock revocation checks use: opts.now, else now.
long long revocation_now(const RevocationOptions& opts);

}  // namespace mtls_probe::inspect
