// The `serve` subcommand's command line (CLI11) and its run: options -> serve::Server. Exit codes
// (docs/exit-codes.md): 0 stopped cleanly (SIGINT/SIGTERM, or --once done), 1 usage error (a message on
// stderr, never JSON: serve has no --json), 2 its own identity, CA or PKI directory unusable, 4 it cannot
// listen (bind/listen failed).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mtls_probe::tool {

// Raw values as CLI11 fills them.
struct RawServeArgs {
  std::string cert, key, p12, p12_password_env, p12_password_file;
  std::string client_ca, pki_dir;
  std::string crl, ocsp_url;  // --crl FILE, --ocsp-url URL: revocation of client certificates
  std::string bind = "127.0.0.1";
  int port = 0;
  std::string client_auth = "require";
  std::optional<std::string> client_auth_path;
  bool no_ca_names = false;
  int status = 200;
  std::vector<std::string> status_for_path;
  std::optional<int> status_if_unverified;
  bool close_without_alert = false;
  bool nginx_style = false;
  bool http2 = false;  // --http2
  bool grpc_health = false;  // --grpc-health
  int grpc_status = 0;       // --grpc-status N
  std::string tls_min, tls_max;
  bool once = false;
  std::string ocsp_staple;  // --ocsp-staple FILE
  int verbose = 0;
};

// Registers the `serve` subcommand and its options on app, writing into raw; returns the subcommand.
CLI::App* add_serve_command(CLI::App& app, RawServeArgs& raw);

// Runs the server raw describes (call it when the subcommand was parsed). Returns the exit code.
int run_serve_command(const RawServeArgs& raw);

// A command-line error inside `serve` (CLI11's, or a probe option before it): told on stderr. Returns 1.
int report_serve_usage_error(const std::string& message);

}  // namespace mtls_probe::tool
