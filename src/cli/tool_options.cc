#include "tool_options.h"

#include <fmt/format.h>
#include <openssl/crypto.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string_view>

#include "front_end.h"
#include "mtls_probe/base/ascii.h"
#include "mtls_probe/engine/dns.h"
#include "mtls_probe/engine/grpc.h"
#include "mtls_probe/engine/url.h"
#include "mtls_probe/identity/identity.h"
#include "mtls_probe/identity/pkcs11_uri.h"

namespace mtls_probe::tool {
namespace {

std::optional<TlsVersion> parse_version(const std::string& v) {
  if (v == "1.0") return TlsVersion::v1_0;
  if (v == "1.1") return TlsVersion::v1_1;
  if (v == "1.2") return TlsVersion::v1_2;
  if (v == "1.3") return TlsVersion::v1_3;
  return std::nullopt;
}

}  // namespace

void add_probe_options(CLI::App& app, RawProbeArgs& raw) {
  app.add_option("url", raw.url, "https URL to probe");

  auto* id = "Client identity";
  app.add_option("--p12", raw.p12, "PKCS#12 identity (.p12/.pfx): key, certificate and chain")->group(id);
  app.add_option("--p12-password-env", raw.p12_password_env, "read the PKCS#12 password from environment VAR")
      ->group(id);
  app.add_option("--p12-password-file", raw.p12_password_file,
                 "read the password from the first line of FILE")
      ->group(id);
  app.add_option("--pass", raw.pass, "password (curl spelling; visible in the process list: warns)")
      ->group(id);
  app.add_option("-E,--cert", raw.cert,
                 "client certificate FILE[:PASSWORD] (PEM, or P12 with --cert-type P12), or a PKCS#11 URI "
                 "'pkcs11:token=...;object=...' (RFC 7512) for a certificate on a token")
      ->group(id);
  app.add_option("--cert-type", raw.cert_type, "PEM (default) or P12")->group(id);
  app.add_option("--key", raw.key, "private key FILE (PEM) for --cert, or a PKCS#11 URI for a key on a token")
      ->group(id);
  app.add_option("--key-type", raw.key_type,
                 "PEM (default); ENG or PROV as curl (the key is a pkcs11: URI: both use libp11's engine, as "
                 "no pkcs11 provider is packaged for OpenSSL 3.0)")
      ->group(id);
  app.add_option("--pkcs11-module", raw.pkcs11_module,
                 "PKCS#11 module FILE (.so) for pkcs11: URIs (default: p11-kit's proxy, which reaches every "
                 "registered module)")
      ->group(id);
  app.add_option("--pin-env", raw.pin_env, "read the token's PIN from environment variable VAR (tried once)")
      ->group(id);
  app.add_option("--pin-file", raw.pin_file, "read the token's PIN from the first line of FILE (tried once)")
      ->group(id);
  app.add_flag("--no-cert", raw.no_cert, "present no client certificate even where one is configured")
      ->group(id);
  app.add_option("--as", raw.as,
                 "openssl (default): send the certificate whatever CAs the server lists, as curl; strict: "
                 "send none when the server's CA list names none of its issuers, as Java, Go, .NET, "
                 "browsers")
      ->group(id);

  auto* trust = "Server trust and connection";
  app.add_option("--cacert", raw.cacert, "CA certificates (PEM) to verify the server with")->group(trust);
  app.add_option("--capath", raw.capath, "directory of hashed CA certificates")->group(trust);
  app.add_flag("-k,--insecure", raw.insecure, "do not abort when the server's certificate fails verification")
      ->group(trust);
  app.add_flag(
         "--cert-status", raw.cert_status,
         "require a stapled OCSP response saying the server's certificate is good, signed by its issuer "
         "or a responder it delegated to, and current (as curl; -k does not skip it)")
      ->group(trust);
  app.add_option("--servername", raw.servername, "name for SNI and the certificate name check")->group(trust);
  app.add_option("--resolve", raw.resolve, "HOST:PORT:ADDR[,ADDR] use these addresses (as curl)")
      ->group(trust)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);  // one value per occurrence, so the URL after it stays positional
  app.add_option("--connect-to", raw.connect_to,
                 "HOST1:PORT1:HOST2:PORT2 connect to HOST2:PORT2 instead of HOST1:PORT1; SNI, Host and the "
                 "certificate name check stay the URL's (as curl; repeatable, empty parts match any / keep)")
      ->group(trust)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);
  app.add_option("--interface", raw.interface_spec,
                 "NAME|ADDRESS|HOST bind the local end to this interface or address (as curl; if!NAME, "
                 "host!NAME)")
      ->group(trust);
  app.add_flag("-4,--ipv4", raw.ipv4, "resolve and connect with IPv4 only (as curl)")->group(trust);
  app.add_flag("-6,--ipv6", raw.ipv6, "resolve and connect with IPv6 only (as curl)")->group(trust);
  app.add_option("--dns-servers", raw.dns_servers,
                 "ADDR[:PORT][,ADDR[:PORT]] DNS servers to ask instead of /etc/resolv.conf's (as curl)")
      ->group(trust);
  app.add_option("--tls-min", raw.tls_min,
                 "lowest TLS version: 1.2 (default) or 1.3; 1.0/1.1 only on request")
      ->group(trust);
  app.add_option("--tls-max", raw.tls_max, "highest TLS version: 1.2 or 1.3")->group(trust);
  app.add_option("--connect-timeout", raw.connect_timeout,
                 "seconds for DNS + TCP + TLS handshake (default 10)")
      ->group(trust);
  app.add_option("-m,--max-time", raw.max_time, "seconds for the whole probe (default 30)")->group(trust);

  auto* http = "HTTP";
  app.add_option("-X,--request", raw.method, "request method (default GET, POST with -d)")->group(http);
  app.add_option("-H,--header", raw.headers, "extra header 'Name: value' (repeatable)")
      ->group(http)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->allow_extra_args(false);  // one value per occurrence, so the URL after it stays positional
  app.add_option("-d,--data", raw.data, "request body (sent with Content-Length)")->group(http);
  app.add_flag(
         "-L,--location", raw.location,
         "follow redirects (301/302/303/307/308), each hop a whole probe; the verdict is the last hop's")
      ->group(http);
  app.add_option("--max-redirs", raw.max_redirs, "with -L: at most N redirects (default 50, -1: no limit)")
      ->group(http);
  // ALPN as curl: by default h2,http/1.1 are offered and the server picks.
  app.add_flag("--http1.1", raw.http11, "offer only http/1.1 in ALPN")->group(http);
  app.add_flag("--http2", raw.http2, "offer h2,http/1.1 and say so when the server picks HTTP/1.1")
      ->group(http);
  app.add_flag("--http2-only", raw.http2_only, "offer only h2 in ALPN")->group(http);
  app.add_option("--alpn", raw.alpn, "offer exactly this comma-separated ALPN list (e.g. istio,h2)")
      ->group(http);
  app.add_flag("--no-h1-retry", raw.no_h1_retry,
               "report an HTTP/2 refusal (HTTP_1_1_REQUIRED) as it is instead of retrying over HTTP/1.1")
      ->group(http);

  auto* proxy = "Proxy";
  app.add_option("-x,--proxy", raw.proxy,
                 "[http://|https://]HOST[:PORT] proxy to tunnel through with CONNECT (default port 1080, 443 for "
                 "https://, as curl); "
                 "overrides https_proxy/HTTPS_PROXY/all_proxy/ALL_PROXY; \"\" for none")
      ->group(proxy);
  app.add_option("-U,--proxy-user", raw.proxy_user,
                 "USER[:PASSWORD] for the proxy (Basic); a password here is visible in the process list: warns")
      ->group(proxy);
  app.add_option("--proxy-password-env", raw.proxy_password_env, "read the proxy password from environment VAR")
      ->group(proxy);
  app.add_option("--proxy-cacert", raw.proxy_cacert, "CA certificates (PEM) to verify an https:// proxy with")
      ->group(proxy);
  app.add_option("--proxy-capath", raw.proxy_capath, "directory of hashed CA certificates for an https:// proxy")
      ->group(proxy);
  app.add_flag("--proxy-insecure", raw.proxy_insecure, "do not abort when an https:// proxy's certificate fails verification")
      ->group(proxy);
  app.add_option("--proxy-cert", raw.proxy_cert, "client certificate (PEM) for an https:// proxy that asks for one")
      ->group(proxy);
  app.add_option("--proxy-key", raw.proxy_key, "its private key (PEM, unencrypted); default: in --proxy-cert")
      ->group(proxy);
  app.add_flag("--expect-client-auth", raw.expect_client_auth,
               "this server asks for a client certificate: a handshake without CertificateRequest is then "
               "evidence of TLS interception")
      ->group(proxy);
  app.add_option("--noproxy", raw.noproxy,
                 "comma-separated hosts, domains and CIDR ranges to reach without the proxy (\"*\": all); "
                 "overrides no_proxy/NO_PROXY")
      ->group(proxy);
  app.add_option("--grpc-health", raw.grpc_health,
                 "[SERVICE] send a gRPC health check (grpc.health.v1.Health/Check) of SERVICE (none: the "
                 "server's overall health) over HTTP/2 and read grpc-status")
      ->group(http)
      ->expected(0, 1)
      ->allow_extra_args(false);

  // Expanded before CLI11 parses (tool_cli.cc, config_file.h); declared here for --help.
  add_revocation_options(app, raw.revocation, "Revocation of the client certificate");

  app.add_option("-K,--config", raw.config_file,
                 "FILE read options from FILE, curl's config syntax (- = stdin); ~/.curlrc is not read")
      ->group(trust);

  auto* out = "Output";
  app.add_flag("--json", raw.json, "print exactly one JSON object on stdout")->group(out);
  app.add_option(
         "-o,--output", raw.output,
         "write the whole response body to FILE as it arrives (\"-\": stdout, the report then goes to "
         "stderr; not with --json)")
      ->group(out);
  app.add_option("--max-filesize", raw.max_filesize,
                 "BYTES[k|M|G] at most this much body into -o's file; a larger Content-Length is not "
                 "downloaded (as curl)")
      ->group(out);
  app.add_flag("-i,--include", raw.include, "every response header (and trailer) in the text report")
      ->group(out);
  app.add_flag("-I,--head", raw.head, "send a HEAD request (implies -i)")->group(out);
  app.add_option("-w,--write-out", raw.write_out,
                 "FORMAT after the report: curl's %{variables} (%{json}: all of them); a FORMAT that starts "
                 "with an at sign is read from the file it names (\"-\": stdin); on stderr with --json")
      ->group(out);
  app.add_flag("-v,--verbose", raw.verbose, "handshake trace on stderr")->group(out);
  // As curl: an option given again wins over the earlier one (a -K file's options sit where -K stands).
  for (CLI::Option* o : app.get_options()) {
    if (o->get_multi_option_policy() == CLI::MultiOptionPolicy::Throw && o->get_items_expected_max() == 1)
      o->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  }
}

const std::vector<SecretOption>& secret_options() {
  static const std::vector<SecretOption> list{
      {"--pass", 0, SecretPart::whole},
      {"--cert", 'E', SecretPart::after_colon},
      {"--key", 0, SecretPart::pin_value},
      {"--proxy-user", 'U', SecretPart::after_colon},
      {"--proxy", 'x', SecretPart::url_password},
  };
  return list;
}

namespace {

const SecretOption* find_secret(std::string_view long_name, char short_name) {
  for (const auto& s : secret_options()) {
    if ((!long_name.empty() && long_name == s.long_name) || (short_name != 0 && short_name == s.short_name))
      return &s;
  }
  return nullptr;
}

// [scheme://]user:PASSWORD@host...: the userinfo ends at the last '@' before the first '/' after it.
void blank_url_password(char* value) {
  char* start = std::strstr(value, "://");
  start = start != nullptr ? start + 3 : value;
  char* at = nullptr;
  for (char* p = start; *p != '\0' && *p != '/'; ++p)
    if (*p == '@') at = p;
  if (at == nullptr) return;
  char* colon = static_cast<char*>(std::memchr(start, ':', static_cast<std::size_t>(at - start)));
  if (colon != nullptr) std::memset(colon + 1, '*', static_cast<std::size_t>(at - colon - 1));
}

// pkcs11:...?pin-value=PIN (refused, but the process list would show it meanwhile)
void blank_pin_value(char* value) {
  for (char* p = std::strstr(value, "pin-value="); p != nullptr; p = std::strstr(p, "pin-value=")) {
    p += std::strlen("pin-value=");
    while (*p != '\0' && *p != '&' && *p != ';') *p++ = '*';
  }
}

void blank_value(char* value, SecretPart part) {
  if (part == SecretPart::url_password) return blank_url_password(value);
  if (part == SecretPart::pin_value || (part == SecretPart::after_colon && is_pkcs11_uri(value))) {
    if (is_pkcs11_uri(value)) blank_pin_value(value);
    return;
  }
  if (part == SecretPart::after_colon) {
    char* p = value;
    while (*p != '\0' && !(*p == ':' && !(p > value && p[-1] == '\\'))) ++p;
    if (*p == '\0') return;  // no password in this value
    value = p + 1;
  }
  std::memset(value, '*', std::strlen(value));
}

// The option NAME ("--cert", "-E") in app or, as CLI11 falls through, one of its parents.
const CLI::Option* find_option(const CLI::App* app, const std::string& name) {
  for (; app != nullptr; app = app->get_parent()) {
    if (const CLI::Option* o = app->get_option_no_throw(name); o != nullptr) return o;
  }
  return nullptr;
}

bool takes_value(const CLI::App* app, const std::string& name) {
  const CLI::Option* o = find_option(app, name);
  return o != nullptr && o->get_items_expected_max() > 0;
}

const CLI::App* find_subcommand(const CLI::App* app, const char* name) {
  auto subs = app->get_subcommands([&](const CLI::App* sub) { return sub->check_name(name); });
  return subs.empty() ? nullptr : subs.front();
}

// -kEFILE:PW: flags, then at most one option that takes a value (the rest of the word, or the next one).
// Returns the index of the last argv word used.
int blank_short_cluster(const CLI::App* app, int i, int argc, char** argv) {
  char* a = argv[i];
  for (char* c = a + 1; *c != '\0'; ++c) {
    const std::string name{'-', *c};
    const SecretOption* secret = find_secret({}, *c);
    if (secret == nullptr && !takes_value(app, name)) continue;  // a flag (or unknown: CLI11 refuses it)
    char* value = c[1] != '\0' ? c + 1 : (i + 1 < argc ? argv[++i] : nullptr);
    if (secret != nullptr && value != nullptr) blank_value(value, secret->part);
    break;
  }
  return i;
}

}  // namespace

void blank_argv_secrets(const CLI::App& app, int argc, char** argv) {
  const CLI::App* current = &app;
  for (int i = 1; i < argc; ++i) {
    char* a = argv[i];
    if (std::strcmp(a, "--") == 0) return;
    if (std::strncmp(a, "--", 2) == 0) {
      char* eq = std::strchr(a, '=');
      const std::string name = eq != nullptr ? std::string(a, eq) : std::string(a);
      const SecretOption* secret = find_secret(name, 0);
      char* value = eq != nullptr ? eq + 1 : nullptr;
      if (value == nullptr && (secret != nullptr || takes_value(current, name)) && i + 1 < argc)
        value = argv[++i];
      if (secret != nullptr && value != nullptr) blank_value(value, secret->part);
    } else if (a[0] == '-' && a[1] != '\0') {
      i = blank_short_cluster(current, i, argc, argv);
    } else if (const CLI::App* sub = find_subcommand(current, a); sub != nullptr) {
      current = sub;  // "inspect --pass PW": the subcommand's options from here on
    }
  }
}

std::pair<std::string, std::optional<std::string>> split_cert_password(const std::string& arg) {
  std::string file;
  for (size_t i = 0; i < arg.size(); ++i) {
    if (arg[i] == '\\' && i + 1 < arg.size() && arg[i + 1] == ':') {
      file += ':';
      ++i;
    } else if (arg[i] == ':') {
      return {file, arg.substr(i + 1)};
    } else {
      file += arg[i];
    }
  }
  return {file, std::nullopt};
}

// -x / https_proxy / ... and --noproxy / no_proxy for this target's host, with the proxy's credentials
// (the proxy URL's own userinfo wins over --proxy-user, as in curl). A usage error, or nullopt.
std::optional<std::string> choose_proxy(const RawProbeArgs& raw, const EnvLookup& env, ProbeCommand& cmd) {
  TargetOptions& t = cmd.target;
  const EnvLookup no_env = [](const char*) -> std::optional<std::string> { return std::nullopt; };
  const EnvLookup& lookup = env ? env : no_env;
  auto decision = decide_proxy(ProxyRequest{raw.proxy, raw.noproxy}, t.url.host, lookup);
  if (!decision) return decision.error().message;
  t.proxy = std::move(decision->proxy);
  t.proxy_source = decision->source;
  if (decision->bypassed) t.proxy_bypassed_by = decision->bypass_source;
  if (!t.proxy) return std::nullopt;
  if (t.proxy->password && decision->source == "--proxy") cmd.warnings.emplace_back(kProxyUrlPasswordVisible);
  ProxyTlsOptions& ptls = cmd.run.tls.proxy;
  ptls = ProxyTlsOptions{raw.proxy_cacert, raw.proxy_capath, raw.proxy_insecure, raw.proxy_cert, raw.proxy_key};
  if (!raw.proxy_key.empty() && raw.proxy_cert.empty()) return "--proxy-key goes with --proxy-cert FILE";
  if (!raw.proxy_user.empty() && !t.proxy->user) {
    auto [user, password] = split_cert_password(raw.proxy_user);
    t.proxy->user = std::move(user);
    if (password) {
      t.proxy->password = std::move(password);
      cmd.warnings.emplace_back(kProxyPasswordVisible);
    }
  }
  if (!raw.proxy_password_env.empty()) {
    if (!t.proxy->user) return "--proxy-password-env goes with --proxy-user USER";
    if (t.proxy->password) return "the proxy password is given twice (--proxy-user USER:PASSWORD or the proxy URL, and --proxy-password-env)";
    auto value = lookup(raw.proxy_password_env.c_str());
    if (!value) return "--proxy-password-env: the environment variable " + raw.proxy_password_env + " is not set";
    t.proxy->password = std::move(value);
  }
  return std::nullopt;
}

namespace {

// "--grpc-health https://h:8443" : CLI11 took the URL for the flag's optional value. A service name never
// has "://" in it, so such a value is the URL and the service is the server's overall health ("").
RawProbeArgs url_out_of_grpc_health(RawProbeArgs raw) {
  if (raw.grpc_health && raw.url.empty() && raw.grpc_health->find("://") != std::string::npos) {
    raw.url = std::move(*raw.grpc_health);
    raw.grpc_health = std::string();
  }
  return raw;
}

}  // namespace

std::optional<std::uint64_t> parse_filesize(std::string_view text) {
  std::uint64_t value = 0;
  std::size_t i = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    const auto digit = static_cast<std::uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<std::uint64_t>::max() - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (i == 0 || text.size() - i > 1) return std::nullopt;
  int shift = 0;
  if (i < text.size()) {
    switch (text[i]) {
      case 'k':
      case 'K': shift = 10; break;
      case 'm':
      case 'M': shift = 20; break;
      case 'g':
      case 'G': shift = 30; break;
      case 't':
      case 'T': shift = 40; break;
      default: return std::nullopt;
    }
  }
  if (value > (std::numeric_limits<std::uint64_t>::max() >> shift)) return std::nullopt;
  return value << shift;
}

namespace {
ProbeCommand build_probe_command(const RawProbeArgs& as_parsed, const EnvLookup& env);
}  // namespace

ProbeCommand make_probe_command(const RawProbeArgs& raw, const EnvLookup& env) {
  ProbeCommand cmd = build_probe_command(raw, env);
  if (!cmd.usage_error) {
    auto revocation = make_revocation_options(raw.revocation);
    if (!revocation) {
      cmd.usage_error = revocation.error();
    } else if (*revocation && !cmd.run.identity.configured()) {
      cmd.usage_error = "--check-revocation checks the client certificate: give it with --p12 or --cert";
    } else {
      cmd.revocation = std::move(*revocation);
    }
  }
  std::erase_if(cmd.warnings, [&](const std::string& w) {
    return std::find(raw.secrets_from_config.begin(), raw.secrets_from_config.end(), w) !=
           raw.secrets_from_config.end();
  });
  return cmd;
}

namespace {

// --cert / --key naming a PKCS#11 URI: either alone names both the key and its certificate on the token;
// a certificate FILE with a token key is read from the file. nullopt when fine (or no URI at all).
std::optional<std::string> token_identity(const RawProbeArgs& raw, const std::string& cert_type,
                                          IdentityOptions& id) {
  const bool cert_uri = is_pkcs11_uri(raw.cert);
  const bool key_uri = is_pkcs11_uri(raw.key);
  if (!cert_uri && !key_uri) return std::nullopt;
  if (!raw.p12.empty()) return "give either --p12 or a PKCS#11 URI, not both";
  if (cert_type == "P12") return "--cert-type P12 does not go with a PKCS#11 URI";
  if (cert_uri && !raw.key.empty() && !key_uri)
    return "a certificate on a token (--cert pkcs11:...) needs its key there too: --key pkcs11:... or no --key";
  if (cert_uri) {
    if (auto err = check_pkcs11_uri("--cert", raw.cert)) return err;
  }
  if (key_uri) {
    if (auto err = check_pkcs11_uri("--key", raw.key)) return err;
  }
  id.pkcs11_key_uri = key_uri ? raw.key : raw.cert;
  if (cert_uri) id.pkcs11_cert_uri = raw.cert;
  else if (!raw.cert.empty()) id.cert_file = raw.cert;  // the key on the token, its certificate in a file
  id.pkcs11_provider = ascii_upper(raw.key_type) == "PROV";
  return std::nullopt;
}

// -o, --max-filesize, -i, -I, -w: checked here; the file and @FILE are opened by the front end.
std::optional<std::string> output_options(const RawProbeArgs& raw, ProbeCommand& cmd) {
  HttpOptions& http = cmd.target.http;
  if (raw.head) {
    if (raw.data || !raw.method.empty()) return "-I/--head sends HEAD: leave out -d and -X";
    http.method = "HEAD";
  }
  cmd.include_headers = raw.include || raw.head;
  http.sink_skips_redirects = raw.location;
  if (raw.output == "-" && cmd.json)
    return "-o - writes the body to stdout, which --json keeps for its object";
  cmd.output_file = raw.output;
  if (!raw.max_filesize.empty()) {
    auto size = parse_filesize(raw.max_filesize);
    if (!size) return "--max-filesize takes a number of bytes, optionally with k, M, G or T (e.g. 10M)";
    if (raw.output.empty())
      return "--max-filesize bounds the body -o FILE writes (without -o the report keeps the first 1 MiB)";
    if (*size > 0) http.max_filesize = size;
  }
  cmd.write_out = raw.write_out;
  return std::nullopt;
}

ProbeCommand build_probe_command(const RawProbeArgs& as_parsed, const EnvLookup& env) {
  const RawProbeArgs raw = url_out_of_grpc_health(as_parsed);
  ProbeCommand cmd;
  cmd.json = raw.json;
  RunOptions& o = cmd.run;
  TargetOptions& t = cmd.target;
  t.url_text = raw.url;
  o.verbose = raw.verbose;
  auto usage = [&](std::string msg) {
    if (!cmd.usage_error) cmd.usage_error = std::move(msg);
    return cmd;
  };

  if (raw.url.empty()) return usage("no URL given");
  auto url = parse_url(raw.url);
  if (!url) return usage(url.error().message);
  t.url = std::move(url.value());

  // ---- identity
  std::string cert_type = ascii_upper(raw.cert_type.empty() ? "PEM" : raw.cert_type);
  if (cert_type != "PEM" && cert_type != "P12") return usage("--cert-type must be PEM or P12");
  const std::string key_type = ascii_upper(raw.key_type);
  if (!key_type.empty() && key_type != "PEM" && key_type != "ENG" && key_type != "PROV")
    return usage("--key-type must be PEM, ENG or PROV");
  const bool token = is_pkcs11_uri(raw.cert) || is_pkcs11_uri(raw.key);
  if (auto err = token_identity(raw, cert_type, o.identity)) return usage(*err);
  if (!token && (key_type == "ENG" || key_type == "PROV"))
    return usage("--key-type " + key_type + " goes with a PKCS#11 key (--key pkcs11:...)");
  TokenSetup token_setup = resolve_token_options({raw.pkcs11_module, raw.pin_env, raw.pin_file}, token, o.identity);
  if (token_setup.usage_error) return usage(*token_setup.usage_error);
  if (token_setup.read_error) cmd.identity_error = std::move(token_setup.read_error);
  PasswordOptions given{raw.p12_password_env, raw.p12_password_file, raw.pass, std::nullopt};
  if (!raw.cert.empty() && !token) {
    auto [file, pw] = split_cert_password(raw.cert);
    if (file.empty()) return usage("--cert needs a file name");
    if (cert_type == "P12") {
      if (!raw.p12.empty()) return usage("--p12 and --cert --cert-type P12 name the identity twice");
      o.identity.p12_file = file;
    } else {
      o.identity.cert_file = file;
    }
    if (pw) {
      given.cert_password = std::move(pw);
      // Told at once, so that a usage error of the identity options below carries it too.
      cmd.warnings.emplace_back(kCertPasswordVisible);
    }
  }
  if (!raw.p12.empty()) {
    if (!o.identity.cert_file.empty()) return usage("give either --p12 or --cert, not both");
    o.identity.p12_file = raw.p12;
  }
  if (!raw.key.empty() && !token) {
    if (o.identity.cert_file.empty()) return usage("--key goes with --cert FILE (PEM)");
    o.identity.key_file = raw.key;
  }
  PasswordSource pw = resolve_password_source(std::move(given), o.identity.configured());
  for (auto& w : pw.warnings) {
    if (std::find(cmd.warnings.begin(), cmd.warnings.end(), w) == cmd.warnings.end())
      cmd.warnings.push_back(std::move(w));
  }
  if (pw.usage_error) return usage(*pw.usage_error);
  if (token && (pw.password || pw.read_error)) {
    if (pw.password) OPENSSL_cleanse(pw.password->data(), pw.password->size());
    return usage("a PKCS#11 token takes a PIN (--pin-env / --pin-file), not a password");
  }
  if (pw.read_error) cmd.identity_error = std::move(pw.read_error);
  o.identity.password = std::move(pw.password);
  o.identity.no_cert = raw.no_cert;
  if (raw.as == "strict") {
    o.client_behaviour = ClientBehaviour::strict;
  } else if (!raw.as.empty() && raw.as != "openssl") {
    return usage("--as takes openssl or strict");
  }

  // ---- trust and connection
  if (env) {
    if (auto keylog = env("SSLKEYLOGFILE")) {  // as curl and browsers: the user asked for it, we say so
      o.tls.keylog_file = *keylog;
      cmd.warnings.emplace_back(kKeyLogWarning);
    }
  }
  o.tls.cacert_file = raw.cacert;
  o.tls.capath_dir = raw.capath;
  o.tls.insecure = raw.insecure;
  t.cert_status = raw.cert_status;
  t.servername = raw.servername;
  if (!raw.tls_min.empty()) {
    auto v = parse_version(raw.tls_min);
    if (!v) return usage("--tls-min takes 1.0, 1.1, 1.2 or 1.3");
    o.tls.min_version = *v;
  }
  if (!raw.tls_max.empty()) {
    auto v = parse_version(raw.tls_max);
    if (!v) return usage("--tls-max takes 1.0, 1.1, 1.2 or 1.3");
    o.tls.max_version = *v;
  }
  if (o.tls.max_version != TlsVersion::any &&
      static_cast<int>(o.tls.max_version) < static_cast<int>(o.tls.min_version)) {
    // TLS below 1.2 is only ever used when asked for by name with --tls-min.
    return usage(raw.tls_min.empty()
                     ? "--tls-max is below the default minimum TLS 1.2: add --tls-min 1.0 or 1.1 "
                       "to allow an old TLS version explicitly"
                     : "--tls-min is above --tls-max");
  }
  if (raw.ipv4 && raw.ipv6) return usage("-4 and -6 exclude each other");
  t.ip_family = raw.ipv4 ? IpFamily::v4 : raw.ipv6 ? IpFamily::v6 : IpFamily::any;
  if (raw.dns_servers) {
    if (auto bad = check_dns_servers(*raw.dns_servers)) return usage(*bad);
    t.dns_servers = *raw.dns_servers;
  }
  for (const auto& r : raw.resolve) {
    auto parsed = parse_resolve(r);
    if (!parsed) return usage(parsed.error().message);
    t.resolve.push_back(std::move(parsed.value()));
  }
  for (const auto& c : raw.connect_to) {
    auto parsed = parse_connect_to(c);
    if (!parsed) return usage(parsed.error().message);
    t.connect_to.push_back(std::move(parsed.value()));
  }
  t.interface_spec = raw.interface_spec;
  if (t.interface_spec == "if!" || t.interface_spec == "host!")
    return usage("--interface needs a name after '!'");
  auto seconds = [&](double s, const char* name) -> std::optional<std::chrono::milliseconds> {
    if (!std::isfinite(s) || s <= 0 || s > 86400) {
      usage(std::string(name) + " takes a number of seconds above 0 (at most 86400)");
      return std::nullopt;
    }
    return std::chrono::milliseconds(static_cast<long long>(std::ceil(s * 1000)));
  };
  auto ct = seconds(raw.connect_timeout, "--connect-timeout");
  auto mt = seconds(raw.max_time, "--max-time");
  if (!ct || !mt) return cmd;
  t.connect_timeout = *ct;
  t.max_time = *mt;

  // ---- HTTP
  t.http.method = raw.method.empty() ? (raw.data ? "POST" : "GET") : raw.method;
  if (!is_http_token(t.http.method)) return usage("-X takes an HTTP method token (e.g. GET, POST)");
  for (const auto& h : raw.headers) {
    auto parsed = parse_request_header(h);  // curl's "Name:" (remove) and "Name;" (empty) stay distinct
    if (!parsed) return usage(parsed.error().message);
    t.http.headers.push_back(std::move(parsed.value()));
  }
  t.http.data = raw.data;
  if (raw.max_redirs < -1) return usage("--max-redirs takes a number of redirects (-1: no limit)");
  if (auto bad = output_options(raw, cmd)) return usage(*bad);
  if (auto alpn = alpn_offer(raw, t.note_h1_fallback); alpn) {
    t.alpn = std::move(alpn.value());
  } else {
    return usage(alpn.error());
  }
  t.h1_retry = !raw.no_h1_retry;
  t.expect_client_auth = raw.expect_client_auth;
  if (auto bad = choose_proxy(raw, env, cmd)) return usage(*bad);
  if (raw.grpc_health) {
    if (auto bad = grpc_health_problem(raw, t)) return usage(*bad);
    // gRPC needs HTTP/2: offer only h2 unless the user chose the offer (--alpn, --http2, ...).
    if (!raw.http11 && !raw.http2 && !raw.http2_only && !raw.alpn) t.alpn = {"h2"};
    make_grpc_health_request(t, *raw.grpc_health);
  }
  return cmd;
}

}  // namespace

std::optional<std::string> grpc_health_problem(const RawProbeArgs& raw, const TargetOptions& t) {
  if (raw.data || !raw.method.empty() || raw.head)
    return "--grpc-health sends its own request (POST " + std::string(kGrpcHealthCheckPath) +
           "): leave out -d and -X (and -I)";
  if (raw.http11) return "--grpc-health needs HTTP/2: leave out --http1.1";
  if (t.url.target != "/")
    return "--grpc-health asks " + std::string(kGrpcHealthCheckPath) +
           ": give the URL without a path (https://HOST:PORT)";
  return std::nullopt;
}

Expected<std::vector<std::string>, std::string> alpn_offer(const RawProbeArgs& raw, bool& note_h1_fallback) {
  note_h1_fallback = false;
  const int given = int{raw.http11} + int{raw.http2} + int{raw.http2_only} + int{raw.alpn.has_value()};
  if (given > 1)
    return Unexpected(std::string("--http1.1, --http2, --http2-only and --alpn exclude each other"));
  if (raw.http11) return std::vector<std::string>{"http/1.1"};
  if (raw.http2_only) return std::vector<std::string>{"h2"};
  if (raw.http2) {
    note_h1_fallback = true;
    return std::vector<std::string>{"h2", "http/1.1"};
  }
  if (!raw.alpn) return std::vector<std::string>{"h2", "http/1.1"};  // curl's default
  std::vector<std::string> list;
  std::string_view rest = *raw.alpn;
  for (;;) {
    const size_t comma = rest.find(',');
    const std::string_view name = rest.substr(0, comma);
    // RFC 7301: 1 to 255 bytes; printable, so it can be shown as given.
    const bool ok = !name.empty() && name.size() <= 255 &&
                    std::all_of(name.begin(), name.end(), [](char c) { return c > 0x20 && c < 0x7f; });
    if (!ok)
      return Unexpected(
          std::string("--alpn takes a comma-separated list of protocol names (e.g. h2,http/1.1)"));
    list.emplace_back(name);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return list;
}

std::string time_limit_flag(const ProbeFacts& f) {
  if (!f.time_limit_hit) return "";
  const double seconds = static_cast<double>(f.time_limit_value.count()) / 1000.0;
  return fmt::format("{} {}s",
                     *f.time_limit_hit == ProbeFacts::TimeLimit::connect ? "--connect-timeout" : "--max-time",
                     seconds);
}

}  // namespace mtls_probe::tool
