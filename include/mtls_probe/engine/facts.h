// What happened during one probe, phase by phase. The engine only records; diagnose() interprets.
// Plain data: no OpenSSL types, so diagnosis and printers are testable without sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mtls_probe/engine/revocation_facts.h"

namespace mtls_probe {

enum class Phase { setup, identity, dns, connect, proxy, tls, http, done };
// "setup", "identity", "dns", "connect", "proxy" (the CONNECT tunnel), "tls", "http", "done"
const char* phase_name(Phase p);

enum class Side { server, client };

// One TLS alert seen on the wire (or generated locally and sent).
struct AlertRecord {
  int code = 0;
  std::string name;  // alert_name(code)
  Side from = Side::server;
  bool fatal = false;
  bool after_client_certificate = false;  // our Certificate message had already gone out
  bool after_handshake = false;           // the handshake had completed when the alert was seen
};

// An HTTP/2 error that ended our stream or the connection: RST_STREAM or GOAWAY (with a code other than
// NO_ERROR), sent by the server or by us (nghttp2 found the server's frames broken).
struct H2ErrorRecord {
  std::uint32_t code = 0;
  std::string name;  // RFC 9113 name: "PROTOCOL_ERROR", "HTTP_1_1_REQUIRED", "REFUSED_STREAM", ...
  Side from = Side::server;
  bool goaway = false;  // connection-level (GOAWAY), else the stream's (RST_STREAM)
};

// The HTTP/2 attempt a server refused because the request needs HTTP/1.1 (RST_STREAM / GOAWAY
// HTTP_1_1_REQUIRED, or Apache's 403 "Cannot perform Post-Handshake Authentication" page: a path that asks
// for a client certificate after the handshake, which HTTP/2 forbids). Kept when the probe retried over
// HTTP/1.1 on a new connection; the probe's other fields are then the retry's.
struct H2Refusal {
  std::optional<H2ErrorRecord> error;  // the RST_STREAM / GOAWAY; nullopt for a 403 page
  std::optional<int> http_status;      // the 403 page's status
  std::string request_line;            // "GET /secure/ HTTP/2"
  std::string connected_address;       // "127.0.0.1:8443"
  std::optional<std::string> tls_version;
  bool client_cert_requested = false;        // a CertificateRequest on that connection (any time)
  bool cert_request_post_handshake = false;  // TLS 1.3 post-handshake authentication
  bool renegotiation_requested = false;      // TLS 1.2 HelloRequest
  bool client_cert_sent = false;
  double ms = 0;  // from the start of the probe to the refusal
};

// HTTP/2: the request body was held back by flow control when the exchange ended: the server's window for
// it (the stream's, from SETTINGS_INITIAL_WINDOW_SIZE, or the connection's) was 0 and no WINDOW_UPDATE
// opened it.
struct H2WindowStall {
  bool connection_window = false;  // the connection's window was shut (else the stream's)
  std::uint64_t body_bytes_sent = 0;
  std::uint64_t body_bytes = 0;                 // the whole request body
  std::uint32_t server_initial_window = 65535;  // the server's SETTINGS_INITIAL_WINDOW_SIZE
};

// --grpc-health: what the gRPC health check (grpc.health.v1.Health/Check) answered. Set when the probe is a
// gRPC one; the fields after `service` stay empty until the response says them.
struct GrpcFacts {
  std::string service;                 // the service asked about ("" = the server's overall health)
  std::optional<int> status;           // grpc-status (trailers, or the headers of a trailers-only answer)
  std::string status_name;             // "OK", "PERMISSION_DENIED", ... ("CODE_17" beyond the 17 known)
  std::optional<std::string> message;  // grpc-message, percent-decoded and bounded
  std::optional<int> serving_status;   // HealthCheckResponse.status: 0 UNKNOWN, 1 SERVING, 2 NOT_SERVING, ...
  std::string serving_status_name;     // "SERVING", ...
  bool trailers_only = false;          // grpc-status came in the response headers (no body, no trailers)
  std::optional<std::string> problem;  // the answer broke gRPC: content-type, framing, protobuf (a sentence)
};

// --cert-status: what was wrong with the server certificate's stapled OCSP status (none: good and current).
enum class CertStatusProblem {
  none,
  not_stapled,     // we asked (status_request) and the server sent no response
  malformed,       // the bytes are no OCSP response (or no basic response)
  not_successful,  // the responder's answer was an error (tryLater, unauthorized, ...)
  bad_signature,   // no trusted issuer or delegated responder signed it
  no_issuer,       // the server certificate's issuer is in neither its chain nor the trust store
  not_for_leaf,    // no single response in it is about the server's certificate
  expired,         // its nextUpdate has passed (beyond the allowed skew)
  not_yet_valid,   // its thisUpdate lies in the future (beyond the skew)
  revoked,
  unknown,  // the responder does not know the certificate
};
const char* cert_status_problem_name(CertStatusProblem p);  // "not-stapled", "revoked", ...

// --cert-status (curl's): the OCSP response the server stapled for its certificate, and what checking it
// found. Set when the probe asked for one; the fields after `checked` stay empty until the check gets there.
struct ServerCertStatus {
  bool checked = false;         // the handshake got as far as the status (OpenSSL's status callback ran)
  bool stapled = false;         // the server sent a response (TLS 1.2 CertificateStatus / TLS 1.3 extension)
  std::string response_status;  // "successful", "tryLater", ... ("" when none was stapled)
  bool verified = false;        // its signature verified (issuer or delegated responder, trusted chain)
  std::string responder;        // the signer's subject (RFC 4514), or the responder id it names
  std::string cert_status;      // "good" | "revoked" | "unknown" ("" when no single response matched)
  std::string reason;           // revoked: the CRL reason ("keyCompromise", ...; "" when none given)
  std::optional<std::string> revoked_at, this_update, next_update;  // ISO 8601 UTC
  CertStatusProblem problem = CertStatusProblem::none;
  std::optional<std::string> error;  // nullopt: good and current; else exactly what failed
};

// A certificate reduced to what a report needs.
struct CertificateSummary {
  std::string subject;     // RFC 4514 DN, e.g. "CN=alice,O=Corp"
  std::string issuer;      // RFC 4514 DN
  std::string not_before;  // ISO 8601 UTC, "2026-11-23T10:00:00Z"
  std::string not_after;
  long long not_after_epoch = 0;  // not_after in seconds since the Unix epoch (UTC)
  std::string serial_hex;
  std::vector<std::string> subject_alt_names;  // "DNS:localhost", "IP:127.0.0.1"
  long days_left = 0;  // until not_after, negative when expired (relative to the probe's clock)
  bool expired = false;
  bool not_yet_valid = false;
  std::optional<bool> has_client_auth_eku;  // nullopt: no EKU extension at all (any use allowed)
};

// Failure of the local client identity (exit 2), classified so the hint can name the exact problem.
enum class IdentityProblem {
  file_missing,
  file_unreadable,
  not_recognised,      // neither PKCS#12 nor PEM, or corrupt
  wrong_password,      // PKCS#12 MAC check failed, or encrypted PEM key did not decrypt
  password_needed,     // encrypted and no password given
  legacy_unavailable,  // legacy algorithms (RC2-40 / 3DES) and OpenSSL's legacy provider could not load
  unsupported_algorithm,
  no_private_key,
  no_certificate,
  key_mismatch,
  password_source,  // --p12-password-env / -file could not be read
  // PKCS#11 tokens (--cert/--key pkcs11:...)
  pkcs11_module_not_found,  // --pkcs11-module (or p11-kit's proxy) is not there
  pkcs11_module_failed,     // there, but would not load or initialise
  token_absent,             // no token present matches the URI's token attributes
  token_ambiguous,          // several do: a PIN would be tried on each
  pin_needed,               // the token wants a login and no --pin-env / --pin-file was given
  wrong_pin,                // CKR_PIN_INCORRECT (tried once; never again in the run)
  pin_locked,               // CKF_USER_PIN_LOCKED / CKR_PIN_LOCKED: not tried
  object_not_found,         // no certificate / private key on the token matches object= / id=
  key_cannot_sign,          // CKA_SIGN false (CKR_KEY_FUNCTION_NOT_PERMITTED)
  mechanism_unsupported,    // the token refused the signature scheme (e.g. RSA-PSS under TLS 1.3)
  signing_failed,           // the token failed to sign for another reason
};
const char* identity_problem_name(IdentityProblem p);  // "wrong-password", ...

struct IdentityFailure {
  IdentityProblem problem = IdentityProblem::not_recognised;
  std::string message;         // names the file and the exact problem
  std::string openssl_detail;  // error queue text (never contains secrets)
  // Where it failed: "load" (before any traffic) or, for a key on a token that would not sign during the
  // handshake, the TLS message it failed in ("CertificateVerify"; the connection was opened then).
  std::string phase = "load";
};

// A client identity held on a PKCS#11 token: where the key lives (never a PIN).
struct Pkcs11Facts {
  std::string module;  // the module's path
  std::string uri;     // the key's URI as given, without any pin-value
  std::string token_label, token_manufacturer, token_model, token_serial;
  std::string object_label;  // the private key's CKA_LABEL
  std::string object_id;     // its CKA_ID, hex
  std::string key_type;      // "RSA" | "EC" | ...
  std::string backend;       // "engine" (libp11's pkcs11 engine) | "provider"
  std::vector<std::string> mechanisms;  // the token's signature mechanisms ("RSA-PKCS-PSS", ...)
  bool pin_count_low = false;           // the token says a wrong PIN was given since its last login
};

// One TCP connection attempt (Happy Eyeballs tries every address of the host).
struct ConnectAttempt {
  std::string address;  // "127.0.0.1:8443" / "[::1]:8443"
  std::string family;   // "ipv4" | "ipv6"
  std::string result;   // "connected" | "refused" | "unreachable" | "timeout" | "cancelled" | strerror text
  double ms = 0;        // from the attempt's start to its result
};

// The HTTP proxy a probe went through. While it is set, the dns and connect facts are about the proxy (its
// host was resolved and connected to); the origin's name is resolved by the proxy.
struct ProxyFacts {
  std::string url;     // "http://proxy.corp:3128": never credentials
  std::string source;  // where it was configured: "--proxy", "https_proxy", "HTTPS_PROXY", "all_proxy", ...
  std::string host;    // the proxy's host (IPv6 without brackets) and port: what dns and connect were about
  uint16_t port = 0;
  bool credentials_sent = false;   // a Proxy-Authorization header went out (its value never recorded)
  bool tunnel_attempted = false;   // CONNECT began to go out
  bool tunnel_established = false;  // the proxy answered 2xx: the rest of the probe runs through it
  std::optional<int> connect_status;  // the proxy's status for CONNECT
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // of that answer (bounded like a response's)
  std::vector<std::string> auth_schemes;  // Proxy-Authenticate schemes of a 407: "Basic", "Negotiate", ...
  std::optional<std::string> error;       // closed before answering, not HTTP, too large, ...
  std::optional<double> tunnel_ms;        // from CONNECT out to the end of the answer

  // TLS to an https:// proxy (nothing here for an http:// one).
  bool tls = false;
  bool tls_handshake_completed = false;
  std::optional<std::string> tls_version;
  std::string tls_cert_subject, tls_cert_issuer;  // the proxy's certificate
  std::optional<std::string> tls_verify_error;    // nullopt: verified (or not reached)
  bool tls_cert_requested = false;                // the proxy asked for a client certificate of its own
  bool tls_cert_sent = false;                     // and got one (--proxy-cert)
  std::optional<AlertRecord> tls_alert;           // the alert the proxy ended its TLS with
  std::string tls_error;                          // OpenSSL's reason when the proxy's TLS failed
  std::optional<double> tls_ms;
};

// The same origin probed directly, without the proxy, to compare with what came through it (a TLS-inspecting
// proxy shows its own CA where the server's should be). Recorded only when the proxied probe looked like it.
struct DirectPathFacts {
  bool reachable = false;          // the direct handshake got as far as the server's certificate
  std::string error;               // why not: the direct path is often closed where a proxy is required
  std::string server_cert_subject;  // of the leaf, as the server sent it directly
  std::string server_cert_issuer;
  bool client_cert_requested = false;
};

// -L/--location: one hop that answered with a redirect which was followed. Each hop is a whole probe of
// its own; ProbeFacts describes the last one and lists the hops before it.
struct RedirectHop {
  std::string url;       // the hop's URL (as shown: redacted)
  std::string method;    // the method the hop was probed with
  int status = 0;        // 301, 302, 303, 307, 308
  std::string location;  // the Location header as the server sent it
  std::string next_url;  // location resolved against url (RFC 3986), fragment dropped
  std::string verdict;   // the hop's own verdict name and summary (diagnosed by itself)
  std::string summary;
  std::optional<std::string> connected_address;
  bool client_cert_requested = false;
  bool client_cert_sent = false;
  std::vector<std::string> acceptable_ca_names;
  bool auth_headers_dropped = false;  // Authorization/Cookie of -H were not sent on: next_url is another host
  std::optional<double> total_ms;
};

struct ProbeFacts {
  // ---- setup
  std::string url;
  std::optional<std::string> usage_error;  // set: verdict usage-error, nothing else ran
  bool insecure = false;                   // -k: server verification failures do not abort
  bool identity_configured = false;        // a client identity was given
  bool no_cert = false;                    // --no-cert: deliberately present none
  std::optional<IdentityFailure> identity_error;
  std::optional<CertificateSummary> client_cert;   // the identity's leaf (when it loaded)
  std::vector<std::string> client_chain_subjects;  // chain certificates carried with the leaf
  bool legacy_pkcs12 = false;                      // needed OpenSSL's legacy provider
  std::string identity_source;                     // "pkcs12" | "pem" | "pkcs11"; "" when none configured
  std::optional<Pkcs11Facts> pkcs11;               // the key is on a token
  std::vector<std::string> warnings;               // e.g. "--pass is visible in the process list"

  // ---- dns
  std::string host;  // as in the URL (brackets removed for IPv6)
  uint16_t port = 443;
  std::string path = "/";
  bool dns_attempted = false;
  bool resolved_by_override = false;   // --resolve, or host was an IP literal
  std::vector<std::string> addresses;  // numeric
  std::optional<std::string> dns_error;

  // ---- proxy (dns and connect are then the proxy's)
  std::optional<ProxyFacts> proxy;
  std::string proxy_bypassed_by;  // a proxy was configured but this no-proxy list exempted the host
  std::optional<DirectPathFacts> direct_path;  // the comparison probe without the proxy (when it ran)
  bool expect_client_auth = false;  // --expect-client-auth: this target is known to ask for a certificate

  // ---- connect
  bool connect_attempted = false;
  // --connect-to sent the connection here instead of host:port (the URL's names stay for SNI and Host).
  std::optional<std::string> connect_to_host;
  uint16_t connect_to_port = 0;
  std::string interface_spec;             // --interface as given ("" = none)
  std::optional<std::string> bind_error;  // the local end could not be bound there: nothing was sent
  std::optional<std::string> local_ip;    // the connected socket's local end (getsockname)
  uint16_t local_port = 0;
  std::optional<std::string> connected_address;  // "127.0.0.1:8443" / "[::1]:8443"
  std::optional<std::string> connect_error;      // strerror of the last attempt
  int connect_errno = 0;
  std::vector<ConnectAttempt> connect_attempts;  // in the order they started

  // ---- the deadline
  std::optional<Phase> timed_out_in;  // set: a time limit was hit here
  // Which limit that was, in the engine's words (the connect limit bounds DNS + TCP + TLS handshake; the
  // total limit the whole probe), and its value. The front end names it (timeout_limit).
  enum class TimeLimit { connect, total };
  std::optional<TimeLimit> time_limit_hit;
  std::chrono::milliseconds time_limit_value{0};
  std::string timeout_limit;  // as the front end names the limit: "--connect-timeout 10s" / "--max-time 30s"

  // ---- tls
  bool tls_attempted = false;
  bool handshake_completed = false;
  std::string sni;                         // "" when none was sent (IP literal)
  std::optional<std::string> tls_version;  // "TLSv1.3"
  std::optional<std::string> cipher;
  std::optional<std::string> alpn;        // what the server picked
  std::vector<std::string> alpn_offered;  // what we offered, in order
  bool h2_fallback_noted = false;  // h2 was asked for with HTTP/1.1 allowed (--http2): say when h1 was picked
  bool client_cert_requested = false;                 // CertificateRequest seen (any time)
  bool cert_request_in_handshake = false;             // in the initial handshake
  bool cert_request_post_handshake = false;           // TLS 1.3 post-handshake authentication
  bool renegotiation_requested = false;               // TLS 1.2 HelloRequest from the server
  bool renegotiation_cert_request = false;            // CertificateRequest during a renegotiation
  std::vector<std::string> acceptable_ca_names;       // RFC 4514 DNs the server listed
  bool client_cert_sent = false;                      // a non-empty Certificate went out
  bool empty_certificate_sent = false;                // asked, and answered with an empty Certificate
  std::optional<bool> issuer_in_acceptable_ca_names;  // nullopt: no list, or no cert
  std::vector<AlertRecord> alerts;                    // every alert, in order
  std::optional<AlertRecord> fatal_alert;             // the fatal one that ended the connection
  std::optional<CertificateSummary> server_cert;
  std::vector<CertificateSummary> server_chain;  // as sent, leaf first
  std::optional<std::string> verify_error;       // OpenSSL's text, nullopt when verified
  long verify_code = 0;                          // X509_V_OK or X509_V_ERR_*
  int verify_error_depth = -1;
  bool hostname_mismatch = false;
  std::string tls_error;      // OpenSSL error queue / reason on failure ("" when none)
  std::optional<unsigned long> tls_pkcs11_rv;  // the CK_RV a token returned when the handshake failed
  bool peer_not_tls = false;  // the bytes that came back were not TLS (e.g. "wrong version number")
  bool peer_closed_during_handshake = false;  // EOF / reset before the handshake finished
  std::optional<ServerCertStatus> server_cert_status;  // --cert-status: set when it was asked for

  // ---- http
  bool request_sent = false;
  std::string request_line;                 // "GET /path HTTP/1.1" / "GET /path HTTP/2"
  std::uint64_t request_head_bytes = 0;     // request line + headers as sent (HTTP/2: their HTTP/1.1 form)
  std::uint64_t request_body_bytes = 0;     // -d bytes handed to the connection
  std::optional<std::string> http_version;  // "1.1" | "2": the exchange that ran (from the ALPN picked)
  std::optional<H2ErrorRecord> h2_error;    // HTTP/2 only: the GOAWAY / RST_STREAM seen
  std::optional<H2Refusal> h2_refusal;      // set: HTTP/2 was refused and the probe retried over HTTP/1.1
  std::optional<H2WindowStall> h2_window_stall;  // HTTP/2 only: the request body waited on a shut window
  std::optional<int> http_status;
  std::string http_reason;
  std::vector<std::pair<std::string, std::string>> response_headers;
  std::string body_excerpt;  // first bytes of the body (bounded)
  uint64_t body_bytes = 0;
  std::vector<std::pair<std::string, std::string>> response_trailers;  // HTTP/2 and HTTP/1.1 chunked
  bool body_truncated = false;                                         // stopped reading at the body cap
  // -o FILE: the whole body went to this sink as it arrived ("-": stdout; "": not asked, body capped as
  // body_excerpt). body_bytes is then what was written. --max-filesize bounds it.
  std::string body_file;
  std::optional<std::uint64_t> max_filesize;
  bool max_filesize_exceeded = false;  // more body came than --max-filesize: reading stopped there
  std::optional<std::uint64_t> oversize_content_length;  // Content-Length above it: nothing was read
  std::optional<std::string> body_write_error;           // the sink refused bytes (disk full, EPIPE)
  std::optional<std::string> http_error;  // malformed response / closed early (protocol-error)
  bool closed_before_response = false;    // peer closed (or reset) before any response byte
  bool reset_after_request = false;       // ECONNRESET after the request went out
  std::optional<GrpcFacts> grpc;          // --grpc-health: set for a gRPC probe, else nullopt

  // ---- timing (milliseconds since the start of the phase; nullopt: not reached)
  std::optional<double> dns_ms, connect_ms, tls_ms, ttfb_ms, total_ms;

  // ---- -L/--location (the front end follows redirects; these facts are the last hop's)
  bool follow_redirects = false;           // -L was given
  std::vector<RedirectHop> redirects;      // the hops followed before this one, in order
  std::optional<int> max_redirs_exceeded;  // set: this hop redirected again beyond --max-redirs N (N)
  // This hop's redirect was not followed because it leads to plain http:// (no client certificate there),
  // or its Location is no URL mtls-probe can probe: the reason in words.
  std::optional<std::string> redirect_not_followed;

  // ---- --as openssl|strict (which client's certificate selection the probe imitates)
  std::string client_behaviour = "openssl";  // "openssl" (curl, this probe's default) | "strict"
  bool strict_selection_withheld = false;    // --as strict: our identity matched none of the server's CA
                                             // names, so an empty Certificate was sent instead

  // ---- --check-revocation (the front end asks after the probe: the client certificate's OCSP / CRL)
  std::optional<RevocationFacts> revocation;  // nullopt: not asked
};

// What failed in verifying the server's certificate: the chain's error (verify_error), else the --cert-status
// one; nullopt when both passed.
std::optional<std::string> server_verify_error(const ProbeFacts& f);

// The value of the first response header named `name` (case-insensitive), or nullopt.
std::optional<std::string> response_header(const ProbeFacts& f, std::string_view name);

// The page Apache's mod_ssl sends (403) when a per-location SSLVerifyClient cannot ask for the certificate.
inline constexpr std::string_view kApacheNoPhaPage = "Cannot perform Post-Handshake Authentication";

// The HTTP/2 exchange in f ended with the server saying this request needs HTTP/1.1, before any real
// response: RST_STREAM / GOAWAY HTTP_1_1_REQUIRED without a status, or Apache's 403 "Cannot perform
// Post-Handshake Authentication" page.
bool refused_for_http1(const ProbeFacts& f);

// The facts a retry over HTTP/1.1 starts from: the setup and DNS facts of `first`, and its HTTP/2 attempt
// in h2_refusal (refused_at_ms: when the refusal came, since the probe's start).
ProbeFacts facts_for_h1_retry(const ProbeFacts& first, double refused_at_ms);

}  // namespace mtls_probe
