#include "tool_batch.h"

#include <fcntl.h>
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>

#include "atomic_file.h"
#include "front_end.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/pkcs11_uri.h"
#include "mtls_probe/report/batch_junit.h"
#include "mtls_probe/report/batch_metrics.h"
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
  r.pin_env.clear();
  r.pin_file.clear();
  if (!r.cert.empty() && !is_pkcs11_uri(r.cert)) {
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

// The progress line on stderr: "37/412 done, 12.3/s, ETA 31s", redrawn in place with \r.
class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  Progress(bool enabled, std::size_t total, Clock::time_point t0)
      : enabled_(enabled), total_(total), t0_(t0) {}
  ~Progress() { clear(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  bool enabled() const { return enabled_; }

  // Redraws (at most 10 times a second unless forced; always when the last target is done).
  void draw(std::size_t done, bool force) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (!force && done < total_ && drawn_ > 0 && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    std::string line = batch_progress(done, total_, std::chrono::duration<double>(now - t0_).count());
    const std::size_t width = text::output_width(STDERR_FILENO);
    if (width > 1 && line.size() >= width) line.resize(width - 1);
    std::string out = "\r" + line;
    if (line.size() < drawn_) out += std::string(drawn_ - line.size(), ' ') + "\r" + line;
    drawn_ = line.size();
    std::cerr << out << std::flush;
  }

  // Blanks the line (before other output, and at the end).
  void clear() {
    if (!enabled_ || drawn_ == 0) return;
    std::cerr << '\r' << std::string(drawn_, ' ') << '\r' << std::flush;
    drawn_ = 0;
  }

 private:
  bool enabled_;
  std::size_t total_;
  Clock::time_point t0_, last_{};
  std::size_t drawn_ = 0;
};

// Calls tick() every `every` from a thread of its own until destroyed, so that the progress line's rate and
// ETA move on while targets hang and none finishes.
class Ticker {
 public:
  Ticker(std::function<void()> tick, std::chrono::milliseconds every)
      : thread_([this, tick = std::move(tick), every] {
          std::unique_lock lock(mutex_);
          while (!stop_) {
            if (wake_.wait_for(lock, every, [this] { return stop_; })) break;
            lock.unlock();
            tick();
            lock.lock();
          }
        }) {}
  ~Ticker() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }
  Ticker(const Ticker&) = delete;
  Ticker& operator=(const Ticker&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members above exist
};

std::optional<std::string> parse_warn_days(const std::string& text, long& out) {
  const std::string msg = fmt::format("--warn-days takes a whole number of days from 0 to {}", kMaxWarnDays);
  if (text.empty() || text.size() > 7) return msg;
  long v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return msg;
    v = v * 10 + (c - '0');
  }
  if (v > kMaxWarnDays) return msg;
  out = v;
  return std::nullopt;
}

}  // namespace

bool show_progress(bool stderr_is_tty, const char* no_color, bool no_progress, int verbose) {
  return stderr_is_tty && (no_color == nullptr || *no_color == '\0') && !no_progress && verbose == 0;
}

CLI::App* add_batch_command(CLI::App& app, RawBatchArgs& raw, bool with_options) {
  auto* cmd = app.add_subcommand(
      "batch",
      "probe many targets concurrently: one URL per line with optional key=value words ('#' comments)");
  if (!with_options) return cmd;
  add_probe_options(*cmd, raw.probe);
  cmd->remove_option(cmd->get_option("url"));
  cmd->get_option("--json")->description("JSON Lines: one object per target as it finishes");
  cmd->get_option("--verbose")->description("each target's trace on stderr, its lines tagged [name]");
  cmd->add_option("targets_file", raw.targets_file, "TARGETS_FILE (- = stdin)")->type_name("TARGETS_FILE");
  cmd->add_option("-j,--parallel", raw.parallel, "probes in flight at once (default 32)")->group("Batch");
  cmd->add_option("--shard", raw.shard, "K/N: run only the target lines whose index mod N is K-1")
      ->group("Batch");
  cmd->add_option("--junit", raw.junit, "write a JUnit XML report to FILE when the run ends")
      ->type_name("FILE")
      ->group("Batch output");
  cmd->add_option("--metrics", raw.metrics, "write Prometheus metrics (textfile collector format) to FILE")
      ->type_name("FILE")
      ->group("Batch output");
  cmd->add_option("--warn-days", raw.warn_days,
                  "mark targets whose server or client certificate expires within N days (or has expired)")
      ->type_name("N")
      ->group("Batch output");
  cmd->add_flag("--fail-on-warn", raw.fail_on_warn, "exit 13 when any target has a --warn-days warning")
      ->group("Batch output");
  cmd->add_flag("--no-progress", raw.no_progress, "no progress line on stderr (drawn only on a terminal)")
      ->group("Batch output");
  cmd->footer(
      "Exit codes: 0 every target met its expectation, 13 at least one did not (or, with --fail-on-warn,\n"
      "a target has an expiry warning), 1 usage error of the run (or --junit/--metrics not written).\n"
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
  const RawProbeArgs& p = raw.probe;
  if (!p.output.empty() || !p.max_filesize.empty() || !p.write_out.empty() || p.include || p.head) {
    // One file or one write-out for many targets would mix them: these are the single probe's.
    plan.usage_error = "-o, --max-filesize, -w, -i and -I are options of a single probe, not of batch";
    return plan;
  }
  if (!raw.warn_days.empty()) {
    long days = 0;
    if (auto err = parse_warn_days(raw.warn_days, days)) {
      plan.usage_error = *err;
      return plan;
    }
    plan.warn_days = days;
  }
  if (raw.fail_on_warn && !plan.warn_days) {
    plan.usage_error = "--fail-on-warn needs --warn-days N";
    return plan;
  }
  if (!raw.junit.empty() && raw.junit == raw.metrics) {
    plan.usage_error = "--junit and --metrics name the same file";
    return plan;
  }
  for (const std::string* out : {&raw.junit, &raw.metrics}) {
    if (!out->empty() && *out == raw.targets_file) {
      plan.usage_error = "--junit/--metrics would overwrite the targets file " + *out;
      return plan;
    }
  }
  batch::Shard shard;
  if (!raw.shard.empty()) {
    auto s = batch::parse_shard(raw.shard);
    if (!s) {
      plan.usage_error = s.error().message;
      return plan;
    }
    shard = *s;
  }

  // The client certificate's revocation is checked by a single probe (or inspect), not per batch target.
  const RawRevocationArgs& rev = raw.probe.revocation;
  if (rev.check || !rev.crl.empty() || !rev.ocsp_url.empty() || rev.timeout) {
    plan.usage_error =
        "--check-revocation (--crl, --ocsp-url, --revocation-timeout) is not a batch option: "
        "check with mtls-probe inspect --check-revocation, or with one probe";
    return plan;
  }

  // The global options, checked once (a placeholder URL: the targets bring their own).
  RawProbeArgs globals = raw.probe;
  globals.url = "https://batch.invalid/";
  // A password source with no global identity is for the lines' p12=/cert= (no file is read here).
  const bool password_source =
      !raw.probe.pass.empty() || !raw.probe.p12_password_env.empty() || !raw.probe.p12_password_file.empty();
  if (password_source && globals.p12.empty() && globals.cert.empty()) globals.p12 = "(the lines' identities)";
  ProbeCommand g = make_probe_command(globals, process_environment());
  if (g.usage_error) {
    if (g.run.identity.password)
      OPENSSL_cleanse(g.run.identity.password->data(), g.run.identity.password->size());
    if (g.run.identity.pin) OPENSSL_cleanse(g.run.identity.pin->data(), g.run.identity.pin->size());
    plan.usage_error = *g.usage_error;
    return plan;
  }
  plan.password = std::move(g.run.identity.password);
  plan.pin = std::move(g.run.identity.pin);
  plan.warnings = g.warnings;
  if (g.run.tls.insecure)
    plan.warnings.push_back(
        "-k/--insecure: a server certificate that fails verification will not stop the probe");

  plan.base = without_password(raw.probe);
  plan.identity_error = g.identity_error;
  for (auto& line : batch::parse_targets(targets_text)) {
    if (shard.contains(line.index)) plan.lines.push_back(std::move(line));
  }
  return plan;
}

batch::BatchJob make_batch_job(const BatchPlan& plan, std::size_t i) {
  batch::BatchJob job;
  job.line = plan.lines[i];
  job.warnings = plan.warnings;
  if (job.line.error) return job;
  ProbeCommand cmd = make_probe_command(merge(plan.base, job.line), process_environment());
  if (cmd.usage_error) {
    job.usage_error = *cmd.usage_error;
    return job;
  }
  job.run = std::move(cmd.run);
  job.target = std::move(cmd.target);
  if (plan.identity_error && job.run.identity.configured()) job.identity_error = plan.identity_error;
  return job;
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
  const auto wall0 = std::chrono::system_clock::now();
  std::string text;
  if (auto err = read_targets(raw.targets_file, text)) {
    wipe_raw();
    return report_batch_usage_error(*err, json);
  }
  BatchPlan plan = make_batch_plan(raw, text);
  wipe_raw();
  if (plan.usage_error) return report_batch_usage_error(redact_urls_in_text(*plan.usage_error), json);

  // The output files: their temp files now, so that an unwritable place is known before any probe.
  AtomicFile junit_file, metrics_file;
  if (!raw.junit.empty()) {
    if (auto err = junit_file.open(raw.junit)) return report_batch_usage_error("--junit: " + *err, json);
  }
  if (!raw.metrics.empty()) {
    if (auto err = metrics_file.open(raw.metrics))
      return report_batch_usage_error("--metrics: " + *err, json);
  }

  std::shared_ptr<spdlog::logger> logger = make_stderr_logger(raw.probe.verbose);
  for (const auto& w : plan.warnings) logger->warn("warning: {}", w);

  batch::BatchOptions opts;
  opts.parallel = plan.parallel;
  opts.logger = logger;
  opts.password = plan.password;
  opts.pin = plan.pin;
  opts.warn_days = plan.warn_days;
  opts.finish = [](ProbeFacts& f) { f.timeout_limit = time_limit_flag(f); };
  if (plan.password) OPENSSL_cleanse(plan.password->data(), plan.password->size());
  if (plan.pin) OPENSSL_cleanse(plan.pin->data(), plan.pin->size());
  batch::BatchRunner runner(std::move(opts));

  const TextStyle style{use_color(STDOUT_FILENO), text::output_width(STDOUT_FILENO)};
  std::size_t label_width = 0;
  for (const auto& line : plan.lines)
    label_width =
        std::max(label_width,
                 text::display_width(escape_terminal(line.name.empty() ? redact_url(line.url) : line.name)));
  label_width = std::min<std::size_t>(label_width, 48);

  Progress progress(show_progress(::isatty(STDERR_FILENO) == 1, std::getenv("NO_COLOR"), raw.no_progress,
                                  raw.probe.verbose),
                    plan.lines.size(), t0);
  // On one terminal the progress line is blanked before each row and redrawn after it.
  const bool stdout_tty = ::isatty(STDOUT_FILENO) == 1;
  progress.draw(0, true);

  std::size_t total = 0, met = 0, warned = 0;
  std::vector<BatchFailure> failures;
  std::vector<JunitCase> junit_cases;
  std::vector<MetricsTarget> metrics_targets;
  // The runner calls back one result at a time; the ticker's redraw takes the same lock, so it never cuts
  // into a row.
  std::mutex output;
  std::optional<Ticker> ticker;
  if (progress.enabled())
    ticker.emplace(
        [&] {
          std::lock_guard lock(output);
          progress.draw(total, false);
        },
        std::chrono::milliseconds(250));
  const batch::JobSource jobs{plan.lines.size(), [&plan](std::size_t i) { return make_batch_job(plan, i); }};
  runner.run(jobs, [&](const batch::BatchResult& r) {
    std::lock_guard lock(output);
    ++total;
    if (r.met) ++met;
    if (r.expiry_warning) ++warned;
    if (junit_file.is_open()) junit_cases.push_back(junit_case(r));
    if (metrics_file.is_open()) metrics_targets.push_back(metrics_target(r));
    if (stdout_tty) progress.clear();
    if (json) {
      std::cout << batch_json(r).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    } else {
      std::cout << batch_row(r, style, label_width);
      if (!r.met || r.expiry_warning) failures.push_back(batch_failure(r));
    }
    std::cout.flush();
    progress.draw(total, stdout_tty);
  });
  ticker.reset();
  progress.clear();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!json) {
    std::cout << render_batch_failures(failures, style)
              << batch_summary(total, met, seconds,
                               plan.warn_days ? std::optional<std::size_t>(warned) : std::nullopt);
    std::cout.flush();
  }

  bool written = true;
  if (junit_file.is_open()) {
    JunitRun run;
    run.seconds = seconds;
    run.timestamp =
        fmt::format("{:%Y-%m-%dT%H:%M:%S}", fmt::gmtime(std::chrono::system_clock::to_time_t(wall0)));
    if (auto err = junit_file.commit(render_junit(junit_cases, run))) {
      std::cerr << "mtls-probe batch: --junit: " << escape_terminal(*err) << '\n';
      written = false;
    }
  }
  if (metrics_file.is_open()) {
    if (auto err = metrics_file.commit(render_metrics(metrics_targets))) {
      std::cerr << "mtls-probe batch: --metrics: " << escape_terminal(*err) << '\n';
      written = false;
    }
  }
  if (!written) return kExitUsage;
  if (met != total) return kBatchUnmetExit;
  if (raw.fail_on_warn && warned > 0) return kBatchUnmetExit;
  return 0;
}

}  // namespace mtls_probe::tool
