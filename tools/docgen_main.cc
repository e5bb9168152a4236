// mtls-probe-docgen: writes the man page and the bash and zsh completions from the command line
// definition (define_command_line, the same CLI::App that `mtls-probe --help` prints). Run at build time:
//   mtls-probe-docgen man PROSE.1.in OUT.1 | bash OUT | zsh OUT
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "cli/tool_cli.h"
#include "cli/tool_docs.h"

namespace {

int usage() {
  std::cerr << "usage: mtls-probe-docgen man PROSE OUT | bash OUT | zsh OUT\n";
  return 1;
}

bool write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) std::cerr << "mtls-probe-docgen: cannot write " << path << "\n";
  return static_cast<bool>(out);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace mtls_probe::tool;
  if (argc < 3) return usage();
  const std::string what = argv[1];
  CLI::App app;
  CommandLine cl;
  define_command_line(app, cl, /*with_batch_options=*/true);  // everything, batch's options too
  if (what == "man" && argc == 4) {
    std::ifstream in(argv[2], std::ios::binary);
    std::stringstream prose;
    prose << in.rdbuf();
    if (!in) {
      std::cerr << "mtls-probe-docgen: cannot read " << argv[2] << "\n";
      return 1;
    }
    return write_file(argv[3], man_page(app, prose.str())) ? 0 : 1;
  }
  if (what == "bash" && argc == 3) return write_file(argv[2], bash_completion(app)) ? 0 : 1;
  if (what == "zsh" && argc == 3) return write_file(argv[2], zsh_completion(app)) ? 0 : 1;
  return usage();
}
