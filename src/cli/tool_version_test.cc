#include "tool_version.h"

#include <gtest/gtest.h>
#include <openssl/crypto.h>
#include <stdlib.h>

#include <CLI/CLI.hpp>
#include <algorithm>

#include "tool_cli.h"

namespace mtls_probe::tool {
namespace {

bool has(const std::vector<std::string>& list, const std::string& word) {
  return std::find(list.begin(), list.end(), word) != list.end();
}

TEST(Version, FormatsEveryFactOnItsOwnLine) {
  VersionInfo info;
  info.program = "1.2.3";
  info.libraries = {{"OpenSSL", "OpenSSL 3.0.99 run", "OpenSSL 3.0.1 built"}, {"c-ares", "1.18.1", "1.18.1"}};
  info.providers_loaded = {"default"};
  info.providers_available = {"base", "default", "legacy"};
  info.features = {"HTTP/2", "async-DNS"};
  EXPECT_EQ(format_version(info),
            "mtls-probe 1.2.3\n"
            "OpenSSL: OpenSSL 3.0.99 run (built against OpenSSL 3.0.1 built)\n"
            "c-ares: 1.18.1 (built against 1.18.1)\n"
            "Providers: loaded default; available base, default, legacy\n"
            "Features: HTTP/2 async-DNS");
}

TEST(Version, SaysNoneForAnEmptyList) {
  VersionInfo info;
  info.program = "1.0.0";
  EXPECT_NE(format_version(info).find("Providers: loaded none; available none\nFeatures: none"),
            std::string::npos);
}

TEST(Version, CollectsTheRunningLibrariesAndProviders) {
  CLI::App app;
  CommandLine cl;
  define_command_line(app, cl, false);
  const VersionInfo info = collect_version_info(app);
  EXPECT_EQ(info.program, MTLS_PROBE_VERSION);
  ASSERT_EQ(info.libraries.size(), 3u);
  EXPECT_EQ(info.libraries[0].running, OpenSSL_version(OPENSSL_VERSION));
  EXPECT_EQ(info.libraries[1].name, "libnghttp2");
  EXPECT_EQ(info.libraries[2].name, "c-ares");
  for (const auto& lib : info.libraries) EXPECT_FALSE(lib.running.empty() || lib.built.empty()) << lib.name;
  EXPECT_TRUE(has(info.providers_loaded, "default"));  // OpenSSL's fallback, active without a config
  EXPECT_TRUE(has(info.providers_available, "default"));
}

// legacy is listed as available when its module file is where OpenSSL would load it from, and listing it
// does not load it.
TEST(Version, LegacyIsAvailableOnlyWhereItsModuleIs) {
  CLI::App app;
  const char* old = getenv("OPENSSL_MODULES");
  const std::string saved = old != nullptr ? old : "";
  setenv("OPENSSL_MODULES", "/nonexistent-mtls-probe-modules", 1);
  const VersionInfo before = collect_version_info(app);
  EXPECT_FALSE(has(before.providers_available, "legacy"));
  const char* dir = OPENSSL_info(OPENSSL_INFO_MODULES_DIR);
  ASSERT_NE(dir, nullptr);
  setenv("OPENSSL_MODULES", dir, 1);
  const VersionInfo info = collect_version_info(app);
  if (old != nullptr) {
    setenv("OPENSSL_MODULES", saved.c_str(), 1);
  } else {
    unsetenv("OPENSSL_MODULES");
  }
  EXPECT_TRUE(has(info.providers_available, "legacy")) << dir << " (Debian's libssl3 ships legacy.so)";
  // Another test in this process (a PKCS#12 with RC2) may have loaded it already: listing must not change that.
  EXPECT_EQ(has(info.providers_loaded, "legacy"), has(before.providers_loaded, "legacy"));
}

TEST(Version, FeaturesFollowTheCommandLine) {
  CLI::App bare;
  auto f = features_of(bare);
  EXPECT_TRUE(has(f, "HTTP/2"));
  EXPECT_FALSE(has(f, "proxy"));
  EXPECT_FALSE(has(f, "serve"));

  CLI::App app;
  CommandLine cl;
  define_command_line(app, cl, false);
  f = features_of(app);
  EXPECT_TRUE(has(f, "proxy"));  // -x/--proxy is on the probe's command line
  EXPECT_TRUE(has(f, "inspect") && has(f, "serve") && has(f, "batch"));
}

TEST(Version, TheVersionFlagPrintsIt) {
  CLI::App app;
  CommandLine cl;
  define_command_line(app, cl, false);
  try {
    app.parse(std::vector<std::string>{"--version"});
    FAIL() << "--version did not stop the parse";
  } catch (const CLI::CallForVersion& e) {
    const std::string text = e.what();
    EXPECT_EQ(text.rfind(std::string("mtls-probe ") + MTLS_PROBE_VERSION + "\nOpenSSL: ", 0), 0u) << text;
    EXPECT_NE(text.find("\nProviders: loaded "), std::string::npos) << text;
    EXPECT_NE(text.find("\nFeatures: HTTP/2"), std::string::npos) << text;
  }
}

}  // namespace
}  // namespace mtls_probe::tool
