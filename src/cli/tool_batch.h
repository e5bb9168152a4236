// The `batch` subcommand's command line: the probe's options (global to every target), -j/--parallel,
// --shard and the TARGETS_FILE; each line's key=value words are merged over the global options here, and
// the batch engine (batch/runner.h) runs the jobs.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/batch/runner.h"
#include "tool_options.h"

namespace CLI {
class App;
}

namespace mtls_probe::tool {

struct RawBatchArgs;

// Registers `batch` on app, with its options (writing into raw) when with_options; returns the subcommand.
CLI::App* add_batch_command(CLI::App& app, RawBatchArgs& raw, bool with_options = true);

// Runs the batch raw describes (after a parse). Exit 0: every target met its expectation; 13: at least one
// did not; 1: a usage error of the whole run.
int run_batch_command(RawBatchArgs& raw);

// A command-line error inside `batch` (exit 1): one usage-error JSON object with --json, else stderr.
int report_batch_usage_error(const std::string& message, bool json);

// ---- the pieces, apart so that they are unit-tested without a process

inline constexpr int kBatchUnmetExit = 13;  // also: --fail-on-warn and a target has an expiry warning
inline constexpr long kMaxWarnDays = 100000;

// Whether the live progress line is drawn on stderr: stderr is a terminal, NO_COLOR is unset or empty,
// no --no-progress, no -v (the trace would interleave with it).
bool show_progress(bool stderr_is_tty, const char* no_color, bool no_progress, int verbose);

struct RawBatchArgs {
  RawProbeArgs probe;         // the global options (probe.url is unused)
  std::string targets_file;   // "-" = stdin
  std::size_t parallel = 32;  // -j/--parallel
  std::string shard;          // --shard K/N
  std::string junit;          // --junit FILE (JUnit XML, written when the run ends)
  std::string metrics;        // --metrics FILE (Prometheus text format, written when the run ends)
  std::string warn_days;      // --warn-days N ("" when not given)
  bool fail_on_warn = false;  // --fail-on-warn: exit 13 when any target has an expiry warning
  bool no_progress = false;   // --no-progress
};

struct BatchPlan {
  std::vector<batch::TargetLine> lines;    // the lines of this shard, in file order
  RawProbeArgs base;                       // the global options without their password sources
  std::optional<IdentityFailure> identity_error;  // the password source failed: for every identity job
  std::optional<std::string> password;     // the run's one password (asked for once), wiped after the run
  std::optional<std::string> pin;          // the run's token PIN (read once), likewise
  std::vector<std::string> warnings;       // global warnings (stderr once, and in every result)
  std::optional<std::string> usage_error;  // of the whole run: exit 1
  std::size_t parallel = 32;
  std::optional<long> warn_days;  // --warn-days N
};

// Checks the global options once (password read here, once) and parses the targets text.
BatchPlan make_batch_plan(const RawBatchArgs& raw, std::string_view targets_text);
// The job of plan.lines[i]: the line's words merged over the global options. Made when it is the line's
// turn to run, so a run holds only the jobs in flight.
batch::BatchJob make_batch_job(const BatchPlan& plan, std::size_t i);

}  // namespace mtls_probe::tool
