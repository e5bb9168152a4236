// The probe's command line: CLI11 definitions and their translation to the engine's RunOptions (per run)
// and TargetOptions (per target). Kept apart from run() so that option parsing is unit-tested without a
// network. Each outside input (URL, -H, --resolve) is parsed here, once.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/options.h"
#include "revocation_options.h"

namespace CLI {
class App;
}

namespace mtls_probe::tool {

// Raw values as CLI11 fills them (before they are checked and combined).
struct RawProbeArgs {
  std::string url;
  std::string p12, p12_password_env, p12_password_file, pass, cert, cert_type, key, key_type;
  std::string pkcs11_module, pin_env, pin_file;  // a key on a PKCS#11 token (--cert / --key pkcs11:...)
  bool no_cert = false;
  std::string as;  // --as openssl|strict
  std::string cacert, capath, servername, tls_min, tls_max;
  bool insecure = false;
  bool cert_status = false;                // --cert-status
  bool ipv4 = false, ipv6 = false;         // -4 / -6
  std::optional<std::string> dns_servers;  // --dns-servers
  std::vector<std::string> resolve, headers;
  std::vector<std::string> connect_to;  // --connect-to HOST1:PORT1:HOST2:PORT2 (repeatable)
  std::string interface_spec;           // --interface NAME|ADDRESS|HOST
  std::string config_file;              // -K/--config: only for --help (expanded before parsing)
  double connect_timeout = 10, max_time = 30;
  std::string method;
  std::optional<std::string> data;
  bool http11 = false, http2 = false, http2_only = false, json = false;
  std::optional<std::string> alpn;  // --alpn LIST
  std::optional<std::string> proxy, noproxy;   // -x/--proxy, --noproxy ("" is meaningful for both)
  std::string proxy_user, proxy_password_env;  // --proxy-user USER[:PASSWORD], --proxy-password-env VAR
  std::string proxy_cacert, proxy_capath, proxy_cert, proxy_key;  // TLS to an https:// proxy
  bool proxy_insecure = false;
  bool expect_client_auth = false;  // --expect-client-auth
  bool no_h1_retry = false;         // --no-h1-retry
  // --grpc-health [SERVICE] ("" = the server's overall health). CLI11 hands a URL right after the flag to
  // it as its value: make_probe_command moves a value with "://" back to the URL.
  std::optional<std::string> grpc_health;
  bool location = false;  // -L/--location: follow redirects, each hop a probe of its own
  long max_redirs = 50;   // --max-redirs N (curl's default 50; -1: no limit)
  int verbose = 0;
  // Output (curl's): -o FILE ("-": stdout), --max-filesize BYTES[k|M|G], -i, -I, -w FORMAT|@FILE|@-.
  std::string output, max_filesize, write_out;
  bool include = false, head = false;
  // The process-list warnings not to give: the secret came from a -K config file, not from argv.
  std::vector<std::string> secrets_from_config;
  RawRevocationArgs revocation;  // --check-revocation, --crl, --ocsp-url, --revocation-timeout
};

// Registers the probe options on app, writing into raw.
void add_probe_options(CLI::App& app, RawProbeArgs& raw);

struct ProbeCommand {
  RunOptions run;
  TargetOptions target;
  bool json = false;
  std::vector<std::string> warnings;              // shown in the report, never contain secrets
  std::optional<std::string> usage_error;         // -> usage-error
  std::optional<IdentityFailure> identity_error;  // password source problems -> identity-error
  std::string output_file;       // -o: the front end opens it (target.http.body_sink) before any network
  bool include_headers = false;  // -i / -I: every response header in the text report
  std::string write_out;         // -w as given (FORMAT, @FILE or @-): the front end reads @FILE
  std::optional<inspect::RevocationOptions> revocation;  // --check-revocation: after the probe (front end)
};

// curl's --max-filesize BYTES: digits with an optional k/K, M, G or T suffix (powers of 1024). 0: no limit
// (as curl). nullopt: not a size.
std::optional<std::uint64_t> parse_filesize(std::string_view text);

// Checks and combines raw values: URL, -H, --resolve, versions, timeouts, password sources, the proxy.
// env is where https_proxy, no_proxy, ... and --proxy-password-env are read (an empty lookup: no
// environment, as in the unit tests; the front end passes process_environment()).
ProbeCommand make_probe_command(const RawProbeArgs& raw, const EnvLookup& env = {});

// Why --grpc-health cannot go with the rest of the command line (-d, -X, --http1.1, a URL path), or nullopt.
std::optional<std::string> grpc_health_problem(const RawProbeArgs& raw, const TargetOptions& t);

// The time limit that ended a probe, as this command line names it: "--connect-timeout 10s" /
// "--max-time 30s" ("" when no limit was hit).
std::string time_limit_flag(const ProbeFacts& f);

// The ALPN offer from --http1.1 / --http2 / --http2-only / --alpn LIST (at most one; none: curl's default
// h2,http/1.1). note_h1_fallback: --http2 asked for h2, so the report says when the server picked HTTP/1.1.
Expected<std::vector<std::string>, std::string> alpn_offer(const RawProbeArgs& raw, bool& note_h1_fallback);

// Options whose value carries a secret (curl's ARG_CLEAR). Listed once here; blank_argv_secrets overwrites
// the secret part in argv, whatever the spelling. A new secret option (--proxy-user, --pin) is one more line
// in secret_options() (tool_options.cc).
enum class SecretPart {
  whole,        // --pass PASSWORD
  after_colon,  // --cert FILE:PASSWORD: only what follows the first unescaped ':' ("\:" is part of FILE)
  url_password,  // -x http://USER:PASSWORD@HOST:PORT: only PASSWORD
  pin_value,     // --key pkcs11:...?pin-value=PIN: only PIN (a key FILE is left alone)
};
struct SecretOption {
  const char* long_name;  // "--pass"
  char short_name;        // 'E' for -E, or 0
  SecretPart part;
};
const std::vector<SecretOption>& secret_options();

// Overwrites (with '*', in place, so /proc/PID/cmdline no longer shows it) the secret part of every secret
// option in argv: --opt=VALUE, --opt VALUE, -XVALUE (also after flags: -kXVALUE) and -X VALUE, in the probe
// command and in its subcommands. app (with its subcommands) tells which options take a value, so that a
// value that looks like an option ("-H --pass") is not taken for one. Stops at "--".
void blank_argv_secrets(const CLI::App& app, int argc, char** argv);

// curl's --cert FILE[:PASSWORD]: a colon escaped as "\:" belongs to the file name.
std::pair<std::string, std::optional<std::string>> split_cert_password(const std::string& arg);

}  // namespace mtls_probe::tool
