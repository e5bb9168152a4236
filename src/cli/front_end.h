// The rules the three commands of the front end (the probe, `inspect`, `serve`) share, in one place: where a
// password comes from, when output is coloured, the logger on stderr, how a usage error is told, and which
// exit code each outcome has (docs/exit-codes.md is the documentation of the last two).
#pragma once

#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/base/result.h"
#include "mtls_probe/engine/facts.h"
#include "mtls_probe/engine/options.h"

namespace spdlog {
class logger;
}

namespace mtls_probe::tool {

// ---- exit codes of the subcommands (the probe's are its verdicts: diagnosis/verdict.h)

inline constexpr int kExitUsage = 1;  // every command: a bad command line

// (inspect: 0 usable, 2 not usable: InspectResult::exit_code)

// serve
inline constexpr int kServeStopped = 0;        // SIGINT/SIGTERM, or --once done
inline constexpr int kServeIdentityError = 2;  // its own identity, CA or PKI directory is unusable
inline constexpr int kServeCannotListen = 4;   // bind/listen failed: the probe's connect-failure, seen
                                               // from the server's side of the same socket

// ---- password sources

// The text of a small file named on the command line ("-": stdin), at most max_bytes + 1 bytes (one more
// than allowed, so that the caller can tell a file that is too long); else why it could not be read.
Expected<std::string, std::string> read_small_text_file(const std::string& path, std::size_t max_bytes);

// Overwrites a secret in memory (OPENSSL_cleanse); the optional one is then empty.
void wipe_secret(std::string& s);
void wipe_secret(std::optional<std::string>& s);

// The warnings for a password given where `ps` shows it.
inline constexpr std::string_view kCertPasswordVisible =
    "a password given in --cert FILE:PASSWORD is visible to other users in the process list; use "
    "--p12-password-env or --p12-password-file";
inline constexpr std::string_view kPassVisible =
    "--pass makes the password visible to other users in the process list; use --p12-password-env or "
    "--p12-password-file";

inline constexpr std::string_view kProxyPasswordVisible =
    "a password given in --proxy-user USER:PASSWORD is visible to other users in the process list; use "
    "--proxy-password-env";

inline constexpr std::string_view kProxyUrlPasswordVisible =
    "a password in the -x/--proxy URL is visible to other users in the process list; use --proxy-user USER "
    "with --proxy-password-env";

inline constexpr std::string_view kKeyLogWarning =
    "SSLKEYLOGFILE is set: the TLS secrets of this probe are appended to that file; anyone with it and a "
    "capture can read the traffic, client certificate exchange included";

// The password options as given on the command line.
struct PasswordOptions {
  std::string env;                           // --p12-password-env VAR
  std::string file;                          // --p12-password-file FILE
  std::string pass;                          // --pass PASSWORD (probe, inspect)
  std::optional<std::string> cert_password;  // the PASSWORD of --cert FILE:PASSWORD (probe, inspect)
};

// What a command offers, for the messages.
struct PasswordRules {
  bool curl_spellings = true;                             // --pass and --cert FILE:PASSWORD exist (not serve)
  std::string_view identity_options = "--p12 or --cert";  // what "no identity" means
};

struct PasswordSource {
  std::optional<std::string> password;        // the one given; nullopt when none (or it could not be read)
  std::vector<std::string> warnings;          // never contain the password
  std::optional<std::string> usage_error;     // two sources, or a password without an identity
  std::optional<IdentityFailure> read_error;  // password_source: the variable is unset, the file unreadable
};

// The one rule for every command: at most one source (else a usage error, and nothing is read); --pass and
// --cert FILE:PASSWORD work but warn that the password is visible in the process list; the variable or the
// file is read here (a failure is an identity error, not a usage error); a password that was read with no
// identity to use it on is a usage error. The copies in `given` and a dropped password are wiped.
PasswordSource resolve_password_source(PasswordOptions given, bool identity_given,
                                       const PasswordRules& rules = {});

// ---- PKCS#11 tokens (probe, batch and inspect alike)

struct TokenArgs {
  std::string pkcs11_module;  // --pkcs11-module PATH
  std::string pin_env;        // --pin-env VAR
  std::string pin_file;       // --pin-file FILE
};

struct TokenSetup {
  std::optional<std::string> usage_error;  // both PIN sources, a pin-value in a URI, a token option alone
  std::optional<IdentityFailure> read_error;  // the PIN variable is unset, the file unreadable
};

// Checks the token options and fills id's module and PIN (read here, once). uri_given: an identity option
// names a pkcs11: URI (the PIN and module options go with nothing else).
TokenSetup resolve_token_options(const TokenArgs& args, bool uri_given, IdentityOptions& id);

// A URI the front end accepts: it parses, and holds no pin-value (which the process list would show).
std::optional<std::string> check_pkcs11_uri(const std::string& option, const std::string& uri);

// ---- colour

// Colour only on a terminal, and never when NO_COLOR is set to anything but "" (no-color.org).
bool use_color(int fd);

// ---- the logger

enum class LogStyle {
  trace,   // probe and inspect: "* message" (curl -v style), warnings only unless -v
  server,  // serve: "[2026-01-02 10:00:00.123] [info] message", an admin's log, info unless -v
};

// A logger on stderr (not registered with spdlog: callable more than once): debug with -v, else the
// style's level; a server log is coloured by use_color(STDERR_FILENO) and flushed at every line.
std::shared_ptr<spdlog::logger> make_stderr_logger(int verbose, LogStyle style = LogStyle::trace);
// The same on any stream (tests).
std::shared_ptr<spdlog::logger> make_stream_logger(std::ostream& out, int verbose,
                                                   LogStyle style = LogStyle::trace);

// ---- usage errors

// The text form of a usage error, for a subcommand with no report to carry it (inspect without --json,
// serve): "mtls-probe inspect: MESSAGE" (terminal-escaped) and a pointer to --help. Returns kExitUsage.
// (The probe tells its usage errors in its report, text or JSON, on stdout; inspect --json in its JSON.)
int print_usage_error(std::ostream& err, std::string_view command, std::string_view message);

}  // namespace mtls_probe::tool
