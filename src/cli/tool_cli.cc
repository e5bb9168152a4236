#include "tool_cli.h"

#include <openssl/crypto.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>

#include "body_file.h"
#include "config_file.h"
#include "front_end.h"
#include "mtls_probe/diagnosis/diagnosis.h"
#include "mtls_probe/engine/probe.h"
#include "mtls_probe/engine/probe_log.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/report/report.h"
#include "mtls_probe/report/text_layout.h"
#include "redirect.h"
#include "mtls_probe/report/write_out.h"
#include "tool_docs.h"
#include "tool_version.h"

namespace mtls_probe::tool {
namespace {

// How the report is shown: -i's headers, -o -'s body on stdout (the report then on stderr), -w after it.
struct Presentation {
  bool include_headers = false;
  bool report_to_stderr = false;
  std::optional<std::string> write_out;  // the format, @FILE already read
};

// -w after the report. With --json stdout stays one JSON object: write-out then goes to stderr, whatever
// %{stdout} says.
void emit_write_out(const ProbeResult& result, const std::string& format, bool json) {
  const WriteOut w = render_write_out(result, format, json ? WriteOutStream::err : WriteOutStream::out, json);
  for (const auto& warning : w.warnings) std::cerr << "mtls-probe: warning: " << warning << '\n';
  for (const auto& piece : w.pieces)
    (piece.stream == WriteOutStream::out ? std::cout : std::cerr) << piece.text;
  std::cout.flush();
}

// The probe's usage errors are its report, like every other outcome: text or JSON on stdout (exit 1).
int emit(const ProbeResult& result, bool json, const Presentation& how = {}) {
  std::ostream& report = how.report_to_stderr ? std::cerr : std::cout;
  const int fd = how.report_to_stderr ? STDERR_FILENO : STDOUT_FILENO;
  if (json) {
    report << to_json(result).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    TextStyle style{use_color(fd), text::output_width(fd)};
    style.include_headers = how.include_headers;
    report << render_text(result, style);
  }
  report.flush();
  if (how.write_out) emit_write_out(result, *how.write_out, json);
  return exit_code(result.diagnosis.verdict);
}

constexpr std::size_t kMaxWriteOutBytes = 1 << 20;  // a write-out format is a line or two; this is not one

// -w @FILE / @-: the format read whole (bounded); anything else is the format itself. Else a usage error.
Expected<std::string, std::string> read_write_out(const std::string& given) {
  if (!given.starts_with("@")) return given;
  const std::string name = given.substr(1);
  auto text = read_small_text_file(name, kMaxWriteOutBytes);
  if (!text) return Unexpected{"-w: cannot read " + name + ": " + text.error()};
  if (text->size() > kMaxWriteOutBytes)
    return Unexpected{
        fmt::format("-w: {} is larger than {} bytes: not a write-out format", name, kMaxWriteOutBytes)};
  return text;
}

// -o FILE and -w @FILE, before any network: a file that cannot be opened is a usage error.
std::optional<std::string> open_output_files(ProbeCommand& cmd, Presentation& how) {
  how.include_headers = cmd.include_headers;
  if (!cmd.write_out.empty()) {
    auto format = read_write_out(cmd.write_out);
    if (!format) return format.error();
    how.write_out = std::move(format.value());
  }
  if (cmd.output_file.empty()) return std::nullopt;
  auto sink = open_body_file(cmd.output_file);
  if (!sink) return sink.error();
  cmd.target.http.body_sink = std::move(sink.value());
  how.report_to_stderr = cmd.output_file == "-";
  return std::nullopt;
}

int probe_usage_error(const std::string& message, bool json) {
  ProbeResult result;
  result.facts.usage_error = message;
  result.diagnosis = diagnose(result.facts);
  return emit(result, json);
}

// The same origin without the proxy, bounded to a few seconds, to compare the certificate it shows with the
// one that came through the proxy (TLS interception). The direct path is often closed: that is a fact too.
DirectPathFacts probe_directly(const TargetOptions& target, const ClientTlsContext& ctx,
                               const ProbeLog& log) {
  TargetOptions direct = target;
  direct.proxy.reset();
  direct.proxy_source.clear();
  direct.http.body_sink.reset();  // -o's file holds the proxied probe's body only
  direct.connect_timeout = std::min(direct.connect_timeout, std::chrono::milliseconds(5000));
  direct.max_time = std::min(direct.max_time, std::chrono::milliseconds(5000));
  log.debug("comparing with a direct probe of {} (without the proxy)", target.url.authority());
  const ProbeFacts d = run_probe(direct, ctx, ProbeLog{});
  DirectPathFacts out;
  if (d.server_cert) {
    out.reachable = true;
    out.server_cert_subject = d.server_cert->subject;
    out.server_cert_issuer = d.server_cert->issuer;
    out.client_cert_requested = d.client_cert_requested;
  } else {
    out.error = diagnose(d).summary;
  }
  return out;
}

// One target: the probe, and the comparison without the proxy when its facts call for one.
ProbeFacts probe_target(const TargetOptions& target, const ClientTlsContext& ctx, const ProbeLog& log) {
  ProbeFacts facts = run_probe(target, ctx, log);
  facts.timeout_limit = time_limit_flag(facts);  // the engine says which limit; the front end names it
  if (wants_direct_comparison(facts)) facts.direct_path = probe_directly(target, ctx, log);
  return facts;
}

// A hop that was followed, for the last hop's report: its own verdict, and what its client auth did.
RedirectHop hop_record(const ProbeFacts& f, const RedirectPlan& plan, std::string method, bool auth_dropped) {
  RedirectHop hop;
  hop.url = f.url;
  hop.method = std::move(method);
  hop.status = plan.status;
  hop.location = plan.location;
  hop.next_url = plan.next_url;
  const Diagnosis d = diagnose(f);
  hop.verdict = std::string(verdict_name(d.verdict));
  hop.summary = d.summary;
  hop.connected_address = f.connected_address;
  hop.client_cert_requested = f.client_cert_requested;
  hop.client_cert_sent = f.client_cert_sent;
  hop.acceptable_ca_names = f.acceptable_ca_names;
  hop.auth_headers_dropped = auth_dropped;
  hop.total_ms = f.total_ms;
  return hop;
}

// -L: each redirect is a whole probe of the next URL (its own DNS, TCP, TLS and client auth) with the same
// identity and trust; the facts returned are the last hop's, with the hops before it.
ProbeFacts follow_redirects(const RawProbeArgs& first, ProbeFacts facts, const ClientTlsContext& ctx,
                            const std::shared_ptr<spdlog::logger>& logger,
                            const std::shared_ptr<BodySink>& body_sink) {
  const ProbeLog log(logger, "");
  std::vector<RedirectHop> hops;
  RawProbeArgs raw = first;
  for (;;) {
    const RedirectPlan plan = plan_redirect(facts, raw.url, static_cast<int>(hops.size()), first.max_redirs);
    if (plan.kind == RedirectPlan::Kind::too_many)
      facts.max_redirs_exceeded = static_cast<int>(first.max_redirs);
    if (plan.kind == RedirectPlan::Kind::plain_http) facts.redirect_not_followed = "it leads to plain HTTP";
    if (plan.kind == RedirectPlan::Kind::unusable) facts.redirect_not_followed = plan.problem;
    if (plan.kind != RedirectPlan::Kind::follow) break;
    bool auth_dropped = false;
    RawProbeArgs next = next_hop_args(first, raw, plan, auth_dropped);
    ProbeCommand cmd = make_probe_command(next, process_environment());  // the proxy is chosen per host
    if (cmd.usage_error) {
      facts.redirect_not_followed = redact_urls_in_text(*cmd.usage_error);
      break;
    }
    cmd.target.http.body_sink = body_sink;  // -o's file gets the last hop's body (redirects' are skipped)
    hops.push_back(hop_record(facts, plan, effective_method(raw), auth_dropped));
    log.debug("following {} {} to {}", plan.status, hops.back().url, plan.next_url);
    facts = probe_target(cmd.target, ctx, ProbeLog(logger, fmt::format("[hop {}] ", hops.size() + 1)));
    raw = std::move(next);
  }
  facts.follow_redirects = true;
  facts.redirects = std::move(hops);
  return facts;
}

// Identity -> TLS context (per run, shared by every hop of -L) -> the probe (per target).
ProbeFacts execute(ProbeCommand& cmd, const RawProbeArgs& raw,
                   const std::shared_ptr<spdlog::logger>& logger) {
  const ProbeLog log(logger, "");  // the first (or only) probe: its trace lines carry no tag
  ProbeFacts facts;
  std::vector<inspect::LocalCrl> crls;  // --crl: read before any network, a bad file is a usage error
  if (cmd.revocation) {
    auto loaded = inspect::load_crl_files(cmd.revocation->crl_files);
    if (!loaded) {
      facts.url = redact_url(cmd.target.url_text);
      facts.usage_error = loaded.error().message;
      return facts;
    }
    crls = std::move(*loaded);
  }
  IdentityOptions& id = cmd.run.identity;
  std::shared_ptr<const ClientIdentity> identity;
  if (id.configured()) {
    auto loaded = load_client_identity(id);
    if (id.password) OPENSSL_cleanse(id.password->data(), id.password->size());
    if (id.pin) OPENSSL_cleanse(id.pin->data(), id.pin->size());
    if (!loaded) {
      facts.url = redact_url(cmd.target.url_text);
      facts.identity_configured = true;
      facts.identity_source = identity_source_of(id);
      facts.identity_error = loaded.error();
      return facts;
    }
    identity = std::make_shared<const ClientIdentity>(std::move(loaded.value()));
    if (const auto& p = identity->pkcs11) {
      log.debug("PKCS#11: key \"{}\" on token \"{}\" ({} {}) through {}, module {}: logged in once, a test "
                "signature passed",
                p->object_label, p->token_label, p->token_manufacturer, p->token_model, p->backend, p->module);
    }
  }
  auto ctx = ClientTlsContext::create(cmd.run.tls, identity, id.no_cert, cmd.run.client_behaviour);
  if (!ctx) {
    facts.url = redact_url(cmd.target.url_text);
    facts.usage_error = ctx.error().message +
                        (ctx.error().openssl_detail.empty() ? "" : " (" + ctx.error().openssl_detail + ")");
    return facts;
  }
  facts = probe_target(cmd.target, **ctx, log);
  if (raw.location) facts = follow_redirects(raw, std::move(facts), **ctx, logger, cmd.target.http.body_sink);
  if (cmd.revocation && identity) {
    log.debug("checking the client certificate's revocation (OCSP / CRL)");
    facts.revocation = check_identity_revocation(*identity, *cmd.revocation, crls, cmd.run.tls.cacert_file);
  }
  return facts;
}

int run_probe_command(const RawProbeArgs& raw, bool json) {
  auto log = make_stderr_logger(raw.verbose);

  ProbeCommand cmd = make_probe_command(raw, process_environment());
  ProbeResult result;
  Presentation how;
  if (!cmd.usage_error) cmd.usage_error = open_output_files(cmd, how);
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
    for (const auto& w : cmd.warnings) log->warn("warning: {}", w);
    result.facts = execute(cmd, raw, log);
  }
  result.facts.warnings = cmd.warnings;
  result.diagnosis = diagnose(result.facts);
  return emit(result, cmd.json || json, how);
}

// A probe option given before a subcommand ("mtls-probe -k serve"): the subcommand would silently ignore
// it. inspect honours --json there (its output option has the same meaning); anything else is a usage
// error of the subcommand. Returns the message, or nullopt when there is none.
std::optional<std::string> probe_option_before(const CLI::App& app, const CLI::App& sub, bool json_allowed,
                                               bool verbose_allowed = false) {
  for (const CLI::Option* o : app.get_options()) {
    if (o->count() == 0 || (json_allowed && o->check_lname("json")) ||
        (verbose_allowed && o->check_lname("verbose")))
      continue;
    const std::string name = o->nonpositional() ? o->get_name() : "a URL";
    return name + " is an option of the probe, not of '" + sub.get_name() + "'; give " + sub.get_name() +
           "'s options after '" + sub.get_name() + "'";
  }
  return std::nullopt;
}

// Each command tells its usage errors in its own form (the probe: its report; inspect: its JSON with --json,
// else stderr; serve: stderr). CLI11's message may quote an argument: URLs in it are redacted.
int parse_error(const CLI::ParseError& e, const CLI::App& inspect_cmd, const CLI::App& serve_cmd,
                const CLI::App& batch_cmd, bool json) {
  const std::string message = redact_urls_in_text(e.what());
  if (inspect_cmd.parsed()) return report_inspect_usage_error(message, json);
  if (serve_cmd.parsed()) return report_serve_usage_error(message);
  if (batch_cmd.parsed()) return report_batch_usage_error(message, json);
  return probe_usage_error(message, json);
}

// The subcommand in force after `words` (the probe's own app when none was named yet).
const CLI::App* app_after(const CLI::App& app, const std::vector<ArgWord>& words) {
  const CLI::App* current = &app;
  for (const auto& w : words) {
    auto subs = current->get_subcommands([&](const CLI::App* sub) { return sub->check_name(w.text); });
    if (!subs.empty()) current = subs.front();
  }
  return current;
}

// What CLI11 knows of an option name in `app` (or, as CLI11 falls through, its parents), for -K's files.
std::optional<OptionInfo> option_info(const CLI::App* app, std::string_view name) {
  if (name == "--url") return OptionInfo{"", true, false, true};
  for (; app != nullptr; app = app->get_parent()) {
    const CLI::Option* o = app->get_option_no_throw(std::string(name));
    if (o == nullptr || !o->nonpositional()) continue;
    OptionInfo info;
    info.long_name = o->get_lnames().empty() ? "-" + o->get_snames().front() : "--" + o->get_lnames().front();
    info.takes_value = o->get_items_expected_max() > 0;
    info.optional_value = info.takes_value && o->get_items_expected_min() == 0;
    return info;
  }
  return std::nullopt;
}

// The warning each secret option gives when its value is on the command line (not when it came from -K).
std::optional<std::string_view> visible_secret_warning(std::string_view long_name) {
  if (long_name == "--pass") return kPassVisible;
  if (long_name == "--cert") return kCertPasswordVisible;
  if (long_name == "--proxy-user") return kProxyPasswordVisible;
  if (long_name == "--proxy") return kProxyUrlPasswordVisible;
  return std::nullopt;
}

std::vector<std::string> warnings_not_to_give(const std::vector<ArgWord>& words) {
  std::vector<std::string> out;
  for (const auto& s : secret_options()) {
    auto warning = visible_secret_warning(s.long_name);
    if (warning && last_from_config(words, s.long_name, s.short_name)) out.emplace_back(*warning);
  }
  return out;
}

}  // namespace

Subcommands define_command_line(CLI::App& app, CommandLine& cl, bool with_batch_options) {
  app.name("mtls-probe");
  app.description("mtls-probe: probe an https URL with a client certificate and get one diagnosed verdict");
  app.set_version_flag(
      "--version", [&app] { return format_version(collect_version_info(app)); },
      "print the version, the libraries and OpenSSL providers, the features, and exit");
  app.footer(
      examples_text() +
      "\n"
      "Exit codes: 0 ok, 1 usage-error, 2 identity-error, 3 dns-failure, 4 connect-failure, 5 timeout,\n"
      "6 tls-handshake-failure, 7 server-cert-untrusted, 8 client-cert-required, 9 client-cert-rejected,\n"
      "10 http-error, 11 protocol-error, 12 proxy-error. A usage error is the report itself (text, or JSON\n"
      "with --json) on stdout. 'mtls-probe inspect --help' and 'mtls-probe serve --help' give theirs\n"
      "(docs/exit-codes.md).\n"
      "The manual: man mtls-probe.");
  add_probe_options(app, cl.probe);
  Subcommands subs;
  subs.serve = add_serve_command(app, cl.serve);
  subs.inspect = add_inspect_command(app, cl.inspect);
  subs.batch = add_batch_command(app, cl.batch, with_batch_options);
  return subs;
}

int run(int argc, char** argv) {
  // The engine never raises SIGPIPE (MSG_NOSIGNAL); this is for stdout: a reader that goes away early
  // (`mtls-probe URL | head -1`) must not change the exit code, which is the verdict's.
  std::signal(SIGPIPE, SIG_IGN);

  CLI::App app;
  // batch repeats every probe option; registering them costs about 2% of a whole probe's instructions, so
  // its options are added only when the command line names it (otherwise it cannot be parsed anyway).
  bool batch_named = false;
  for (int i = 1; i < argc; ++i) batch_named = batch_named || std::strcmp(argv[i], "batch") == 0;
  CommandLine cl;
  const Subcommands subs = define_command_line(app, cl, batch_named);
  CLI::App* serve_cmd = subs.serve;
  CLI::App* inspect_cmd = subs.inspect;
  CLI::App* batch_cmd = subs.batch;

  // CLI11 parses a copy, with -K's files expanded in place; the secrets in argv itself are overwritten before
  // anything else happens, so that `ps` shows them only for the instant before we got here (as curl does for
  // --cert's password and -u).
  const std::vector<std::string> given(argv + 1, argv + argc);
  blank_argv_secrets(app, argc, argv);
  ExpandContext expand;
  expand.lookup_for = [&app](const std::vector<ArgWord>& before) -> OptionLookup {
    const CLI::App* in = app_after(app, before);
    return [in](std::string_view name) { return option_info(in, name); };
  };
  auto words = expand_config_args(given, expand);

  // --json must shape even a usage error, so it is known before CLI11 has parsed anything.
  bool json = false;
  for (const auto& w : words ? *words : std::vector<ArgWord>{}) json = json || w.text == "--json";
  for (const auto& g : given) json = json || g == "--json";
  if (!words) {
    const std::string message = redact_urls_in_text(words.error());
    for (const auto& g : given) {
      if (g == "batch") return report_batch_usage_error(message, json);
      if (g == "inspect") return report_inspect_usage_error(message, json);
      if (g == "serve") return report_serve_usage_error(message);
    }
    return probe_usage_error(message, json);
  }
  std::vector<std::string> args;
  for (auto it = words->rbegin(); it != words->rend(); ++it) args.push_back(it->text);  // CLI11: last first
  cl.probe.secrets_from_config = warnings_not_to_give(*words);
  cl.batch.probe.secrets_from_config = cl.probe.secrets_from_config;

  try {
    app.parse(args);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return parse_error(e, *inspect_cmd, *serve_cmd, *batch_cmd, json);
  }
  if (serve_cmd->parsed()) {
    if (auto bad = probe_option_before(app, *serve_cmd, false)) return report_serve_usage_error(*bad);
    return run_serve_command(cl.serve);
  }
  if (inspect_cmd->parsed()) {
    if (auto bad = probe_option_before(app, *inspect_cmd, true))
      return report_inspect_usage_error(*bad, json);
    return run_inspect_command(cl.inspect, cl.probe.json);
  }
  if (batch_cmd->parsed()) {
    // batch has every probe option of its own; --json and -v before it are honoured, as for inspect's --json.
    if (auto bad = probe_option_before(app, *batch_cmd, true, true))
      return report_batch_usage_error(*bad, json);
    // batch drives its probes in one loop of its own, which does not follow redirects: say so, not ignore it.
    if (cl.batch.probe.location || cl.batch.probe.max_redirs != RawProbeArgs{}.max_redirs)
      return report_batch_usage_error(
          "-L/--location and --max-redirs are not supported by batch: it reports each line's own answer "
          "(a 3xx is one); probe the target alone with -L to follow it",
          json || cl.batch.probe.json);
    cl.batch.probe.json = cl.batch.probe.json || cl.probe.json;
    cl.batch.probe.verbose += cl.probe.verbose;
    return run_batch_command(cl.batch);
  }
  return run_probe_command(cl.probe, json);
}

}  // namespace mtls_probe::tool
