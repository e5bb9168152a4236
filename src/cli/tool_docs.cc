#include "tool_docs.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>

#include "mtls_probe/diagnosis/verdict.h"

namespace mtls_probe::tool {

const std::vector<UsageExample>& usage_examples() {
  static const std::vector<UsageExample> list{
      {"export P12_PASS=...; mtls-probe --p12 alice.p12 --p12-password-env P12_PASS https://api.example/",
       "probe with a PKCS#12 identity, its password from the environment (never on the command line)"},
      {"mtls-probe --json --p12 ci.p12 --p12-password-file /run/secrets/p12pass https://api.example/",
       "in CI: exactly one JSON object on stdout, and the verdict's exit code"},
      {"mtls-probe --cert alice.pem --key alice.key --cacert corp-root.pem https://10.0.0.12:8443/",
       "PEM certificate and key (curl's spellings), a private CA for the server"},
      {"mtls-probe inspect --p12-password-env P12_PASS alice.p12",
       "what an identity file holds and what is wrong with it, without any network"},
      {"mtls-probe serve --port 8443 --pki-dir /tmp/pki",
       "a local mTLS test server on 127.0.0.1 (throw-away PKI in /tmp/pki) to try a client against"},
      {"mtls-probe batch -j 16 --junit report.xml targets.txt",
       "probe every URL of targets.txt, 16 at a time, and write a JUnit report"},
  };
  return list;
}

std::string examples_text() {
  std::string out = "Examples:\n";
  for (const auto& e : usage_examples()) {
    out += "  " + std::string(e.command) + "\n      " + std::string(e.what) + "\n";
  }
  return out;
}

namespace {

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

bool ends_with(std::string_view text, std::string_view end) {
  return text.size() >= end.size() && text.substr(text.size() - end.size()) == end;
}

std::string long_name(const CLI::Option& o) {
  return o.get_lnames().empty() ? o.get_name() : o.get_lnames().front();
}

// The option's names as typed: -E, --cert (positionals have none).
std::vector<std::string> spellings(const CLI::Option& o) {
  std::vector<std::string> names;
  for (const auto& s : o.get_snames()) names.push_back("-" + s);
  for (const auto& l : o.get_lnames()) names.push_back("--" + l);
  return names;
}

// The value's name the description gives it ("read ... from environment VAR", "HOST:PORT:ADDR[,ADDR] use
// ..."): the first word in capitals that names a file, variable, directory or address; "" when none does.
std::string metavar_in_description(const std::string& what) {
  auto is_metavar_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == ':' || c == '[' || c == ']' ||
           c == ',';
  };
  for (size_t i = 0; i < what.size();) {
    size_t end = i;
    while (end < what.size() && is_metavar_char(what[end])) ++end;
    if (end == i) {
      ++i;
      continue;
    }
    const std::string word = what.substr(i, end - i);
    const bool starts_word = i == 0 || what[i - 1] == ' ';
    const bool ends_word = end == what.size() || what[end] == ' ' || what[end] == ')';
    if (starts_word && ends_word) {
      for (const char* name : {"FILE", "VAR", "DIR", "ADDR", "HOST"}) {
        if (contains(word, name)) return word;
      }
    }
    i = end;
  }
  return "";
}

// The value's name in the man page: the option's own type name where it has one, else the one its
// description uses, else what it takes.
std::string metavar(const CLI::Option& o) {
  std::string type = o.get_type_name();
  // A validator's part of CLI11's type name: TEXT:{a,b} -> {a,b}; INT:INT in [0 - 65535] -> a number
  if (type.rfind("TEXT:", 0) == 0) return type.substr(5);
  if (type.rfind("INT:", 0) == 0 || type.rfind("UINT:", 0) == 0) type = "INT";
  if (type != "TEXT" && type != "FLOAT" && type != "INT" && type != "UINT" && !type.empty()) return type;
  if (std::string named = metavar_in_description(o.get_description()); !named.empty()) return named;
  if (o.get_description().rfind("seconds", 0) == 0) return "SECONDS";
  switch (value_kind(o)) {
    case ValueKind::file: return "FILE";
    case ValueKind::directory: return "DIR";
    default: return type == "TEXT" || type.empty() ? "VALUE" : "NUM";
  }
}

std::string positional_name(const CLI::Option& o) {
  const std::string type = o.get_type_name();
  if (type != "TEXT" && !type.empty()) return type;
  std::string name = o.get_name();
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return name;
}

std::vector<const CLI::Option*> named_options(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return o->nonpositional(); });
}

std::vector<const CLI::Option*> positionals(const CLI::App& app) {
  return app.get_options([](const CLI::Option* o) { return !o->nonpositional(); });
}

std::vector<const CLI::App*> subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

std::string one_line(std::string text) {
  std::replace(text.begin(), text.end(), '\n', ' ');
  return text;
}

}  // namespace

ValueKind value_kind(const CLI::Option& o) {
  if (o.get_items_expected_max() == 0) return ValueKind::none;
  const std::string type = o.get_type_name();
  const std::string& what = o.get_description();
  const std::string name = long_name(o);
  if (contains(type, "DIR") || contains(what, "directory") || ends_with(name, "-dir"))
    return ValueKind::directory;
  if (contains(type, "FILE") || contains(what, "FILE") || contains(what, "(PEM)") || contains(what, ".p12") ||
      ends_with(name, "-file"))
    return ValueKind::file;
  return ValueKind::other;
}

std::string roff_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";  // a minus sign, so that options copy and paste as typed
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out.insert(0, "\\&");
  return out;
}

namespace {

std::string bold(std::string_view text) {
  return "\\fB" + roff_escape(text) + "\\fR";
}

std::string italic(std::string_view text) {
  return "\\fI" + roff_escape(text) + "\\fR";
}

std::string man_option(const CLI::Option& o) {
  std::string head;
  for (const auto& name : spellings(o)) head += (head.empty() ? "" : ", ") + bold(name);
  if (o.get_items_expected_max() > 0) head += " " + italic(metavar(o));
  return ".TP\n" + head + "\n" + roff_escape(one_line(o.get_description())) + "\n";
}

// The options of app by group, in the order they were defined; skip() leaves some out.
template <typename Skip>
std::string man_option_groups(const CLI::App& app, const char* group_macro, Skip skip) {
  std::vector<std::string> groups;
  std::map<std::string, std::string> entries;
  for (const CLI::Option* o : named_options(app)) {
    if (skip(*o)) continue;
    const std::string& group = o->get_group();
    if (entries.find(group) == entries.end()) groups.push_back(group);
    entries[group] += man_option(*o);
  }
  std::string out;
  for (const auto& g : groups) {
    // CLI11 puts --help (and --version) in a group of its own, "Options"
    const std::string title = g == "Options" ? "General" : g;
    out += std::string(group_macro) + " \"" + roff_escape(title) + "\"\n" + entries[g];
  }
  return out;
}

std::string usage_line(const CLI::App& app, const std::string& program) {
  std::string line = bold(program) + " [" + italic("OPTIONS") + "]";
  for (const CLI::Option* p : positionals(app)) line += " " + italic(positional_name(*p));
  return line;
}

std::string man_synopsis(const CLI::App& app) {
  std::string out = usage_line(app, app.get_name()) + "\n";
  for (const CLI::App* sub : subcommands(app)) {
    out += ".br\n" + usage_line(*sub, app.get_name() + " " + sub->get_name()) + "\n";
  }
  return out;
}

// An option the subcommand has exactly as the probe has it (batch takes all of the probe's: its targets'
// defaults); CLI11's own --help is each command's.
bool same_option(const CLI::Option& a, const CLI::Option& b) {
  return a.get_lnames() == b.get_lnames() && a.get_snames() == b.get_snames() &&
         a.get_description() == b.get_description() && a.get_group() == b.get_group() &&
         a.get_type_name() == b.get_type_name() && a.get_group() != "Options";
}

// A subcommand's own options; those it shares, unchanged, with the probe are described once, in OPTIONS.
std::string man_subcommand(const CLI::App& app, const CLI::App& sub) {
  std::string out = ".SS \"" + roff_escape(app.get_name() + " " + sub.get_name()) + "\"\n" +
                    roff_escape(one_line(sub.get_description())) + ".\n";
  std::string shared;
  auto is_shared = [&](const CLI::Option& o) {
    for (const CLI::Option* top : named_options(app)) {
      if (same_option(o, *top)) {
        shared += (shared.empty() ? "" : ", ") + bold("--" + long_name(o));
        return true;
      }
    }
    return false;
  };
  const std::string groups = man_option_groups(sub, ".PP\n.I", is_shared);
  if (!shared.empty()) out += ".PP\nThe probe's options, as described above: " + shared + ".\n";
  out += groups;
  if (!sub.get_footer().empty()) out += ".PP\n" + roff_escape(one_line(sub.get_footer())) + "\n";
  return out;
}

std::string man_commands(const CLI::App& app) {
  std::string out;
  for (const CLI::App* sub : subcommands(app)) out += man_subcommand(app, *sub);
  return out;
}

std::string man_exit_status() {
  std::string out;
  for (Verdict v : all_verdicts()) {
    out += ".TP\n.B " + std::to_string(exit_code(v)) + "\n" + bold(verdict_name(v)) + ": " +
           roff_escape(verdict_meaning(v)) + "\n";
  }
  return out;
}

std::string man_examples() {
  std::string out;
  for (const auto& e : usage_examples()) {
    out += ".PP\n" + roff_escape(e.what) + ":\n.RS 4\n.nf\n" + roff_escape(e.command) + "\n.fi\n.RE\n";
  }
  return out;
}

}  // namespace

std::string man_page(const CLI::App& app, std::string_view prose) {
  const std::map<std::string, std::string> generated{
      {"@SYNOPSIS@", man_synopsis(app)},
      {"@OPTIONS@", man_option_groups(app, ".SS", [](const CLI::Option&) { return false; })},
      {"@COMMANDS@", man_commands(app)},
      {"@EXIT_STATUS@", man_exit_status()},
      {"@EXAMPLES@", man_examples()},
  };
  std::string out;
  size_t start = 0;
  while (start < prose.size()) {
    size_t end = prose.find('\n', start);
    if (end == std::string_view::npos) end = prose.size();
    std::string line(prose.substr(start, end - start));
    start = end + 1;
    if (auto it = generated.find(line); it != generated.end()) {
      out += it->second;
      continue;
    }
    for (size_t at; (at = line.find("@VERSION@")) != std::string::npos;)
      line.replace(at, 9, MTLS_PROBE_VERSION);
    out += line + "\n";
  }
  return out;
}

namespace {

std::string words(const std::vector<std::string>& list) {
  std::string out;
  for (const auto& w : list) out += (out.empty() ? "" : " ") + w;
  return out;
}

// One command's completion data as bash assignments.
std::string bash_spec(const CLI::App& cmd) {
  std::vector<std::string> all, values, files, dirs;
  for (const CLI::Option* o : named_options(cmd)) {
    for (const auto& name : spellings(*o)) {
      all.push_back(name);
      const ValueKind kind = value_kind(*o);
      if (kind != ValueKind::none) values.push_back(name);
      if (kind == ValueKind::file) files.push_back(name);
      if (kind == ValueKind::directory) dirs.push_back(name);
    }
  }
  const auto pos = positionals(cmd);
  const bool file_positional = !pos.empty() && contains(positional_name(*pos.front()), "FILE");
  return "opts='" + words(all) + "'\n      values=' " + words(values) + " '\n      files=' " + words(files) +
         " '\n      dirs=' " + words(dirs) + " '\n      positional_files=" + (file_positional ? "1" : "0") +
         "\n";
}

}  // namespace

std::string bash_completion(const CLI::App& app) {
  std::vector<std::string> names;
  std::string cases = "    '') " + bash_spec(app) + "      ;;\n";
  for (const CLI::App* sub : subcommands(app)) {
    names.push_back(sub->get_name());
    cases += "    " + sub->get_name() + ") " + bash_spec(*sub) + "      ;;\n";
  }
  return "# bash completion for " + app.get_name() +
         " (generated from its command line definition by mtls-probe-docgen: do not edit)\n"
         "_mtls_probe_spec() {\n"
         "  case $1 in\n" +
         cases +
         "  esac\n"
         "}\n"
         "\n"
         "_mtls_probe() {\n"
         "  local cur=${COMP_WORDS[COMP_CWORD]} prev='' cmd='' i word skip=0\n"
         "  local opts values files dirs positional_files\n"
         "  local commands='" +
         words(names) +
         "'\n"
         "  ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}\n"
         "  # --opt=VALUE: bash splits it at '=' (COMP_WORDBREAKS)\n"
         "  if [[ $cur == = ]]; then cur=''; elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then\n"
         "    prev=${COMP_WORDS[COMP_CWORD - 2]}\n"
         "  fi\n"
         "  _mtls_probe_spec ''\n"
         "  for ((i = 1; i < COMP_CWORD; i++)); do\n"
         "    word=${COMP_WORDS[i]}\n"
         "    if ((skip)); then skip=0; continue; fi\n"
         "    if [[ $values == *\" $word \"* ]]; then skip=1; continue; fi\n"
         "    if [[ -z $cmd && \" $commands \" == *\" $word \"* ]]; then\n"
         "      cmd=$word\n"
         "      _mtls_probe_spec \"$cmd\"\n"
         "    fi\n"
         "  done\n"
         "  COMPREPLY=()\n"
         "  if [[ $files == *\" $prev \"* ]] || { [[ $cur != -* && $positional_files == 1 && $values != *\" "
         "$prev \"* ]]; }; then\n"
         "    compopt -o filenames 2>/dev/null\n"
         "    mapfile -t COMPREPLY < <(compgen -f -- \"$cur\")\n"
         "  elif [[ $dirs == *\" $prev \"* ]]; then\n"
         "    compopt -o filenames 2>/dev/null\n"
         "    mapfile -t COMPREPLY < <(compgen -d -- \"$cur\")\n"
         "  elif [[ $values == *\" $prev \"* ]]; then\n"
         "    return 0  # a value mtls-probe cannot guess\n"
         "  elif [[ $cur == -* ]]; then\n"
         "    mapfile -t COMPREPLY < <(compgen -W \"$opts\" -- \"$cur\")\n"
         "  elif [[ -z $cmd ]]; then\n"
         "    mapfile -t COMPREPLY < <(compgen -W \"$commands\" -- \"$cur\")\n"
         "  fi\n"
         "  return 0\n"
         "}\n"
         "complete -F _mtls_probe " +
         app.get_name() + "\n";
}

namespace {

// Text inside a single-quoted zsh word and an _arguments spec: no quote, no brackets, colons escaped.
std::string zsh_text(std::string text, bool escape_colons) {
  std::string out;
  for (char c : one_line(std::move(text))) {
    if (c == '\'') {
      out += "'\\''";
    } else if (c == '[') {
      out += '(';
    } else if (c == ']') {
      out += ')';
    } else if (c == ':' && escape_colons) {
      out += "\\:";
    } else {
      out += c;
    }
  }
  return out;
}

std::string zsh_specs(const CLI::App& cmd) {
  std::string out;
  for (const CLI::Option* o : named_options(cmd)) {
    const auto names = spellings(*o);
    const bool repeatable =
        o->get_multi_option_policy() == CLI::MultiOptionPolicy::TakeAll ||
        (o->get_items_expected_max() == 0 && o->get_lnames() == std::vector<std::string>{"verbose"});
    std::string exclusive = repeatable ? "*" : "(" + words(names) + ")";
    std::string value;
    switch (value_kind(*o)) {
      case ValueKind::none: break;
      case ValueKind::file: value = ":" + zsh_text(metavar(*o), true) + ":_files"; break;
      case ValueKind::directory: value = ":" + zsh_text(metavar(*o), true) + ":_files -/"; break;
      case ValueKind::other: value = ":" + zsh_text(metavar(*o), true) + ": "; break;
    }
    for (const auto& name : names) {
      out +=
          "    '" + exclusive + name + "[" + zsh_text(o->get_description(), false) + "]" + value + "' \\\n";
    }
  }
  if (cmd.get_parent() == nullptr) return out + "    '1: :_mtls_probe_first'\n";  // a URL or a subcommand
  for (const CLI::Option* p : positionals(cmd)) {
    const std::string name = positional_name(*p);
    out += "    '1:" + zsh_text(name, true) + ":" + (contains(name, "FILE") ? "_files" : "_urls") + "' \\\n";
  }
  return out + "\n";
}

std::string zsh_function_name(const CLI::App& cmd) {
  return cmd.get_parent() == nullptr ? "_mtls_probe_probe" : "_mtls_probe_" + cmd.get_name();
}

}  // namespace

std::string zsh_completion(const CLI::App& app) {
  std::string functions, described, cases;
  functions += zsh_function_name(app) + "() {\n  _arguments -s -S : \\\n" + zsh_specs(app) + "}\n\n";
  for (const CLI::App* sub : subcommands(app)) {
    functions += zsh_function_name(*sub) + "() {\n  _arguments -s -S : \\\n" + zsh_specs(*sub) + "}\n\n";
    described += "    '" + sub->get_name() + ":" + zsh_text(sub->get_description(), true) + "'\n";
    cases += "      " + sub->get_name() + ") found=" + zsh_function_name(*sub) + "; break ;;\n";
  }
  return "#compdef " + app.get_name() + "\n# zsh completion for " + app.get_name() +
         " (generated from its command line definition by mtls-probe-docgen: do not edit)\n\n" +
         "_mtls_probe_commands() {\n  local -a commands=(\n" + described +
         "  )\n  _describe -t commands 'mtls-probe command' commands\n}\n\n" +
         "_mtls_probe_first() {\n  _alternative 'commands:command:_mtls_probe_commands' "
         "'urls:URL:_urls'\n}\n\n" +
         functions +
         "_mtls_probe() {\n"
         "  local i found=" +
         zsh_function_name(app) +
         "\n"
         "  for ((i = 2; i < CURRENT; i++)); do\n"
         "    case ${words[i]} in\n" +
         cases +
         "    esac\n"
         "  done\n"
         "  if [[ $found != " +
         zsh_function_name(app) +
         " ]]; then\n"
         "    # the subcommand's words only, as _arguments expects them\n"
         "    shift $((i - 1)) words\n"
         "    ((CURRENT -= i - 1))\n"
         "  fi\n"
         "  $found \"$@\"\n"
         "}\n\n"
         "_mtls_probe \"$@\"\n";
}

}  // namespace mtls_probe::tool
