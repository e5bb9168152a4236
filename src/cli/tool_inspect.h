// The `inspect` subcommand's command line (CLI11) and its run: options -> inspect engine -> printer.
#pragma once

#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/inspect/inspect.h"

namespace CLI {
class App;
}

namespace mtls_probe::tool {

// Registers the `inspect` subcommand and its options on app; returns the subcommand.
CLI::App* add_inspect_command(CLI::App& app);

// Runs the inspection configured by the last parse (call it when the subcommand was parsed). Exit codes:
// 0 usable for client authentication, 1 usage error, 2 identity-error (not usable, or not loadable).
int run_inspect_command();

// A command-line error inside `inspect`, told the way inspect tells its own usage errors (its JSON schema
// with --json, else on stderr). Returns the exit code (1).
int report_inspect_usage_error(const std::string& message, bool json);

// ---- the pieces, apart so that they are unit-tested without a process

// Raw values as CLI11 fills them.
struct RawInspectArgs {
  std::string file;  // the positional FILE
  std::string p12, cert, cert_type, key;
  std::string p12_password_env, p12_password_file, pass;
  std::string cacert;
  bool json = false;
};

struct InspectCommand {
  inspect::InspectOptions options;
  bool json = false;
  std::string file;  // the identity file, whichever option named it
  inspect::Format format = inspect::Format::pem;
  std::vector<std::string> warnings;              // shown on stderr and in JSON; never contain secrets
  std::optional<std::string> usage_error;         // -> exit 1
  std::optional<IdentityFailure> identity_error;  // password source problems -> identity-error
};

// Checks and combines raw values: one identity file, its kind (--cert-type or detected), one password
// source (read from the environment / file here; --pass and --cert FILE:PW warn).
InspectCommand make_inspect_command(const RawInspectArgs& raw);

// Inspects and prints (JSON or text on out, warnings on err); wipes the password. Returns the exit code.
int execute_inspect(InspectCommand& cmd, std::ostream& out, std::ostream& err, bool color);

}  // namespace mtls_probe::tool
