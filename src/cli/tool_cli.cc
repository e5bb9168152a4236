#include "tool_cli.h"

#include <openssl/crypto.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <iostream>

#include "mtls_probe/diagnosis/diagnosis.h"
#include "mtls_probe/engine/probe.h"
#include "mtls_probe/engine/probe_log.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/report/report.h"
#include "mtls_probe/report/text_layout.h"
#include "tool_batch.h"
#include "tool_inspect.h"
#include "tool_options.h"
#include "tool_serve.h"

namespace mtls_probe::tool {
namespace {

std::shared_ptr<spdlog::logger> setup_logging(int verbose) {
  auto logger = spdlog::stderr_logger_mt("mtls-probe");
  logger->set_pattern("* %v");
  logger->set_level(verbose > 0 ? spdlog::level::debug : spdlog::level::warn);
  spdlog::set_default_logger(logger);
  return logger;
}

bool use_color() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  return isatty(STDOUT_FILENO) == 1;
}

int emit(const ProbeResult& result, bool json) {
  if (json) {
    std::cout << to_json(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    std::cout << render_text(result, TextStyle{use_color(), text::output_width(STDOUT_FILENO)});
  }
  std::cout.flush();
  return exit_code(result.diagnosis.verdict);
}

// Identity -> TLS context (per run) -> the probe (per target).
ProbeFacts execute(ProbeCommand& cmd, const ProbeLog& log) {
  ProbeFacts facts;
  IdentityOptions& id = cmd.run.identity;
  std::shared_ptr<const ClientIdentity> identity;
  if (id.configured()) {
    auto loaded = load_client_identity(id);
    if (id.password) OPENSSL_cleanse(id.password->data(), id.password->size());
    if (!loaded) {
      facts.url = redact_url(cmd.target.url_text);
      facts.identity_configured = true;
      facts.identity_error = loaded.error();
      return facts;
    }
    identity = std::make_shared<const ClientIdentity>(std::move(loaded.value()));
  }
  auto ctx = ClientTlsContext::create(cmd.run.tls, identity, id.no_cert, cmd.run.client_behaviour);
  if (!ctx) {
    facts.url = redact_url(cmd.target.url_text);
    facts.usage_error = ctx.error().message +
                        (ctx.error().openssl_detail.empty() ? "" : " (" + ctx.error().openssl_detail + ")");
    return facts;
  }
  facts = run_probe(cmd.target, **ctx, log);
  facts.timeout_limit = time_limit_flag(facts);  // the engine says which limit; the front end names it
  return facts;
}

}  // namespace

int run(int argc, char** argv) {
  // The engine never raises SIGPIPE (MSG_NOSIGNAL); this is for stdout: a reader that goes away early
  // (`mtls-probe URL | head -1`) must not change the exit code, which is the verdict's.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app{"mtls-probe: probe an https URL with a client certificate and get one diagnosed verdict",
               "mtls-probe"};
  app.set_version_flag("--version", std::string("mtls-probe ") + MTLS_PROBE_VERSION);
  app.footer(
      "Exit codes: 0 ok, 1 usage-error, 2 identity-error, 3 dns-failure, 4 connect-failure, 5 timeout,\n"
      "6 tls-handshake-failure, 7 server-cert-untrusted, 8 client-cert-required, 9 client-cert-rejected,\n"
      "10 http-error, 11 protocol-error.");
  RawProbeArgs raw;
  add_probe_options(app, raw);
  CLI::App* serve_cmd = add_serve_command(app);
  CLI::App* inspect_cmd = add_inspect_command(app);
  CLI::App* batch_cmd = add_batch_command(app);

  // --json must shape even a usage error, so it is known before CLI11 has parsed anything.
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--json") == 0) json = true;
  }

  // CLI11 parses a copy; the secrets in argv itself are overwritten before anything else happens, so that
  // `ps` shows them only for the instant before we got here (as curl does for --cert's password and -u).
  std::vector<std::string> args;
  for (int i = argc - 1; i > 0; --i) args.emplace_back(argv[i]);  // CLI11 takes them last first
  blank_argv_secrets(app, argc, argv);

  ProbeResult result;
  try {
    app.parse(args);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Each subcommand tells its own usage errors in its own form (inspect: its JSON; serve: stderr).
    if (inspect_cmd->parsed()) return report_inspect_usage_error(redact_urls_in_text(e.what()), json);
    if (serve_cmd->parsed()) return report_serve_usage_error(redact_urls_in_text(e.what()));
    if (batch_cmd->parsed()) return report_batch_usage_error(redact_urls_in_text(e.what()), json);
    result.facts.usage_error = redact_urls_in_text(e.what());  // may quote an argument
    result.diagnosis = diagnose(result.facts);
    return emit(result, json);
  }
  if (serve_cmd->parsed()) return run_serve_command();
  if (inspect_cmd->parsed()) return run_inspect_command();
  if (batch_cmd->parsed()) return run_batch_command();
  const ProbeLog log(setup_logging(raw.verbose), "");  // one probe: its trace lines carry no tag

  ProbeCommand cmd = make_probe_command(raw);
  if (cmd.usage_error) {
    result.facts.url = redact_url(raw.url);
    result.facts.usage_error = cmd.usage_error;
  } else if (cmd.identity_error) {
    result.facts.url = redact_url(raw.url);
    result.facts.identity_configured = true;
    result.facts.identity_error = cmd.identity_error;
  } else {
    if (cmd.run.tls.insecure) {
      cmd.warnings.push_back(
          "-k/--insecure: a server certificate that fails verification will not stop the probe");
    }
    for (const auto& w : cmd.warnings) spdlog::warn("warning: {}", w);
    result.facts = execute(cmd, log);
  }
  result.facts.warnings = cmd.warnings;
  result.diagnosis = diagnose(result.facts);
  return emit(result, cmd.json || json);
}

}  // namespace mtls_probe::tool
