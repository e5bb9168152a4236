// The front end: command line (CLI11) -> engine -> printer. Returns the process exit code.
#pragma once

namespace mtls_probe::tool {

int run(int argc, char** argv);

}  // namespace mtls_probe::tool
