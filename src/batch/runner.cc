#include "mtls_probe/batch/runner.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <sys/resource.h>

#include <algorithm>
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
}

const ContextCache::Result& ContextCache::get(const RunOptions& run) {
  const ContextKey key = ContextKey::of(run);
  if (auto it = contexts_.find(key); it != contexts_.end()) return it->second;

  std::shared_ptr<const ClientIdentity> identity;
  if (run.identity.configured()) {
    const IdentityKey ik{run.identity.p12_file, run.identity.cert_file, run.identity.key_file};
    auto it = identities_.find(ik);
    if (it == identities_.end()) {
      ++identity_loads_;
      const std::string& file =
          !run.identity.p12_file.empty() ? run.identity.p12_file : run.identity.cert_file;
      log_.debug("loading client identity {} (once for every target that uses it)", file);
      IdentityOptions id = run.identity;
      id.password = password_;
      auto loaded = load_client_identity(id);
      if (id.password) OPENSSL_cleanse(id.password->data(), id.password->size());
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
             std::move(options_.password)) {
  if (options_.password) OPENSSL_cleanse(options_.password->data(), options_.password->size());
  if (options_.parallel == 0) options_.parallel = 1;
}

void BatchRunner::run(const std::vector<BatchJob>& jobs, const OnResult& on_result) {
  ensure_fd_limit(options_.parallel);
  EventLoop loop;
  struct Slot {
    std::unique_ptr<Probe> probe;
    std::size_t job = 0;
  };
  std::unordered_map<const Pollable*, Slot> in_flight;
  std::size_t next = 0;

  auto emit = [&](const BatchJob& job, ProbeFacts facts) {
    if (options_.finish) options_.finish(facts);
    ProbeResult result;
    result.facts = std::move(facts);
    result.facts.warnings.insert(result.facts.warnings.end(), job.warnings.begin(), job.warnings.end());
    result.diagnosis = diagnose(result.facts);
    const bool met = !job.line.error && expectation_met(job.line.expected, result.diagnosis.verdict);
    auto warning = expiry_warning(result.facts, options_.warn_days);
    on_result(BatchResult{job.line, std::move(result), met, std::move(warning)});
  };

  auto launch = [&] {
    while (in_flight.size() < options_.parallel && next < jobs.size()) {
      const BatchJob& job = jobs[next];
      const std::size_t index = next++;
      ProbeFacts facts;
      facts.url = redact_url(job.line.url);
      if (job.line.error || job.usage_error) {
        facts.usage_error = fmt::format("targets file line {}: {}", job.line.line,
                                        job.line.error ? *job.line.error : *job.usage_error);
        emit(job, std::move(facts));
        continue;
      }
      if (job.identity_error) {
        facts.identity_configured = true;
        facts.identity_error = job.identity_error;
        emit(job, std::move(facts));
        continue;
      }
      const ContextCache::Result& ctx = cache_.get(job.run);
      if (!ctx) {
        if (ctx.error().identity) {
          facts.identity_configured = true;
          facts.identity_error = ctx.error().identity;
        } else {
          facts.usage_error = ctx.error().usage;
        }
        emit(job, std::move(facts));
        continue;
      }
      ProbeLog log = options_.logger ? ProbeLog(options_.logger, trace_tag(job.line)) : ProbeLog();
      auto probe = std::make_unique<Probe>(job.target, **ctx, std::move(log));
      probe->start();
      Pollable* p = probe.get();
      in_flight.emplace(p, Slot{std::move(probe), index});
      loop.add(*p);
    }
  };

  launch();
  loop.run([&](Pollable& p) {
    auto it = in_flight.find(&p);
    if (it == in_flight.end()) return;
    Slot slot = std::move(it->second);
    in_flight.erase(it);
    emit(jobs[slot.job], slot.probe->take_facts());
    slot.probe.reset();  // the loop no longer holds it: its socket and TLS state go now
    launch();
  });
}

}  // namespace mtls_probe::batch
