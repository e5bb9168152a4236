#include "tool_inspect.h"

#include <openssl/crypto.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <cstdlib>
#include <iostream>

#include "mtls_probe/identity/identity.h"
#include "tool_options.h"

namespace mtls_probe::tool {
namespace {

RawInspectArgs g_raw;
CLI::App* g_command = nullptr;

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool use_color() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  return isatty(STDOUT_FILENO) == 1;
}

void wipe(std::optional<std::string>& s) {
  if (s) OPENSSL_cleanse(s->data(), s->size());
}

}  // namespace

CLI::App* add_inspect_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "inspect", "examine a client identity (.p12/.pfx or PEM) without any network: contents and problems");
  auto& r = g_raw;
  cmd->add_option("file", r.file, "identity FILE: PKCS#12 (.p12/.pfx) or PEM certificate (+ chain, + key)")
      ->type_name("FILE");
  const std::string id = "Client identity";
  cmd->add_option("--p12", r.p12, "PKCS#12 identity FILE (instead of FILE)")->type_name("FILE")->group(id);
  cmd->add_option("--cert", r.cert, "certificate FILE[:PASSWORD] (instead of FILE; curl spelling)")
      ->type_name("FILE[:PASSWORD]")
      ->group(id);
  cmd->add_option("--cert-type", r.cert_type, "P12 or PEM: the kind of FILE (default: detected)")
      ->type_name("P12|PEM")
      ->group(id);
  cmd->add_option("--key", r.key, "private key FILE (PEM) for a PEM certificate")
      ->type_name("FILE")
      ->group(id);
  cmd->add_option("--p12-password-env", r.p12_password_env, "read the password from environment VAR")
      ->type_name("VAR")
      ->group(id);
  cmd->add_option("--p12-password-file", r.p12_password_file, "read the password from the first line of FILE")
      ->type_name("FILE")
      ->group(id);
  cmd->add_option("--pass", r.pass, "password (curl spelling; visible in the process list: warns)")
      ->type_name("PASSWORD")
      ->group(id);
  const std::string checks = "Checks and output";
  cmd->add_option("--cacert", r.cacert,
                  "CA certificates (PEM): does the chain verify to them for client auth")
      ->type_name("FILE")
      ->group(checks);
  cmd->add_flag("--json", r.json, "print exactly one JSON object on stdout")->group(checks);
  cmd->footer("Exit codes: 0 usable for client authentication, 1 usage-error, 2 identity-error.");
  g_command = cmd;
  return cmd;
}

InspectCommand make_inspect_command(const RawInspectArgs& raw) {
  InspectCommand cmd;
  cmd.json = raw.json;
  auto usage = [&](std::string msg) {
    if (!cmd.usage_error) cmd.usage_error = std::move(msg);
    return cmd;
  };

  std::optional<std::string> cert_password;
  std::string cert_file;
  if (!raw.cert.empty()) {
    auto [file, pw] = split_cert_password(raw.cert);
    cert_file = std::move(file);
    cert_password = std::move(pw);
    if (cert_file.empty()) {
      wipe(cert_password);
      return usage("--cert needs a file name");
    }
  }
  const int named = !raw.file.empty() + !raw.p12.empty() + !cert_file.empty();
  cmd.file = !raw.file.empty() ? raw.file : !raw.p12.empty() ? raw.p12 : cert_file;
  if (named == 0) return usage("no identity file given: mtls-probe inspect FILE (.p12/.pfx or PEM)");
  if (named > 1) {
    wipe(cert_password);
    return usage("give the identity file once: FILE, --p12 FILE or --cert FILE");
  }

  const std::string type = upper(raw.cert_type);
  if (!type.empty() && type != "P12" && type != "PEM") {
    wipe(cert_password);
    return usage("--cert-type must be P12 or PEM");
  }
  if (!raw.p12.empty() && type == "PEM")
    return usage("--p12 names a PKCS#12 file; --cert-type PEM contradicts it");
  if (!raw.p12.empty() || type == "P12") {
    cmd.format = inspect::Format::pkcs12;
  } else if (type == "PEM") {
    cmd.format = inspect::Format::pem;
  } else {
    cmd.format = inspect::detect_format(cmd.file);
  }
  if (!raw.key.empty() && cmd.format == inspect::Format::pkcs12) {
    wipe(cert_password);
    return usage("--key goes with a PEM certificate; a PKCS#12 file carries its own key");
  }

  const int sources = cert_password.has_value() + !raw.pass.empty() + !raw.p12_password_env.empty() +
                      !raw.p12_password_file.empty();
  if (sources > 1) {
    wipe(cert_password);
    return usage(
        "give the password once: --p12-password-env, --p12-password-file, --pass or --cert FILE:PASSWORD");
  }
  std::optional<std::string> password;
  if (cert_password) {
    password = std::move(cert_password);
    cmd.warnings.push_back(
        "a password given in --cert FILE:PASSWORD is visible to other users in the process list; use "
        "--p12-password-env or --p12-password-file");
  } else if (!raw.pass.empty()) {
    password = raw.pass;
    cmd.warnings.push_back(
        "--pass makes the password visible to other users in the process list; use --p12-password-env or "
        "--p12-password-file");
  } else if (!raw.p12_password_env.empty() || !raw.p12_password_file.empty()) {
    auto pw = !raw.p12_password_env.empty() ? password_from_env(raw.p12_password_env)
                                            : password_from_file(raw.p12_password_file);
    if (!pw) {
      cmd.identity_error = pw.error();
    } else {
      password = std::move(pw.value());
    }
  }

  IdentityOptions& o = cmd.options.identity;
  if (cmd.format == inspect::Format::pkcs12) {
    o.p12_file = cmd.file;
  } else {
    o.cert_file = cmd.file;
    o.key_file = raw.key;
  }
  o.password = std::move(password);
  cmd.options.cacert_file = raw.cacert;
  return cmd;
}

int execute_inspect(InspectCommand& cmd, std::ostream& out, std::ostream& err, bool color) {
  auto emit_usage = [&](const std::string& message) {
    if (cmd.json) {
      out << inspect::usage_error_json(message, cmd.file)
                 .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
          << '\n';
    } else {
      err << "mtls-probe inspect: " << escape_terminal(message)
          << "\nRun with --help for more information.\n";
    }
    out.flush();
    return 1;
  };
  for (const auto& w : cmd.warnings) err << "mtls-probe: warning: " << w << '\n';
  if (cmd.usage_error) return emit_usage(*cmd.usage_error);

  inspect::IdentityFacts facts;
  if (cmd.identity_error) {
    facts.file = cmd.file;
    facts.format = cmd.format;
    facts.identity_error = cmd.identity_error;
  } else {
    auto gathered = inspect::gather_facts(cmd.options);
    wipe(cmd.options.identity.password);
    if (!gathered) {
      const Error& e = gathered.error();
      return emit_usage(e.openssl_detail.empty() ? e.message : e.message + " (" + e.openssl_detail + ")");
    }
    facts = std::move(gathered.value());
  }
  wipe(cmd.options.identity.password);

  inspect::InspectResult result = inspect::make_result(std::move(facts));
  result.warnings = cmd.warnings;
  if (cmd.json) {
    out << inspect::report_json(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    out << inspect::report_text(result, TextStyle{color});
  }
  out.flush();
  return result.exit_code();
}

int report_inspect_usage_error(const std::string& message, bool json) {
  InspectCommand cmd;
  cmd.json = json;
  cmd.usage_error = message;
  return execute_inspect(cmd, std::cout, std::cerr, false);
}

int run_inspect_command() {
  InspectCommand cmd = make_inspect_command(g_raw);
  // `mtls-probe --json inspect FILE` puts --json on the main command: honour it here too.
  if (g_command != nullptr && g_command->get_parent() != nullptr) {
    if (const CLI::Option* j = g_command->get_parent()->get_option_no_throw("--json"); j && j->count() > 0)
      cmd.json = true;
  }
  if (!g_raw.pass.empty()) OPENSSL_cleanse(g_raw.pass.data(), g_raw.pass.size());
  if (!g_raw.cert.empty()) OPENSSL_cleanse(g_raw.cert.data(), g_raw.cert.size());
  return execute_inspect(cmd, std::cout, std::cerr, use_color());
}

}  // namespace mtls_probe::tool
