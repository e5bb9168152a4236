// `mtls-probe --version`: the program's version, the libraries it runs with (and was built against), the
// OpenSSL providers loaded and loadable, and the features built in. Collected once, formatted apart, so
// the format is unit-tested with fixed values.
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace mtls_probe::tool {

struct LibraryVersion {
  std::string name;     // "OpenSSL", "libnghttp2", "c-ares"
  std::string running;  // the version the process runs with (the shared library's own answer)
  std::string built;    // the version of the headers it was compiled against
};

struct VersionInfo {
  std::string program;  // "0.1.0"
  std::vector<LibraryVersion> libraries;
  std::vector<std::string> providers_loaded;     // OpenSSL providers active now (none is loaded to list)
  std::vector<std::string> providers_available;  // built in, or a module file in OpenSSL's modules dir
  std::vector<std::string> features;
};

// The features the command line offers: a fixed part, and a part read off app's options (a proxy or gRPC
// option added to the command line shows up here without an edit).
std::vector<std::string> features_of(const CLI::App& app);

// Asks OpenSSL, nghttp2 and c-ares; loads no provider.
VersionInfo collect_version_info(const CLI::App& app);

// curl-style, one fact per line:
//   mtls-probe 0.1.0
//   OpenSSL: OpenSSL 3.0.22 25 Aug 2026 (built against OpenSSL 3.0.22 25 Aug 2026)
//   Providers: loaded default; available base, default, legacy
//   ...
//   Features: HTTP/2 async-DNS ...
std::string format_version(const VersionInfo& info);

}  // namespace mtls_probe::tool
