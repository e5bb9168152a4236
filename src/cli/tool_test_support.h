// What the front end's tests share: argv parsed the way the tool parses it, and argv blanked as the tool
// blanks it. Only tests include this.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "front_end.h"
#include "mtls_probe/engine/proxy.h"
#include "tool_inspect.h"
#include "tool_options.h"
#include "tool_serve.h"

namespace mtls_probe::tool {

// Parses argv the way the tool does and returns the checked command (env: the environment it sees).
inline ProbeCommand parse(std::vector<std::string> args, const EnvLookup& env = {}) {
  CLI::App app;
  RawProbeArgs raw;
  add_probe_options(app, raw);
  std::vector<const char*> argv{"mtls-probe"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
  return make_probe_command(raw, env);
}

struct ToolApp {
  CLI::App app;
  RawProbeArgs raw;
  RawInspectArgs inspect;
  RawServeArgs serve;
  ToolApp() {
    add_probe_options(app, raw);
    add_serve_command(app, serve);
    add_inspect_command(app, inspect);
  }
};

// argv as the kernel hands it over: writable words, each NUL-terminated.
struct WritableArgv {
  std::vector<std::string> words;
  std::vector<char*> ptrs;
  explicit WritableArgv(std::vector<std::string> w) : words(std::move(w)) {
    words.insert(words.begin(), "mtls-probe");
    for (auto& x : words) ptrs.push_back(x.data());
    ptrs.push_back(nullptr);
  }
  int argc() const { return static_cast<int>(words.size()); }
  std::string joined() const {
    std::string out;
    for (size_t i = 1; i < words.size(); ++i) out += (i > 1 ? " " : "") + std::string(words[i].c_str());
    return out;
  }
};

inline std::string blanked(std::vector<std::string> args) {
  ToolApp t;
  WritableArgv a(std::move(args));
  blank_argv_secrets(t.app, a.argc(), a.ptrs.data());
  return a.joined();
}

}  // namespace mtls_probe::tool
