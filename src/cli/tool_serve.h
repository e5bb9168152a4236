// The `serve` subcommand's command line (CLI11) and its run: options -> serve::Server.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace mtls_probe::tool {

// Registers the `serve` subcommand and its options on app; returns the subcommand.
CLI::App* add_serve_command(CLI::App& app);

// Runs the server configured by the last parse (call it when the subcommand was parsed). Exit codes:
// 0 stopped cleanly (SIGINT/SIGTERM, or --once done), 1 bad options, 2 the server could not start
// (identity, CA, PKI directory, address in use).
int run_serve_command();

// A command-line error inside `serve`: serve has no JSON output, so it is told on stderr. Returns 1.
int report_serve_usage_error(const std::string& message);

}  // namespace mtls_probe::tool
