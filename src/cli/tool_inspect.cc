#include "tool_inspect.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <iostream>

#include "front_end.h"
#include "mtls_probe/base/ascii.h"
#include "mtls_probe/identity/pkcs11_uri.h"
#include "mtls_probe/report/inspect_report.h"
#include "tool_options.h"

namespace mtls_probe::tool {
namespace {

// --p12 and --cert-type name the kind; nullopt: detected when the file is read. A usage error in message.
std::optional<inspect::Format> forced_format(const RawInspectArgs& raw, std::optional<std::string>& message) {
  const std::string type = ascii_upper(raw.cert_type);
  if (!type.empty() && type != "P12" && type != "PEM") {
    message = "--cert-type must be P12 or PEM";
  } else if (!raw.p12.empty() && type == "PEM") {
    message = "--p12 names a PKCS#12 file; --cert-type PEM contradicts it";
  } else if (!raw.p12.empty() || type == "P12") {
    return inspect::Format::pkcs12;
  } else if (type == "PEM") {
    return inspect::Format::pem;
  }
  return std::nullopt;
}

constexpr const char* kKeyForPkcs12 = "--key goes with a PEM certificate; a PKCS#12 file carries its own key";

// inspect pkcs11:...: one URI (FILE, --cert or --key), its module and PIN; no file, password or key file.
InspectCommand token_inspect_command(const RawInspectArgs& raw, const std::string& uri, InspectCommand cmd) {
  auto usage = [&](std::string msg) {
    if (!cmd.usage_error) cmd.usage_error = std::move(msg);
    if (cmd.options.identity.pin) wipe_secret(cmd.options.identity.pin);
    return cmd;
  };
  cmd.file = redact_pkcs11_uri(uri);
  cmd.format = inspect::Format::pkcs11;
  const int named = !raw.file.empty() + !raw.p12.empty() + !raw.cert.empty() + !raw.key.empty();
  if (named > 1 && !(raw.file.empty() && raw.p12.empty() && raw.cert == raw.key))
    return usage("give the PKCS#11 URI once (FILE, --cert or --key), with no identity file beside it");
  if (!raw.cert_type.empty()) return usage("--cert-type does not go with a PKCS#11 URI");
  if (!raw.pass.empty() || !raw.p12_password_env.empty() || !raw.p12_password_file.empty())
    return usage("a PKCS#11 token takes a PIN (--pin-env / --pin-file), not a password");
  if (auto err = check_pkcs11_uri("the URI", uri)) return usage(*err);
  cmd.options.identity.pkcs11_key_uri = uri;
  cmd.options.cacert_file = raw.cacert;
  auto revocation = make_revocation_options(raw.revocation);
  if (!revocation) return usage(revocation.error());
  cmd.options.revocation = std::move(*revocation);
  TokenSetup token =
      resolve_token_options({raw.pkcs11_module, raw.pin_env, raw.pin_file}, true, cmd.options.identity);
  if (token.usage_error) return usage(*token.usage_error);
  cmd.identity_error = std::move(token.read_error);
  return cmd;
}

}  // namespace

CLI::App* add_inspect_command(CLI::App& app, RawInspectArgs& r) {
  auto* cmd = app.add_subcommand(
      "inspect", "examine a client identity (.p12/.pfx or PEM) without any network: contents and problems");
  cmd->add_option("file", r.file,
                  "identity FILE: PKCS#12 (.p12/.pfx) or PEM certificate (+ chain, + key), or a PKCS#11 URI "
                  "'pkcs11:token=...' (what the token holds; with a PIN, its key checked)")
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
  cmd->add_option("--pkcs11-module", r.pkcs11_module,
                  "PKCS#11 module for a pkcs11: URI (default: p11-kit's proxy module)")
      ->type_name("PATH")
      ->group(id);
  cmd->add_option("--pin-env", r.pin_env, "read the token's PIN from environment VAR (one login)")
      ->type_name("VAR")
      ->group(id);
  cmd->add_option("--pin-file", r.pin_file, "read the token's PIN from the first line of FILE (one login)")
      ->type_name("FILE")
      ->group(id);
  const std::string checks = "Checks and output";
  cmd->add_option("--cacert", r.cacert,
                  "CA certificates (PEM): does the chain verify to them for client auth")
      ->type_name("FILE")
      ->group(checks);
  cmd->add_flag("--json", r.json, "print exactly one JSON object on stdout")->group(checks);
  add_revocation_options(*cmd, r.revocation, checks);
  cmd->footer(
      "Exit codes: 0 usable for client authentication, 1 usage-error, 2 identity-error.\n"
      "With --json every outcome, a usage error included, is one JSON object on stdout; without it, a usage\n"
      "error is told on stderr (docs/exit-codes.md).");
  return cmd;
}

InspectCommand make_inspect_command(const RawInspectArgs& raw) {
  InspectCommand cmd;
  cmd.json = raw.json;
  PasswordOptions given{raw.p12_password_env, raw.p12_password_file, raw.pass, std::nullopt};
  auto usage = [&](std::string msg) {
    wipe_secret(given.cert_password);
    wipe_secret(given.pass);
    if (!cmd.usage_error) cmd.usage_error = std::move(msg);
    return cmd;
  };

  const std::string uri = is_pkcs11_uri(raw.file)   ? raw.file
                          : is_pkcs11_uri(raw.cert) ? raw.cert
                          : is_pkcs11_uri(raw.key)  ? raw.key
                                                    : std::string();
  if (!uri.empty()) return token_inspect_command(raw, uri, std::move(cmd));
  TokenSetup token =
      resolve_token_options({raw.pkcs11_module, raw.pin_env, raw.pin_file}, false, cmd.options.identity);
  if (token.usage_error) return usage(*token.usage_error);
  std::string cert_file;
  if (!raw.cert.empty()) {
    auto [file, pw] = split_cert_password(raw.cert);
    cert_file = std::move(file);
    given.cert_password = std::move(pw);
    if (cert_file.empty()) return usage("--cert needs a file name");
  }
  const int named = !raw.file.empty() + !raw.p12.empty() + !cert_file.empty();
  cmd.file = !raw.file.empty() ? raw.file : !raw.p12.empty() ? raw.p12 : cert_file;
  if (named == 0) return usage("no identity file given: mtls-probe inspect FILE (.p12/.pfx or PEM)");
  if (named > 1) return usage("give the identity file once: FILE, --p12 FILE or --cert FILE");

  std::optional<std::string> bad_type;
  cmd.format = forced_format(raw, bad_type);
  if (bad_type) return usage(*bad_type);
  if (!raw.key.empty() && cmd.format == inspect::Format::pkcs12) return usage(kKeyForPkcs12);

  PasswordSource pw = resolve_password_source(std::move(given), true);
  cmd.warnings = std::move(pw.warnings);
  if (pw.usage_error) return usage(*pw.usage_error);
  cmd.identity_error = std::move(pw.read_error);
  cmd.options.identity.key_file = raw.key;
  cmd.options.identity.password = std::move(pw.password);
  cmd.options.cacert_file = raw.cacert;
  auto revocation = make_revocation_options(raw.revocation);
  if (!revocation) return usage(revocation.error());
  cmd.options.revocation = std::move(*revocation);
  return cmd;
}

namespace {

// Prints the facts as the chosen printer does; the exit code is the result's.
int print_inspect_result(const InspectCommand& cmd, inspect::IdentityFacts facts, std::ostream& out,
                         bool color) {
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

template <typename EmitUsage>
int execute_token_inspect(InspectCommand& cmd, std::ostream& out, EmitUsage& emit_usage, bool color) {
  inspect::IdentityFacts facts;
  if (cmd.identity_error) {
    facts.file = cmd.file;
    facts.format = inspect::Format::pkcs11;
    facts.identity_error = cmd.identity_error;
  } else {
    auto gathered = inspect::gather_token_facts(cmd.options);
    wipe_secret(cmd.options.identity.pin);
    if (!gathered) {
      const Error& e = gathered.error();
      return emit_usage(e.openssl_detail.empty() ? e.message : e.message + " (" + e.openssl_detail + ")");
    }
    facts = std::move(gathered.value());
  }
  return print_inspect_result(cmd, std::move(facts), out, color);
}

}  // namespace

int execute_inspect(InspectCommand& cmd, std::ostream& out, std::ostream& err, spdlog::logger& log,
                    bool color) {
  auto emit_usage = [&](const std::string& message) {
    wipe_secret(cmd.options.identity.password);
    if (!cmd.json) return print_usage_error(err, "inspect", message);
    out << inspect::usage_error_json(message, cmd.file)
               .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
        << '\n';
    out.flush();
    return kExitUsage;
  };
  for (const auto& w : cmd.warnings) log.warn("warning: {}", w);
  if (cmd.usage_error) return emit_usage(*cmd.usage_error);
  if (cmd.format == inspect::Format::pkcs11) return execute_token_inspect(cmd, out, emit_usage, color);

  const inspect::IdentityFile file = inspect::read_identity(cmd.file, cmd.format);
  if (!cmd.options.identity.key_file.empty() && file.format == inspect::Format::pkcs12)
    return emit_usage(kKeyForPkcs12);
  inspect::IdentityFacts facts;
  if (cmd.identity_error) {
    facts.file = cmd.file;
    facts.format = file.format;
    facts.identity_error = cmd.identity_error;
  } else {
    auto gathered = inspect::gather_facts(cmd.options, file);
    if (!gathered) {
      const Error& e = gathered.error();
      return emit_usage(e.openssl_detail.empty() ? e.message : e.message + " (" + e.openssl_detail + ")");
    }
    facts = std::move(gathered.value());
  }
  wipe_secret(cmd.options.identity.password);
  return print_inspect_result(cmd, std::move(facts), out, color);
}

int report_inspect_usage_error(const std::string& message, bool json) {
  InspectCommand cmd;
  cmd.json = json;
  cmd.usage_error = message;
  auto log = make_stderr_logger(0);
  return execute_inspect(cmd, std::cout, std::cerr, *log, false);
}

int run_inspect_command(RawInspectArgs& raw, bool json_before) {
  InspectCommand cmd = make_inspect_command(raw);
  if (json_before) cmd.json = true;
  wipe_secret(raw.pass);
  wipe_secret(raw.cert);
  auto log = make_stderr_logger(0);
  spdlog::set_default_logger(log);
  return execute_inspect(cmd, std::cout, std::cerr, *log, use_color(STDOUT_FILENO));
}

}  // namespace mtls_probe::tool
