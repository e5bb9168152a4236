#include "tool_serve.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "front_end.h"
#include "mtls_probe/serve/serve.h"

namespace mtls_probe::tool {
namespace {

// The running server, for the signal handler. An atomic pointer load is async-signal-safe.
std::atomic<serve::Server*> g_server{nullptr};

extern "C" void on_stop_signal(int) {
  if (serve::Server* s = g_server.load()) s->request_stop();
}

TlsVersion version_of(const std::string& v) {
  if (v == "1.2") return TlsVersion::v1_2;
  if (v == "1.3") return TlsVersion::v1_3;
  return TlsVersion::any;
}

int usage(const std::string& message) {
  return print_usage_error(std::cerr, "serve", message);
}

// The server could not start: the message on stderr, `code` (kServeIdentityError, kServeCannotListen).
int startup_failure(const Error& e, int code) {
  std::fprintf(stderr, "mtls-probe serve: %s%s%s\n", e.message.c_str(), e.openssl_detail.empty() ? "" : ": ",
               e.openssl_detail.c_str());
  return code;
}

int startup_failure(const serve::StartError& e) {
  switch (e.failure) {
    case serve::StartFailure::config: return usage(e.message);
    case serve::StartFailure::identity: return startup_failure(e, kServeIdentityError);
    case serve::StartFailure::listen: return startup_failure(e, kServeCannotListen);
  }
  return startup_failure(e, kServeIdentityError);
}

// Quotes a path for a shell command line only when it needs it.
std::string sh_quote(const std::string& s) {
  if (!s.empty() &&
      s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:=@,") ==
          std::string::npos) {
    return s;
  }
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The address a client should use: a wildcard bind is reachable on loopback.
std::string probe_host(const std::string& bound) {
  if (bound == "0.0.0.0") return "127.0.0.1";
  if (bound == "::") return "::1";
  return bound;
}

void print_pki_help(const serve::PkiResult& pki, const std::string& url) {
  const auto& f = pki.files;
  const std::string ca = sh_quote(f.ca_cert);
  const std::string pass = sh_quote(f.password_file);
  std::printf("PKI %s %s (client CA and server issuer: ca.pem; every .p12 password is in client.pass)\n",
              pki.reused ? "re-used from" : "generated in", f.dir.c_str());
  std::printf("probe it:\n");
  std::printf("  mtls-probe --cacert %s --p12 %s --p12-password-file %s %s\n", ca.c_str(),
              sh_quote(f.client_p12).c_str(), pass.c_str(), url.c_str());
  std::printf("  mtls-probe --cacert %s %s   # no client certificate\n", ca.c_str(), url.c_str());
  std::printf("  mtls-probe --cacert %s --p12 %s --p12-password-file %s %s   # client of another CA\n",
              ca.c_str(), sh_quote(f.other_client_p12).c_str(), pass.c_str(), url.c_str());
  std::printf("  mtls-probe --cacert %s --p12 %s --p12-password-file %s %s   # expired client certificate\n",
              ca.c_str(), sh_quote(f.expired_client_p12).c_str(), pass.c_str(), url.c_str());
  std::printf("  mtls-probe --p12 %s --p12-password-file %s %s   # server not trusted (no --cacert)\n",
              sh_quote(f.client_p12).c_str(), pass.c_str(), url.c_str());
  std::printf("  curl --cacert %s --cert %s --key %s %s\n", ca.c_str(), sh_quote(f.client_cert).c_str(),
              sh_quote(f.client_key).c_str(), url.c_str());
}

}  // namespace

namespace {

void add_identity_options(CLI::App* cmd, RawServeArgs& r) {
  const std::string id = "Server identity (generated into --pki-dir when absent)";
  cmd->add_option("--cert", r.cert, "server certificate FILE (PEM: leaf, then chain)")->group(id);
  cmd->add_option("--key", r.key, "server private key FILE (PEM)")->group(id);
  cmd->add_option("--p12", r.p12, "server identity as PKCS#12 FILE")->group(id);
  cmd->add_option("--p12-password-env", r.p12_password_env, "read the PKCS#12 password from environment VAR")
      ->group(id);
  cmd->add_option("--p12-password-file", r.p12_password_file, "read it from the first line of FILE")
      ->group(id);
  cmd->add_option("--pki-dir", r.pki_dir,
                  "where to generate (or find) the throw-away PKI (default: a new temp dir)")
      ->group(id);
}

void add_client_auth_options(CLI::App* cmd, RawServeArgs& r) {
  const std::string auth = "Client certificates";
  cmd->add_option("--client-ca", r.client_ca,
                  "CA certificates (PEM) that issue client certificates; their names "
                  "are sent to the client")
      ->group(auth);
  cmd->add_option("--client-auth", r.client_auth,
                  "require (default) | optional | optional-no-verify (ask, accept any certificate at the "
                  "TLS layer, remember whether it verified) | none | post-handshake")
      ->check(CLI::IsMember({"require", "optional", "optional-no-verify", "none", "post-handshake"}))
      ->group(auth);
  cmd->add_option("--client-auth-path", r.client_auth_path,
                  "ask for the certificate only for paths under PREFIX, after the handshake (TLS 1.3 "
                  "post-handshake auth / TLS 1.2 renegotiation), like Apache's per-location SSLVerifyClient")
      ->group(auth);
  cmd->add_option("--crl", r.crl,
                  "check client certificates against the CRL in FILE (PEM or DER, from the client CA): a "
                  "revoked one gets the alert certificate_revoked")
      ->type_name("FILE")
      ->group(auth);
  cmd->add_option("--ocsp-url", r.ocsp_url,
                  "ask this OCSP responder (http://) about each client certificate during the handshake "
                  "(3 s): revoked -> certificate_revoked; unknown or no usable answer -> certificate_unknown")
      ->type_name("URL")
      ->group(auth);
  cmd->add_flag("--no-ca-names", r.no_ca_names,
                "send an empty CA name list (verification still uses --client-ca)")
      ->group(auth);
  cmd->add_option("--status-if-unverified", r.status_if_unverified,
                  "with optional / optional-no-verify: answer CODE (e.g. 401) when the client sent no "
                  "certificate or one that did not verify, with a body naming why, as node apps do")
      ->check(CLI::Range(200, 599))
      ->group(auth);
  cmd->add_flag("--close-without-alert", r.close_without_alert,
                "a missing or unverified client certificate ends the connection with a plain TCP close, "
                "no TLS alert (GnuTLS, node with rejectUnauthorized): after the handshake under TLS 1.3, "
                "inside it under TLS 1.2")
      ->group(auth);
  cmd->add_flag(
         "--nginx-style", r.nginx_style,
         "finish the handshake with a missing or bad certificate and answer HTTP 400 with nginx's pages")
      ->group(auth);
}

void add_listen_options(CLI::App* cmd, RawServeArgs& r) {
  const std::string net = "Listening and answers";
  cmd->add_flag("--http2", r.http2,
                "offer h2 and http/1.1 in ALPN and answer clients that pick h2 over HTTP/2")
      ->group(net);
  cmd->add_flag("--grpc-health", r.grpc_health,
                "with --http2: answer gRPC health checks (/grpc.health.v1.Health/Check) with SERVING")
      ->group(net);
  cmd->add_option("--grpc-status", r.grpc_status,
                  "with --grpc-health: answer this grpc-status instead (0..16, e.g. 7 PERMISSION_DENIED)")
      ->group(net);
  cmd->add_option("--ocsp-staple", r.ocsp_staple,
                  "staple this DER OCSP response (openssl ocsp -respout) to clients that ask for the "
                  "certificate's status, as s_server -status_file")
      ->group(net);
  cmd->add_option("--bind", r.bind, "numeric address to listen on (default 127.0.0.1; ::1 for IPv6)")
      ->group(net);
  cmd->add_option("--port", r.port, "port (0 = any free one; the listening line says which)")
      ->check(CLI::Range(0, 65535))
      ->group(net);
  cmd->add_option("--status", r.status, "HTTP status after successful client authentication (default 200)")
      ->check(CLI::Range(200, 599))
      ->group(net);
  cmd->add_option("--status-for-path", r.status_for_path,
                  "PATH=CODE: status for paths under PATH (repeatable; "
                  "the longest matching PATH wins)")
      ->group(net);
  cmd->add_option("--tls-min", r.tls_min, "lowest TLS version: 1.2 (default) or 1.3")
      ->check(CLI::IsMember({"1.2", "1.3"}))
      ->group(net);
  cmd->add_option("--tls-max", r.tls_max, "highest TLS version: 1.2 or 1.3 (default)")
      ->check(CLI::IsMember({"1.2", "1.3"}))
      ->group(net);
  cmd->add_flag("--once", r.once, "serve one connection, then exit")->group(net);
  cmd->add_flag("-v,--verbose", r.verbose, "debug log (certificate requests, connection setup)")->group(net);
}

}  // namespace

CLI::App* add_serve_command(CLI::App& app, RawServeArgs& r) {
  auto* cmd = app.add_subcommand("serve", "a local mTLS test server that reproduces server behaviours");
  add_identity_options(cmd, r);
  add_client_auth_options(cmd, r);
  add_listen_options(cmd, r);
  cmd->footer(
      "Exit codes: 0 stopped cleanly (SIGINT/SIGTERM, or --once done), 1 usage-error (on stderr; serve has\n"
      "no JSON), 2 its own identity, CA or PKI directory unusable, 4 cannot listen (bind/listen failed)\n"
      "(docs/exit-codes.md).");
  return cmd;
}

int report_serve_usage_error(const std::string& message) {
  return usage(message);
}

namespace {

// The options as a ServeConfig (no server identity yet: see add_identity); a usage error in the message.
std::optional<std::string> fill_config(const RawServeArgs& r, serve::ServeConfig& cfg) {
  cfg.cert_file = r.cert;
  cfg.key_file = r.key;
  cfg.p12_file = r.p12;
  cfg.client_ca_file = r.client_ca;
  cfg.crl_file = r.crl;
  if (!r.ocsp_url.empty()) cfg.ocsp_url = r.ocsp_url;
  cfg.bind_address = r.bind;
  cfg.port = static_cast<uint16_t>(r.port);
  cfg.client_auth = serve::parse_client_auth(r.client_auth).value_or(serve::ClientAuth::require);
  cfg.client_auth_path = r.client_auth_path;
  cfg.no_ca_names = r.no_ca_names;
  cfg.status = r.status;
  cfg.status_if_unverified = r.status_if_unverified;
  cfg.close_without_alert = r.close_without_alert;
  cfg.nginx_style = r.nginx_style;
  cfg.http2 = r.http2;
  cfg.grpc_health = r.grpc_health;
  cfg.grpc_status = r.grpc_status;
  cfg.once = r.once;
  cfg.ocsp_staple_file = r.ocsp_staple;
  if (!r.tls_min.empty()) cfg.min_version = version_of(r.tls_min);
  if (!r.tls_max.empty()) cfg.max_version = version_of(r.tls_max);
  for (const auto& spec : r.status_for_path) {
    auto rule = serve::parse_status_rule(spec);
    if (!rule) return rule.error().message;
    cfg.status_rules.push_back(*rule);
  }
  if (!r.key.empty() && r.cert.empty()) return "--key needs --cert";
  if (r.cert.empty() && r.p12.empty()) return std::nullopt;
  if (!r.pki_dir.empty()) return "--pki-dir is only used when no server identity (--cert/--p12) is given";
  return std::nullopt;
}

// No identity given: a throw-away PKI in --pki-dir (or a new temp dir), whose CA also verifies clients
// unless --client-ca says otherwise.
Expected<serve::PkiResult> make_pki(const RawServeArgs& r, serve::ServeConfig& cfg) {
  std::string dir = r.pki_dir;
  if (dir.empty()) {
    auto tmp = serve::make_temp_dir();
    if (!tmp) return Unexpected(tmp.error());
    dir = *tmp;
  }
  auto made = serve::ensure_pki(dir);
  if (!made) return Unexpected(made.error());
  cfg.cert_file = made->files.server_cert;
  cfg.key_file = made->files.server_key;
  if (cfg.client_ca_file.empty()) cfg.client_ca_file = made->files.ca_cert;
  return made;
}

// Runs the server until a signal or --once: the handlers are installed before the listening line, since a
// script that saw it may signal at once.
void serve_until_stopped(serve::Server& server, const std::optional<serve::PkiResult>& pki,
                         const serve::ServeConfig& cfg) {
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: poll() returns at once on a signal
  struct sigaction old_int {
  }, old_term{};
  g_server.store(&server);
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);

  std::string url = serve::https_url(server.host(), server.port());
  if (pki) {
    std::string probe_url = serve::https_url(probe_host(server.host()), server.port());
    if (cfg.client_auth_path) probe_url.pop_back(), probe_url += *cfg.client_auth_path;
    print_pki_help(*pki, probe_url);
  }
  std::printf("listening on %s\n", url.c_str());
  std::fflush(stdout);

  server.run();

  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  g_server.store(nullptr);
}

}  // namespace

int run_serve_command(const RawServeArgs& r) {
  serve::ServeConfig cfg;
  if (auto bad = fill_config(r, cfg)) return usage(*bad);
  PasswordSource pw =
      resolve_password_source(PasswordOptions{r.p12_password_env, r.p12_password_file, "", {}},
                              !r.p12.empty(), PasswordRules{false, "--p12"});
  if (pw.usage_error) return usage(*pw.usage_error);
  if (pw.read_error) return startup_failure(Error{pw.read_error->message, ""}, kServeIdentityError);
  cfg.p12_password = std::move(pw.password);

  std::optional<serve::PkiResult> pki;
  if (r.cert.empty() && r.p12.empty()) {
    auto made = make_pki(r, cfg);
    if (!made) return startup_failure(made.error(), kServeIdentityError);
    pki = std::move(*made);
  }
  const auto problems = serve::check_config(cfg);
  if (!problems.empty()) return usage(problems.front());

  cfg.logger = make_stderr_logger(r.verbose, LogStyle::server);
  spdlog::set_default_logger(cfg.logger);
  auto server = serve::Server::create(cfg);
  if (!server) return startup_failure(server.error());
  serve_until_stopped(**server, pki, cfg);
  return kServeStopped;
}

}  // namespace mtls_probe::tool
