// -K/--config FILE with curl's config-file syntax (curl's parseconfig), expanded into command-line words at
// the -K's place before CLI11 parses anything, so that later options win as on the command line. Pure: the
// options are looked up through a function (the CLI11 definitions stay the only code that knows flags) and
// files are read through another, so that the parsing is unit-tested without files.
//
// Syntax, one option per line: "--insecure", "insecure" or "-k"; a value after whitespace, '=' or ':'
// ("cacert = ca.pem", "max-time: 5"); a double-quoted value takes curl's escapes \\ \" \t \n \r \v (any other
// "\c" is c), an unquoted one ends at whitespace; a line whose first non-blank is '#' is a comment; "url"
// gives the URL. -K inside a config file nests (at most kMaxConfigDepth deep). ~/.curlrc is never read: its
// options are curl's, and many of them mtls-probe does not have.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/base/result.h"

namespace mtls_probe::tool {

inline constexpr int kMaxConfigDepth = 8;                // -K inside -K inside ...
inline constexpr std::size_t kMaxConfigBytes = 1 << 20;  // a config file is short; this is not one

// What the command line knows about an option name ("cacert", "-k", "--max-time").
struct OptionInfo {
  std::string long_name;        // "--cacert" (the canonical spelling, used in the expansion)
  bool takes_value = false;     // needs a value
  bool optional_value = false;  // may have one (--grpc-health [SERVICE])
  bool positional = false;      // "url": the value is the positional argument
};
using OptionLookup = std::function<std::optional<OptionInfo>(std::string_view name)>;

// The text of a config file, or why it could not be read ("-": stdin). At most kMaxConfigBytes + 1 bytes.
using ConfigReader = std::function<Expected<std::string, std::string>(const std::string& path)>;
Expected<std::string, std::string> read_config_file(const std::string& path);

// One word of the expanded command line, and whether it came from a config file (a secret there is not on
// the process list).
struct ArgWord {
  std::string text;
  bool from_config = false;
};

// One option of one config line: "--cacert=ca.pem" (or "--insecure", or the URL), with its place.
struct ConfigOption {
  std::string word;
  std::string long_name;  // "" for the URL
  int line = 0;
};

// Parses one config file's text. source names it in errors ("FILE:LINE: ..."); an error never shows a value.
// A -K/--config line comes back as long_name "--config" with the word being the file name.
Expected<std::vector<ConfigOption>, std::string> parse_config_text(std::string_view text,
                                                                   const std::string& source,
                                                                   const OptionLookup& lookup);

// argv (without argv[0]) with every -K FILE / --config FILE / --config=FILE / -KFILE replaced by the options
// of FILE, recursively. lookup_for(words so far) gives the options of the subcommand in force at that point.
struct ExpandContext {
  std::function<OptionLookup(const std::vector<ArgWord>& before)> lookup_for;
  ConfigReader reader = read_config_file;
};
Expected<std::vector<ArgWord>, std::string> expand_config_args(const std::vector<std::string>& args,
                                                               const ExpandContext& ctx);

// Whether the last occurrence of the long option `name` (e.g. "--pass") in words came from a config file.
bool last_from_config(const std::vector<ArgWord>& words, std::string_view name, char short_name);

}  // namespace mtls_probe::tool
