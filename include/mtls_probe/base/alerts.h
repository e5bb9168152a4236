// TLS alert codes: names (RFC 8446 / RFC 5246 identifiers in snake_case) and what they mean for mTLS.
#pragma once

#include <string>
#include <string_view>

namespace mtls_probe {

// "certificate_required" for 116, "unknown_ca" for 48, ...; "alert_N" for codes no RFC names.
std::string alert_name(int code);

// The alert code an OpenSSL error-queue entry reports as received ("tlsv13 alert certificate required" is
// SSL_AD_REASON_OFFSET + 116), or 0 when the entry is not a received alert.
int received_alert_code(unsigned long openssl_error);

// What an alert says about the client certificate when the *server* sends it.
enum class AlertClass {
  close,                // close_notify, user_canceled: not an error
  client_cert_missing,  // certificate_required (116)
  client_cert_problem,  // bad_certificate, unsupported_certificate, certificate_revoked/expired/unknown,
                        // unknown_ca, access_denied: about a certificate
  handshake_generic,    // handshake_failure (40): ambiguous, needs context
  protocol_mismatch,    // protocol_version, insufficient_security, no_application_protocol, ...
  decode_or_internal,   // decode_error, decrypt_error, internal_error, illegal_parameter,
                        // unexpected_message...
  other,
};

AlertClass classify_alert(int code);

}  // namespace mtls_probe
