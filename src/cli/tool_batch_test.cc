// `batch`'s command line: global options checked once (a bad one is a usage error of the run), the
// password read once, each line's words merged over the globals, --shard and -j.
#include "cli/tool_batch.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>

namespace mtls_probe::tool {
namespace {

using namespace std::chrono_literals;

// Every job of the plan, as the run makes them one by one.
std::vector<batch::BatchJob> all_jobs(const BatchPlan& plan) {
  std::vector<batch::BatchJob> jobs;
  for (std::size_t i = 0; i < plan.lines.size(); ++i) jobs.push_back(make_batch_job(plan, i));
  return jobs;
}

RawBatchArgs args() {
  RawBatchArgs raw;
  raw.probe.cacert = "/global/ca.pem";
  raw.probe.p12 = "/global/id.p12";
  return raw;
}

TEST(BatchPlan, GlobalsApplyToEveryLineUnlessTheLineOverrides) {
  RawBatchArgs raw = args();
  raw.probe.resolve = {"api.internal:443:127.0.0.1"};
  raw.probe.max_time = 7;
  raw.probe.headers = {"X-Test: 1"};
  const auto plan =
      make_batch_plan(raw,
                      "https://api.internal/\n"
                      "https://api.internal/ p12=/line/other.p12 cacert=/line/ca.pem max-time=2 "
                      "resolve=api.internal:443:::1 servername=x.internal method=HEAD\n"
                      "https://api.internal/ cert=/line/a.pem key=/line/a.key tls-min=1.3\n"
                      "https://api.internal/ no-cert connect-timeout=0.5\n");
  const auto jobs = all_jobs(plan);
  ASSERT_FALSE(plan.usage_error) << *plan.usage_error;
  ASSERT_EQ(jobs.size(), 4u);
  const auto& g = jobs[0];
  EXPECT_FALSE(g.usage_error);
  EXPECT_EQ(g.run.identity.p12_file, "/global/id.p12");
  EXPECT_EQ(g.run.tls.cacert_file, "/global/ca.pem");
  EXPECT_EQ(g.target.max_time, 7s);
  ASSERT_EQ(g.target.resolve.size(), 1u);
  ASSERT_EQ(g.target.http.headers.size(), 1u);
  EXPECT_EQ(g.target.http.headers[0].name, "X-Test");

  const auto& o = jobs[1];
  EXPECT_FALSE(o.usage_error) << *o.usage_error;
  EXPECT_EQ(o.run.identity.p12_file, "/line/other.p12");
  EXPECT_EQ(o.run.tls.cacert_file, "/line/ca.pem");
  EXPECT_EQ(o.target.max_time, 2s);
  ASSERT_EQ(o.target.resolve.size(), 2u);
  EXPECT_EQ(o.target.resolve[0].addresses, std::vector<std::string>{"::1"});  // the line's wins
  EXPECT_EQ(o.target.servername, "x.internal");
  EXPECT_EQ(o.target.http.method, "HEAD");
  EXPECT_EQ(o.target.http.headers.size(), 1u);  // -H stays global

  const auto& p = jobs[2];
  EXPECT_FALSE(p.usage_error) << *p.usage_error;
  EXPECT_TRUE(p.run.identity.p12_file.empty());
  EXPECT_EQ(p.run.identity.cert_file, "/line/a.pem");
  EXPECT_EQ(p.run.identity.key_file, "/line/a.key");
  EXPECT_EQ(p.run.tls.min_version, TlsVersion::v1_3);

  const auto& n = jobs[3];
  EXPECT_TRUE(n.run.identity.no_cert);
  EXPECT_EQ(n.target.connect_timeout, 500ms);
}

TEST(BatchPlan, SingleProbeOutputOptionsAreUsageErrors) {
  for (int which = 0; which < 5; ++which) {
    RawBatchArgs raw = args();
    if (which == 0) raw.probe.output = "out.bin";
    if (which == 1) raw.probe.max_filesize = "1M";
    if (which == 2) raw.probe.write_out = "%{http_code}";
    if (which == 3) raw.probe.include = true;
    if (which == 4) raw.probe.head = true;
    const auto plan = make_batch_plan(raw, "https://api.internal/\n");
    ASSERT_TRUE(plan.usage_error) << which;
    EXPECT_NE(plan.usage_error->find("not of batch"), std::string::npos);
  }
  EXPECT_FALSE(make_batch_plan(args(), "https://api.internal/\n").usage_error);
}

TEST(BatchPlan, LineCertReplacesGlobalCertAndKey) {
  RawBatchArgs raw;
  raw.probe.cert = "/global/a.pem";
  raw.probe.key = "/global/a.key";
  const auto plan = make_batch_plan(raw, "https://a.example/ cert=/line/b.pem\nhttps://a.example/\n");
  const auto jobs = all_jobs(plan);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].run.identity.cert_file, "/line/b.pem");
  EXPECT_EQ(jobs[0].run.identity.key_file, "");  // not the global key of another certificate
  EXPECT_EQ(jobs[1].run.identity.key_file, "/global/a.key");
}

TEST(BatchPlan, CertFileWithColonSurvivesTheMerge) {
  RawBatchArgs raw;
  raw.probe.cert = "/global/a\\:b.pem";
  const auto plan = make_batch_plan(raw, "https://a.example/\nhttps://a.example/ cert=/line/c:d.pem\n");
  const auto jobs = all_jobs(plan);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].run.identity.cert_file, "/global/a:b.pem");
  EXPECT_EQ(jobs[1].run.identity.cert_file, "/line/c:d.pem");
  EXPECT_FALSE(plan.password);
}

TEST(BatchPlan, PasswordIsReadOnceAndNotCopiedIntoJobs) {
  ::setenv("MTLS_BATCH_TEST_PW", "s3cret-pw", 1);
  RawBatchArgs raw = args();
  raw.probe.p12_password_env = "MTLS_BATCH_TEST_PW";
  const auto plan = make_batch_plan(raw, "https://a.example/\nhttps://b.example/ p12=/line/b.p12\n");
  const auto jobs = all_jobs(plan);
  ASSERT_FALSE(plan.usage_error);
  ASSERT_TRUE(plan.password);
  EXPECT_EQ(*plan.password, "s3cret-pw");
  for (const auto& j : jobs) {
    EXPECT_FALSE(j.usage_error);
    EXPECT_FALSE(j.identity_error);
    EXPECT_FALSE(j.run.identity.password);
  }
  ::unsetenv("MTLS_BATCH_TEST_PW");
}

TEST(BatchPlan, PasswordSourceForTheLinesIdentitiesOnly) {
  ::setenv("MTLS_BATCH_TEST_PW", "s3cret-pw", 1);
  RawBatchArgs raw;
  raw.probe.p12_password_env = "MTLS_BATCH_TEST_PW";
  const auto plan = make_batch_plan(raw, "https://a.example/ p12=/line/a.p12\nhttps://b.example/\n");
  const auto jobs = all_jobs(plan);
  ASSERT_FALSE(plan.usage_error) << *plan.usage_error;
  ASSERT_TRUE(plan.password);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0].run.identity.p12_file, "/line/a.p12");
  EXPECT_FALSE(jobs[1].run.identity.configured());
  EXPECT_FALSE(jobs[1].usage_error);
  ::unsetenv("MTLS_BATCH_TEST_PW");
}

TEST(BatchPlan, CertColonPasswordIsTheRunsPassword) {
  RawBatchArgs raw;
  raw.probe.cert = "/global/a.p12:pw-in-argv";
  raw.probe.cert_type = "P12";
  const auto plan = make_batch_plan(raw, "https://a.example/\n");
  const auto jobs = all_jobs(plan);
  ASSERT_FALSE(plan.usage_error) << *plan.usage_error;
  ASSERT_TRUE(plan.password);
  EXPECT_EQ(*plan.password, "pw-in-argv");
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].run.identity.p12_file, "/global/a.p12");
  EXPECT_FALSE(plan.warnings.empty());  // visible in the process list: warned once
}

TEST(BatchPlan, MissingPasswordSourceIsAnIdentityErrorOfTheLinesWithAnIdentity) {
  ::unsetenv("MTLS_BATCH_TEST_NO_SUCH_VAR");
  RawBatchArgs raw;
  raw.probe.p12_password_env = "MTLS_BATCH_TEST_NO_SUCH_VAR";
  raw.probe.p12 = "/global/id.p12";
  const auto plan = make_batch_plan(raw, "https://a.example/\n");
  const auto jobs = all_jobs(plan);
  ASSERT_FALSE(plan.usage_error);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_TRUE(jobs[0].identity_error);
}

TEST(BatchPlan, BadGlobalOptionIsAUsageErrorOfTheRun) {
  RawBatchArgs raw = args();
  raw.probe.tls_min = "2.0";
  EXPECT_TRUE(make_batch_plan(raw, "https://a.example/\n").usage_error);
  raw = args();
  raw.probe.resolve = {"garbage"};
  EXPECT_TRUE(make_batch_plan(raw, "https://a.example/\n").usage_error);
  raw = args();
  raw.probe.max_time = 0;
  EXPECT_TRUE(make_batch_plan(raw, "https://a.example/\n").usage_error);
  raw = args();
  raw.parallel = 0;
  EXPECT_TRUE(make_batch_plan(raw, "https://a.example/\n").usage_error);
  raw.parallel = 100000;
  EXPECT_TRUE(make_batch_plan(raw, "https://a.example/\n").usage_error);
  raw = args();
  raw.parallel = 512;
  EXPECT_FALSE(make_batch_plan(raw, "https://a.example/\n").usage_error);
  raw.shard = "4/3";
  EXPECT_TRUE(make_batch_plan(raw, "https://a.example/\n").usage_error);
}

TEST(BatchPlan, LineThatContradictsTheGlobalsIsAUsageErrorOfItsOwn) {
  RawBatchArgs raw = args();
  raw.probe.tls_max = "1.2";
  const auto plan = make_batch_plan(raw, "https://a.example/ tls-min=1.3\nhttps://b.example/\nnot-a-url\n");
  const auto jobs = all_jobs(plan);
  ASSERT_FALSE(plan.usage_error);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_TRUE(jobs[0].usage_error);
  EXPECT_FALSE(jobs[1].usage_error);
  EXPECT_TRUE(jobs[2].line.error);
  EXPECT_EQ(jobs[2].line.line, 3);
}

TEST(BatchPlan, ShardsTakeTheirLinesAndTogetherAll) {
  std::string text = "# header\n";
  for (int i = 0; i < 10; ++i) text += "https://h" + std::to_string(i) + ".example/\n\n";
  std::vector<int> seen;
  for (int k = 1; k <= 3; ++k) {
    RawBatchArgs raw;
    raw.shard = std::to_string(k) + "/3";
    const auto plan = make_batch_plan(raw, text);
    const auto jobs = all_jobs(plan);
    ASSERT_FALSE(plan.usage_error);
    for (const auto& j : jobs) {
      EXPECT_EQ(j.line.index % 3, static_cast<std::size_t>(k - 1));
      seen.push_back(static_cast<int>(j.line.index));
    }
  }
  std::sort(seen.begin(), seen.end());
  std::vector<int> all(10);
  for (int i = 0; i < 10; ++i) all[i] = i;
  EXPECT_EQ(seen, all);
}

}  // namespace
}  // namespace mtls_probe::tool

namespace mtls_probe::tool {
namespace {

TEST(BatchCommandLine, SecretsInBatchArgvAreBlanked) {
  CLI::App app;
  RawProbeArgs raw;
  RawBatchArgs batch_raw;
  add_probe_options(app, raw);
  add_batch_command(app, batch_raw);
  std::vector<std::string> words{"mtls-probe", "batch",  "--pass",       "pw-one",     "-j",
                                 "8",          "--cert", "a.p12:pw-two", "targets.txt"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  blank_argv_secrets(app, static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(words[3], "******");
  EXPECT_EQ(words[5], "8");
  EXPECT_EQ(words[7], "a.p12:******");
  EXPECT_EQ(words[8], "targets.txt");
}

TEST(BatchPlan, OutputOptionsAreCheckedBeforeAnythingRuns) {
  RawBatchArgs raw = args();
  raw.warn_days = "30";
  auto plan = make_batch_plan(raw, "https://a.example/\n");
  EXPECT_FALSE(plan.usage_error);
  EXPECT_EQ(plan.warn_days, 30);
  for (const char* bad : {"-1", "thirty", "1.5", "", "100001", "99999999999999999999"}) {
    raw.warn_days = bad;
    if (*bad == '\0') continue;  // "" is "not given"
    EXPECT_TRUE(make_batch_plan(raw, "https://a.example/\n").usage_error) << bad;
  }
  raw.warn_days = "0";
  EXPECT_EQ(make_batch_plan(raw, "https://a.example/\n").warn_days, 0);
  raw.warn_days = "36500";
  raw.fail_on_warn = true;
  EXPECT_FALSE(make_batch_plan(raw, "https://a.example/\n").usage_error);
  raw.warn_days.clear();
  auto err = make_batch_plan(raw, "https://a.example/\n").usage_error;
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("--warn-days"), std::string::npos);
  raw = args();
  raw.junit = raw.metrics = "/tmp/same";
  EXPECT_TRUE(make_batch_plan(raw, "https://a.example/\n").usage_error);
  raw.metrics = "/tmp/other";
  EXPECT_FALSE(make_batch_plan(raw, "https://a.example/\n").usage_error);
  raw.targets_file = "/tmp/other";
  EXPECT_TRUE(make_batch_plan(raw, "https://a.example/\n").usage_error);
}

TEST(BatchProgress, OnlyOnATerminalWithoutNoColorNoProgressOrVerbose) {
  EXPECT_TRUE(show_progress(true, nullptr, false, 0));
  EXPECT_TRUE(show_progress(true, "", false, 0));  // NO_COLOR set but empty: unset
  EXPECT_FALSE(show_progress(false, nullptr, false, 0));
  EXPECT_FALSE(show_progress(true, "1", false, 0));
  EXPECT_FALSE(show_progress(true, nullptr, true, 0));
  EXPECT_FALSE(show_progress(true, nullptr, false, 1));
}

TEST(BatchCommandLine, OutputFlagsParse) {
  CLI::App app;
  RawBatchArgs raw;
  add_batch_command(app, raw);
  std::vector<std::string> words{"mtls-probe",     "batch",         "--junit",     "j.xml",
                                 "--metrics",      "m.prom",        "--warn-days", "14",
                                 "--fail-on-warn", "--no-progress", "t.txt"};
  std::vector<char*> argv;
  for (auto& w : words) argv.push_back(w.data());
  app.parse(static_cast<int>(argv.size()), argv.data());
  EXPECT_EQ(raw.junit, "j.xml");
  EXPECT_EQ(raw.metrics, "m.prom");
  EXPECT_EQ(raw.warn_days, "14");
  EXPECT_TRUE(raw.fail_on_warn);
  EXPECT_TRUE(raw.no_progress);
  EXPECT_EQ(raw.targets_file, "t.txt");
}

}  // namespace
}  // namespace mtls_probe::tool
