// serve --ocsp-staple FILE: the DER OCSP response serve staples for its certificate to every client that asks
// for it (status_request), as `openssl s_server -status_file` and nginx's ssl_stapling_file do: the same
// bytes whatever they say, so a client's handling of good, revoked or stale responses can be reproduced.
#pragma once

#include <openssl/ssl.h>

#include <optional>
#include <string>

#include "mtls_probe/base/result.h"

namespace mtls_probe::serve_ocsp {

// Reads FILE (at most 64 KiB) into der and checks that it is an OCSP response; the error names the file.
std::optional<Error> load_staple(const std::string& file, std::string& der);
// Makes ctx staple der (which must outlive ctx) to clients that ask.
void staple_on(SSL_CTX* ctx, const std::string* der);

}  // namespace mtls_probe::serve_ocsp
