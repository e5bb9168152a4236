// The probe's command line: CLI11 definitions and their translation to ProbeOptions. Kept apart from
// run() so that option parsing is unit-tested without a network.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/facts.h"
#include "mtls_probe/options.h"

namespace CLI {
class App;
}

namespace mtls_probe::tool {

// Raw values as CLI11 fills them (before they are checked and combined).
struct RawProbeArgs {
  std::string url;
  std::string p12, p12_password_env, p12_password_file, pass, cert, cert_type, key, key_type;
  bool no_cert = false;
  std::string cacert, capath, servername, tls_min, tls_max;
  bool insecure = false;
  std::vector<std::string> resolve, headers;
  double connect_timeout = 10, max_time = 30;
  std::string method;
  std::optional<std::string> data;
  bool http11 = false, http2 = false, json = false;
  int verbose = 0;
};

// Registers the probe options on app, writing into raw.
void add_probe_options(CLI::App& app, RawProbeArgs& raw);

struct ProbeCommand {
  ProbeOptions options;
  bool json = false;
  std::vector<std::string> warnings;              // shown in the report, never contain secrets
  std::optional<std::string> usage_error;         // -> usage-error
  std::optional<IdentityFailure> identity_error;  // password source problems -> identity-error
};

// Checks and combines raw values: URL, -H, --resolve, versions, timeouts, password sources.
ProbeCommand make_probe_command(const RawProbeArgs& raw);

// curl's --cert FILE[:PASSWORD]: a colon escaped as "\:" belongs to the file name.
std::pair<std::string, std::optional<std::string>> split_cert_password(const std::string& arg);

}  // namespace mtls_probe::tool
