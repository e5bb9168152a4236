// RFC 7512 PKCS#11 URIs ("pkcs11:token=probe;object=client;type=private?module-path=/x.so"), as curl and
// OpenSSL's pkcs11 engine spell them: parsed once on the command line, matched against what a token holds.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/base/result.h"

namespace mtls_probe {

struct Pkcs11Uri {
  // token attributes (CK_TOKEN_INFO), compared exactly after percent-decoding
  std::optional<std::string> token, manufacturer, serial, model;
  std::optional<std::string> slot_id;  // decimal CK_SLOT_ID
  // object attributes
  std::optional<std::string> object;  // CKA_LABEL
  std::optional<std::string> id;      // CKA_ID, raw bytes
  std::optional<std::string> type;    // "cert" | "private" | "public" | "secret-key" | "data"
  // query attributes
  std::optional<std::string> module_path, module_name;
  bool has_pin_value = false;  // pin-value=...: refused by the front end (process list)
  std::optional<std::string> pin_source;
  std::vector<std::string> ignored;  // attribute names this tool does not use (library-*, slot-*, vendor)
};

// True when text is a PKCS#11 URI ("pkcs11:", any case), i.e. names a token object rather than a file.
bool is_pkcs11_uri(std::string_view text);

// Parses a PKCS#11 URI. The error says which attribute is malformed (never echoes a pin-value).
Expected<Pkcs11Uri, std::string> parse_pkcs11_uri(std::string_view text);

// The URI without its query part's pin-value (for reports): "pkcs11:token=a;object=b".
std::string redact_pkcs11_uri(std::string_view text);

// The URI the backend is given: text's path attributes with type=`type` (replacing any), no query.
std::string pkcs11_uri_with_type(std::string_view text, std::string_view type);

// CKA_ID bytes as lowercase hex ("01", "a1b2"), for reports.
std::string pkcs11_id_hex(std::string_view id);

}  // namespace mtls_probe
