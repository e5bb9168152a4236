// The batch engine: the context cache (one identity load per file, one context per distinct identity /
// trust / versions / --as, failures cached too, the run's one password) and the runner against an
// in-process `serve` on loopback (every job gets exactly one result, N in flight, malformed lines answered
// without a connection, a hanging target does not hold the others).
#include "mtls_probe/batch/runner.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <spdlog/sinks/ostream_sink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "mtls_probe/engine/net.h"
#include "mtls_probe/engine/probe.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/serve/serve.h"
#include "serve/serve_testutil.h"

namespace mtls_probe::batch {
namespace {

using namespace std::chrono_literals;

const serve::PkiFiles& pki() {
  return serve::testing::shared_pki();
}

std::string password() {
  auto pw = password_from_file(pki().password_file);
  EXPECT_TRUE(pw.has_value());
  return pw ? pw.value() : std::string();
}

RunOptions pem_run() {
  RunOptions r;
  r.identity.cert_file = pki().client_cert;
  r.identity.key_file = pki().client_key;
  r.tls.cacert_file = pki().ca_cert;
  return r;
}

RunOptions p12_run() {
  RunOptions r;
  r.identity.p12_file = pki().client_p12;
  r.tls.cacert_file = pki().ca_cert;
  return r;
}

TEST(BatchContextCache, NoIdentitySameOptionsShareOneContext) {
  ContextCache cache;
  RunOptions r;
  r.tls.cacert_file = pki().ca_cert;
  const auto& a = cache.get(r);
  const auto& b = cache.get(r);
  ASSERT_TRUE(a);
  ASSERT_TRUE(b);
  EXPECT_EQ(a->get(), b->get());
  EXPECT_EQ(cache.contexts_created(), 1u);
  EXPECT_EQ(cache.identities_loaded(), 0u);
  EXPECT_EQ((*a)->identity(), nullptr);
}

TEST(BatchContextCache, OneIdentityLoadAcrossTrustVersionAndBehaviour) {
  ContextCache cache;
  const RunOptions base = pem_run();
  std::set<const ClientTlsContext*> contexts;
  auto add = [&](const RunOptions& r) {
    const auto& c = cache.get(r);
    ASSERT_TRUE(c) << c.error().usage;
    contexts.insert(c->get());
  };
  add(base);
  add(base);
  RunOptions other_trust = base;
  other_trust.tls.cacert_file = pki().other_ca_cert;
  add(other_trust);
  RunOptions insecure = base;
  insecure.tls.insecure = true;
  add(insecure);
  RunOptions v13 = base;
  v13.tls.min_version = TlsVersion::v1_3;
  add(v13);
  RunOptions max12 = base;
  max12.tls.max_version = TlsVersion::v1_2;
  add(max12);
  RunOptions strict = base;
  strict.client_behaviour = ClientBehaviour::strict;
  add(strict);
  RunOptions no_cert = base;
  no_cert.identity.no_cert = true;
  add(no_cert);
  add(strict);  // again: cached
  EXPECT_EQ(contexts.size(), 7u);
  EXPECT_EQ(cache.contexts_created(), 7u);
  EXPECT_EQ(cache.identities_loaded(), 1u);  // the PEM pair, loaded once for all seven
  // Every context holds the same loaded identity.
  std::set<const ClientIdentity*> identities;
  for (const auto* c : contexts) identities.insert(c->identity());
  EXPECT_EQ(identities.size(), 1u);
}

TEST(BatchContextCache, DistinctIdentityFilesLoadOnceEach) {
  ContextCache cache(ProbeLog{}, password());
  RunOptions other = pem_run();
  other.identity.cert_file = pki().other_client_cert;
  other.identity.key_file = pki().other_client_key;
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(cache.get(pem_run()));
    EXPECT_TRUE(cache.get(p12_run()));
    EXPECT_TRUE(cache.get(other));
  }
  EXPECT_EQ(cache.identities_loaded(), 3u);
  EXPECT_EQ(cache.contexts_created(), 3u);
}

TEST(BatchContextCache, PasswordIsTheRunsOneAndWrongPasswordIsAnIdentityError) {
  {
    ContextCache cache(ProbeLog{}, password());
    const auto& c = cache.get(p12_run());
    ASSERT_TRUE(c) << (c ? "" : c.error().identity ? c.error().identity->message : c.error().usage);
    EXPECT_NE((*c)->identity(), nullptr);
  }
  {
    ContextCache cache(ProbeLog{}, std::string("not-the-password"));
    const auto& c = cache.get(p12_run());
    ASSERT_FALSE(c);
    ASSERT_TRUE(c.error().identity);
    EXPECT_EQ(c.error().identity->problem, IdentityProblem::wrong_password);
  }
}

TEST(BatchContextCache, FailuresAreCachedAndTriedOnce) {
  ContextCache cache;
  RunOptions missing;
  missing.identity.p12_file = pki().dir + "/does-not-exist.p12";
  RunOptions missing_strict = missing;
  missing_strict.client_behaviour = ClientBehaviour::strict;
  for (int i = 0; i < 3; ++i) {
    const auto& c = cache.get(missing);
    ASSERT_FALSE(c);
    EXPECT_TRUE(c.error().identity);
    EXPECT_FALSE(cache.get(missing_strict));
  }
  EXPECT_EQ(cache.identities_loaded(), 1u);  // one attempt, whatever the context around it

  RunOptions bad_trust;
  bad_trust.tls.cacert_file = pki().dir + "/no-such-ca.pem";
  const auto& c = cache.get(bad_trust);
  ASSERT_FALSE(c);
  EXPECT_FALSE(c.error().identity);
  EXPECT_FALSE(c.error().usage.empty());
}

TEST(BatchContextCache, KeyOfTellsEveryFieldApart) {
  const ContextKey base = ContextKey::of(pem_run());
  EXPECT_EQ(base, ContextKey::of(pem_run()));
  auto differs = [&](auto change) {
    RunOptions r = pem_run();
    change(r);
    return ContextKey::of(r) != base;
  };
  EXPECT_TRUE(differs([](RunOptions& r) { r.identity.cert_file = "x"; }));
  EXPECT_TRUE(differs([](RunOptions& r) { r.identity.key_file = "x"; }));
  EXPECT_TRUE(differs([](RunOptions& r) { r.identity.p12_file = "x"; }));
  EXPECT_TRUE(differs([](RunOptions& r) { r.identity.no_cert = true; }));
  EXPECT_TRUE(differs([](RunOptions& r) { r.tls.cacert_file = "x"; }));
  EXPECT_TRUE(differs([](RunOptions& r) { r.tls.capath_dir = "x"; }));
  EXPECT_TRUE(differs([](RunOptions& r) { r.tls.insecure = true; }));
  EXPECT_TRUE(differs([](RunOptions& r) { r.tls.min_version = TlsVersion::v1_3; }));
  EXPECT_TRUE(differs([](RunOptions& r) { r.tls.max_version = TlsVersion::v1_2; }));
  EXPECT_TRUE(differs([](RunOptions& r) { r.client_behaviour = ClientBehaviour::strict; }));
  // What is per target or per run but not part of the context does not split it.
  EXPECT_FALSE(differs([](RunOptions& r) { r.verbose = 2; }));
  EXPECT_FALSE(differs([](RunOptions& r) { r.identity.password = "pw"; }));
}

TEST(BatchContextCache, TraceNamesEachLoadOnceAndNeverThePassword) {
  std::ostringstream trace;
  auto logger = std::make_shared<spdlog::logger>("batch-cache-test",
                                                 std::make_shared<spdlog::sinks::ostream_sink_st>(trace));
  logger->set_level(spdlog::level::debug);
  {
    ContextCache cache(ProbeLog(logger, "[batch] "), password());
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(cache.get(p12_run()));
  }
  const std::string text = trace.str();
  std::size_t loads = 0;
  for (auto p = text.find("loading client identity"); p != std::string::npos;
       p = text.find("loading client identity", p + 1))
    ++loads;
  EXPECT_EQ(loads, 1u) << text;
  EXPECT_EQ(text.find(password()), std::string::npos);
}

// ---- the runner against `serve` on loopback

// serve, requiring a client certificate, on a thread.
class LocalServe : public serve::testing::RunningServer {
 public:
  LocalServe() : RunningServer(serve::testing::default_config(256)) {}
};

// A listener that accepts (through the kernel's backlog) and never answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    EXPECT_EQ(::listen(fd_, 16), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

TEST(BatchContextCache, NoSessionIsResumedBetweenTargetsSharingAContext) {
  LocalServe server;
  ASSERT_NE(server.port(), 0);
  ContextCache cache;
  const auto& ctx = cache.get(pem_run());
  ASSERT_TRUE(ctx);
  TargetOptions t;
  t.url_text = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto url = parse_url(t.url_text);
  ASSERT_TRUE(url);
  t.url = *url;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(diagnose(run_probe(t, **ctx)).verdict, Verdict::ok);
  SSL_CTX* c = (*ctx)->ctx();
  EXPECT_EQ(SSL_CTX_sess_hits(c), 0);    // never resumed
  EXPECT_EQ(SSL_CTX_sess_number(c), 0);  // nothing kept to resume with
}

BatchJob job(int line, const std::string& url, RunOptions run, std::vector<Verdict> expected = {Verdict::ok},
             std::chrono::milliseconds max_time = 10s) {
  BatchJob j;
  j.line.line = line;
  j.line.url = url;
  j.line.expected = std::move(expected);
  j.run = std::move(run);
  j.target.url_text = url;
  auto parsed = parse_url(url);
  EXPECT_TRUE(parsed.has_value()) << url;
  if (parsed) j.target.url = *parsed;
  j.target.max_time = max_time;
  j.target.connect_timeout = max_time;
  return j;
}

// 40 jobs over `loops` event loops, 7 in flight: each gets exactly one result, the results are handed over
// one at a time, and the identity and contexts are made once for the whole run.
void every_job_gets_one_result(std::size_t loops) {
  LocalServe server;
  ASSERT_NE(server.port(), 0);
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  std::vector<BatchJob> jobs;
  for (int i = 0; i < 40; ++i) {
    RunOptions run = pem_run();
    std::vector<Verdict> expected{Verdict::ok};
    if (i % 4 == 1) {
      run.identity.no_cert = true;
      expected = {Verdict::client_cert_required, Verdict::client_cert_rejected};
    }
    jobs.push_back(job(i + 1, url, run, expected));
  }
  // A malformed line and one whose identity is missing: answered without a connection.
  jobs[5].line.error = "unknown key 'bogus'";
  jobs[9].run.identity.cert_file = pki().dir + "/missing.pem";
  jobs[9].run.identity.key_file.clear();
  jobs[9].line.expected = {Verdict::identity_error};
  // One expectation that will not be met.
  jobs[12].line.expected = {Verdict::http_error};

  BatchOptions opts;
  opts.parallel = 7;
  opts.loops = loops;
  BatchRunner runner(opts);
  std::map<int, std::pair<Verdict, bool>> got;
  std::atomic<int> in_callback{0};
  std::set<std::thread::id> threads;
  runner.run(jobs, [&](const BatchResult& r) {
    EXPECT_EQ(in_callback.fetch_add(1), 0) << "two results handed over at once";
    threads.insert(std::this_thread::get_id());
    std::this_thread::sleep_for(1ms);  // widen the window in which an overlap would show
    in_callback.fetch_sub(1);
    EXPECT_TRUE(got.emplace(r.line.line, std::make_pair(r.result.diagnosis.verdict, r.met)).second)
        << "line " << r.line.line << " twice";
    if (r.line.line == 6) {
      ASSERT_TRUE(r.result.facts.usage_error);
      EXPECT_NE(r.result.facts.usage_error->find("line 6: unknown key 'bogus'"), std::string::npos);
    }
  });
  ASSERT_EQ(got.size(), jobs.size());
  for (const auto& j : jobs) {
    const auto& [verdict, met] = got[j.line.line];
    if (j.line.line == 6) {
      EXPECT_EQ(verdict, Verdict::usage_error);
      EXPECT_FALSE(met);
    } else if (j.line.line == 10) {
      EXPECT_EQ(verdict, Verdict::identity_error);
      EXPECT_TRUE(met);
    } else if (j.line.line == 13) {
      EXPECT_EQ(verdict, Verdict::ok);
      EXPECT_FALSE(met);
    } else {
      EXPECT_TRUE(met) << "line " << j.line.line << ": " << verdict_name(verdict);
    }
  }
  EXPECT_EQ(runner.cache().identities_loaded(), 2u);  // the good PEM pair and the missing file
  EXPECT_EQ(runner.cache().contexts_created(), 3u);   // with cert, no-cert, the failed one
  EXPECT_EQ(runner.loops_used(), loops);
  EXPECT_LE(threads.size(), loops);
}

TEST(BatchRunner, EveryJobGetsOneResultWithNInFlight) {
  every_job_gets_one_result(1);
}

TEST(BatchRunner, EveryJobGetsOneResultOverThreeLoops) {
  every_job_gets_one_result(3);
}

TEST(BatchRunner, LoopCountIsBoundedByParallelAndJobs) {
  EXPECT_EQ(loop_count(0, 8, 32, 1000), 8u);  // one per core
  EXPECT_EQ(loop_count(0, 8, 3, 1000), 3u);   // never a loop without a slot
  EXPECT_EQ(loop_count(0, 8, 32, 2), 2u);     // nor without a job
  EXPECT_EQ(loop_count(5, 8, 32, 1000), 5u);  // asked for
  EXPECT_EQ(loop_count(0, 8, 32, 0), 1u);
  EXPECT_EQ(loop_count(0, 0, 32, 10), 1u);
}

TEST(BatchRunner, JobsAreMadeInOrderWhenTheirTurnComes) {
  LocalServe server;
  ASSERT_NE(server.port(), 0);
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  std::vector<std::size_t> made;
  std::size_t results_when_last_made = 0, results = 0;
  BatchOptions opts;
  opts.parallel = 2;
  opts.loops = 1;
  BatchRunner runner(opts);
  const JobSource source{10, [&](std::size_t i) {
                           made.push_back(i);
                           if (i == 9) results_when_last_made = results;
                           return job(static_cast<int>(i) + 1, url, pem_run());
                         }};
  runner.run(source, [&](const BatchResult& r) {
    EXPECT_TRUE(r.met);
    ++results;
  });
  EXPECT_EQ(made, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(results, 10u);
  EXPECT_GE(results_when_last_made, 8u);  // made when a slot freed, not all up front
}

TEST(BatchRunner, HangingTargetDoesNotHoldTheOthers) {
  LocalServe server;
  SilentListener silent;
  ASSERT_NE(server.port(), 0);
  const std::string good = "https://127.0.0.1:" + std::to_string(server.port()) + "/";
  const std::string hang = "https://127.0.0.1:" + std::to_string(silent.port()) + "/";
  constexpr auto kHang = 3s;
  std::vector<BatchJob> jobs;
  jobs.push_back(job(1, hang, pem_run(), {Verdict::timeout}, kHang));
  for (int i = 0; i < 20; ++i) jobs.push_back(job(i + 2, good, pem_run()));

  BatchOptions opts;
  opts.parallel = 4;  // the hanging one holds a slot; the rest go through the other three
  opts.loops = 2;     // and the hanging one's loop still runs good ones beside it
  BatchRunner runner(opts);
  const auto t0 = Clock::now();
  Clock::duration last_good{}, hang_done{};
  runner.run(jobs, [&](const BatchResult& r) {
    EXPECT_TRUE(r.met) << r.line.line << ": " << verdict_name(r.result.diagnosis.verdict);
    (r.line.line == 1 ? hang_done : last_good) = Clock::now() - t0;
  });
  EXPECT_GE(hang_done, kHang);      // its own deadline, never before
  EXPECT_LT(last_good, hang_done);  // the good ones did not wait for it (a margin measured in this run)
}

}  // namespace
}  // namespace mtls_probe::batch
