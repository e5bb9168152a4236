#include "front_end.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <ostream>

#include "mtls_probe/identity/identity.h"
#include "mtls_probe/identity/pkcs11_uri.h"
#include "mtls_probe/report/report.h"

namespace mtls_probe::tool {
namespace {

std::string once_message(const PasswordRules& rules) {
  return rules.curl_spellings ? "give the password once: --p12-password-env, --p12-password-file, --pass or "
                                "--cert FILE:PASSWORD"
                              : "give the password once: --p12-password-env or --p12-password-file";
}

void set_up(spdlog::logger& logger, int verbose, LogStyle style) {
  if (style == LogStyle::server) {
    logger.set_pattern("[%Y-%m-%d %H:%M:%S.%e] [%^%l%$] %v");  // the level coloured, on a terminal
    logger.set_level(verbose > 0 ? spdlog::level::debug : spdlog::level::info);
    logger.flush_on(spdlog::level::trace);  // scripts grep the log while the server still runs
  } else {
    logger.set_pattern("* %v");
    logger.set_level(verbose > 0 ? spdlog::level::debug : spdlog::level::warn);
  }
}

}  // namespace

Expected<std::string, std::string> read_small_text_file(const std::string& path, std::size_t max_bytes) {
  std::string text;
  if (path == "-") {
    std::istreambuf_iterator<char> it(std::cin), end;
    for (; it != end && text.size() <= max_bytes; ++it) text += *it;
    return text;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Unexpected{std::string(std::strerror(errno))};
  text.resize(max_bytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) return Unexpected{std::string("could not be read")};
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

void wipe_secret(std::string& s) {
  OPENSSL_cleanse(s.data(), s.size());
}

void wipe_secret(std::optional<std::string>& s) {
  if (s) wipe_secret(*s);
  s.reset();
}

PasswordSource resolve_password_source(PasswordOptions given, bool identity_given,
                                       const PasswordRules& rules) {
  PasswordSource out;
  if (given.cert_password) out.warnings.emplace_back(kCertPasswordVisible);
  if (!given.pass.empty()) out.warnings.emplace_back(kPassVisible);
  const int sources =
      given.cert_password.has_value() + !given.pass.empty() + !given.env.empty() + !given.file.empty();
  if (sources > 1) {
    out.usage_error = once_message(rules);
  } else if (given.cert_password) {
    out.password = given.cert_password;
  } else if (!given.pass.empty()) {
    out.password = given.pass;
  } else if (!given.env.empty() || !given.file.empty()) {
    auto pw = !given.env.empty() ? password_from_env(given.env) : password_from_file(given.file);
    if (pw) {
      out.password = std::move(pw.value());
    } else {
      out.read_error = std::move(pw.error());
    }
  }
  if (out.password && !identity_given) {
    wipe_secret(out.password);
    out.usage_error = fmt::format("a password was given but no identity ({})", rules.identity_options);
  }
  wipe_secret(given.cert_password);
  OPENSSL_cleanse(given.pass.data(), given.pass.size());
  return out;
}

TokenSetup resolve_token_options(const TokenArgs& args, bool uri_given, IdentityOptions& id) {
  TokenSetup out;
  const bool token_option = !args.pkcs11_module.empty() || !args.pin_env.empty() || !args.pin_file.empty();
  if (token_option && !uri_given) {
    out.usage_error = "--pkcs11-module, --pin-env and --pin-file go with a PKCS#11 URI (--cert / --key pkcs11:...)";
    return out;
  }
  if (!args.pin_env.empty() && !args.pin_file.empty()) {
    out.usage_error = "give the PIN once: --pin-env or --pin-file, not both";
    return out;
  }
  id.pkcs11_module = args.pkcs11_module;
  if (args.pin_env.empty() && args.pin_file.empty()) return out;
  auto pin = !args.pin_env.empty() ? password_from_env(args.pin_env) : password_from_file(args.pin_file, "PIN file");
  if (pin) {
    id.pin = std::move(pin.value());
  } else {
    out.read_error = std::move(pin.error());
  }
  return out;
}

std::optional<std::string> check_pkcs11_uri(const std::string& option, const std::string& uri) {
  auto parsed = parse_pkcs11_uri(uri);
  if (!parsed) return option + ": " + parsed.error();
  if (parsed->has_pin_value)
    return option + ": the URI holds a pin-value, which other users see in the process list: give the PIN with "
                    "--pin-env VAR or --pin-file FILE";
  return std::nullopt;
}

bool use_color(int fd) {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && no_color[0] != '\0') return false;
  return isatty(fd) == 1;
}

std::shared_ptr<spdlog::logger> make_stderr_logger(int verbose, LogStyle style) {
  std::shared_ptr<spdlog::logger> logger;
  if (style == LogStyle::server) {
    auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>(
        use_color(STDERR_FILENO) ? spdlog::color_mode::always : spdlog::color_mode::never);
    logger = std::make_shared<spdlog::logger>("serve", std::move(sink));
  } else {
    logger =
        std::make_shared<spdlog::logger>("mtls-probe", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  }
  set_up(*logger, verbose, style);
  return logger;
}

std::shared_ptr<spdlog::logger> make_stream_logger(std::ostream& out, int verbose, LogStyle style) {
  auto logger = std::make_shared<spdlog::logger>(style == LogStyle::server ? "serve" : "mtls-probe",
                                                 std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
  set_up(*logger, verbose, style);
  return logger;
}

int print_usage_error(std::ostream& err, std::string_view command, std::string_view message) {
  err << "mtls-probe " << command << ": " << escape_terminal(message)
      << "\nRun with --help for more information.\n";
  err.flush();
  return kExitUsage;
}

}  // namespace mtls_probe::tool
