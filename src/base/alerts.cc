#include "mtls_probe/base/alerts.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <string>

namespace mtls_probe {

int received_alert_code(unsigned long e) {
  const int reason = ERR_GET_REASON(e);
  if (ERR_GET_LIB(e) != ERR_LIB_SSL || reason <= SSL_AD_REASON_OFFSET || reason >= SSL_AD_REASON_OFFSET + 256)
    return 0;
  return reason - SSL_AD_REASON_OFFSET;
}

std::string alert_name(int code) {
  // RFC 8446 section 6 and RFC 5246 7.2 (plus the TLS 1.2-only ones), snake_case as the RFCs spell them.
  switch (code) {
    case 0: return "close_notify";
    case 10: return "unexpected_message";
    case 20: return "bad_record_mac";
    case 21: return "decryption_failed";
    case 22: return "record_overflow";
    case 30: return "decompression_failure";
    case 40: return "handshake_failure";
    case 41: return "no_certificate";
    case 42: return "bad_certificate";
    case 43: return "unsupported_certificate";
    case 44: return "certificate_revoked";
    case 45: return "certificate_expired";
    case 46: return "certificate_unknown";
    case 47: return "illegal_parameter";
    case 48: return "unknown_ca";
    case 49: return "access_denied";
    case 50: return "decode_error";
    case 51: return "decrypt_error";
    case 60: return "export_restriction";
    case 70: return "protocol_version";
    case 71: return "insufficient_security";
    case 80: return "internal_error";
    case 86: return "inappropriate_fallback";
    case 90: return "user_canceled";
    case 100: return "no_renegotiation";
    case 109: return "missing_extension";
    case 110: return "unsupported_extension";
    case 111: return "certificate_unobtainable";
    case 112: return "unrecognized_name";
    case 113: return "bad_certificate_status_response";
    case 114: return "bad_certificate_hash_value";
    case 115: return "unknown_psk_identity";
    case 116: return "certificate_required";
    case 120: return "no_application_protocol";
    default: return "alert_" + std::to_string(code);
  }
}

AlertClass classify_alert(int code) {
  switch (code) {
    case 0:
    case 90: return AlertClass::close;
    case 116:
    case 41:  // SSLv3 no_certificate: a certificate was expected and none came
      return AlertClass::client_cert_missing;
    case 42:
    case 43:
    case 44:
    case 45:
    case 46:
    case 48:
    case 49:
    case 111:
    case 113:
    case 114: return AlertClass::client_cert_problem;
    case 40: return AlertClass::handshake_generic;
    case 70:
    case 71:
    case 86:
    case 100:
    case 109:
    case 110:
    case 112:
    case 120: return AlertClass::protocol_mismatch;
    case 10:
    case 20:
    case 21:
    case 22:
    case 30:
    case 47:
    case 50:
    case 51:
    case 80: return AlertClass::decode_or_internal;
    default: return AlertClass::other;
  }
}

}  // namespace mtls_probe
