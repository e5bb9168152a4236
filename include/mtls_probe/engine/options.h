// Everything a probe needs from the command line, already parsed and validated (see tool_cli).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mtls_probe {

// Where the client identity comes from. Passwords are held only until the identity is loaded.
struct IdentityOptions {
  std::string p12_file;                 // --p12, or --cert X --cert-type P12
  std::string cert_file;                // --cert (PEM)
  std::string key_file;                 // --key (PEM); "" = key in cert_file
  std::optional<std::string> password;  // resolved from --p12-password-env/-file, --pass, --cert f:pw
  bool no_cert = false;                 // --no-cert
  bool configured() const { return !p12_file.empty() || !cert_file.empty(); }
};

enum class TlsVersion { any, v1_0, v1_1, v1_2, v1_3 };

struct ResolveOverride {  // --resolve HOST:PORT:ADDR
  std::string host;
  uint16_t port = 0;
  std::vector<std::string> addresses;
};

struct TlsOptions {
  std::string cacert_file;                    // --cacert
  std::string capath_dir;                     // --capath
  bool insecure = false;                      // -k
  std::string servername;                     // --servername: SNI and name-check override
  TlsVersion min_version = TlsVersion::v1_2;  // TLS below 1.2 only when asked for explicitly
  TlsVersion max_version = TlsVersion::any;
};

struct HttpOptions {
  std::string method = "GET";        // -X
  std::vector<std::string> headers;  // -H 'Name: value'
  std::optional<std::string> data;   // -d
};

// --as: whose certificate selection to imitate. OpenSSL (and curl) send the configured certificate whatever
// CA names the server lists; strict clients (Java, Go, .NET, GnuTLS, browsers, URLSession) send none when
// the server listed CA names and none of them issued the certificate or its chain (an empty list: sent).
enum class ClientBehaviour { openssl, strict };

enum class IpFamily { any, v4, v6 };  // -4 / -6: resolve and connect with this family only

struct ProbeOptions {
  std::string url;
  IdentityOptions identity;
  TlsOptions tls;
  HttpOptions http;
  std::vector<ResolveOverride> resolve;
  IpFamily ip_family = IpFamily::any;  // -4 / -6
  std::string dns_servers;             // --dns-servers: "" = the system's (/etc/resolv.conf)
  std::chrono::milliseconds connect_timeout{10'000};            // DNS + TCP + TLS handshake (as curl)
  std::chrono::milliseconds max_time{30'000};                   // the whole probe
  int verbose = 0;                                              // -v: handshake trace on stderr
  ClientBehaviour client_behaviour = ClientBehaviour::openssl;  // --as
};

}  // namespace mtls_probe
