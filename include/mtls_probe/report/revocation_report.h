// The revocation facts as the printers show them, one form for `inspect` and the probe: the JSON array
// (`revocation` in both objects) and the text lines (inspect's REVOCATION section, the probe's).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mtls_probe/engine/revocation_facts.h"

namespace mtls_probe {

// One object per certificate: {depth, subject, issuer, serial, issuer_known, ocsp: {...}, crl: {...}}, each
// check {status, source, reason, revoked_at, this_update, next_update, failure, detail, http_status,
// nonce_verified, ms}. Strings are sanitised (valid UTF-8).
nlohmann::json revocation_json(const RevocationFacts& r);

// Per certificate a line "CN=... (the certificate, serial 1001)" and one indented line per method:
// "OCSP  good (http://127.0.0.1:8888, nonce verified)". Not escaped: the printer escapes.
std::vector<std::string> revocation_lines(const RevocationFacts& r);

}  // namespace mtls_probe
