#include "config_file.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "front_end.h"
#include "mtls_probe/base/ascii.h"

namespace mtls_probe::tool {
namespace {

std::string_view skip_blanks(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  return s;
}

// An option name as it may be shown: printable, bounded (a name is never a secret, but it may be garbage).
std::string shown(std::string_view name) {
  std::string out;
  for (char c : name.substr(0, 64)) out += (c > 0x20 && c < 0x7f) ? c : '?';
  return out;
}

std::string quoted_escape(char c) {
  switch (c) {
    case 't': return "\t";
    case 'n': return "\n";
    case 'r': return "\r";
    case 'v': return "\v";
    default: return std::string(1, c);  // \\ and \" and any other \c: c, as curl
  }
}

struct Value {
  std::string text;
  std::string_view rest;  // what follows the value on the line
};

// A value: "quoted with escapes" or a word that ends at whitespace. nullopt: an unterminated quote.
std::optional<Value> take_value(std::string_view s) {
  Value v;
  if (s.front() != '"') {
    std::size_t end = 0;
    while (end < s.size() && !is_blank(s[end])) ++end;
    v.text = std::string(s.substr(0, end));
    v.rest = s.substr(end);
    return v;
  }
  for (std::size_t i = 1; i < s.size(); ++i) {
    if (s[i] == '"') {
      v.rest = s.substr(i + 1);
      return v;
    }
    if (s[i] == '\\' && i + 1 < s.size()) {
      v.text += quoted_escape(s[++i]);
    } else {
      v.text += s[i];
    }
  }
  return std::nullopt;
}

// "insecure" is "--insecure"; "-k" and "--insecure" stay as they are.
std::string option_name(std::string_view word) {
  return word.front() == '-' ? std::string(word) : "--" + std::string(word);
}

bool is_config_option(std::string_view name) {
  return name == "-K" || name == "--config";
}

Unexpected<std::string> fail(std::string message) {
  return Unexpected{std::move(message)};
}

// One non-comment line: its option, or an error that names FILE:LINE and the option, never the value.
Expected<ConfigOption, std::string> parse_line(std::string_view line, const std::string& where,
                                               const OptionLookup& lookup) {
  std::size_t name_end = 0;
  while (name_end < line.size() && !is_blank(line[name_end]) && line[name_end] != '=' &&
         line[name_end] != ':')
    ++name_end;
  const std::string name = option_name(line.substr(0, name_end));
  std::string_view rest = skip_blanks(line.substr(name_end));
  if (!rest.empty() && (rest.front() == '=' || rest.front() == ':')) rest = skip_blanks(rest.substr(1));
  std::optional<OptionInfo> info =
      is_config_option(name) ? OptionInfo{"--config", true, false, false} : lookup(name);
  if (!info)
    return fail(
        fmt::format("{}: unknown option '{}' (not an option of mtls-probe; curl's config files may "
                    "hold options mtls-probe does not have)",
                    where, shown(name)));
  ConfigOption out{"", info->positional ? "" : info->long_name, 0};
  if (rest.empty()) {
    if (info->takes_value && !info->optional_value)
      return fail(fmt::format("{}: {} needs a value", where, shown(name)));
    if (info->positional) return fail(fmt::format("{}: url needs a value", where));
    out.word = info->long_name;
    return out;
  }
  if (!info->takes_value && !info->optional_value && !info->positional)
    return fail(fmt::format("{}: {} takes no value", where, shown(name)));
  std::optional<Value> value = take_value(rest);
  if (!value) return fail(fmt::format("{}: the value of {} has no closing '\"'", where, shown(name)));
  if (!skip_blanks(value->rest).empty())
    return fail(
        fmt::format("{}: text after the value of {} (quote a value that has spaces)", where, shown(name)));
  if (info->positional || is_config_option(name)) {
    out.word = std::move(value->text);
  } else {
    out.word = info->long_name + "=" + value->text;  // one word: a value that starts with '-' stays a value
  }
  return out;
}

struct Expander {
  const ExpandContext& ctx;
  std::vector<ArgWord> out;

  std::optional<std::string> file(const std::string& path, int depth) {
    const std::string source = path == "-" ? "(stdin)" : path;
    if (depth > kMaxConfigDepth)
      return fmt::format("{}: -K/--config nested more than {} deep (does a config file include itself?)",
                         source, kMaxConfigDepth);
    auto text = ctx.reader(path);
    if (!text) return fmt::format("-K {}: {}", source, text.error());
    if (text->size() > kMaxConfigBytes)
      return fmt::format("-K {}: larger than {} bytes: not a config file", source, kMaxConfigBytes);
    auto options = parse_config_text(*text, source, ctx.lookup_for(out));
    if (!options) return options.error();
    for (auto& o : *options) {
      if (o.long_name == "--config") {
        if (auto bad = file(o.word, depth + 1)) return bad;
      } else {
        out.push_back(ArgWord{std::move(o.word), true});
      }
    }
    return std::nullopt;
  }
};

}  // namespace

Expected<std::string, std::string> read_config_file(const std::string& path) {
  return read_small_text_file(path, kMaxConfigBytes);
}

Expected<std::vector<ConfigOption>, std::string> parse_config_text(std::string_view text,
                                                                   const std::string& source,
                                                                   const OptionLookup& lookup) {
  std::vector<ConfigOption> options;
  int number = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    line = skip_blanks(line);
    while (!line.empty() && is_blank(line.back())) line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto option = parse_line(line, fmt::format("{}:{}", source, number), lookup);
    if (!option) return Unexpected{option.error()};
    option->line = number;
    options.push_back(std::move(*option));
  }
  return options;
}

Expected<std::vector<ArgWord>, std::string> expand_config_args(const std::vector<std::string>& args,
                                                               const ExpandContext& ctx) {
  Expander e{ctx, {}};
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      for (; i < args.size(); ++i) e.out.push_back(ArgWord{args[i], false});
      break;
    }
    std::optional<std::string> path;
    if (a == "-K" || a == "--config") {
      if (i + 1 >= args.size()) return Unexpected{a + " needs a file name (- for stdin)"};
      path = args[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      path = a.substr(9);
    } else if (a.size() > 2 && a.rfind("-K", 0) == 0) {
      path = a.substr(2);
    }
    if (path) {
      if (auto bad = e.file(*path, 1)) return Unexpected{*bad};
      continue;
    }
    e.out.push_back(ArgWord{a, false});
    // An option's value is copied as it is, whatever it looks like ("-H -K" sends a header "-K").
    const bool separate_value = (a.size() == 2 && a[0] == '-' && a[1] != '-') ||
                                (a.rfind("--", 0) == 0 && a.find('=') == std::string::npos);
    if (separate_value && i + 1 < args.size()) {
      auto info = ctx.lookup_for(e.out)(a);
      if (info && info->takes_value && !info->optional_value) e.out.push_back(ArgWord{args[++i], false});
    }
  }
  return e.out;
}

bool last_from_config(const std::vector<ArgWord>& words, std::string_view name, char short_name) {
  bool from_config = false;
  for (const auto& w : words) {
    const std::string_view t = w.text;
    if (t == "--") break;
    const bool is_long =
        t == name || (t.size() > name.size() && t.substr(0, name.size()) == name && t[name.size()] == '=');
    const bool is_short = short_name != 0 && t.size() >= 2 && t[0] == '-' && t[1] == short_name;
    if (is_long || is_short) from_config = w.from_config;
  }
  return from_config;
}

}  // namespace mtls_probe::tool
