// `mtls-probe serve`: a loopback mTLS test server that reproduces how real servers treat client
// certificates (Apache's alerts, nginx's HTTP 400 pages, post-handshake auth / renegotiation, a 403 after
// successful authentication), with a throw-away PKI generated on demand.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/engine/options.h"
#include "mtls_probe/base/result.h"

namespace spdlog {
class logger;
}

namespace mtls_probe::serve {

// ---------------------------------------------------------------------------------------------------
// Configuration pieces (parsed by the front end, testable without sockets)

// When and how the server asks for a client certificate.
//   require        in the handshake, fail without a valid one (Apache `SSLVerifyClient require` on a vhost)
//   optional       in the handshake, no certificate is fine, a bad one fails (Apache `optional`)
//   optional_no_verify  in the handshake (with the CA names), any certificate passes the TLS layer and the
//                  verification result is only remembered for the HTTP answer (nginx `optional_no_ca`,
//                  node's `requestCert: true, rejectUnauthorized: false`)
//   none           never asks
//   post_handshake only for requests under --client-auth-path: TLS 1.3 post-handshake auth, TLS 1.2
//                  renegotiation (Apache `SSLVerifyClient require` inside a <Location>)
enum class ClientAuth { require, optional, optional_no_verify, none, post_handshake };
// "require", "optional", "optional-no-verify", "none", "post-handshake"
std::optional<ClientAuth> parse_client_auth(std::string_view text);
const char* client_auth_name(ClientAuth mode);

// --status-for-path PATH=CODE
struct StatusRule {
  std::string prefix;  // starts with '/'
  int status = 200;
};
Expected<StatusRule> parse_status_rule(std::string_view spec);
// True for a status this server may answer with (200..599).
bool valid_status(int status);
// The status of the longest rule whose prefix matches path (plain string prefix, as nginx's prefix
// locations), else fallback. The query string is ignored.
int status_for_path(const std::vector<StatusRule>& rules, std::string_view path, int fallback);

// The body of the --status-if-unverified answer, worded as node apps word it: "no client certificate" or
// "client certificate not verified: <OpenSSL's reason>" (verify_error is an X509_V_ERR_* code).
std::string unverified_page(bool cert_sent, long verify_error);

// "OK", "Forbidden", ...; "Unknown" for codes without a standard phrase.
const char* reason_phrase(int status);

// nginx's own error pages (ngx_http_special_response.c, as nginx 1.22 sends them with server_tokens on).
enum class NginxPage { no_certificate /* 496 */, certificate_error /* 495 */, plain_http /* 497 */ };
std::string nginx_error_page(NginxPage page);
// The Server header nginx would send ("nginx/1.22.1").
inline constexpr const char* kNginxServerHeader = "nginx/1.22.1";
// Apache 2.4's 403 page for a location that needs post-handshake authentication the client cannot do.
std::string apache_pha_forbidden_page();

// "https://127.0.0.1:8443/" / "https://[::1]:8443/".
std::string https_url(const std::string& host, uint16_t port);

// ---------------------------------------------------------------------------------------------------
// The throw-away PKI (EC P-256), generated with the OpenSSL API.

struct PkiFiles {
  std::string dir;
  std::string ca_cert;                // ca.pem: the client CA (also the server's issuer)
  std::string server_cert;            // server.pem: localhost, 127.0.0.1, ::1
  std::string server_key;             // server.key (0600)
  std::string client_cert;            // client.pem: clientAuth EKU, issued by ca.pem
  std::string client_key;             // client.key (0600)
  std::string client_p12;             // client.p12 (key + client.pem), password in client.pass
  std::string password_file;          // client.pass (0600): the password of every .p12 here
  std::string other_ca_cert;          // other-ca.pem: a CA the server does not trust
  std::string other_client_cert;      // other-client.pem, issued by other-ca.pem
  std::string other_client_key;       // other-client.key (0600)
  std::string other_client_p12;       // other-client.p12
  std::string expired_client_p12;     // expired-client.p12: issued by ca.pem, expired yesterday
  std::string serverauth_client_p12;  // serverauth-client.p12: issued by ca.pem, EKU serverAuth only
  std::vector<std::string> all() const;
};
PkiFiles pki_files(const std::string& dir);

struct PkiResult {
  PkiFiles files;
  bool reused = false;  // the directory already held a complete PKI
};

// Re-uses the PKI in dir when all its files are there, generates it when none are (creating dir, 0700),
// and refuses a partial one (it names the missing files) rather than overwrite a CA someone trusts.
Expected<PkiResult> ensure_pki(const std::string& dir);
// A new private directory under $TMPDIR (or /tmp) for a PKI.
Expected<std::string> make_temp_dir();

// ---------------------------------------------------------------------------------------------------
// The server

struct ServeConfig {
  // server identity: cert_file (+ key_file) PEM, or p12_file; one of them must be set
  std::string cert_file;  // leaf first, then chain
  std::string key_file;   // "" = key inside cert_file
  std::string p12_file;
  std::optional<std::string> p12_password;

  std::string client_ca_file;  // verification store and (unless no_ca_names) the CA names sent
  std::string bind_address = "127.0.0.1";
  uint16_t port = 0;
  ClientAuth client_auth = ClientAuth::require;
  // Set: the path prefix that needs a certificate. With require it turns the check into a per-location
  // one (post-handshake auth / renegotiation, like Apache's <Location>); post_handshake defaults to "/".
  std::optional<std::string> client_auth_path;
  bool no_ca_names = false;
  int status = 200;
  std::vector<StatusRule> status_rules;
  // Set: the status answered when the client sent no certificate or one that did not verify (optional,
  // optional_no_verify), with unverified_page() as the body. Unset: such clients get the normal status.
  std::optional<int> status_if_unverified;
  // A missing or unverified client certificate ends the connection with a plain TCP close: no alert, no
  // close_notify, no HTTP answer (GnuTLS servers, node with rejectUnauthorized: true). Under TLS 1.3 the
  // client has finished its handshake by then; under TLS 1.2 the server closes before its Finished.
  bool close_without_alert = false;
  bool nginx_style = false;
  // ALPN h2 and http/1.1 (h2 preferred): a client that offers h2 is answered over HTTP/2 (nghttp2).
  bool http2 = false;
  // --grpc-health: over HTTP/2, /grpc.health.v1.Health/Check gets a gRPC answer: SERVING (grpc_status 0),
  // or a trailers-only error with grpc_status (--grpc-status N, 1..16). Needs http2.
  bool grpc_health = false;
  int grpc_status = 0;
  TlsVersion min_version = TlsVersion::v1_2;
  TlsVersion max_version = TlsVersion::any;
  bool once = false;
  // --ocsp-staple FILE: staple this DER OCSP response to clients that ask for the certificate's status.
  std::string ocsp_staple_file;
  // --crl FILE: client certificates (the leaf) are checked against these CRLs (PEM or DER, from the client
  // CA); a listed one fails the handshake with certificate_revoked (44), as Apache's
  // SSLCARevocationCheck leaf does. The CRL of the leaf's issuer must be there (else unknown_ca, 48).
  std::string crl_file;
  // --ocsp-url URL (http://): the responder is asked about each client certificate during the handshake,
  // on the connection's own thread, within ocsp_timeout. revoked -> certificate_revoked (44); unknown,
  // unreachable or an answer that does not verify -> certificate_unknown (46): fail closed, as Apache's
  // SSLOCSPEnable does; the log says which.
  std::optional<std::string> ocsp_url;
  std::chrono::milliseconds ocsp_timeout{3'000};

  int max_connections = 64;                      // concurrent; more wait in the listen backlog
  std::chrono::milliseconds io_timeout{10'000};  // per phase: handshake, request head, client auth
  std::size_t max_request_head = 16 * 1024;
  std::shared_ptr<spdlog::logger> logger;  // null: stderr
};

// The usage problems of a configuration (empty when it is usable). Files are not opened here.
std::vector<std::string> check_config(const ServeConfig& config);

// The logger `serve` writes to when ServeConfig::logger is null: "serve", on stderr, level info.
std::shared_ptr<spdlog::logger> stderr_logger();

// Why a server could not start (the front end's exit codes follow it: docs/exit-codes.md).
enum class StartFailure {
  config,    // the configuration itself: check_config's problems, a --bind that is not a numeric address
  identity,  // its certificate, key, PKCS#12 or client CA file
  listen,    // the socket: bind or listen failed (address in use or not ours, a privileged port), no fds
};
struct StartError : Error {
  StartFailure failure = StartFailure::config;
};

class Server {
 public:
  // Loads the identity and CA, binds and listens. Errors name the file or address.
  static Expected<std::unique_ptr<Server>, StartError> create(const ServeConfig& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const std::string& host() const;  // the bound address, numeric, without brackets
  uint16_t port() const;            // the bound port (the real one for --port 0)

  // Accepts and serves connections until request_stop() (or, with once, after one connection).
  // Returns when every connection has finished or been abandoned after a short grace time.
  void run();
  // Async-signal-safe: may be called from a SIGINT/SIGTERM handler or another thread.
  void request_stop() noexcept;

  struct Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace mtls_probe::serve
