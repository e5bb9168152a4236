// The `inspect` subcommand's command line (CLI11) and its run: options -> one read of the file -> the
// inspect engine -> printer. Exit codes (docs/exit-codes.md): 0 usable for client authentication, 1 usage
// error, 2 identity-error (not usable, or not loadable). With --json every outcome, a usage error included,
// is exactly one inspect JSON object on stdout; without, a usage error is a message on stderr.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/inspect/inspect.h"
#include "revocation_options.h"

namespace CLI {
class App;
}
namespace spdlog {
class logger;
}

namespace mtls_probe::tool {

// Raw values as CLI11 fills them.
struct RawInspectArgs {
  std::string file;  // the positional FILE
  std::string p12, cert, cert_type, key;
  std::string p12_password_env, p12_password_file, pass;
  std::string cacert;
  std::string pkcs11_module, pin_env, pin_file;  // FILE (or --cert / --key) is a pkcs11: URI
  bool json = false;
  RawRevocationArgs revocation;
};

// Registers the `inspect` subcommand and its options on app, writing into raw; returns the subcommand.
CLI::App* add_inspect_command(CLI::App& app, RawInspectArgs& raw);

// Runs the inspection raw describes (call it when the subcommand was parsed); json_before: --json was given
// before the subcommand ("mtls-probe --json inspect FILE"). Wipes the passwords in raw. Returns the exit
// code.
int run_inspect_command(RawInspectArgs& raw, bool json_before);

// A command-line error inside `inspect` (CLI11's, or a probe option before it), told the way inspect tells
// its own usage errors. Returns the exit code (1).
int report_inspect_usage_error(const std::string& message, bool json);

// ---- the pieces, apart so that they are unit-tested without a process

struct InspectCommand {
  inspect::InspectOptions options;  // identity.key_file and password, cacert; the file is read later
  bool json = false;
  std::string file;                               // the identity file, whichever option named it
  std::optional<inspect::Format> format;          // --p12 / --cert-type; nullopt: detected when it is read
  std::vector<std::string> warnings;              // shown on stderr and in JSON; never contain secrets
  std::optional<std::string> usage_error;         // -> exit 1
  std::optional<IdentityFailure> identity_error;  // password source problems -> identity-error
};

// Checks and combines raw values: one identity file, its kind when an option gives it, one password source
// (resolve_password_source: read from the environment / file here; --pass and --cert FILE:PW warn). Reads
// no identity file.
InspectCommand make_inspect_command(const RawInspectArgs& raw);

// Reads the identity file once, inspects and prints (JSON or text on out, the usage message on err,
// warnings to log); wipes the password. Returns the exit code.
int execute_inspect(InspectCommand& cmd, std::ostream& out, std::ostream& err, spdlog::logger& log,
                    bool color);

}  // namespace mtls_probe::tool
