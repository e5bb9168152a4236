// The configuration pieces of `serve` that need no sockets: option parsing, status rules, and the exact
// pages nginx and Apache answer with, so that a client sees byte-for-byte what it would see in the field.
#include <openssl/x509.h>

#include <charconv>
#include <string>

#include "mtls_probe/inspect/revocation.h"
#include "mtls_probe/serve/serve.h"

namespace mtls_probe::serve {

std::optional<ClientAuth> parse_client_auth(std::string_view text) {
  if (text == "require") return ClientAuth::require;
  if (text == "optional") return ClientAuth::optional;
  if (text == "optional-no-verify") return ClientAuth::optional_no_verify;
  if (text == "none") return ClientAuth::none;
  if (text == "post-handshake") return ClientAuth::post_handshake;
  return std::nullopt;
}

const char* client_auth_name(ClientAuth mode) {
  switch (mode) {
    case ClientAuth::require:
      return "require";
    case ClientAuth::optional:
      return "optional";
    case ClientAuth::optional_no_verify:
      return "optional-no-verify";
    case ClientAuth::none:
      return "none";
    case ClientAuth::post_handshake:
      return "post-handshake";
  }
  return "unknown";
}

bool valid_status(int status) {
  return status >= 200 && status <= 599;
}

Expected<StatusRule> parse_status_rule(std::string_view spec) {
  // The last '=' separates: a path may itself contain '=' (query-like prefixes), a status never does.
  const auto eq = spec.rfind('=');
  if (eq == std::string_view::npos) {
    return Unexpected(Error{"--status-for-path wants PATH=CODE, got '" + std::string(spec) + "'", ""});
  }
  StatusRule rule;
  rule.prefix = std::string(spec.substr(0, eq));
  const std::string_view code = spec.substr(eq + 1);
  if (rule.prefix.empty() || rule.prefix.front() != '/') {
    return Unexpected(
        Error{"--status-for-path: the path must start with '/', got '" + rule.prefix + "'", ""});
  }
  const auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), rule.status);
  if (code.empty() || ec != std::errc() || end != code.data() + code.size() || !valid_status(rule.status)) {
    return Unexpected(Error{
        "--status-for-path: '" + std::string(code) + "' is not an HTTP status between 200 and 599", ""});
  }
  return rule;
}

int status_for_path(const std::vector<StatusRule>& rules, std::string_view path, int fallback) {
  path = path.substr(0, path.find('?'));
  const StatusRule* best = nullptr;
  for (const auto& rule : rules) {
    if (path.substr(0, rule.prefix.size()) != rule.prefix) continue;
    // ">=": with two rules for the same prefix the later one on the command line wins, as options do.
    if (best == nullptr || rule.prefix.size() >= best->prefix.size()) best = &rule;
  }
  return best != nullptr ? best->status : fallback;
}

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 421:
      return "Misdirected Request";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 495:
      return "SSL Certificate Error";  // nginx-internal codes, answered as 400 on the wire
    case 496:
      return "SSL Certificate Required";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

std::string nginx_error_page(NginxPage page) {
  // ngx_http_special_response.c: the 495/496/497 pages are sent with status 400, followed by
  // ngx_http_error_full_tail (server_tokens on). Line ends are CRLF, as nginx writes them.
  const char* text = "";
  switch (page) {
    case NginxPage::no_certificate:
      text = "No required SSL certificate was sent";
      break;
    case NginxPage::certificate_error:
      text = "The SSL certificate error";
      break;
    case NginxPage::plain_http:
      text = "The plain HTTP request was sent to HTTPS port";
      break;
  }
  std::string out;
  out += "<html>\r\n";
  out += "<head><title>400 " + std::string(text) + "</title></head>\r\n";
  out += "<body>\r\n";
  out += "<center><h1>400 Bad Request</h1></center>\r\n";
  out += "<center>" + std::string(text) + "</center>\r\n";
  out += "<hr><center>" + std::string(kNginxServerHeader) + "</center>\r\n";
  out += "</body>\r\n";
  out += "</html>\r\n";
  return out;
}

std::string unverified_page(bool cert_sent, long verify_error) {
  if (!cert_sent) return "no client certificate\n";
  if (verify_error == X509_V_OK) return "client certificate verified\n";
  return std::string("client certificate not verified: ") + X509_verify_cert_error_string(verify_error) +
         "\n";
}

std::string apache_pha_forbidden_page() {
  // Apache 2.4 (ssl_hook_Access, AH10158) sets the error note that its 403 page shows after the
  // standard sentence.
  return "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n"
         "<html><head>\n"
         "<title>403 Forbidden</title>\n"
         "</head><body>\n"
         "<h1>Forbidden</h1>\n"
         "<p>You don't have permission to access this resource.Reason: Cannot perform Post-Handshake "
         "Authentication.<br /></p>\n"
         "</body></html>\n";
}

std::string https_url(const std::string& host, uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  return "https://" + (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + "/";
}

namespace {

// --status-if-unverified and --close-without-alert: which modes they make sense with.
void check_unverified_options(const ServeConfig& c, std::vector<std::string>& problems) {
  const bool optional =
      c.client_auth == ClientAuth::optional || c.client_auth == ClientAuth::optional_no_verify;
  if (c.status_if_unverified) {
    if (!optional) {
      problems.push_back(
          "--status-if-unverified needs --client-auth optional or optional-no-verify (with require a "
          "client without a valid certificate never gets to HTTP)");
    }
    if (!valid_status(*c.status_if_unverified)) {
      problems.push_back("--status-if-unverified must be between 200 and 599");
    }
    if (c.close_without_alert) {
      problems.push_back("--status-if-unverified and --close-without-alert exclude each other");
    }
  }
  if (c.close_without_alert) {
    if (c.client_auth != ClientAuth::require && c.client_auth != ClientAuth::optional) {
      problems.push_back("--close-without-alert needs --client-auth require or optional");
    }
    if (c.client_auth_path) {
      problems.push_back(
          "--close-without-alert works on the handshake's request, not with --client-auth-path");
    }
    if (c.nginx_style) problems.push_back("--close-without-alert cannot be combined with --nginx-style");
  }
}

}  // namespace

std::vector<std::string> check_config(const ServeConfig& c) {
  std::vector<std::string> problems;
  const bool has_pem = !c.cert_file.empty();
  const bool has_p12 = !c.p12_file.empty();
  if (has_pem && has_p12)
    problems.push_back("give the server identity as --cert/--key or as --p12, not both");
  if (!has_pem && !has_p12) problems.push_back("no server identity: give --cert and --key, or --p12");
  if (!c.key_file.empty() && !has_pem) problems.push_back("--key needs --cert");
  if (c.p12_password && !has_p12) problems.push_back("a PKCS#12 password was given without --p12");
  if (c.ocsp_url && !inspect::is_http_url(*c.ocsp_url))
    problems.push_back("--ocsp-url must be an http:// URL: " + *c.ocsp_url);
  if ((c.ocsp_url || !c.crl_file.empty()) && c.client_auth == ClientAuth::none)
    problems.push_back("--crl and --ocsp-url check client certificates: they need client authentication");
  if (c.client_auth != ClientAuth::none && c.client_ca_file.empty()) {
    problems.push_back(std::string("--client-auth ") + client_auth_name(c.client_auth) +
                       " needs --client-ca FILE (the CA that issues client certificates)");
  }
  if (c.client_auth_path) {
    if (c.client_auth != ClientAuth::require && c.client_auth != ClientAuth::post_handshake) {
      problems.push_back("--client-auth-path needs --client-auth require or post-handshake");
    }
    if (c.client_auth_path->empty() || c.client_auth_path->front() != '/') {
      problems.push_back("--client-auth-path must start with '/'");
    }
  }
  const bool per_location = c.client_auth == ClientAuth::post_handshake ||
                            (c.client_auth == ClientAuth::require && c.client_auth_path);
  if (c.nginx_style && per_location) {
    problems.push_back(
        "--nginx-style cannot be combined with a post-handshake / per-path client certificate "
        "request: nginx only asks in the handshake");
  }
  check_unverified_options(c, problems);
  if (!valid_status(c.status)) problems.push_back("--status must be between 200 and 599");
  for (const auto& rule : c.status_rules) {
    if (!valid_status(rule.status)) problems.push_back("--status-for-path " + rule.prefix + ": bad status");
  }
  if (c.grpc_health && !c.http2) problems.push_back("--grpc-health needs --http2 (gRPC is HTTP/2 only)");
  if (c.grpc_status < 0 || c.grpc_status > 16) problems.push_back("--grpc-status must be between 0 and 16");
  if (c.grpc_status != 0 && !c.grpc_health) problems.push_back("--grpc-status needs --grpc-health");
  auto rank = [](TlsVersion v) { return v == TlsVersion::any ? 99 : static_cast<int>(v); };
  if (rank(c.min_version) > rank(c.max_version)) problems.push_back("--tls-min is above --tls-max");
  if (c.bind_address.empty()) problems.push_back("--bind needs an address");
  if (c.max_connections < 1) problems.push_back("the connection limit must be at least 1");
  return problems;
}

}  // namespace mtls_probe::serve
