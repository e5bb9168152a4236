// `mtls-probe batch`'s engine side: many targets, N in flight, spread over one EventLoop per core (each on
// a thread of its own), one shared ClientTlsContext per distinct (identity files, trust, versions, --as)
// and each identity file loaded once. The front end makes each BatchJob when it is its turn (JobSource);
// printers get each result through a callback as it finishes.
#pragma once

#include <spdlog/logger.h>

#include <compare>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/batch/targets.h"
#include "mtls_probe/diagnosis/diagnosis.h"
#include "mtls_probe/engine/options.h"
#include "mtls_probe/engine/probe_log.h"
#include "mtls_probe/engine/tls_context.h"

namespace mtls_probe::batch {

// One target, ready to run: its line and the options merged from the line over the global ones.
struct BatchJob {
  TargetLine line;
  RunOptions run;  // identity (with the run's one password), trust, versions, --as
  TargetOptions target;
  std::optional<std::string> usage_error;         // the merged line is unusable: usage-error, nothing runs
  std::optional<IdentityFailure> identity_error;  // the password source failed: identity-error
  std::vector<std::string> warnings;              // copied into the result's facts
};

// --warn-days N: the server certificate, or the client certificate in use, expires within N days (or has
// expired). When both do, the one that expires first (the server's on a tie).
struct ExpiryWarning {
  Side certificate = Side::server;
  std::string not_after;  // ISO 8601 UTC
  long days_left = 0;     // floor of the days until not_after; negative when expired
};
// The warning for a finished probe's facts, or nullopt (also when warn_days is nullopt). The client
// certificate counts when one was configured and not withheld by --no-cert.
std::optional<ExpiryWarning> expiry_warning(const ProbeFacts& facts, std::optional<long> warn_days);

struct BatchResult {
  const TargetLine& line;
  ProbeResult result;
  bool met = false;
  std::optional<ExpiryWarning> expiry_warning;  // only with --warn-days
};

// What makes two targets share a ClientTlsContext.
struct ContextKey {
  std::string p12, cert, key;  // identity files
  std::string pkcs11_key, pkcs11_cert, pkcs11_module;  // a token's key and certificate
  bool no_cert = false;
  std::string cacert, capath;
  bool insecure = false;
  TlsVersion min_version = TlsVersion::v1_2, max_version = TlsVersion::any;
  ClientBehaviour behaviour = ClientBehaviour::openssl;
  auto operator<=>(const ContextKey&) const = default;
  static ContextKey of(const RunOptions& run);
};

// Identities and contexts, created on first use and kept for the run (failures too: a bad file is tried
// once). Never logs a password.
class ContextCache {
 public:
  // password: the run's one password, used for every identity file that needs one; pin: the run's token
  // PIN (one login: the identity is loaded once). Both wiped on destruction.
  explicit ContextCache(ProbeLog log = {}, std::optional<std::string> password = std::nullopt,
                        std::optional<std::string> pin = std::nullopt)
      : log_(std::move(log)), password_(std::move(password)), pin_(std::move(pin)) {}
  ~ContextCache();
  ContextCache(const ContextCache&) = delete;
  ContextCache& operator=(const ContextCache&) = delete;

  struct Failure {
    std::optional<IdentityFailure> identity;  // set: identity-error
    std::string usage;                        // else: the context could not be made (usage-error)
  };
  using Result = Expected<std::shared_ptr<const ClientTlsContext>, Failure>;
  const Result& get(const RunOptions& run);

  std::size_t identities_loaded() const { return identity_loads_; }  // load attempts (one per file)
  std::size_t contexts_created() const { return contexts_.size(); }

 private:
  using IdentityKey = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  using IdentityResult = Expected<std::shared_ptr<const ClientIdentity>, IdentityFailure>;
  ProbeLog log_;
  std::optional<std::string> password_;
  std::optional<std::string> pin_;
  std::map<IdentityKey, IdentityResult> identities_;
  std::map<ContextKey, Result> contexts_;
  std::size_t identity_loads_ = 0;
};

// The jobs of a run, made one at a time when it is their turn, so that a run holds only the jobs in flight
// (a fleet of 100,000 targets does not hold 100,000 merged option sets): make(i) for i = 0..count-1, in
// that order, one call at a time (under the runner's lock).
struct JobSource {
  std::size_t count = 0;
  std::function<BatchJob(std::size_t)> make;
};

struct BatchOptions {
  std::size_t parallel = 32;                // probes in flight, over all loops
  std::size_t loops = 0;                    // event loops (threads); 0: one per core. Never more than
                                            // `parallel` or the number of jobs.
  std::shared_ptr<spdlog::logger> logger;   // -v trace (null: none); each probe tags its lines
  std::function<void(ProbeFacts&)> finish;  // front-end touches on a probe's facts (e.g. timeout_limit)
  std::optional<std::string> password;      // the run's password (moved into the context cache)
  std::optional<std::string> pin;           // the run's token PIN (likewise)
  std::optional<long> warn_days;            // --warn-days N: set each result's expiry_warning
};

class BatchRunner {
 public:
  explicit BatchRunner(BatchOptions options);
  using OnResult = std::function<void(const BatchResult&)>;
  // Runs every job (started in order, at most `parallel` at once), calling on_result once per job as it
  // finishes: from the thread of the loop that ran it, one call at a time, so a printer needs no lock of
  // its own. Results of jobs that cannot run come at once, in their turn. Returns when all have finished.
  void run(const JobSource& jobs, const OnResult& on_result);
  void run(const std::vector<BatchJob>& jobs, const OnResult& on_result);
  const ContextCache& cache() const { return cache_; }
  // How many loops the last run() used.
  std::size_t loops_used() const { return loops_used_; }

 private:
  struct Shared;
  void run_loop(Shared& shared, std::size_t capacity);
  BatchOptions options_;
  ContextCache cache_;
  std::size_t loops_used_ = 0;
};

// The number of loops for `parallel` probes over `jobs` jobs: `requested` (0: `cores`), at most parallel
// and jobs, at least 1.
std::size_t loop_count(std::size_t requested, std::size_t cores, std::size_t parallel, std::size_t jobs);

// The trace tag of a target: "[name] " or "[line N] ".
std::string trace_tag(const TargetLine& line);

// Raises the soft RLIMIT_NOFILE (up to the hard limit) so that `parallel` probes have descriptors.
void ensure_fd_limit(std::size_t parallel);

}  // namespace mtls_probe::batch
