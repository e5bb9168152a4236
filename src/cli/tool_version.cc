#include "tool_version.h"

#include <ares.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <openssl/provider.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdlib>
#include <filesystem>

namespace mtls_probe::tool {
namespace {

int collect_provider_name(OSSL_PROVIDER* provider, void* names) {
  static_cast<std::vector<std::string>*>(names)->emplace_back(OSSL_PROVIDER_get0_name(provider));
  return 1;
}

// OSSL_PROVIDER_do_all lists the active providers (OpenSSL activates its fallback, default, if none is).
std::vector<std::string> loaded_providers() {
  std::vector<std::string> names;
  OSSL_PROVIDER_do_all(nullptr, collect_provider_name, &names);
  std::sort(names.begin(), names.end());
  return names;
}

// What could be loaded without loading it: the providers compiled into libcrypto, and the module files
// (legacy.so, fips.so) in the directory OpenSSL loads them from ($OPENSSL_MODULES overrides it, as in
// OpenSSL itself).
std::vector<std::string> available_providers() {
  std::vector<std::string> names{"base", "default"};
  const char* env = std::getenv("OPENSSL_MODULES");
  const char* dir = env != nullptr && *env != '\0' ? env : OPENSSL_info(OPENSSL_INFO_MODULES_DIR);
  std::error_code ec;
  for (const char* module : {"legacy", "fips"}) {
    if (dir != nullptr &&
        std::filesystem::exists(std::filesystem::path(dir) / (std::string(module) + ".so"), ec))
      names.emplace_back(module);
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool has_option_with_prefix(const CLI::App& app, const std::string& prefix) {
  for (const CLI::Option* o : app.get_options()) {
    for (const auto& name : o->get_lnames()) {
      if (name.rfind(prefix, 0) == 0) return true;
    }
  }
  for (const CLI::App* sub : app.get_subcommands({})) {
    if (has_option_with_prefix(*sub, prefix)) return true;
  }
  return false;
}

bool has_subcommand(const CLI::App& app, const std::string& name) {
  return !app.get_subcommands([&](const CLI::App* sub) { return sub->check_name(name); }).empty();
}

std::string joined(const std::vector<std::string>& words, const char* separator) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : separator) + w;
  return out.empty() ? "none" : out;
}

}  // namespace

std::vector<std::string> features_of(const CLI::App& app) {
  // Built into every mtls-probe: HTTP/2 over nghttp2, asynchronous DNS over c-ares, IPv6, PKCS#12 files
  // that need OpenSSL's legacy provider (loaded on demand), JSON output.
  std::vector<std::string> features{"HTTP/2", "async-DNS", "IPv6", "PKCS#12-legacy", "JSON"};
  if (has_option_with_prefix(app, "proxy")) features.emplace_back("proxy");
  if (has_option_with_prefix(app, "grpc")) features.emplace_back("gRPC-health");
  for (const char* sub : {"inspect", "serve", "batch"}) {
    if (has_subcommand(app, sub)) features.emplace_back(sub);
  }
  return features;
}

VersionInfo collect_version_info(const CLI::App& app) {
  VersionInfo info;
  info.program = MTLS_PROBE_VERSION;
  info.libraries.push_back({"OpenSSL", OpenSSL_version(OPENSSL_VERSION), OPENSSL_VERSION_TEXT});
  const nghttp2_info* h2 = nghttp2_version(0);
  info.libraries.push_back({"libnghttp2", h2 != nullptr ? h2->version_str : "?", NGHTTP2_VERSION});
  info.libraries.push_back({"c-ares", ares_version(nullptr), ARES_VERSION_STR});
  info.providers_loaded = loaded_providers();
  info.providers_available = available_providers();
  info.features = features_of(app);
  return info;
}

std::string format_version(const VersionInfo& info) {
  std::string out = "mtls-probe " + info.program + "\n";
  for (const auto& lib : info.libraries) {
    out += lib.name + ": " + lib.running + " (built against " + lib.built + ")\n";
  }
  out += "Providers: loaded " + joined(info.providers_loaded, ", ") + "; available " +
         joined(info.providers_available, ", ") + "\n";
  out += "Features: " + joined(info.features, " ");
  return out;  // CLI11 adds the last newline
}

}  // namespace mtls_probe::tool
