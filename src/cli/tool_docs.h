// Documents generated from the command line definition itself (define_command_line, the same CLI::App that
// --help prints): the man page's synopsis, options, subcommands, exit status and examples, and the bash and
// zsh completion scripts. A flag added to the command line appears in all of them without an edit here.
// The man page's prose (NAME, DESCRIPTION, ENVIRONMENT, SEE ALSO, ...) is docs/mtls-probe.1.in.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace mtls_probe::tool {

// curl-style usage examples: shown at the end of --help and in the man page's EXAMPLES.
struct UsageExample {
  std::string_view command;
  std::string_view what;
};
const std::vector<UsageExample>& usage_examples();

// The examples as --help's footer shows them.
std::string examples_text();

// What an option's value is, for completion: a file, a directory, something else, or none (a flag).
enum class ValueKind { none, file, directory, other };
ValueKind value_kind(const CLI::Option& option);

// Text for troff: backslashes and minus signs escaped, a leading '.' or '\'' neutralised.
std::string roff_escape(std::string_view text);

// prose with its @VERSION@, @SYNOPSIS@, @OPTIONS@, @COMMANDS@, @EXIT_STATUS@ and @EXAMPLES@ lines replaced
// by what app defines. An @NAME@ that prose does not have is simply not generated.
std::string man_page(const CLI::App& app, std::string_view prose);

// `complete -F _mtls_probe mtls-probe`: options per subcommand, files for file-taking options.
std::string bash_completion(const CLI::App& app);

// #compdef mtls-probe: _arguments specs per subcommand, with the options' descriptions.
std::string zsh_completion(const CLI::App& app);

}  // namespace mtls_probe::tool
