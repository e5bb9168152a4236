// The `serve` subcommand's command line (CLI11) and its run: options -> serve::Server.
#pragma once

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

}  // namespace mtls_probe::tool
