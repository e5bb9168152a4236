// The front end: command line (CLI11) -> engine -> printer. Returns the process exit code.
#pragma once

#include "tool_batch.h"
#include "tool_inspect.h"
#include "tool_options.h"
#include "tool_serve.h"

namespace CLI {
class App;
}

namespace mtls_probe::tool {

int run(int argc, char** argv);

// Every command's parsed arguments: define_command_line's options write into them.
struct CommandLine {
  RawProbeArgs probe;
  RawInspectArgs inspect;
  RawServeArgs serve;
  RawBatchArgs batch;
};

struct Subcommands {
  CLI::App* serve = nullptr;
  CLI::App* inspect = nullptr;
  CLI::App* batch = nullptr;
};

// The whole command line on app: its name, description, --version, the probe's options, the subcommands
// and the --help footer (examples, exit codes). The one definition that --help prints and that the man
// page and the shell completions are generated from (tools/docgen_main.cc). with_batch_options: see run().
Subcommands define_command_line(CLI::App& app, CommandLine& cl, bool with_batch_options);

}  // namespace mtls_probe::tool
