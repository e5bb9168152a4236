// What the engine is asked to do, already parsed and validated by the front end (src/cli): curl's split of
// GlobalConfig (per run) and OperationConfig (per transfer). RunOptions are built once and shared by every
// probe of a run (identity, trust, versions); TargetOptions travel with each probe (URL, SNI, addresses,
// request, time limits). Every outside input is parsed once, into these types.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/engine/proxy.h"

namespace mtls_probe {

// Where the client identity comes from. Passwords are held only until the identity is loaded.
struct IdentityOptions {
  std::string p12_file;                 // PKCS#12 file
  std::string cert_file;                // PEM certificate (+ chain, + key)
  std::string key_file;                 // PEM key; "" = key in cert_file
  std::optional<std::string> password;  // from whichever password source the front end allows
  bool no_cert = false;                 // present no certificate even where one is configured
  // A key (and its certificate) on a PKCS#11 token: --cert / --key pkcs11:... (RFC 7512).
  std::string pkcs11_key_uri;        // the private key's URI (either option alone names both)
  std::string pkcs11_cert_uri;       // the certificate's
  std::string pkcs11_module;         // --pkcs11-module; "" = the URI's module-path, else p11-kit's proxy
  bool pkcs11_provider = false;      // --key-type PROV: asked for a provider (none is packaged: the engine)
  std::optional<std::string> pin;    // --pin-env / --pin-file: tried once, wiped after loading
  bool configured() const { return !p12_file.empty() || !cert_file.empty() || !pkcs11_key_uri.empty(); }
};

enum class TlsVersion { any, v1_0, v1_1, v1_2, v1_3 };

// Whose certificate selection to imitate. OpenSSL (and curl) send the configured certificate whatever CA
// names the server lists; strict clients (Java, Go, .NET, GnuTLS, browsers, URLSession) send none when the
// server listed CA names and none of them issued the certificate or its chain (an empty list: sent).
enum class ClientBehaviour { openssl, strict };

// TLS to an HTTPS proxy: its trust and a client identity of its own (curl's --proxy-cacert, --proxy-insecure,
// --proxy-cert, --proxy-key).
struct ProxyTlsOptions {
  std::string cacert_file;  // "" and no capath_dir: the system's
  std::string capath_dir;
  bool insecure = false;
  std::string cert_file;  // PEM certificate (+ chain) for the proxy; "" = none
  std::string key_file;   // PEM key, unencrypted; "" = in cert_file
};

// Trust and protocol versions: the same for every target of a run (one SSL_CTX).
struct TlsOptions {
  std::string cacert_file;                    // CA bundle ("" and no capath_dir: the system's)
  std::string capath_dir;                     // hashed CA directory
  bool insecure = false;                      // verification failures do not abort the handshake
  TlsVersion min_version = TlsVersion::v1_2;  // TLS below 1.2 only when asked for explicitly
  TlsVersion max_version = TlsVersion::any;
  ProxyTlsOptions proxy;  // for an https:// proxy only; its own SSL_CTX (proxy_tls.h)
  std::string keylog_file;  // SSLKEYLOGFILE: append every connection's TLS secrets here ("" = none)
};

// Per run: built once, shared by every probe.
struct RunOptions {
  IdentityOptions identity;
  TlsOptions tls;
  ClientBehaviour client_behaviour = ClientBehaviour::openssl;
  int verbose = 0;  // handshake trace on the probe's logger
};

// A parsed URL: only https://, no userinfo, port 1-65535 (see url.h).
struct Url {
  std::string host;  // lower-cased name, or the IPv6 literal without brackets, or IPv4 literal
  uint16_t port = 443;
  std::string target = "/";  // path + "?query", never empty, no fragment; sent as the request target
  bool host_is_ip = false;   // IPv4 or IPv6 literal: no SNI, IP name check
  bool host_is_ipv6 = false;
  std::string authority() const;  // Host header value: "host", "host:8443", "[::1]:8443"
};

// curl's --connect-to HOST1:PORT1:HOST2:PORT2: a connection for HOST1:PORT1 goes to HOST2:PORT2 instead,
// while SNI, the Host header and the certificate name check stay the URL's. Empty parts: host1 "" and port1 0
// match any, host2 "" and port2 0 keep the original.
struct ConnectToRule {
  std::string host1;  // lower-cased; IPv6 without brackets; "" = any
  uint16_t port1 = 0;
  std::string host2;
  uint16_t port2 = 0;
};

struct ResolveOverride {  // curl's --resolve HOST:PORT:ADDR
  std::string host;       // or "*"
  uint16_t port = 0;
  std::vector<std::string> addresses;
};

// One request header as the user gave it, parsed. curl's forms: "Name: value" sends it (replacing a default
// header of that name), "Name:" removes a default header and sends nothing, "Name;" sends an empty value.
struct RequestHeader {
  std::string name;
  std::string value;
  bool send = true;
};

// Where -o sends the whole response body: the engine hands it every body byte as it arrives and keeps only
// the bounded excerpt itself, so memory does not grow with the body. Made and opened by the front end.
class BodySink {
 public:
  virtual ~BodySink() = default;
  // false: the bytes could not be written (the exchange stops reading; error() says why).
  virtual bool write(std::string_view bytes) = 0;
  virtual std::string error() const = 0;
  virtual std::string name() const = 0;  // the file as the user named it, "-" for stdout
};

struct HttpOptions {
  std::string method = "GET";
  std::vector<RequestHeader> headers;
  std::optional<std::string> data;  // request body
  std::shared_ptr<BodySink> body_sink;        // -o: null = body capped to the report's excerpt
  std::optional<std::uint64_t> max_filesize;  // --max-filesize: at most this much body into the sink
  // -L: the body of a redirect that will be followed (3xx with Location) is not the body asked for, so it
  // does not go to the sink (as curl); only the last hop's body does.
  bool sink_skips_redirects = false;
};

enum class IpFamily { any, v4, v6 };  // resolve and connect with this family only

// Per target: everything that may differ from one probe to the next.
struct TargetOptions {
  std::string url_text;    // as given, for the report (redacted when shown)
  Url url;                 // parsed once, by the front end
  std::string servername;  // SNI and name-check override ("" = the URL's host)
  std::vector<ResolveOverride> resolve;   // applies to the host connected to (after connect_to)
  std::vector<ConnectToRule> connect_to;  // the first that matches the URL's host and port wins
  // --interface NAME|ADDRESS|HOST (curl; "if!NAME": an interface only, "host!NAME": an address or host
  // only): the socket's local end is bound there before connect ("" = the system picks).
  std::string interface_spec;
  IpFamily ip_family = IpFamily::any;
  std::string dns_servers;  // c-ares "host[:port],..." ("" = the system's, /etc/resolv.conf)
  HttpOptions http;
  std::vector<std::string> alpn = {"h2", "http/1.1"};  // offered in this order (curl's default)
  bool note_h1_fallback = false;  // h2 was asked for explicitly: the report says when HTTP/1.1 was picked
  // A server that refuses HTTP/2 for want of HTTP/1.1 (HTTP_1_1_REQUIRED) gets the request once more over
  // HTTP/1.1 on a new connection, as curl does (only when the offer includes http/1.1).
  bool h1_retry = true;
  // --grpc-health [SERVICE]: the request is a gRPC health check of this service (http holds it, made by
  // grpc_health_request()), and the answer is read as gRPC (record_grpc_response()).
  std::optional<std::string> grpc_health;
  // --cert-status (curl's): ask for the server certificate's stapled OCSP status and require it to be good.
  bool cert_status = false;
  std::chrono::milliseconds connect_timeout{10'000};  // DNS + TCP + TLS handshake (as curl)
  std::chrono::milliseconds max_time{30'000};         // the whole probe
  // The HTTP proxy the probe tunnels through (CONNECT), as decide_proxy chose it; nullopt: direct. Its
  // user/password (the URL's userinfo or --proxy-user) go only into Proxy-Authorization.
  std::optional<ProxySpec> proxy;
  std::string proxy_source;  // "--proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"
  std::string proxy_bypassed_by;  // a proxy was configured, but this no-proxy list ("no_proxy") exempted the host
  bool expect_client_auth = false;  // --expect-client-auth: no CertificateRequest is then evidence of interception
};

}  // namespace mtls_probe
