#include "tool_batch.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "front_end.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/report/batch_report.h"
#include "mtls_probe/report/text_layout.h"

namespace mtls_probe::tool {
namespace {

constexpr std::size_t kMaxParallel = 4096;
constexpr std::size_t kMaxTargetsBytes = 64u << 20;

// A file name back into --cert's FILE[:PASSWORD] spelling: a colon of the name is escaped.
std::string escape_cert_file(const std::string& file) {
  std::string out;
  for (char c : file) {
    if (c == ':') out += '\\';
    out += c;
  }
  return out;
}

// The global options minus every password source (the password is read once, for the whole run).
RawProbeArgs without_password(const RawProbeArgs& g) {
  RawProbeArgs r = g;
  r.pass.clear();
  r.p12_password_env.clear();
  r.p12_password_file.clear();
  if (!r.cert.empty()) {
    auto [file, pw] = split_cert_password(r.cert);
    if (pw) OPENSSL_cleanse(pw->data(), pw->size());
    r.cert = escape_cert_file(file);
  }
  return r;
}

// The line's words over the global options.
RawProbeArgs merge(const RawProbeArgs& globals, const batch::TargetLine& line) {
  RawProbeArgs r = globals;
  const batch::TargetOverrides& o = line.overrides;
  r.url = line.url;
  if (o.p12) {
    r.p12 = *o.p12;
    r.cert.clear();
    r.cert_type.clear();
    r.key.clear();
  }
  if (o.cert) {  // a line's cert= comes with its own key= (or the key is in the same file)
    r.cert = escape_cert_file(*o.cert);
    r.cert_type.clear();
    r.p12.clear();
    r.key = o.key.value_or("");
  }
  if (o.no_cert) r.no_cert = true;
  if (o.cacert) {
    r.cacert = *o.cacert;
    r.capath.clear();
  }
  if (o.servername) r.servername = *o.servername;
  if (o.method) r.method = *o.method;
  if (o.tls_min) r.tls_min = *o.tls_min;
  if (o.tls_max) r.tls_max = *o.tls_max;
  if (o.max_time) r.max_time = *o.max_time;
  if (o.connect_timeout) r.connect_timeout = *o.connect_timeout;
  // The first matching --resolve wins: the line's come first.
  r.resolve.insert(r.resolve.begin(), o.resolve.begin(), o.resolve.end());
  return r;
}

// Reads all of fd (at most kMaxTargetsBytes); nullopt on success, else what went wrong.
std::optional<std::string> read_all(int fd, std::string& text) {
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return std::nullopt;
    if (n < 0) {
      if (errno == EINTR) continue;
      return std::string(std::strerror(errno));
    }
    if (text.size() + static_cast<std::size_t>(n) > kMaxTargetsBytes)
      return std::string("larger than 64 MiB");
    text.append(buf, static_cast<std::size_t>(n));
  }
}

std::optional<std::string> read_targets(const std::string& file, std::string& text) {
  if (file == "-") {
    if (auto err = read_all(STDIN_FILENO, text)) return "cannot read the targets from stdin: " + *err;
    return std::nullopt;
  }
  const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "cannot open the targets file " + file + ": " + std::strerror(errno);
  struct stat st {};
  std::optional<std::string> err;
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    err = "the targets file " + file + " is a directory";
  } else if (auto e = read_all(fd, text)) {
    err = "cannot read the targets file " + file + ": " + *e;
  }
  ::close(fd);
  return err;
}

}  // namespace

CLI::App* add_batch_command(CLI::App& app, RawBatchArgs& raw) {
  auto* cmd = app.add_subcommand(
      "batch",
      "probe many targets concurrently: one URL per line with optional key=value words ('#' comments)");
  add_probe_options(*cmd, raw.probe);
  cmd->remove_option(cmd->get_option("url"));
  cmd->get_option("--json")->description("JSON Lines: one object per target as it finishes");
  cmd->get_option("--verbose")->description("each target's trace on stderr, its lines tagged [name]");
  cmd->add_option("targets_file", raw.targets_file, "TARGETS_FILE (- = stdin)")->type_name("TARGETS_FILE");
  cmd->add_option("-j,--parallel", raw.parallel, "probes in flight at once (default 32)")->group("Batch");
  cmd->add_option("--shard", raw.shard, "K/N: run only the target lines whose index mod N is K-1")
      ->group("Batch");
  cmd->footer(
      "Exit codes: 0 every target met its expectation, 13 at least one did not, 1 usage error of the run.\n"
      "Line keys: expect=V[,V] name= p12= cert= key= no-cert cacert= servername= resolve=H:P:A max-time=\n"
      "connect-timeout= method= tls-min= tls-max=");
  return cmd;
}

BatchPlan make_batch_plan(const RawBatchArgs& raw, std::string_view targets_text) {
  BatchPlan plan;
  if (raw.parallel < 1 || raw.parallel > kMaxParallel) {
    plan.usage_error = "-j/--parallel takes 1 to 4096";
    return plan;
  }
  plan.parallel = raw.parallel;
  batch::Shard shard;
  if (!raw.shard.empty()) {
    auto s = batch::parse_shard(raw.shard);
    if (!s) {
      plan.usage_error = s.error().message;
      return plan;
    }
    shard = *s;
  }

  // The global options, checked once (a placeholder URL: the targets bring their own).
  RawProbeArgs globals = raw.probe;
  globals.url = "https://batch.invalid/";
  // A password source with no global identity is for the lines' p12=/cert= (no file is read here).
  const bool password_source =
      !raw.probe.pass.empty() || !raw.probe.p12_password_env.empty() || !raw.probe.p12_password_file.empty();
  if (password_source && globals.p12.empty() && globals.cert.empty()) globals.p12 = "(the lines' identities)";
  ProbeCommand g = make_probe_command(globals);
  if (g.usage_error) {
    if (g.run.identity.password)
      OPENSSL_cleanse(g.run.identity.password->data(), g.run.identity.password->size());
    plan.usage_error = *g.usage_error;
    return plan;
  }
  plan.password = std::move(g.run.identity.password);
  plan.warnings = g.warnings;
  if (g.run.tls.insecure)
    plan.warnings.push_back(
        "-k/--insecure: a server certificate that fails verification will not stop the probe");

  const RawProbeArgs base = without_password(raw.probe);
  for (auto& line : batch::parse_targets(targets_text)) {
    if (!shard.contains(line.index)) continue;
    batch::BatchJob job;
    job.warnings = plan.warnings;
    if (!line.error) {
      ProbeCommand cmd = make_probe_command(merge(base, line));
      if (cmd.usage_error) {
        job.usage_error = *cmd.usage_error;
      } else {
        job.run = std::move(cmd.run);
        job.target = std::move(cmd.target);
        if (g.identity_error && job.run.identity.configured()) job.identity_error = g.identity_error;
      }
    }
    job.line = std::move(line);
    plan.jobs.push_back(std::move(job));
  }
  return plan;
}

int report_batch_usage_error(const std::string& message, bool json) {
  if (json) {
    ProbeResult result;
    result.facts.usage_error = message;
    result.diagnosis = diagnose(result.facts);
    std::cout << to_json(result).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    std::cout.flush();
  } else {
    std::cerr << "mtls-probe batch: " << escape_terminal(message) << '\n';
  }
  return 1;
}

int run_batch_command(RawBatchArgs& raw) {
  const bool json = raw.probe.json;
  auto wipe_raw = [&] {
    if (!raw.probe.pass.empty()) OPENSSL_cleanse(raw.probe.pass.data(), raw.probe.pass.size());
    if (!raw.probe.cert.empty()) OPENSSL_cleanse(raw.probe.cert.data(), raw.probe.cert.size());
  };
  if (raw.targets_file.empty()) {
    wipe_raw();
    return report_batch_usage_error("no TARGETS_FILE given (- reads the targets from stdin)", json);
  }
  const auto t0 = std::chrono::steady_clock::now();
  std::string text;
  if (auto err = read_targets(raw.targets_file, text)) {
    wipe_raw();
    return report_batch_usage_error(*err, json);
  }
  BatchPlan plan = make_batch_plan(raw, text);
  wipe_raw();
  if (plan.usage_error) return report_batch_usage_error(redact_urls_in_text(*plan.usage_error), json);

  std::shared_ptr<spdlog::logger> logger = make_stderr_logger(raw.probe.verbose);
  for (const auto& w : plan.warnings) logger->warn("warning: {}", w);

  batch::BatchOptions opts;
  opts.parallel = plan.parallel;
  opts.logger = logger;
  opts.password = plan.password;
  opts.finish = [](ProbeFacts& f) { f.timeout_limit = time_limit_flag(f); };
  if (plan.password) OPENSSL_cleanse(plan.password->data(), plan.password->size());
  batch::BatchRunner runner(std::move(opts));

  const TextStyle style{use_color(STDOUT_FILENO), text::output_width(STDOUT_FILENO)};
  std::size_t label_width = 0;
  for (const auto& j : plan.jobs)
    label_width = std::max(
        label_width,
        text::display_width(escape_terminal(j.line.name.empty() ? redact_url(j.line.url) : j.line.name)));
  label_width = std::min<std::size_t>(label_width, 48);

  std::size_t total = 0, met = 0;
  std::vector<BatchFailure> failures;
  runner.run(plan.jobs, [&](const batch::BatchResult& r) {
    ++total;
    if (r.met) ++met;
    if (json) {
      std::cout << batch_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      std::cout << batch_row(r, style, label_width);
      if (!r.met) failures.push_back(batch_failure(r));
    }
    std::cout.flush();
  });
  if (!json) {
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << render_batch_failures(failures, style) << batch_summary(total, met, seconds);
    std::cout.flush();
  }
  return met == total ? 0 : kBatchUnmetExit;
}

}  // namespace mtls_probe::tool
