#include "mtls_probe/batch/runner.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/resource.h>

#include <algorithm>
#include <mutex>
#include <system_error>
#include <thread>
#include <unordered_map>

#include "mtls_probe/engine/event_loop.h"
#include "mtls_probe/engine/probe.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"

namespace mtls_probe::batch {

ContextKey ContextKey::of(const RunOptions& run) {
  ContextKey k;
  k.p12 = run.identity.p12_file;
  k.cert = run.identity.cert_file;
  k.key = run.identity.key_file;
  k.pkcs11_key = run.identity.pkcs11_key_uri;
  k.pkcs11_cert = run.identity.pkcs11_cert_uri;
  k.pkcs11_module = run.identity.pkcs11_module;
  k.no_cert = run.identity.no_cert;
  k.cacert = run.tls.cacert_file;
  k.capath = run.tls.capath_dir;
  k.insecure = run.tls.insecure;
  k.min_version = run.tls.min_version;
  k.max_version = run.tls.max_version;
  k.behaviour = run.client_behaviour;
  return k;
}

ContextCache::~ContextCache() {
  if (password_) OPENSSL_cleanse(password_->data(), password_->size());
  if (pin_) OPENSSL_cleanse(pin_->data(), pin_->size());
}

const ContextCache::Result& ContextCache::get(const RunOptions& run) {
  const ContextKey key = ContextKey::of(run);
  if (auto it = contexts_.find(key); it != contexts_.end()) return it->second;

  std::shared_ptr<const ClientIdentity> identity;
  if (run.identity.configured()) {
    const IdentityKey ik{run.identity.p12_file, run.identity.cert_file, run.identity.key_file,
                         run.identity.pkcs11_key_uri, run.identity.pkcs11_module};
    auto it = identities_.find(ik);
    if (it == identities_.end()) {
      ++identity_loads_;
      const std::string& file = !run.identity.pkcs11_key_uri.empty() ? run.identity.pkcs11_key_uri
                                : !run.identity.p12_file.empty()     ? run.identity.p12_file
                                                                     : run.identity.cert_file;
      log_.debug("loading client identity {} (once for every target that uses it)", file);
      IdentityOptions id = run.identity;
      id.password = password_;
      if (!id.pkcs11_key_uri.empty()) id.pin = pin_;
      auto loaded = load_client_identity(id);
      if (id.password) OPENSSL_cleanse(id.password->data(), id.password->size());
      if (id.pin) OPENSSL_cleanse(id.pin->data(), id.pin->size());
      IdentityResult r =
          loaded ? IdentityResult(std::make_shared<const ClientIdentity>(std::move(loaded.value())))
                 : IdentityResult(Unexpected(loaded.error()));
      it = identities_.emplace(ik, std::move(r)).first;
    }
    if (!it->second) {
      return contexts_.emplace(key, Result(Unexpected(Failure{it->second.error(), ""}))).first->second;
    }
    identity = *it->second;
  }
  auto ctx = ClientTlsContext::create(run.tls, identity, run.identity.no_cert, run.client_behaviour);
  if (!ctx) {
    std::string msg = ctx.error().message +
                      (ctx.error().openssl_detail.empty() ? "" : " (" + ctx.error().openssl_detail + ")");
    return contexts_.emplace(key, Result(Unexpected(Failure{std::nullopt, std::move(msg)}))).first->second;
  }
  log_.debug("TLS context {} made (shared by every target with the same identity, trust and versions)",
             contexts_.size() + 1);
  return contexts_.emplace(key, Result(std::shared_ptr<const ClientTlsContext>(std::move(*ctx))))
      .first->second;
}

std::optional<ExpiryWarning> expiry_warning(const ProbeFacts& facts, std::optional<long> warn_days) {
  if (!warn_days) return std::nullopt;
  std::optional<ExpiryWarning> w;
  auto consider = [&](const std::optional<CertificateSummary>& c, Side side) {
    if (!c || !(c->expired || c->days_left < *warn_days)) return;
    if (w && w->days_left <= c->days_left) return;
    w = ExpiryWarning{side, c->not_after, c->days_left};
  };
  consider(facts.server_cert, Side::server);
  if (!facts.no_cert) consider(facts.client_cert, Side::client);
  return w;
}

std::string trace_tag(const TargetLine& line) {
  if (!line.name.empty()) return fmt::format("[{}] ", line.name);
  return fmt::format("[line {}] ", line.line);
}

void ensure_fd_limit(std::size_t parallel) {
  // A probe holds its connection attempts (Happy Eyeballs: a few at once) and its DNS sockets.
  const rlim_t want = static_cast<rlim_t>(parallel) * 4 + 64;
  rlimit r{};
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= want) return;
  r.rlim_cur = r.rlim_max == RLIM_INFINITY ? want : std::min(want, r.rlim_max);
  setrlimit(RLIMIT_NOFILE, &r);
}

BatchRunner::BatchRunner(BatchOptions options)
    : options_(std::move(options)),
      cache_(options_.logger ? ProbeLog(options_.logger, "[batch] ") : ProbeLog(),
             std::move(options_.password), std::move(options_.pin)) {
  if (options_.password) OPENSSL_cleanse(options_.password->data(), options_.password->size());
  if (options_.pin) OPENSSL_cleanse(options_.pin->data(), options_.pin->size());
  if (options_.parallel == 0) options_.parallel = 1;
}

std::size_t loop_count(std::size_t requested, std::size_t cores, std::size_t parallel, std::size_t jobs) {
  std::size_t n = requested != 0 ? requested : cores;
  n = std::min({n, parallel, jobs});
  return std::max<std::size_t>(n, 1);
}

// What the loops share, behind one lock: the job source, the context cache and the result callback.
struct BatchRunner::Shared {
  const JobSource& jobs;
  const OnResult& on_result;
  std::mutex mutex;
  std::size_t next = 0;
};

namespace {

// A job taken from the source: to run with ctx, or finished at once with `immediate` (it cannot run).
struct TakenJob {
  BatchJob job;
  std::optional<ProbeFacts> immediate;
  std::shared_ptr<const ClientTlsContext> ctx;
};

// The facts of a job that cannot run (a malformed line, an identity or trust that failed), else nullopt.
std::optional<ProbeFacts> unrunnable(const BatchJob& job) {
  if (!job.line.error && !job.usage_error && !job.identity_error) return std::nullopt;
  ProbeFacts facts;
  facts.url = redact_url(job.line.url);
  if (job.line.error || job.usage_error) {
    facts.usage_error = fmt::format("targets file line {}: {}", job.line.line,
                                    job.line.error ? *job.line.error : *job.usage_error);
  } else {
    facts.identity_configured = true;
    facts.identity_error = job.identity_error;
  }
  return facts;
}

ProbeFacts context_failure(const BatchJob& job, const ContextCache::Failure& failure) {
  ProbeFacts facts;
  facts.url = redact_url(job.line.url);
  if (failure.identity) {
    facts.identity_configured = true;
    facts.identity_error = failure.identity;
  } else {
    facts.usage_error = failure.usage;
  }
  return facts;
}

}  // namespace

void BatchRunner::run(const std::vector<BatchJob>& jobs, const OnResult& on_result) {
  run(JobSource{jobs.size(), [&jobs](std::size_t i) { return jobs[i]; }}, on_result);
}

void BatchRunner::run(const JobSource& jobs, const OnResult& on_result) {
  ensure_fd_limit(options_.parallel);
  const std::size_t loops = loop_count(options_.loops, std::max(1u, std::thread::hardware_concurrency()),
                                       options_.parallel, jobs.count);
  loops_used_ = loops;
  if (options_.logger)
    ProbeLog(options_.logger, "[batch] ")
        .debug("{} targets, at most {} in flight, over {} event loop{} (threads)", jobs.count,
               options_.parallel, loops, loops == 1 ? "" : "s");
  Shared shared{jobs, on_result, {}, 0};
  // The in-flight budget, split as evenly as it goes; each loop takes the next job from the shared
  // source whenever it has room, so a loop whose targets are slow simply takes fewer.
  auto capacity = [&](std::size_t i) { return options_.parallel / loops + (i < options_.parallel % loops); };
  std::vector<std::thread> threads;
  threads.reserve(loops - 1);
  std::size_t own = capacity(0);
  for (std::size_t i = 1; i < loops; ++i) {
    try {
      threads.emplace_back([this, &shared, c = capacity(i)] { run_loop(shared, c); });
    } catch (const std::system_error&) {
      own += capacity(i);  // no thread to be had (a tight ulimit -u): this loop takes its slots
    }
  }
  loops_used_ = threads.size() + 1;
  run_loop(shared, own);
  for (auto& t : threads) t.join();
}

void BatchRunner::run_loop(Shared& shared, std::size_t capacity) {
  EventLoop loop;
  struct Slot {
    std::unique_ptr<Probe> probe;
    BatchJob job;
  };
  std::unordered_map<const Pollable*, Slot> in_flight;

  // Diagnoses outside the lock; hands the result over under it.
  auto emit = [&](const BatchJob& job, ProbeFacts facts) {
    if (options_.finish) options_.finish(facts);
    ProbeResult result;
    result.facts = std::move(facts);
    result.facts.warnings.insert(result.facts.warnings.end(), job.warnings.begin(), job.warnings.end());
    result.diagnosis = diagnose(result.facts);
    const bool met = !job.line.error && expectation_met(job.line.expected, result.diagnosis.verdict);
    auto warning = expiry_warning(result.facts, options_.warn_days);
    const BatchResult r{job.line, std::move(result), met, std::move(warning)};
    std::lock_guard lock(shared.mutex);
    shared.on_result(r);
  };
  auto take = [&]() -> std::optional<TakenJob> {
    std::lock_guard lock(shared.mutex);
    if (shared.next >= shared.jobs.count) return std::nullopt;
    TakenJob t{shared.jobs.make(shared.next++), std::nullopt, nullptr};
    t.immediate = unrunnable(t.job);
    if (!t.immediate) {
      const ContextCache::Result& ctx = cache_.get(t.job.run);
      if (ctx) {
        t.ctx = *ctx;
      } else {
        t.immediate = context_failure(t.job, ctx.error());
      }
    }
    return t;
  };
  auto launch = [&] {
    while (in_flight.size() < capacity) {
      std::optional<TakenJob> t = take();
      if (!t) return;
      if (t->immediate) {
        emit(t->job, std::move(*t->immediate));
        continue;
      }
      ProbeLog log = options_.logger ? ProbeLog(options_.logger, trace_tag(t->job.line)) : ProbeLog();
      // The context outlives the probe: the cache holds it until the run ends.
      auto probe = std::make_unique<Probe>(t->job.target, *t->ctx, std::move(log));
      probe->start();
      Pollable* p = probe.get();
      in_flight.emplace(p, Slot{std::move(probe), std::move(t->job)});
      loop.add(*p);
    }
  };

  launch();
  loop.run([&](Pollable& p) {
    auto it = in_flight.find(&p);
    if (it == in_flight.end()) return;
    Slot slot = std::move(it->second);
    in_flight.erase(it);
    ProbeFacts facts = slot.probe->take_facts();
    slot.probe.reset();  // the loop no longer holds it: its socket and TLS state go now
    emit(slot.job, std::move(facts));
    launch();
  });
}

}  // namespace mtls_probe::batch
