// The probe engine: DNS -> TCP -> TLS -> HTTP, recording facts through OpenSSL's callbacks.
#include "mtls_probe/engine/probe.h"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string_view>
#include <vector>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/engine/dns.h"
#include "mtls_probe/engine/happy_eyeballs.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/engine/net.h"
#include "mtls_probe/report/report.h"
#include "mtls_probe/engine/url.h"

namespace mtls_probe {
namespace {

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

int to_openssl_version(TlsVersion v) {
  switch (v) {
    case TlsVersion::v1_0: return TLS1_VERSION;
    case TlsVersion::v1_1: return TLS1_1_VERSION;
    case TlsVersion::v1_2: return TLS1_2_VERSION;
    case TlsVersion::v1_3: return TLS1_3_VERSION;
    case TlsVersion::any: return 0;
  }
  return 0;
}

const char* handshake_message_name(int type) {
  switch (type) {
    case 0: return "HelloRequest";
    case 1: return "ClientHello";
    case 2: return "ServerHello";
    case 4: return "NewSessionTicket";
    case 5: return "EndOfEarlyData";
    case 8: return "EncryptedExtensions";
    case 11: return "Certificate";
    case 12: return "ServerKeyExchange";
    case 13: return "CertificateRequest";
    case 14: return "ServerHelloDone";
    case 15: return "CertificateVerify";
    case 16: return "ClientKeyExchange";
    case 20: return "Finished";
    case 24: return "KeyUpdate";
    default: return "handshake message";
  }
}

// Per-probe state reached from OpenSSL's C callbacks through SSL app data. Callbacks only record.
struct ProbeSession {
  ProbeFacts* facts = nullptr;
  const ClientTlsContext* context = nullptr;
  bool handshake_done = false;
  bool certificate_out = false;  // our Certificate message has been written
  bool server_hello_seen = false;  // the protocol version is negotiated
  int verbose = 0;
  bool strict = false;  // --as strict
};

ProbeSession* session_of(const SSL* ssl) { return static_cast<ProbeSession*>(SSL_get_app_data(ssl)); }

// Reads a 24-bit big-endian length.
uint32_t be24(const unsigned char* p) { return (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2]; }

void on_message(int write_p, int /*version*/, int content_type, const void* buf, size_t len, SSL* ssl,
                void* /*arg*/) {
  ProbeSession* s = session_of(ssl);
  if (s == nullptr) return;
  const auto* bytes = static_cast<const unsigned char*>(buf);
  ProbeFacts& f = *s->facts;
  const char* dir = write_p ? ">" : "<";

  if (content_type == SSL3_RT_ALERT && len >= 2) {
    AlertRecord a;
    a.code = bytes[1];
    a.name = alert_name(a.code);
    a.from = write_p ? Side::client : Side::server;
    // TLS 1.3 treats every alert but close_notify and user_canceled as fatal, whatever its level says.
    // Under TLS 1.2 (and before the ServerHello) a warning is only a warning: OpenSSL goes on (up to 4 in
    // a row), and so must the verdict: some servers send warning unrecognized_name in every handshake.
    const bool tls13 = s->server_hello_seen && SSL_version(ssl) == TLS1_3_VERSION;
    a.fatal = bytes[0] == 2 || (tls13 && classify_alert(a.code) != AlertClass::close && a.code != 100);
    a.after_client_certificate = s->certificate_out;
    a.after_handshake = s->handshake_done;
    if (s->verbose > 0) {
      spdlog::debug("{} alert {} {} ({})", dir, bytes[0] == 2 ? "fatal" : "warning", a.name, a.code);
    }
    if (f.alerts.size() < 64) f.alerts.push_back(a);
    if (a.fatal && !f.fatal_alert) f.fatal_alert = a;
    return;
  }
  if (content_type != SSL3_RT_HANDSHAKE || len < 1) return;
  const int type = bytes[0];
  if (s->verbose > 0) spdlog::debug("{} {} ({} bytes)", dir, handshake_message_name(type), len);
  if (!write_p && type == SSL3_MT_SERVER_HELLO) s->server_hello_seen = true;

  if (!write_p && type == SSL3_MT_CERTIFICATE_REQUEST) {
    f.client_cert_requested = true;
    if (!s->handshake_done) {
      if (f.renegotiation_requested) {
        f.renegotiation_cert_request = true;
      } else {
        f.cert_request_in_handshake = true;
      }
    } else if (SSL_version(ssl) == TLS1_3_VERSION) {
      f.cert_request_post_handshake = true;
    } else {
      f.renegotiation_cert_request = true;
    }
  } else if (!write_p && type == SSL3_MT_HELLO_REQUEST) {
    f.renegotiation_requested = true;
  } else if (write_p && type == SSL3_MT_CERTIFICATE && len >= 4) {
    // Empty list: 3 zero bytes of list length (TLS 1.2), or after the request context (TLS 1.3).
    size_t at = 4;
    if (SSL_version(ssl) == TLS1_3_VERSION) {
      if (len < 5) return;
      at = 5 + bytes[4];
    }
    bool empty = len < at + 3 || be24(bytes + at) == 0;
    s->certificate_out = true;
    if (empty) {
      f.empty_certificate_sent = true;
    } else {
      f.client_cert_sent = true;
    }
  }
}

void add_unique(std::vector<std::string>& names, std::string n) {
  for (const auto& e : names)
    if (e == n) return;
  if (names.size() < 1024) names.push_back(std::move(n));
}

// Records the CA names from CertificateRequest (TLS 1.2 list, TLS 1.3 certificate_authorities).
// Returns true when one of them issued our leaf or any certificate of our chain.
std::optional<bool> record_ca_names(SSL* ssl, ProbeFacts& f, const ClientIdentity* id) {
  bool any = false;
  bool match = false;
  const STACK_OF(X509_NAME)* lists[] = {SSL_get_client_CA_list(ssl), SSL_get0_peer_CA_list(ssl)};
  for (const STACK_OF(X509_NAME)* list : lists) {
    if (list == nullptr) continue;
    for (int i = 0; i < sk_X509_NAME_num(list); ++i) {
      const X509_NAME* ca = sk_X509_NAME_value(list, i);
      any = true;
      add_unique(f.acceptable_ca_names, name_to_string(ca));
      if (id == nullptr || !id->leaf) continue;
      if (X509_NAME_cmp(ca, X509_get_issuer_name(id->leaf.get())) == 0) match = true;
      for (const auto& c : id->chain) {
        if (X509_NAME_cmp(ca, X509_get_issuer_name(c.get())) == 0 ||
            X509_NAME_cmp(ca, X509_get_subject_name(c.get())) == 0)
          match = true;
      }
    }
  }
  if (!any || id == nullptr || !id->leaf) return std::nullopt;
  return match;
}

// --as strict: a strict client (Java, Go, .NET, GnuTLS, browsers) sends no certificate when the server listed
// CA names and none of them is our leaf's issuer or any certificate of our chain; with no list it sends.
bool withhold_by_strict_selection(ProbeSession& s) {
  ProbeFacts& f = *s.facts;
  if (!s.strict || f.issuer_in_acceptable_ca_names != std::optional<bool>(false)) return false;
  f.strict_selection_withheld = true;
  spdlog::debug(
      "  answering with an empty Certificate (--as strict: our certificate matches none of the "
      "server's CA names)");
  return true;
}

// Called by OpenSSL when a CertificateRequest has been processed (handshake, post-handshake auth, or
// renegotiation). We never preload the identity, so this is where it is handed over: it tells us
// reliably that the server asked, and lets us see the CA list first.
int on_certificate_request(SSL* ssl, void* /*arg*/) {
  ProbeSession* s = session_of(ssl);
  if (s == nullptr) return 1;
  ProbeFacts& f = *s->facts;
  f.client_cert_requested = true;
  const ClientIdentity* id = s->context->identity();
  f.issuer_in_acceptable_ca_names = record_ca_names(ssl, f, id);
  if (s->verbose > 0) {
    spdlog::debug("  the server accepts certificates issued by {} CA name(s){}", f.acceptable_ca_names.size(),
                  f.acceptable_ca_names.empty() ? " (none listed)" : ":");
    for (size_t i = 0; i < f.acceptable_ca_names.size() && i < 32; ++i) {
      spdlog::debug("    {}", escape_terminal(f.acceptable_ca_names[i]));
    }
  }
  if (id == nullptr || s->context->no_cert()) {
    spdlog::debug("  answering with an empty Certificate ({})",
                  id == nullptr ? "no client identity configured" : "--no-cert");
    return 1;
  }
  if (withhold_by_strict_selection(*s)) return 1;
  if (s->verbose > 0) {  // formatting the subject costs work on every probe; only -v shows it
    spdlog::debug("  answering with {} ({} chain certificate(s))",
                  name_to_string(X509_get_subject_name(id->leaf.get())), id->chain.size());
  }

  STACK_OF(X509)* chain = sk_X509_new_null();
  if (chain == nullptr) return 0;
  for (const auto& c : id->chain) sk_X509_push(chain, c.get());
  // SSL_use_cert_and_key takes its own references to all of them.
  int ok = SSL_use_cert_and_key(ssl, id->leaf.get(), id->key.get(), chain, 1);
  sk_X509_free(chain);
  if (ok != 1) {
    f.tls_error = "could not use the client certificate: " + drain_openssl_errors();
    return 0;
  }
  return 1;
}

int on_verify(int preverify_ok, X509_STORE_CTX* store) {
  SSL* ssl = static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  ProbeSession* s = ssl != nullptr ? session_of(ssl) : nullptr;
  if (s != nullptr && preverify_ok == 0 && !s->facts->verify_error) {
    // A failed verification aborts the handshake before the session keeps the peer's certificate:
    // summarize it here so the report can still say whose certificate it was.
    if (!s->facts->server_cert) {
      if (X509* leaf = X509_STORE_CTX_get0_cert(store); leaf != nullptr) {
        s->facts->server_cert = summarize_certificate(leaf, static_cast<long long>(std::time(nullptr)));
      }
    }
    const int err = X509_STORE_CTX_get_error(store);
    s->facts->verify_code = err;
    s->facts->verify_error = X509_verify_cert_error_string(err);
    s->facts->verify_error_depth = X509_STORE_CTX_get_error_depth(store);
    s->facts->hostname_mismatch = err == X509_V_ERR_HOSTNAME_MISMATCH || err == X509_V_ERR_IP_ADDRESS_MISMATCH;
  }
  return preverify_ok;
}

// Reads the error queue and decides whether the peer simply was not speaking TLS.
void record_tls_failure(ProbeFacts& f) {
  unsigned long first = ERR_peek_error();
  if (first != 0 && ERR_GET_LIB(first) == ERR_LIB_SSL) {
    const int reason = ERR_GET_REASON(first);
    if (reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_UNKNOWN_PROTOCOL ||
        reason == SSL_R_PACKET_LENGTH_TOO_LONG || reason == SSL_R_HTTP_REQUEST ||
        reason == SSL_R_HTTPS_PROXY_REQUEST) {
      f.peer_not_tls = true;
    }
  }
  std::string q = drain_openssl_errors();
  if (!q.empty()) f.tls_error = f.tls_error.empty() ? q : f.tls_error + "; " + q;
}

struct IoResult {
  enum Kind { done, want_more, eof, reset, failed, timed_out } kind;
};

// One step of a non-blocking OpenSSL call: waits on the socket when OpenSSL wants to read or write.
IoResult after_ssl_call(SSL* ssl, int rc, int fd, Deadline deadline, ProbeFacts& f) {
  const int err = SSL_get_error(ssl, rc);
  switch (err) {
    case SSL_ERROR_NONE:
      return {IoResult::done};
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE: {
      WaitResult w = wait_fd(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline);
      if (w == WaitResult::timed_out) return {IoResult::timed_out};
      if (w == WaitResult::failed) return {IoResult::failed};
      return {IoResult::want_more};
    }
    case SSL_ERROR_ZERO_RETURN:
      return {IoResult::eof};
    case SSL_ERROR_SYSCALL: {
      const int e = errno;
      if (ERR_peek_error() != 0) {
        record_tls_failure(f);
        return {IoResult::failed};
      }
      if (e == ECONNRESET || e == EPIPE) return {IoResult::reset};
      if (e == 0) return {IoResult::eof};  // EOF without close_notify
      f.tls_error = std::strerror(e);
      return {IoResult::failed};
    }
    default:
      record_tls_failure(f);
      return {IoResult::failed};
  }
}

// -v: the HTTP exchange as curl -v shows it, terminal-safe, credential values redacted.
void trace_request(const std::string& request) {
  for (const auto& line : request_trace_lines(request)) spdlog::debug("> {}", escape_terminal(line));
}

void trace_response(const HttpResponseParser& p) {
  if (!p.status()) return;
  spdlog::debug("< {} {}{}", escape_terminal(p.version()), *p.status(),
                p.reason().empty() ? "" : " " + escape_terminal(p.reason()));
  for (const auto& [name, value] : p.headers())
    spdlog::debug("< {}", escape_terminal(header_trace_line(name, value)));
}

// version_known: the ServerHello has arrived, so SSL_get_version names the negotiated version even when
// the handshake failed afterwards (before it, it would name only what we offered).
void record_session_facts(SSL* ssl, ProbeFacts& f, long long now, bool version_known) {
  if (const char* v = SSL_get_version(ssl); v != nullptr && version_known) f.tls_version = v;
  if (const SSL_CIPHER* c = SSL_get_current_cipher(ssl); c != nullptr) f.cipher = SSL_CIPHER_get_name(c);
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn_len > 0) f.alpn = std::string(reinterpret_cast<const char*>(alpn), alpn_len);
  if (X509* leaf = SSL_get0_peer_certificate(ssl); leaf != nullptr) {
    f.server_cert = summarize_certificate(leaf, now);
  }
  if (STACK_OF(X509)* chain = SSL_get_peer_cert_chain(ssl); chain != nullptr) {
    f.server_chain.clear();
    for (int i = 0; i < sk_X509_num(chain) && i < 16; ++i) {
      f.server_chain.push_back(summarize_certificate(sk_X509_value(chain, i), now));
    }
  }
  if (f.handshake_completed && !f.verify_error) {
    const long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) {
      f.verify_code = vr;
      f.verify_error = X509_verify_cert_error_string(vr);
    }
  }
}

// OpenSSL's default trust locations, as SSL_CTX_set_default_verify_paths finds them: $SSL_CERT_DIR (a
// colon-separated list) or the built-in directory, $SSL_CERT_FILE or the built-in bundle.
struct TrustLocations {
  std::string dirs;
  std::string file;
  bool file_from_env = false;
};

TrustLocations default_trust_locations() {
  TrustLocations t;
  const char* dir_env = secure_getenv(X509_get_default_cert_dir_env());
  const char* file_env = secure_getenv(X509_get_default_cert_file_env());
  t.dirs = dir_env != nullptr ? dir_env : X509_get_default_cert_dir();
  t.file = file_env != nullptr ? file_env : X509_get_default_cert_file();
  t.file_from_env = file_env != nullptr;
  return t;
}

// "5ad8a5d6.0": a subject-hash link as c_rehash / openssl rehash make them.
bool is_hash_link_name(std::string_view name) {
  return name.size() == 10 && name.substr(8) == ".0" &&
         std::all_of(name.begin(), name.begin() + 8,
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
}

std::vector<std::string> split_dirs(const std::string& dirs) {
  std::vector<std::string> out;
  std::string_view rest = dirs;
  while (!rest.empty()) {
    const auto colon = rest.find(':');
    if (colon != 0) out.emplace_back(rest.substr(0, colon));
    rest = colon == std::string_view::npos ? std::string_view{} : rest.substr(colon + 1);
  }
  return out;
}

// The directories that hold subject-hash links (only there can OpenSSL's hash-directory lookup find a
// root), canonical.
std::vector<std::filesystem::path> hashed_dirs(const std::string& dirs) {
  std::vector<std::filesystem::path> out;
  for (const std::string& dir : split_dirs(dirs)) {
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (!is_hash_link_name(it->path().filename().native())) continue;
      out.push_back(std::filesystem::canonical(dir, ec));
      break;
    }
  }
  return out;
}

// Whether the bundle file lies in one of those directories: update-ca-certificates (and c_rehash setups)
// write the bundle there from the same certificates that they link, so the links already hold its roots.
bool bundle_beside_links(const std::string& file, const std::vector<std::filesystem::path>& hashed) {
  std::error_code ec;
  const auto canonical = std::filesystem::canonical(file, ec);
  if (ec) return true;  // no bundle: nothing to read
  return std::find(hashed.begin(), hashed.end(), canonical.parent_path()) != hashed.end();
}

// The system trust store. SSL_CTX_set_default_verify_paths parses the whole bundle file (some 150 roots,
// most of a probe's CPU); the hashed directory holds the same roots, and OpenSSL's lookup there reads
// only the file of the issuer a chain asks for. The bundle is read where no directory has hash links,
// and where SSL_CERT_FILE names one outside them (its roots may be others; OpenSSL's defaults would read
// it). A missing location is no error, as with OpenSSL's defaults: verification reports the chain.
std::optional<Error> load_system_trust(SSL_CTX* ctx) {
  const TrustLocations t = default_trust_locations();
  const auto hashed = hashed_dirs(t.dirs);
  if (!hashed.empty() && SSL_CTX_load_verify_dir(ctx, t.dirs.c_str()) != 1) {
    return Error{"cannot use the system's CA directory '" + t.dirs + "'", drain_openssl_errors()};
  }
  if (hashed.empty() || (t.file_from_env && !bundle_beside_links(t.file, hashed))) {
    spdlog::debug("trust: reading the CA bundle {}", t.file);
    SSL_CTX_load_verify_file(ctx, t.file.c_str());
  }
  spdlog::debug("trust: {}", hashed.empty() ? "no hashed CA directory" : "hashed CA directory " + t.dirs);
  ERR_clear_error();
  return std::nullopt;
}

}  // namespace

const std::optional<Error>& ClientTlsContext::ensure_trust() const {
  if (system_trust_) std::call_once(trust_once_, [this] { trust_error_ = load_system_trust(ctx_.get()); });
  return trust_error_;
}

Expected<std::shared_ptr<ClientTlsContext>> ClientTlsContext::create(
    const TlsOptions& tls, std::shared_ptr<const ClientIdentity> identity, bool no_cert) {
  auto out = std::shared_ptr<ClientTlsContext>(new ClientTlsContext());
  out->tls_ = tls;
  out->identity_ = std::move(identity);
  out->no_cert_ = no_cert;
  out->ctx_.reset(SSL_CTX_new(TLS_client_method()));
  SSL_CTX* ctx = out->ctx_.get();
  if (ctx == nullptr) return Unexpected{Error{"cannot create a TLS context", drain_openssl_errors()}};

  if (!tls.cacert_file.empty() || !tls.capath_dir.empty()) {
    const char* file = tls.cacert_file.empty() ? nullptr : tls.cacert_file.c_str();
    const char* dir = tls.capath_dir.empty() ? nullptr : tls.capath_dir.c_str();
    if (SSL_CTX_load_verify_locations(ctx, file, dir) != 1) {
      return Unexpected{Error{file != nullptr ? "cannot load CA certificates from --cacert '" + tls.cacert_file + "'"
                                              : "cannot use --capath '" + tls.capath_dir + "'",
                              drain_openssl_errors()}};
    }
  } else {
    out->system_trust_ = true;  // loaded by ensure_trust(), when a handshake needs it
  }
  // Verification always runs so that the report can say what is wrong; -k only stops it from aborting.
  SSL_CTX_set_verify(ctx, tls.insecure ? SSL_VERIFY_NONE : SSL_VERIFY_PEER, on_verify);

  const int min = to_openssl_version(tls.min_version);
  const int max = to_openssl_version(tls.max_version);
  if (min != 0 && min < TLS1_2_VERSION) {
    // TLS 1.0/1.1 were asked for explicitly: OpenSSL's default security level would still refuse them.
    SSL_CTX_set_security_level(ctx, 0);
    SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
  }
  if (SSL_CTX_set_min_proto_version(ctx, min) != 1 || SSL_CTX_set_max_proto_version(ctx, max) != 1) {
    return Unexpected{Error{"unsupported --tls-min/--tls-max combination", drain_openssl_errors()}};
  }
  if (min != 0 && max != 0 && min > max) {
    return Unexpected{Error{"--tls-min is above --tls-max", ""}};
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  // Renegotiation stays allowed (Apache's per-location SSLVerifyClient under TLS 1.2 needs it).
  SSL_CTX_clear_options(ctx, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_AUTO_RETRY);
  // A TCP close without close_notify is an EOF (as OpenSSL 1.1.1 reported it), not a TLS error: without
  // this, OpenSSL 3 "answers" the closed socket with its own decode_error alert, which would turn a
  // server that closes mid-handshake (or ends a read-until-close body) into "we sent decode_error".
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_cert_cb(ctx, on_certificate_request, nullptr);
  static const unsigned char kAlpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, kAlpn, sizeof kAlpn - 1);
  return out;
}

namespace {

// The phases after the URL and identity are known. Returns early at the first phase that fails.
// --resolve or an IP literal: the addresses given, without a lookup (empty when neither applies).
std::vector<Endpoint> given_endpoints(const ProbeOptions& opts, const Url& url, ProbeFacts& f) {
  std::vector<Endpoint> endpoints;
  for (const auto& r : opts.resolve) {
    if (r.port == url.port && (r.host == url.host || r.host == "*")) {
      for (const auto& a : r.addresses) {
        Endpoint ep;
        if (numeric_endpoint(a, url.port, ep)) endpoints.push_back(ep);
      }
      f.resolved_by_override = !endpoints.empty();
      break;
    }
  }
  if (endpoints.empty() && url.host_is_ip) {
    Endpoint ep;
    if (numeric_endpoint(url.host, url.port, ep)) endpoints.push_back(ep);
    f.resolved_by_override = true;
  }
  return endpoints;
}

// -4 / -6 applied to addresses that were given, not looked up.
DnsOutcome only_family(std::vector<Endpoint> endpoints, IpFamily family) {
  DnsOutcome out;
  std::erase_if(endpoints, [&](const Endpoint& ep) {
    return (family == IpFamily::v4 && ep.addr.ss_family != AF_INET) ||
           (family == IpFamily::v6 && ep.addr.ss_family != AF_INET6);
  });
  if (endpoints.empty()) {
    out.error = family == IpFamily::v4 ? "no IPv4 address (-4 allows only IPv4)"
                                       : "no IPv6 address (-6 allows only IPv6)";
    return out;
  }
  out.status = NetStatus::ok;
  out.endpoints = std::move(endpoints);
  return out;
}

// The addresses to connect to: --resolve and IP literals first, then localhost (RFC 6761, as curl), then a
// c-ares lookup (/etc/hosts, then DNS) bounded by deadline.
DnsOutcome find_endpoints(const ProbeOptions& opts, const Url& url, Deadline deadline, ProbeFacts& f) {
  std::vector<Endpoint> given = given_endpoints(opts, url, f);
  if (!given.empty()) return only_family(std::move(given), opts.ip_family);
  if (auto local = localhost_endpoints(url.host, url.port, opts.ip_family)) {
    return only_family(std::move(*local), opts.ip_family);
  }
  return resolve_host(url.host, url.port, DnsConfig{opts.ip_family, opts.dns_servers}, deadline);
}

void run_network_phases(const ProbeOptions& opts, const Url& url, const ClientTlsContext& tls, ProbeFacts& f,
                        Clock::time_point start) {
  const Deadline max_deadline{start + opts.max_time};
  const Deadline connect_deadline{std::min(start + opts.connect_timeout, max_deadline.at)};
  const bool connect_limit_first = connect_deadline.at < max_deadline.at;
  auto mark_timeout = [&](Phase phase, bool connect_phase) {
    f.timed_out_in = phase;
    if (connect_phase && connect_limit_first) {
      f.timeout_limit = fmt::format("--connect-timeout {}s", opts.connect_timeout.count() / 1000.0);
    } else {
      f.timeout_limit = fmt::format("--max-time {}s", opts.max_time.count() / 1000.0);
    }
  };

  // ---- DNS
  f.dns_attempted = true;
  auto t = Clock::now();
  DnsOutcome dns = find_endpoints(opts, url, connect_deadline, f);
  if (dns.status == NetStatus::timed_out) {
    mark_timeout(Phase::dns, true);
    return;
  }
  if (dns.status != NetStatus::ok) {
    f.dns_error = dns.error;
    return;
  }
  for (const auto& ep : dns.endpoints) f.addresses.push_back(ep.ip);
  f.dns_ms = ms_since(t);
  spdlog::debug("{} resolved to {} address(es){}", url.host, dns.endpoints.size(),
                f.resolved_by_override ? " (--resolve or IP literal)" : "");

  // ---- TCP: every address, Happy Eyeballs
  f.connect_attempted = true;
  t = Clock::now();
  ConnectOutcome conn = connect_happy_eyeballs(happy_eyeballs_order(dns.endpoints), connect_deadline);
  f.connect_attempts = conn.attempts;
  if (conn.status == NetStatus::timed_out) {
    mark_timeout(Phase::connect, true);
    return;
  }
  if (conn.status != NetStatus::ok) {
    f.connect_error = conn.error;
    f.connect_errno = conn.error_number;
    return;
  }
  f.connected_address = conn.endpoint.text();
  f.connect_ms = ms_since(t);
  spdlog::debug("connected to {}", *f.connected_address);
  const int fd = conn.fd.get();

  // ---- TLS
  f.tls_attempted = true;
  t = Clock::now();
  if (const auto& trust = tls.ensure_trust()) {
    f.tls_error = trust->message + (trust->openssl_detail.empty() ? "" : ": " + trust->openssl_detail);
    return;
  }
  UniqueSsl ssl_owner(SSL_new(tls.ctx()));
  SSL* ssl = ssl_owner.get();
  if (ssl == nullptr) {
    f.tls_error = "cannot create a TLS connection: " + drain_openssl_errors();
    return;
  }
  ProbeSession session{
      &f, &tls, false, false, false, opts.verbose, opts.client_behaviour == ClientBehaviour::strict};
  SSL_set_app_data(ssl, &session);
  SSL_set_msg_callback(ssl, on_message);
  SSL_set_post_handshake_auth(ssl, 1);  // Apache's per-location SSLVerifyClient under TLS 1.3
  std::string name = tls.options().servername.empty() ? url.host : tls.options().servername;
  // As curl: a trailing dot (fully qualified) is not part of the name in SNI or in the certificate.
  if (name.size() > 1 && name.back() == '.') name.pop_back();
  // An IPv6 zone id ("fe80::1%eth0") is local routing, not part of the address a certificate names.
  if (const auto pct = name.find('%'); pct != std::string::npos && url.host_is_ipv6) name.resize(pct);
  const bool name_is_ip = tls.options().servername.empty() ? url.host_is_ip : [&] {
    Endpoint probe_ep;
    return numeric_endpoint(name, 0, probe_ep);
  }();
  if (!name_is_ip) {
    f.sni = name;
    SSL_set_tlsext_host_name(ssl, name.c_str());
    SSL_set1_host(ssl, name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str());
  }
  SSL_set_fd(ssl, fd);
  SSL_set_connect_state(ssl);
  const long long now = static_cast<long long>(std::time(nullptr));
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_connect(ssl);
    if (rc == 1) break;
    IoResult r = after_ssl_call(ssl, rc, fd, connect_deadline, f);
    if (r.kind == IoResult::want_more) continue;
    if (r.kind == IoResult::timed_out) {
      mark_timeout(Phase::tls, true);
    } else if (r.kind == IoResult::eof || r.kind == IoResult::reset) {
      f.peer_closed_during_handshake = true;
      if (f.tls_error.empty()) {
        f.tls_error = r.kind == IoResult::reset ? "connection reset by peer during the TLS handshake"
                                                : "connection closed by peer during the TLS handshake";
      }
    }
    record_session_facts(ssl, f, now, session.server_hello_seen);
    // The CertificateRequest may have arrived before the handshake failed (TLS 1.3: it comes before the
    // server's Certificate, whose verification can abort the handshake): OpenSSL has parsed its CA list
    // then, but our certificate callback never ran to record it.
    if (f.client_cert_requested && f.acceptable_ca_names.empty()) {
      f.issuer_in_acceptable_ca_names = record_ca_names(ssl, f, tls.identity());
    }
    return;
  }
  f.handshake_completed = true;
  session.handshake_done = true;
  f.tls_ms = ms_since(t);
  record_session_facts(ssl, f, now, true);
  spdlog::debug("handshake done: {} {}; server certificate {}", f.tls_version.value_or("?"),
                f.cipher.value_or("?"), f.verify_error ? *f.verify_error : std::string("verified"));
  if (!f.client_cert_requested) f.issuer_in_acceptable_ca_names.reset();

  // ---- HTTP: always write the request, then read: under TLS 1.3 the server judges our certificate
  // after the handshake, and its verdict arrives as an alert on the first read.
  const std::string request = build_request(opts.http, url.authority(), url.target);
  f.request_line = opts.http.method + " " + url.target + " HTTP/1.1";
  if (opts.verbose > 0) trace_request(request);
  t = Clock::now();
  size_t written = 0;
  bool write_failed = false;
  while (written < request.size()) {
    ERR_clear_error();
    const int rc = SSL_write(ssl, request.data() + written, static_cast<int>(request.size() - written));
    if (rc > 0) {
      written += static_cast<size_t>(rc);
      continue;
    }
    IoResult r = after_ssl_call(ssl, rc, fd, max_deadline, f);
    if (r.kind == IoResult::want_more) continue;
    if (r.kind == IoResult::timed_out) {
      mark_timeout(Phase::http, false);
      return;
    }
    // The server may already have sent its verdict as an alert: read it below before concluding.
    if (r.kind == IoResult::reset) f.reset_after_request = true;
    write_failed = true;
    break;
  }
  f.request_sent = !write_failed;

  HttpResponseParser parser({}, opts.http.method == "HEAD");
  std::array<char, std::size_t{16} * 1024> buf{};
  bool got_bytes = false;
  for (;;) {
    ERR_clear_error();
    const int rc = SSL_read(ssl, buf.data(), static_cast<int>(buf.size()));
    if (rc > 0) {
      if (!got_bytes) f.ttfb_ms = ms_since(t);
      got_bytes = true;
      if (parser.feed(std::string_view(buf.data(), static_cast<size_t>(rc))) !=
          HttpResponseParser::State::need_more)
        break;
      if (max_deadline.expired()) {
        mark_timeout(Phase::http, false);
        break;
      }
      continue;
    }
    IoResult r = after_ssl_call(ssl, rc, fd, max_deadline, f);
    if (r.kind == IoResult::want_more) continue;
    if (r.kind == IoResult::timed_out) {
      mark_timeout(Phase::http, false);
      break;
    }
    if (r.kind == IoResult::eof) {
      parser.finish();
    } else if (r.kind == IoResult::reset) {
      f.reset_after_request = true;
    }
    break;
  }
  // Post-handshake authentication or renegotiation may have brought a (new) CA list.
  if (f.cert_request_post_handshake || f.renegotiation_cert_request) {
    if (auto m = record_ca_names(ssl, f, tls.identity()); m) f.issuer_in_acceptable_ca_names = m;
  }
  if (!got_bytes) f.closed_before_response = !f.timed_out_in.has_value();
  if (opts.verbose > 0) trace_response(parser);
  if (parser.status()) {
    f.http_status = parser.status();
    f.http_reason = parser.reason();
    f.response_headers = parser.headers();
  }
  f.body_excerpt = parser.body_kept();
  f.body_bytes = parser.body_bytes();
  f.body_truncated = parser.body_truncated();
  if (parser.state() == HttpResponseParser::State::error) {
    f.http_error = parser.error();
  } else if (got_bytes && parser.state() == HttpResponseParser::State::need_more && !f.timed_out_in) {
    f.http_error = f.reset_after_request ? "connection reset before the response was complete"
                                         : "connection closed before the response was complete";
  }
  // A polite close: our close_notify. Non-blocking, best effort, no waiting for the peer's.
  SSL_shutdown(ssl);
}

}  // namespace

ProbeFacts run_probe(const ProbeOptions& opts, const ClientTlsContext& tls) {
  const Clock::time_point start = Clock::now();
  ProbeFacts f;
  f.url = redact_url(opts.url);  // shown in every report: never with a password
  f.insecure = tls.options().insecure;
  f.no_cert = tls.no_cert();
  f.client_behaviour = opts.client_behaviour == ClientBehaviour::strict ? "strict" : "openssl";
  if (const ClientIdentity* id = tls.identity(); id != nullptr && id->leaf) {
    f.identity_configured = true;
    f.client_cert = summarize_certificate(id->leaf.get(), static_cast<long long>(std::time(nullptr)));
    for (const auto& c : id->chain) f.client_chain_subjects.push_back(name_to_string(X509_get_subject_name(c.get())));
    f.legacy_pkcs12 = id->legacy_pkcs12;
  }
  auto url = parse_url(opts.url);
  if (!url) {
    f.usage_error = url.error().message;
    return f;
  }
  f.host = url->host;
  f.port = url->port;
  f.path = url->target;
  run_network_phases(opts, *url, tls, f, start);
  f.total_ms = ms_since(start);
  return f;
}

}  // namespace mtls_probe
