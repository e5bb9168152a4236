// facts -> verdict + summary + hints. Pure: no I/O, no clock, no globals.
#include "mtls_probe/diagnosis/diagnosis.h"

#include <fmt/format.h>
#include <openssl/x509_vfy.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <string>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/base/ascii.h"
#include "mtls_probe/diagnosis/hint_text.h"

namespace mtls_probe {
namespace {

constexpr std::string_view kNginxNoCert = "No required SSL certificate was sent";
constexpr std::string_view kNginxCertError = "The SSL certificate error";
constexpr std::string_view kApacheNoPha = kApacheNoPhaPage;
constexpr std::string_view kH2CannotAskHint =
    "this path asks for a client certificate after the handshake, which HTTP/2 cannot do; browsers and "
    "HTTP/2-only clients will fail here: move client auth to the virtual host or serve this path over "
    "HTTP/1.1";
constexpr std::uint32_t kHttp11Required = 0xd;

std::string date_of(const std::string& iso) { return iso.substr(0, 10); }

std::string capitalized(std::string s) {
  if (!s.empty() && s[0] >= 'a' && s[0] <= 'z') s[0] = static_cast<char>(s[0] - 'a' + 'A');
  return s;
}

std::string describe_alert(const AlertRecord& a) { return fmt::format("alert {} {}", a.code, a.name); }

std::string ca_list_text(const ProbeFacts& f) {
  std::string out;
  for (size_t i = 0; i < f.acceptable_ca_names.size() && i < 8; ++i) {
    if (i > 0) out += ", ";
    out += "\"" + f.acceptable_ca_names[i] + "\"";
  }
  if (f.acceptable_ca_names.size() > 8) out += fmt::format(" and {} more", f.acceptable_ca_names.size() - 8);
  return out;
}

std::string our_cert(const ProbeFacts& f) {
  if (!f.client_cert) return "your certificate";
  return fmt::format("{} (issued by {})", f.client_cert->subject, f.client_cert->issuer);
}

bool body_contains(const ProbeFacts& f, std::string_view needle) {
  return f.body_excerpt.find(needle) != std::string::npos;
}

// A line of the body (or the reason phrase) that speaks of a certificate problem, as a person reading the
// response would notice: "Sorry, but you need a valid client certificate: UNABLE_TO_VERIFY_LEAF_SIGNATURE".
// A line must name a certificate and a problem: pages that merely show the accepted certificate do not count.
std::optional<std::string> response_names_certificate_problem(const ProbeFacts& f) {
  static constexpr std::string_view kCertWords[] = {"certificate", "client cert", "x509", "x.509", "ssl_c_"};
  static constexpr std::string_view kProblemWords[] = {
      "invalid", "not valid", "no valid", "not verified", "unverified", "verify error", "verification fail",
      "could not be verified", "unauthori", "required", "missing", "expired", "revoked",
      "reject", "denied", "trust", "unknown", "need", "error", "fail", "unable", "self_signed", "self-signed",
      "not allowed", "no client cert", "cert_"};
  auto any_of = [](std::string_view line, const auto& words) {
    return std::any_of(std::begin(words), std::end(words), [&](std::string_view w) { return contains_ci(line, w); });
  };
  for (std::string_view text : {std::string_view(f.http_reason), std::string_view(f.body_excerpt)}) {
    while (!text.empty()) {
      const size_t end = std::min(text.find('\n'), text.size());
      std::string_view line = text.substr(0, end);
      text.remove_prefix(std::min(end + 1, text.size()));
      if (!any_of(line, kCertWords) || !any_of(line, kProblemWords)) continue;
      while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      return std::string(line.substr(0, 160));
    }
  }
  return std::nullopt;
}

std::string join_and(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += i + 1 == parts.size() ? " and " : ", ";
    out += parts[i];
  }
  return out;
}

// ", most likely because A, B and C" for a summary; "" when nothing is known.
std::string likely_because(const std::vector<std::string>& evidence) {
  return evidence.empty() ? "" : ", most likely because " + join_and(evidence);
}

// The statuses by which applications refuse a client at the HTTP layer (HAProxy's 495/496 included).
bool is_refusal_status(int status) {
  return status == 400 || status == 401 || status == 403 || status == 495 || status == 496;
}

class Builder {
 public:
  explicit Builder(const ProbeFacts& f) : f_(f) {}

  Diagnosis run() {
    decide();
    if (f_.h2_refusal) h1_retry_notes(*f_.h2_refusal);
    interception_ = assess_interception(f_);
    if (interception_.suspected && d_.verdict != Verdict::usage_error && d_.verdict != Verdict::identity_error)
      interception_hint();
    add_general_hints();
    if (f_.follow_redirects) redirect_story();
    d_.interception = std::move(interception_);
    return std::move(d_);
  }

 private:
  void set(Verdict v, std::string summary) {
    d_.verdict = v;
    d_.summary = std::move(summary);
  }
  // First: when something ended our TLS connection in the server's place, every other hint is about it.
  void interception_hint() {
    const std::string& issuer = interception_.issuer;
    std::string h;
    if (f_.proxy) {
      h = "a TLS-inspecting proxy terminated the connection: the server certificate was issued by " + issuer +
          " (the proxy), so your client certificate is presented to the proxy, not to the server; ask for an "
          "inspection bypass for this host (" + f_.host + ")";
      d_.summary += " Our TLS connection ended at a TLS-inspecting proxy, not at the server.";
    } else {
      h = "a transparent TLS-inspecting device may sit in the path: the certificate we were shown was issued by " +
          issuer + "; your client certificate would be presented to it, not to the server; ask your network "
          "team for an inspection bypass for " + f_.host;
      d_.summary += " Something between us and the server may have ended our TLS connection in its place.";
    }
    d_.hints.insert(d_.hints.begin(), std::move(h));
  }

  void hint(std::string h) {
    for (const auto& e : d_.hints)
      if (e == h) return;
    d_.hints.push_back(std::move(h));
  }

  void decide() {
    if (f_.usage_error) {
      set(Verdict::usage_error, "Bad command line: " + *f_.usage_error);
      hint("run 'mtls-probe --help' for the options; only https:// URLs are probed");
      return;
    }
    if (f_.identity_error) return identity_failure();
    if (f_.bind_error) return bind_failure();  // local: before any proxy, nothing was sent
    // Before the tunnel stands, and whenever the proxy's own connection broke under it.
    if (f_.proxy && (!f_.proxy->tunnel_established || f_.proxy->tls_alert || f_.proxy->error)) return proxy_failure();
    // Before the alert it caused: our bad_certificate_status_response.
    if (f_.server_cert_status && f_.server_cert_status->error)
      return cert_status_failure(*f_.server_cert_status);
    if (f_.fatal_alert) return alert_verdict(*f_.fatal_alert);
    if (f_.timed_out_in) return timeout();
    if (f_.dns_error) {
      set(Verdict::dns_failure, fmt::format("The host name {} did not resolve: {}.", f_.host, *f_.dns_error));
      hint("check the spelling and your DNS; to test a server by address while keeping the name for SNI and "
           "the certificate check, use --resolve " + f_.host + ":" + std::to_string(f_.port) + ":ADDRESS");
      return;
    }
    if (f_.connect_error) return connect_failure();
    if (!f_.tls_attempted) {
      set(Verdict::connect_failure, "No connection was made.");
      return;
    }
    if (!f_.handshake_completed) return handshake_failure_without_alert();
    http_verdict();
  }

  // Through a proxy, everything before the tunnel stands is the proxy's: its name, its port, its answer.
  void proxy_failure() {
    const ProxyFacts& p = *f_.proxy;
    const std::string origin = fmt::format("{}:{}", f_.host, f_.port);
    const std::string from = p.source == "--proxy" ? std::string("-x/--proxy") : "the environment variable " + p.source;
    const std::string go_direct = fmt::format(
        "to reach {} without the proxy, add it to --noproxy (or no_proxy), or give -x \"\"", f_.host);
    if (f_.timed_out_in) return proxy_timeout(p, origin);
    if (f_.dns_error) {
      set(Verdict::proxy_error, fmt::format("The proxy {} (from {}) did not resolve: {}.", p.url, from, *f_.dns_error));
      hint(fmt::format("check the proxy's name in {}", from));
      return hint(go_direct);
    }
    if (f_.connect_error) {
      const std::string where = f_.addresses.empty() ? p.url : f_.addresses.front();
      set(Verdict::proxy_error,
          fmt::format("Could not connect to the proxy {} ({}) from {}: {}.", p.url, where, from, *f_.connect_error));
      if (f_.connect_errno == ECONNREFUSED) hint(fmt::format("nothing is listening at {}: check the proxy's host and port in {}", p.url, from));
      return hint(go_direct);
    }
    if (p.tls && (p.tls_alert || !p.tls_handshake_completed || (p.tls_verify_error && !p.tunnel_attempted)))
      return proxy_tls_failure(p);
    if (p.error) {
      set(Verdict::proxy_error, fmt::format("The proxy {} did not open a tunnel to {}: {}.", p.url, origin, *p.error));
      return hint("is it an HTTP proxy? Its port accepted the connection but did not answer CONNECT as an HTTP proxy "
                  "does (an HTTPS proxy is written https://HOST:PORT)");
    }
    proxy_refusal(p, origin);
  }

  // TLS to an https:// proxy: its certificate, or a client certificate of its own.
  void proxy_tls_failure(const ProxyFacts& p) {
    if (p.tls_alert) {
      const AlertRecord& a = *p.tls_alert;
      const AlertClass c = classify_alert(a.code);
      if (!p.tls_cert_sent && (c == AlertClass::client_cert_missing ||
                               (p.tls_cert_requested && (c == AlertClass::handshake_generic ||
                                                         c == AlertClass::client_cert_problem)))) {
        set(Verdict::proxy_error, fmt::format("The proxy {} wants a client certificate of its own and we sent none: "
                                              "it ended its TLS connection with {}.", p.url, describe_alert(a)));
        return hint("give the proxy's client certificate with --proxy-cert FILE --proxy-key FILE (PEM); the "
                    "identity for the server (--p12, --cert) is never presented to the proxy");
      }
      if (p.tls_cert_sent && (c == AlertClass::client_cert_problem || c == AlertClass::client_cert_missing ||
                              c == AlertClass::handshake_generic)) {
        set(Verdict::proxy_error, fmt::format("The proxy {} refused the client certificate given with --proxy-cert: "
                                              "it sent {}.", p.url, describe_alert(a)));
        return hint("the proxy does not trust that certificate's issuer, or the certificate has expired: check it with "
                    "'mtls-probe inspect'");
      }
      set(Verdict::proxy_error, fmt::format("The TLS connection to the proxy {} failed: it sent {}.", p.url, describe_alert(a)));
      return;
    }
    if (p.tls_verify_error) {
      set(Verdict::proxy_error,
          fmt::format("The proxy {}'s certificate {} (issued by {}) did not verify: {}.", p.url, p.tls_cert_subject,
                      p.tls_cert_issuer, *p.tls_verify_error));
      return hint("give the proxy's CA with --proxy-cacert FILE (a company proxy's CA is in the company's bundle), "
                  "or --proxy-insecure to look past it; the server's --cacert does not apply to the proxy");
    }
    set(Verdict::proxy_error, fmt::format("The TLS connection to the proxy {} failed: {}.", p.url,
                                          p.tls_error.empty() ? std::string("no detail") : p.tls_error));
    hint("is it an HTTPS proxy? A plain HTTP proxy port does not speak TLS: write -x http://HOST:PORT");
  }

  void proxy_timeout(const ProxyFacts& p, const std::string& origin) {
    const std::string limit = f_.timeout_limit.empty() ? "the time limit" : f_.timeout_limit;
    switch (*f_.timed_out_in) {
      case Phase::dns: set(Verdict::proxy_error, fmt::format("The name lookup for the proxy {} did not finish within {}.", p.url, limit)); break;
      case Phase::connect:
        set(Verdict::proxy_error, fmt::format("The proxy {} did not accept the TCP connection within {}.", p.url, limit));
        hint("nothing answered at the proxy's address: a firewall may drop the packets, or the proxy setting is stale");
        break;
      default:
        set(Verdict::proxy_error,
            fmt::format("The proxy {} accepted the connection but did not answer CONNECT {} within {}.", p.url, origin, limit));
        hint("the proxy may be trying to reach the server itself and hanging there, or its port is not an HTTP proxy");
        break;
    }
  }

  void proxy_refusal(const ProxyFacts& p, const std::string& origin) {
    const int status = p.connect_status.value_or(0);
    const std::string answer = p.reason.empty() ? std::to_string(status) : fmt::format("{} {}", status, p.reason);
    // 401 is what tinyproxy answers CONNECT with when the credentials are wrong (with WWW-Authenticate).
    if (status == 407 || status == 401) {
      const std::string offered = p.auth_schemes.empty() ? std::string("no scheme named")
                                                         : "it offers " + join_and(p.auth_schemes);
      if (p.credentials_sent) {
        set(Verdict::proxy_error, fmt::format("The proxy {} refused the credentials we sent ({}; {}).", p.url, answer, offered));
        hint("check the user and password given to --proxy-user / --proxy-password-env (or in the proxy URL)");
      } else {
        set(Verdict::proxy_error, fmt::format("The proxy {} requires authentication ({}; {}).", p.url, answer, offered));
        hint("give the proxy's credentials with --proxy-user USER and the password in --proxy-password-env VAR");
      }
      const bool basic = std::any_of(p.auth_schemes.begin(), p.auth_schemes.end(), [](const std::string& s) {
        return contains_ci(s, "basic") && s.size() == 5;
      });
      if (!p.auth_schemes.empty() && !basic)
        hint("mtls-probe authenticates to proxies with Basic only; this proxy offers " + join_and(p.auth_schemes));
      return;
    }
    if (status == 403) {
      set(Verdict::proxy_error, fmt::format("The proxy {} refused to open a tunnel to {} ({}): its policy does not "
                                            "allow this destination.", p.url, origin, answer));
      hint(fmt::format("many proxies allow CONNECT only to port 443; ask the proxy's administrators to allow {}, "
                       "or reach the server without the proxy (--noproxy {})", origin, f_.host));
      return;
    }
    if (status >= 500 && status < 600) {  // 502/503/504; tinyproxy says 500 "Unable to connect"
      set(Verdict::proxy_error, fmt::format("The proxy {} could not reach {} ({}).", p.url, origin, answer));
      hint("the proxy itself failed to resolve or connect to the server: from the proxy's network the name may "
           "be unknown or the port closed");
      return;
    }
    set(Verdict::proxy_error, fmt::format("The proxy {} answered CONNECT {} with {}.", p.url, origin, answer));
  }

  void identity_failure() {
    const IdentityFailure& e = *f_.identity_error;
    set(Verdict::identity_error, "Your client identity cannot be used: " + e.message);
    hint(std::string(hints::for_problem(e.problem).probe));
  }

  void timeout() {
    const Phase p = *f_.timed_out_in;
    const std::string limit = f_.timeout_limit.empty() ? "the time limit" : f_.timeout_limit;
    switch (p) {
      case Phase::dns:
        set(Verdict::timeout, fmt::format("The name lookup for {} did not finish within {}.", f_.host, limit));
        hint("the DNS server is slow or unreachable; --resolve HOST:PORT:ADDRESS skips the lookup");
        break;
      case Phase::connect:
        set(Verdict::timeout,
            fmt::format("The TCP connection to {}:{} was not accepted within {}.", f_.host, f_.port, limit));
        hint("nothing answered: a firewall may be dropping packets, or the address is wrong");
        break;
      case Phase::tls:
        if (f_.client_cert_sent) {
          set(Verdict::timeout, fmt::format("The TLS handshake did not finish within {} after your certificate "
                                            "was sent.", limit));
          hint("the server may be checking your certificate against a slow OCSP responder or CRL");
        } else {
          set(Verdict::timeout,
              fmt::format("The server accepted the TCP connection but the TLS handshake did not finish within {}.",
                          limit));
          hint("the port accepted the connection and then stayed silent: is it a TLS port? A plain-HTTP or "
               "other service, a proxy, or an overloaded server behaves like this");
        }
        break;
      default:
        if (f_.h2_window_stall) return window_stall_timeout(*f_.h2_window_stall, limit);
        set(Verdict::timeout,
            fmt::format("TLS was established but the HTTP response did not arrive within {}.", limit));
        if (f_.cert_request_post_handshake || f_.renegotiation_cert_request) {
          hint("the server asked for a certificate after the handshake; it may be waiting on a check of it");
        }
        hint("the application behind the TLS endpoint is slow or hung; raise -m/--max-time to see if it answers");
        break;
    }
  }

  // HTTP/2 flow control: the server has to open a window before a body byte may go, and this one never
  // did (or used it up and sent no WINDOW_UPDATE): no response comes because the request never arrived whole.
  void window_stall_timeout(const H2WindowStall& w, const std::string& limit) {
    set(Verdict::timeout,
        fmt::format("The server's HTTP/2 flow-control window never opened for the request body: {} of {} body "
                    "bytes were sent within {} (its {} window stayed at 0, no WINDOW_UPDATE came).",
                    w.body_bytes_sent, w.body_bytes, limit, w.connection_window ? "connection" : "stream"));
    if (w.connection_window) {
      hint("the server used up the connection's window (65,535 bytes at the start) and never sent a "
           "WINDOW_UPDATE for the connection (stream 0): a server that does not read uploads does this");
    } else {
      hint(fmt::format("the server's SETTINGS_INITIAL_WINDOW_SIZE is {} and it sent no WINDOW_UPDATE for the "
                       "stream: it does not take a request body this way", w.server_initial_window));
    }
    hint("compare with --http1.1, where the body goes without flow control");
  }

  // --interface named a local end that this machine does not have (curl's exit 45).
  void bind_failure() {
    set(Verdict::connect_failure, fmt::format("Could not bind to {} (--interface): {}; nothing was sent.",
                                              f_.interface_spec, *f_.bind_error));
    hint(
        "--interface takes an interface of this machine (ip -brief address lists them: lo, eth0, ...) or one "
        "of its addresses; 'if!NAME' means an interface only, 'host!NAME' an address or host name only");
  }

  void connect_failure() {
    const std::string where = f_.addresses.empty() ? f_.host : f_.addresses.front();
    set(Verdict::connect_failure,
        fmt::format("Could not connect to {} port {}: {}.", where, f_.port, *f_.connect_error));
    if (f_.connect_errno == ECONNREFUSED) {
      hint(fmt::format("nothing is listening on port {} at {} (or a firewall rejects it): check the port in "
                       "the URL and that the server runs", f_.port, where));
    } else if (f_.connect_errno == ENETUNREACH || f_.connect_errno == EHOSTUNREACH) {
      hint("there is no route to that address from here: check the address, VPN and routing");
    }
  }

  // Alerts: who sent it decides whose certificate it is about.
  void alert_verdict(const AlertRecord& a) {
    if (a.from == Side::client) {
      if (f_.verify_error && !f_.insecure) return server_untrusted();
      set(Verdict::tls_handshake_failure,
          fmt::format("The TLS handshake failed on our side: we sent {} ({}).", describe_alert(a),
                      f_.tls_error.empty() ? "no further detail" : f_.tls_error));
      if (a.code == 70) no_common_version_hints();
      return;
    }
    switch (classify_alert(a.code)) {
      case AlertClass::client_cert_missing:
        if (f_.client_cert_sent) {
          set(Verdict::client_cert_rejected,
              fmt::format("The server refused your client certificate {}: it sent {}.", our_cert(f_),
                          describe_alert(a)));
        } else {
          cert_required(fmt::format("it ended the connection with {}", describe_alert(a)));
        }
        return;
      case AlertClass::client_cert_problem:
        if (f_.client_cert_sent) return cert_rejected(a);
        if (f_.client_cert_requested) return cert_required(fmt::format("it ended the connection with {}", describe_alert(a)));
        break;
      case AlertClass::handshake_generic:
        if (f_.client_cert_requested && !f_.client_cert_sent) {
          return cert_required(fmt::format("it ended the handshake with {} after we sent no certificate",
                                           describe_alert(a)));
        }
        if (f_.client_cert_sent && a.after_client_certificate) return cert_rejected(a);
        break;
      case AlertClass::decode_or_internal:
        // decrypt_error right after our CertificateVerify: the server could not check our signature.
        if (a.code == 51 && f_.client_cert_sent && a.after_client_certificate) return cert_rejected(a);
        break;
      default:
        break;
    }
    set(Verdict::tls_handshake_failure,
        fmt::format("The TLS {} failed: the server sent {}.", a.after_handshake ? "connection" : "handshake",
                    describe_alert(a)));
    if (a.code == 70) {
      no_common_version_hints();
    } else if (a.code == 40) {
      hint("the server found nothing in common with our offer (TLS version, cipher suite, signature algorithm "
           "or group); compare with 'openssl s_client -connect HOST:PORT' and the server's ssl_protocols/"
           "ssl_ciphers (nginx) or SSLProtocol/SSLCipherSuite (Apache)");
    } else if (a.code == 112) {
      hint("the server does not know the name we sent in SNI (" + f_.sni + "); use the name it serves, or "
           "--servername");
    } else if (a.code == 120) {
      hint("no_application_protocol: the server accepts none of the protocols we offered in ALPN (" +
           (f_.alpn_offered.empty() ? std::string("none") : join_and(f_.alpn_offered)) +
           "); gRPC and HTTP/2-only servers need h2 (the default offer, or --http2-only), a mesh may need its own "
           "name (--alpn)");
    } else if (a.code == 71 && f_.client_cert_sent) {
      hint("insufficient_security: the server refuses our certificate's key or signature as too weak");
    }
  }

  void no_common_version_hints() {
    hint("no TLS version in common: the server and we (--tls-min/--tls-max; default TLS 1.2 and 1.3) overlap "
         "nowhere. An old server may need --tls-min 1.0 (insecure); a strict one may need --tls-min 1.3");
  }

  void cert_required(const std::string& how) {
    std::string who = f_.no_cert ? "we presented none (--no-cert)" : f_.identity_configured
                                                                         ? "we presented none"
                                                                         : "you gave no client identity";
    set(Verdict::client_cert_required,
        fmt::format("The server requires a client certificate and {}: {}.", who, how));
    if (f_.no_cert) {
      hint("drop --no-cert to present your identity");
    } else if (!f_.identity_configured) {
      hint("give your identity with --p12 FILE --p12-password-env VAR (or --cert FILE --key FILE)");
    } else if (f_.strict_selection_withheld) {
      strict_selection_hint();
    } else if (f_.client_cert_requested && !f_.client_cert_sent) {
      hint("an identity was configured but OpenSSL sent none: its key type may not fit the signature algorithms "
           "the server allows");
    }
    ca_list_hints();
  }

  // --as strict withheld the certificate (kept apart: the rest of the diagnosis does not depend on --as).
  void strict_selection_hint() {
    hint(
        "--as strict: no certificate sent because none matched the server's CA list; strict clients (Java, "
        "Go, .NET, GnuTLS, browsers, URLSession) do the same. OpenSSL and curl send it anyway (drop --as "
        "strict); to satisfy both, use an identity issued under one of the CAs the server lists, or carry "
        "the linking intermediate in the .p12");
  }

  void cert_rejected(const AlertRecord& a) {
    set(Verdict::client_cert_rejected,
        fmt::format("The server refused your client certificate {}: it sent {}.", our_cert(f_), describe_alert(a)));
    const auto& c = f_.client_cert;
    switch (a.code) {
      case 48:  // unknown_ca
        if (f_.issuer_in_acceptable_ca_names == std::optional<bool>(true) && f_.client_chain_subjects.empty()) {
          hint(std::string(hints::kIntermediateNotSent.probe));
        } else if (c) {
          // Most often not a wrong CA but a missing intermediate: the server lists the root only.
          missing_intermediate_hint();
          hint(fmt::format("the server does not trust \"{}\", the CA that issued your certificate. Use an identity "
                           "issued by a CA it trusts{}, or ask the server's owner to add \"{}\" to its client CA "
                           "list (nginx: ssl_client_certificate; Apache: SSLCACertificateFile)",
                           c->issuer,
                           f_.acceptable_ca_names.empty() ? "" : " (" + ca_list_text(f_) + ")", c->issuer));
        }
        break;
      case 45:  // certificate_expired
        if (c && c->expired) {
          hint(fmt::format(hints::kExpired.probe, date_of(c->not_after)));
        } else {
          hint("the server considers a certificate in your chain expired: check the intermediate certificates' "
               "dates and both machines' clocks");
        }
        break;
      case 43:  // unsupported_certificate
        if (c && c->has_client_auth_eku == std::optional<bool>(false)) {
          hint(std::string(hints::kServerCertificateSent.probe));
        } else {
          hint("the server cannot use this kind of certificate (Extended Key Usage, key type or algorithm)");
        }
        break;
      case 44:  // certificate_revoked
        revoked_alert_story();
        break;
      case 42:  // bad_certificate
        if (c && c->not_yet_valid) {
          hint(fmt::format(hints::kNotYetValid.probe, c->not_before));
        } else if (c && c->expired) {
          hint(fmt::format(hints::kExpired.probe, date_of(c->not_after)));
        } else {
          hint(std::string(hints::kNotVerified.probe));
        }
        break;
      case 49:
        hint("the server's policy refuses this certificate (access_denied): ask which subjects it allows");
        break;
      default:
        break;
    }
    if (c && c->expired && a.code != 45 && a.code != 42) {
      hint(fmt::format(hints::kExpiredNote.probe, date_of(c->not_after)));
    }
    ca_list_hints();
  }

  // --check-revocation: who answered, in a summary's words ("the OCSP responder", "the CRL").
  static std::string answered_by(const RevocationCheck& c) {
    return c.method == RevocationMethod::ocsp ? "the OCSP responder" : "the CRL";
  }

  // Alert 44: the server says revoked; the responder's answer, when asked, goes beside it.
  void revoked_alert_story() {
    d_.summary += " The server considers your certificate revoked.";
    const RevocationCheck* answer = f_.revocation ? leaf_answer(*f_.revocation) : nullptr;
    if (answer && answer->status == RevocationStatus::revoked) {
      d_.summary += fmt::format(" {} agrees: {}.", capitalized(answered_by(*answer)),
                                describe_revocation_answer(*answer));
      hint(
          "the certificate is revoked: it must be reissued (a new key and certificate); revocation cannot be "
          "undone");
      return;
    }
    if (answer && answer->status == RevocationStatus::good) {
      d_.summary += fmt::format(" {} says good: the server's CRL may be stale or from another CA.",
                                capitalized(answered_by(*answer)));
      hint(
          "ask the server's owner which CRL it checks (Apache: SSLCARevocationFile / SSLCARevocationPath; "
          "nginx: ssl_crl) and whether it is current and from your certificate's CA; a revoked intermediate "
          "in your chain gets the same alert");
      if (const RevocationCheck* r = first_revoked(*f_.revocation))
        hint(fmt::format("a certificate in your chain is revoked: {} says {}", answered_by(*r),
                         describe_revocation_answer(*r)));
      return;
    }
    if (f_.revocation && !f_.revocation->certificates.empty()) {
      const CertificateRevocation& leaf = f_.revocation->certificates.front();
      d_.summary += fmt::format(" The revocation check got no answer (OCSP {}; CRL {}).",
                                describe_revocation_answer(leaf.ocsp), describe_revocation_answer(leaf.crl));
    }
    hint("the server found your certificate revoked (CRL/OCSP): it must be reissued");
  }

  // nginx's 400 "The SSL certificate error" is also its answer to a certificate its ssl_crl lists.
  void revoked_answer_hint() {
    const RevocationCheck* r = f_.revocation ? first_revoked(*f_.revocation) : nullptr;
    if (r == nullptr) return;
    hint(
        fmt::format("{} says your certificate is revoked ({}): nginx answers a certificate its ssl_crl lists "
                    "with this 400 (its error log: 'certificate revoked'); it must be reissued",
                    answered_by(*r), describe_revocation_answer(*r)));
  }

  // What the server's CA list says, for the two client-certificate verdicts.
  void ca_list_hints() {
    if (!f_.client_cert_requested) return;
    if (f_.acceptable_ca_names.empty()) {
      hint("the server listed no acceptable CAs: it may have no client CA configured (Apache logs 'No CAs known "
           "to server for verification') or be set not to send the list (nginx: ssl_verify_client "
           "optional_no_ca; Apache: SSLCADNRequestFile); browsers and many TLS stacks then offer no certificate");
      return;
    }
    if (f_.issuer_in_acceptable_ca_names == std::optional<bool>(false) && f_.client_cert) {
      hint(fmt::format("the server asked for a certificate issued by one of [{}]; yours is issued by \"{}\"",
                       ca_list_text(f_), f_.client_cert->issuer));
    } else if (!f_.client_cert && !f_.no_cert) {
      hint(fmt::format("the server accepts certificates issued by: {}", ca_list_text(f_)));
    }
  }

  void server_untrusted() {
    const std::string why = f_.verify_error.value_or("verification failed");
    set(Verdict::server_cert_untrusted,
        fmt::format("The server's certificate{} is not trusted: {}.",
                    f_.server_cert ? " " + f_.server_cert->subject : std::string(), why));
    switch (f_.verify_code) {
      case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
      case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
      case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
      case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
        hint("the server's CA is not among the trusted roots: pass it with --cacert FILE (the CA that signed the "
             "server certificate, PEM)");
        if (f_.verify_code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY && f_.server_chain.size() == 1) {
          hint("the server sent only its own certificate: it may be missing its intermediate chain "
               "(nginx: ssl_certificate with the full chain; Apache: SSLCertificateChainFile)");
        }
        break;
      case X509_V_ERR_CERT_HAS_EXPIRED:
        hint(f_.server_cert && f_.verify_error_depth == 0
                 ? fmt::format("the server's certificate expired on {}: the server's owner must renew it",
                               date_of(f_.server_cert->not_after))
                 : "a certificate in the server's chain has expired: the server's owner must renew it");
        break;
      case X509_V_ERR_CERT_NOT_YET_VALID:
        hint("the server's certificate is not valid yet: check the clocks of both machines");
        break;
      case X509_V_ERR_HOSTNAME_MISMATCH:
      case X509_V_ERR_IP_ADDRESS_MISMATCH: {
        std::string names;
        if (f_.server_cert) {
          for (const auto& s : f_.server_cert->subject_alt_names) names += (names.empty() ? "" : ", ") + s;
        }
        hint(fmt::format("the certificate is for [{}], not for {}: use a name it covers, or --servername NAME "
                         "(with --resolve to keep the address)",
                         names.empty() ? "no subjectAltName" : names,
                         f_.sni.empty() ? f_.host : f_.sni));
        break;
      }
      default:
        break;
    }
    hint("-k/--insecure skips this check to let the probe go on to the client certificate; use it only to "
         "diagnose");
  }

  // --cert-status: the server certificate's stapled OCSP status failed; the handshake ended there, so
  // nothing of ours went to the server after it (as curl's CURLE_SSL_INVALIDCERTSTATUS, -k or not).
  void cert_status_failure(const ServerCertStatus& s) {
    set(Verdict::server_cert_untrusted,
        fmt::format("The server's certificate{} is not trusted: {}.",
                    f_.server_cert ? " " + f_.server_cert->subject : std::string(), *s.error));
    hint(cert_status_hint(s));
    if (f_.insecure) hint("-k does not skip --cert-status (as curl): leave out --cert-status to go on");
  }

  std::string cert_status_hint(const ServerCertStatus& s) const {
    switch (s.problem) {
      case CertStatusProblem::not_stapled:
        return "the server sent no OCSP response although we asked (status_request): enable stapling (nginx: "
               "ssl_stapling on, with a resolver or ssl_stapling_file; Apache: SSLUseStapling on; openssl "
               "s_server -status_file); a server that fetches responses itself staples none until it has one";
      case CertStatusProblem::malformed:
      case CertStatusProblem::not_successful:
        return "the server staples what its OCSP responder answered, and that was no usable status: check "
               "the responder (the URL in the certificate's Authority Information Access) and the stapling "
               "file";
      case CertStatusProblem::bad_signature:
        return "the response must be signed by the certificate's issuer, or by a responder certificate the "
               "issuer gave the OCSP Signing usage, chaining to a CA you trust (--cacert): it may be another "
               "CA's response, or the responder's CA is not trusted here";
      case CertStatusProblem::no_issuer:
        return "the server's chain lacks the CA that issued its certificate, so its OCSP entry cannot be "
               "found: the server must send its intermediate CA, or pass it with --cacert";
      case CertStatusProblem::not_for_leaf:
        return "the server staples a response for another certificate: a stale stapling file after the "
               "certificate was renewed?";
      case CertStatusProblem::expired:
      case CertStatusProblem::not_yet_valid:
        return "the server staples a response outside its validity: it must refresh it before nextUpdate "
               "(a fixed ssl_stapling_file / -status_file is never refreshed), or a clock is wrong (ours or "
               "the responder's)";
      case CertStatusProblem::revoked:
        return "the CA revoked the server's certificate: its owner must install a new one; do not trust this "
               "server until then";
      case CertStatusProblem::unknown:
        return "the responder does not know this certificate: it answers for another CA, or its database "
               "lags behind the CA's issuance";
      case CertStatusProblem::none: break;
    }
    return "without --cert-status the probe does not ask for the certificate's status (as curl)";
  }

  void handshake_failure_without_alert() {
    if (f_.verify_error && !f_.insecure) return server_untrusted();
    if (f_.peer_not_tls) {
      set(Verdict::tls_handshake_failure,
          fmt::format("The server at {} did not answer in TLS ({}).", f_.connected_address.value_or(f_.host),
                      f_.tls_error.empty() ? "not a TLS reply" : f_.tls_error));
      hint("this port speaks something else: plain HTTP? (try the https port, usually 443) or a different "
           "protocol");
      return;
    }
    if (f_.peer_closed_during_handshake) {
      if (silent_close_verdict(true)) return;
      set(Verdict::tls_handshake_failure,
          fmt::format("The server closed the connection during the TLS handshake ({}).", f_.tls_error));
      hint("it may not accept our TLS versions or cipher suites, or it may want a name in SNI (--servername)");
      return;
    }
    set(Verdict::tls_handshake_failure,
        fmt::format("The TLS handshake failed: {}.", f_.tls_error.empty() ? "unknown reason" : f_.tls_error));
  }

  void http_verdict() {
    if (f_.grpc && grpc_verdict(*f_.grpc)) return;
    if (f_.http_status) return http_status_verdict(*f_.http_status);
    const bool tls13 = f_.tls_version == std::optional<std::string>("TLSv1.3");
    if (f_.h2_error) return h2_refusal(*f_.h2_error);
    // Before http_error: a close before any byte is also the parser's "closed before any response".
    if (f_.closed_before_response && silent_close_verdict(false)) return;
    if (f_.http_error) {
      set(Verdict::protocol_error, fmt::format("The server broke HTTP: {}.", *f_.http_error));
      return;
    }
    set(Verdict::protocol_error,
        fmt::format("TLS was established, then the server {} before sending any HTTP response.",
                    f_.reset_after_request ? "reset the connection" : "closed the connection"));
    if (tls13 && f_.client_cert_sent) {
      hint("under TLS 1.3 a server judges the client certificate after the handshake; a server that rejects "
           "it normally sends an alert, none arrived here. Check the server's error log");
    } else {
      hint("the TLS endpoint may not be an HTTP server (or HTTP/1.1 is not accepted there)");
    }
  }

  // --grpc-health. The TLS-level verdicts came first (decide()); here the TLS connection stands. false: the
  // answer is no gRPC one (a 4xx page, a reset, a close), and the HTTP rules judge it.
  bool grpc_verdict(const GrpcFacts& g) {
    if (f_.http_version == std::optional<std::string>("1.1")) {
      if (f_.http_status && certificate_status_verdict(*f_.http_status)) return true;
      set(Verdict::protocol_error,
          fmt::format(
              "TLS was established, but the server did not agree to HTTP/2 (ALPN: {}), which gRPC needs.",
              f_.alpn ? *f_.alpn : std::string("none chosen")));
      hint(
          "a gRPC server selects h2 in ALPN; this port serves HTTP/1.1 only (a web server, or a proxy "
          "without HTTP/2 to its clients): check the port, or the proxy's HTTP/2 and gRPC settings");
      return true;
    }
    if (!g.status && !g.problem) return false;
    if (g.problem) {
      set(Verdict::protocol_error,
          fmt::format("TLS was established; the answer to the gRPC health check is not gRPC: {}.",
                      *g.problem));
      hint(
          "is this a gRPC port? An HTTP/2 web server or a proxy's own error page answers like this (the -v "
          "trace shows the response headers and trailers)");
      return true;
    }
    if (*g.status != 0) return grpc_status_verdict(g);
    if (g.serving_status == std::optional<int>(1)) {
      set(Verdict::ok, fmt::format("{}; the gRPC health check of {} says SERVING.", tls_and_auth_text(),
                                   grpc_service_text(g)));
      return true;
    }
    set(Verdict::http_error,
        fmt::format("{}; {} reports {}.", tls_and_auth_text(), grpc_service_text(g), g.serving_status_name));
    if (g.serving_status == std::optional<int>(3)) {
      hint(
          "SERVICE_UNKNOWN: the health service does not know this service name; check the name given to "
          "--grpc-health (none asks for the server's overall health)");
    } else {
      hint(
          "the TLS and client-auth part is fine: the application says it is not ready to serve (starting, "
          "draining, or a dependency is down); its health status and logs say why");
    }
    return true;
  }

  std::string tls_and_auth_text() const {
    return f_.client_cert_sent ? "TLS and client authentication succeeded"
           : f_.client_cert_requested
               ? "TLS succeeded (the server asked for a client certificate and went on without one)"
               : "TLS succeeded (no client certificate was asked for)";
  }

  static std::string grpc_service_text(const GrpcFacts& g) {
    return g.service.empty() ? std::string("the server") : fmt::format("the service \"{}\"", g.service);
  }

  // A non-zero grpc-status after the TLS connection stands: an application or authorization decision,
  // never a certificate verdict (a certificate the TLS layer refused ends the connection with an alert).
  bool grpc_status_verdict(const GrpcFacts& g) {
    const std::string said = g.message && !g.message->empty() ? fmt::format(": \"{}\"", *g.message) : "";
    const std::string who =
        f_.client_cert ? f_.client_cert->subject : std::string("your certificate's subject");
    if (*g.status == 12) {  // UNIMPLEMENTED
      set(Verdict::http_error,
          fmt::format("The server has no health service (gRPC UNIMPLEMENTED{}); the TLS{} part succeeded.",
                      said, f_.client_cert_sent ? " and client-auth" : ""));
      hint(
          "grpc.health.v1.Health is not registered on this server (or a proxy routes the path nowhere): add "
          "the standard health service, or check the application some other way");
      return true;
    }
    set(Verdict::http_error, fmt::format("{}; the gRPC health check failed with {} ({}){}.",
                                         tls_and_auth_text(), g.status_name, *g.status, said));
    if (*g.status == 7) {  // PERMISSION_DENIED
      hint(fmt::format(
          "PERMISSION_DENIED after {}: an authorization decision about {}, not a certificate "
          "problem; look at the server's policy for this certificate's subject",
          f_.client_cert_sent ? "the TLS layer accepted your certificate" : "TLS succeeded", who));
    } else if (*g.status == 16) {  // UNAUTHENTICATED
      hint(
          fmt::format("UNAUTHENTICATED after TLS{}: the server's gRPC layer wants credentials it did not get "
                      "(a token in the authorization metadata: -H 'authorization: Bearer ...'), or its "
                      "authentication does not accept {}",
                      f_.client_cert_sent ? " accepted your certificate" : "", who));
    } else if (*g.status == 5) {  // NOT_FOUND
      hint(
          "NOT_FOUND from the health service: it does not know this service name; check the name given to "
          "--grpc-health (none asks for the server's overall health)");
    } else if (*g.status == 14) {  // UNAVAILABLE
      hint(
          "UNAVAILABLE: the server (or a proxy in front of it) cannot serve the call now; it is starting, "
          "overloaded, or its backend is down");
    }
    return true;
  }

  // An HTTP/2 GOAWAY or RST_STREAM (or nghttp2 finding the server's frames broken) instead of a response.
  void h2_refusal(const H2ErrorRecord& e) {
    const std::string frame = e.goaway ? "GOAWAY" : "RST_STREAM";
    if (e.from == Side::client) {
      set(Verdict::protocol_error,
          fmt::format("The server broke HTTP/2: we ended the {} with {} {} (0x{:x}) before any response.",
                      e.goaway ? "connection" : "stream", frame, e.name, e.code));
      hint("the server's HTTP/2 frames did not follow RFC 9113 (the -v trace shows each frame); compare with "
           "--http1.1");
      return;
    }
    if (e.code == kHttp11Required) return h2_cannot_ask(fmt::format("{} {} (0x{:x})", frame, e.name, e.code));
    set(Verdict::protocol_error,
        fmt::format("TLS was established, then the server refused the request over HTTP/2 with {} {} (0x{:x}).",
                    frame, e.name, e.code));
    if (e.code == 0x7) {  // REFUSED_STREAM
      hint("the server did not process the request (overloaded, shutting down, or over its stream limit); a "
           "retry may succeed");
    } else if (e.code == 0xc) {  // INADEQUATE_SECURITY
      hint("the server finds our TLS parameters too weak for HTTP/2 (RFC 9113 9.2: TLS 1.2 needs an ephemeral "
           "key exchange and an AEAD cipher)");
    } else {
      hint("the server's error log says why it ended the " + std::string(e.goaway ? "connection" : "stream") +
           "; compare with --http1.1");
    }
  }

  // The server wanted a client certificate for this path and could not ask for it over HTTP/2 (RFC 9113
  // 9.2.1 forbids renegotiation and post-handshake authentication): HTTP_1_1_REQUIRED, or Apache's 403
  // page, and no retry over HTTP/1.1 (--no-h1-retry, or HTTP/1.1 not offered).
  void h2_cannot_ask(const std::string& how) {
    set(Verdict::client_cert_required,
        fmt::format(
            "The server requires a client certificate for this path and cannot ask for it over HTTP/2: "
            "it refused the request with {}.",
            how));
    hint(std::string(kH2CannotAskHint));
    const bool h1_offered =
        std::find(f_.alpn_offered.begin(), f_.alpn_offered.end(), "http/1.1") != f_.alpn_offered.end();
    hint(h1_offered
             ? "the probe did not retry over HTTP/1.1 (--no-h1-retry); without that flag, or with "
               "--http1.1, it shows what HTTP/1.1 clients get"
             : "HTTP/1.1 was not offered (" + join_and(f_.alpn_offered) +
                   "), so the probe could not retry over it; --http1.1 shows what HTTP/1.1 clients get");
    hint(
        "IIS sends HTTP_1_1_REQUIRED for the same reason (client certificates by renegotiation) and for "
        "Windows authentication (NTLM/Negotiate) over HTTP/2");
  }

  // The server closed (EOF or reset) with no alert and no HTTP response after it had asked for a
  // certificate: one rule for a close inside the handshake (TLS 1.2, where our certificate was the last thing
  // it received) and right after it (TLS 1.3, where the server judges our certificate once our side is done:
  // GnuTLS servers, node.js with rejectUnauthorized: true). Returns false when the facts point nowhere.
  bool silent_close_verdict(bool in_handshake) {
    if (!f_.client_cert_requested) return false;
    const std::string how = fmt::format(
        "it {} the connection {} without an alert{}", f_.reset_after_request ? "reset" : "closed",
        in_handshake ? "during the TLS handshake" : "right after the TLS handshake",
        in_handshake ? "" : " and without an HTTP response");
    if (!f_.client_cert_sent) {
      cert_required(how + ", after we sent no certificate");
      hint("some servers refuse a missing certificate by closing the connection instead of sending an alert "
           "(GnuTLS-based servers; node.js with rejectUnauthorized: true); their error log says so");
      return true;
    }
    const std::vector<std::string> evidence = unverifiable_certificate_evidence(f_);
    // Inside the handshake our certificate was the last thing the server got: the close is about it. After
    // the handshake, only evidence against the certificate makes it so.
    if (!in_handshake && evidence.empty()) return false;
    set(Verdict::client_cert_rejected,
        fmt::format("The server refused your client certificate {}: {}{}.", our_cert(f_), how,
                    likely_because(evidence)));
    hint("servers that reject a certificate silently (GnuTLS-based servers; node.js with rejectUnauthorized: "
         "true) close the connection instead of sending an alert; the server's error log says why");
    unverifiable_certificate_hints();
    ca_list_hints();
    return true;
  }

  void http_status_verdict(int status) {
    if (certificate_status_verdict(status)) return;
    // A status line followed by a broken body (short of its Content-Length, bad chunking) is still a broken
    // response: the status alone cannot be trusted to mean success.
    if (f_.http_error) {
      set(Verdict::protocol_error,
          fmt::format("The server broke HTTP after its status line ({}): {}.", status, *f_.http_error));
      hint("the response was cut short or malformed; a proxy or the application may have crashed mid-answer");
      return;
    }
    if (body_output_verdict(status)) return;
    plain_status_verdict(status);
  }

  // -o FILE: the body did not all reach the file (--max-filesize, or the file refused it). Returns true when
  // that decided the verdict.
  bool body_output_verdict(int status) {
    const std::string reason = f_.http_reason.empty() ? "" : " " + f_.http_reason;
    const std::string file = f_.body_file == "-" ? "stdout" : f_.body_file;
    const std::uint64_t limit = f_.max_filesize.value_or(0);
    if (f_.body_write_error) {
      set(Verdict::http_error, fmt::format("The server answered {}{}; writing the body to {} failed after {} "
                                           "bytes: {}.",
                                           status, reason, file, f_.body_bytes, *f_.body_write_error));
      hint("check the free space and permissions where -o writes");
      return true;
    }
    if (f_.oversize_content_length) {
      set(Verdict::http_error,
          fmt::format(
              "The server answered {}{} with Content-Length {}, above --max-filesize {}: the body was not "
              "downloaded (as curl).",
              status, reason, *f_.oversize_content_length, limit));
      hint(fmt::format("raise --max-filesize above {} bytes to download it", *f_.oversize_content_length));
      return true;
    }
    if (f_.max_filesize_exceeded) {
      set(Verdict::http_error,
          fmt::format(
              "The server answered {}{}; the body exceeded --max-filesize at {} bytes: reading stopped "
              "there, {} keeps the first {} bytes.",
              status, reason, limit, file, f_.body_bytes));
      hint(
          "the server did not announce the size (no Content-Length), so the limit was found while reading; "
          "raise --max-filesize to download the whole body");
      return true;
    }
    return false;
  }

  // The statuses and pages by which servers speak about client certificates at the HTTP layer.
  // Returns true when one of them decided the verdict.
  bool certificate_status_verdict(int status) {
    const std::string reason = f_.http_reason.empty() ? "" : " " + f_.http_reason;
    if (status == 400 && body_contains(f_, kNginxNoCert)) {
      cert_required("it answered HTTP 400 \"No required SSL certificate was sent\" (nginx)");
      hint("nginx completes the handshake without a certificate and refuses at the HTTP layer (its log: "
           "'client sent no required SSL certificate')");
      return true;
    }
    if (status == 400 && body_contains(f_, kNginxCertError)) {
      set(Verdict::client_cert_rejected,
          fmt::format("The server refused your client certificate {}: it answered HTTP 400 \"The SSL "
                      "certificate error\" (nginx).", our_cert(f_)));
      if (f_.client_cert && f_.client_cert->expired) {
        hint(fmt::format(hints::kExpired.probe, date_of(f_.client_cert->not_after)));
      }
      revoked_answer_hint();
      hint("nginx could not verify your certificate against ssl_client_certificate; its error log says why "
           "('client SSL certificate verify error: (N:reason)')");
      ca_list_hints();
      return true;
    }
    if (status == 496) {
      cert_required("it answered HTTP 496 (SSL Certificate Required)");
      return true;
    }
    if (status == 495) {
      const std::vector<std::string> evidence = unverifiable_certificate_evidence(f_);
      set(Verdict::client_cert_rejected,
          fmt::format("The server refused your client certificate {}: it answered HTTP 495 (SSL Certificate "
                      "Error, as HAProxy and nginx name a certificate that did not verify){}.",
                      our_cert(f_), likely_because(evidence)));
      unverifiable_certificate_hints();
      ca_list_hints();
      return true;
    }
    if (status == 403 && body_contains(f_, kApacheNoPha) &&
        f_.http_version == std::optional<std::string>("2")) {
      h2_cannot_ask("HTTP 403 \"Cannot perform Post-Handshake Authentication\" (Apache)");
      return true;
    }
    if (status == 403 && body_contains(f_, kApacheNoPha)) {
      cert_required("it answered HTTP 403 \"Cannot perform Post-Handshake Authentication\" (Apache)");
      hint("Apache wanted a certificate for this path through TLS 1.3 post-handshake authentication and could "
           "not ask for it (a client without PHA, or HTTP/2); this probe offers PHA over HTTP/1.1");
      return true;
    }
    const bool asked_later = f_.cert_request_post_handshake || f_.renegotiation_cert_request;
    if (is_refusal_status(status) && f_.client_cert_requested && !f_.client_cert_sent) {
      cert_required(fmt::format("it asked for one{} and answered HTTP {}{}",
                                asked_later ? " after the handshake" : "", status, reason));
      return true;
    }
    if (is_refusal_status(status) && f_.client_cert_sent) return application_rejection(status);
    return false;
  }

  // "Optional" client auth (node's rejectUnauthorized: false, nginx optional_no_ca, HAProxy verify optional,
  // lighttpd enforce = disable) lets the handshake finish with any certificate and leaves the decision to the
  // application. A refusal then is about the certificate when the facts say the server could not have
  // verified it, or when the response says so.
  bool application_rejection(int status) {
    const std::vector<std::string> evidence = unverifiable_certificate_evidence(f_);
    const std::optional<std::string> said = response_names_certificate_problem(f_);
    if (evidence.empty() && !said) return false;
    const std::string reason = f_.http_reason.empty() ? "" : " " + f_.http_reason;
    std::string because = likely_because(evidence);
    if (said) because += fmt::format("{} the response says \"{}\"", evidence.empty() ? ":" : ";", *said);
    set(Verdict::client_cert_rejected,
        fmt::format("The server's TLS layer let the handshake finish with your client certificate {}, then its "
                    "application refused it with HTTP {}{}{}.",
                    our_cert(f_), status, reason, because));
    hint("the server requests a certificate without enforcing it in TLS (optional client auth: node.js "
         "rejectUnauthorized: false, nginx ssl_verify_client optional_no_ca, HAProxy verify optional, lighttpd "
         "ssl.verifyclient.enforce = \"disable\") and its application checks the result; fix the certificate, "
         "not the authorization rules");
    unverifiable_certificate_hints();
    ca_list_hints();
    return true;
  }

  // The next step for each reason unverifiable_certificate_evidence() found.
  void unverifiable_certificate_hints() {
    const auto& c = f_.client_cert;
    if (!c) return;
    if (c->expired) hint(fmt::format(hints::kExpired.probe, date_of(c->not_after)));
    if (c->not_yet_valid) {
      hint(fmt::format(hints::kNotYetValid.probe, c->not_before));
    }
    if (c->has_client_auth_eku == std::optional<bool>(false)) {
      hint(std::string(hints::kNoClientAuthEku.probe));
    }
    if (f_.issuer_in_acceptable_ca_names == std::optional<bool>(false)) missing_intermediate_hint();
  }

  // Our leaf's issuer is not listed and we sent no chain: most often the issuer is an intermediate under a
  // CA the server does list, and the server needs it sent along.
  void missing_intermediate_hint() {
    if (!f_.client_cert || !f_.client_chain_subjects.empty() || f_.acceptable_ca_names.empty()) return;
    hint(fmt::format(hints::kChainIncomplete.probe, f_.client_cert->issuer, f_.client_cert->issuer));
  }

  void plain_status_verdict(int status) {
    const std::string reason = f_.http_reason.empty() ? "" : " " + f_.http_reason;
    if (status >= 400) {
      if (f_.client_cert_sent) {
        set(Verdict::http_error,
            fmt::format("Your certificate was accepted; the server then answered {}{}.{}", status, reason,
                        status == 403 ? fmt::format(" This is an authorization decision about {}, not a "
                                                    "certificate problem.",
                                                    f_.client_cert ? f_.client_cert->subject : "you")
                                      : ""));
        if (status == 403) {
          hint(fmt::format("403 after your certificate was accepted: the server authenticated you{} and refused "
                           "access — check its authorization rules, not your certificate (Apple's URLSession "
                           "reports this case as -1206 \"requires a client certificate\")",
                           f_.client_cert ? " as " + f_.client_cert->subject : ""));
        }
      } else {
        set(Verdict::http_error, fmt::format("TLS succeeded; the server answered {}{}.", status, reason));
        if (status == 403 && !f_.client_cert_requested) {
          hint("the server never asked for a client certificate, so this 403 is not about one: check the URL and "
               "the server's access rules");
        }
      }
      if (status == 421) misdirected_hint();
      if (f_.client_cert_sent && f_.client_cert_requested && f_.acceptable_ca_names.empty() &&
          is_refusal_status(status)) {
        hint("the server asked for a certificate without naming any CA: optional client auth may be in play (the "
             "TLS layer takes any certificate and the application decides); ask what the application requires "
             "of the certificate (issuer, subject), and check it with 'mtls-probe inspect'");
        if (status == 401 && !response_header(f_, "www-authenticate")) {
          hint("this 401 carries no WWW-Authenticate header: it does not ask for HTTP credentials, so the refusal "
               "is most likely about the client certificate (e.g. lighttpd with ssl.verifyclient.enforce = "
               "\"disable\" refuses an unverified certificate this way)");
        }
      }
      return;
    }
    if (status >= 300 && status < 400) return redirect_verdict(status, reason);
    if (f_.client_cert_sent) {
      set(Verdict::ok, fmt::format("TLS and client authentication succeeded; the server answered {}{}.", status,
                                   reason));
    } else if (f_.client_cert_requested) {
      set(Verdict::ok, fmt::format("TLS succeeded; the server asked for a client certificate, accepted going on "
                                   "without one, and answered {}{}.", status, reason));
    } else {
      set(Verdict::ok, fmt::format("TLS succeeded without client authentication; the server answered {}{}.",
                                   status, reason));
    }
  }

  void misdirected_hint() {
    const std::string sent = f_.sni.empty() ? "no SNI (the URL's host is an IP address)"
                                            : fmt::format("SNI \"{}\"", f_.sni);
    hint(fmt::format("421 Misdirected Request: we sent {} and Host \"{}\"; the server wants them to name the same "
                     "site it serves (Caddy answers 421 whenever client auth is on and they differ). Use the "
                     "server's name in the URL with --resolve NAME:{}:ADDRESS to keep the address, or "
                     "--servername NAME",
                     sent, f_.host, f_.port));
    if (!f_.client_cert_requested && f_.identity_configured && !f_.no_cert) {
      hint("the server did not ask for a client certificate on this connection: servers that pick their TLS "
           "settings by SNI (Caddy) ask only when the SNI names a site with client auth");
    }
  }

  void redirect_verdict(int status, const std::string& reason) {
    const std::optional<std::string> location = response_header(f_, "location");
    const std::string to = location ? " redirecting to " + *location : "";
    if (f_.client_cert_sent) {
      set(Verdict::ok, fmt::format("TLS and client authentication succeeded; the server answered {}{}{}.", status,
                                   reason, to));
    } else {
      set(Verdict::ok, fmt::format("TLS succeeded{}; the server answered {}{}{}.",
                                   f_.client_cert_requested ? " without a client certificate" : "", status, reason,
                                   to));
    }
    hint(fmt::format("a redirect after client authentication often leads to a login or error page: probe the "
                     "target{} to see what it answers",
                     location ? " (mtls-probe ... " + *location + ")" : ""));
    if (location && !f_.follow_redirects)
      hint(
          "-L/--location follows the redirect: each hop is a whole probe with its own client authentication");
  }

  // -L: the verdict is the last hop's; the summary says which hop that is, and the hops before it may
  // explain it (one host took the certificate, the next one wants another CA's).
  void redirect_story() {
    const std::size_t n = f_.redirects.size();
    if (f_.max_redirs_exceeded) too_many_redirects(*f_.max_redirs_exceeded);
    if (f_.redirect_not_followed) redirect_not_followed_hint(*f_.redirect_not_followed);
    if (n == 0) return;
    const RedirectHop& prev = f_.redirects.back();
    d_.summary = fmt::format("At hop {} ({}, after a {} from {}): {}", n + 1, f_.url, prev.status, prev.url,
                             d_.summary);
    if (d_.verdict == Verdict::client_cert_required || d_.verdict == Verdict::client_cert_rejected)
      earlier_hops_hint(n + 1);
  }

  void too_many_redirects(int limit) {
    const std::optional<std::string> location = response_header(f_, "location");
    set(Verdict::http_error,
        fmt::format("Stopped after {} redirect{} (--max-redirs {}): {} answered {} redirecting once more{}.",
                    f_.redirects.size(), f_.redirects.size() == 1 ? "" : "s", limit, f_.url,
                    f_.http_status.value_or(0), location ? " to " + *location : ""));
    const bool loop = std::any_of(f_.redirects.begin(), f_.redirects.end(),
                                  [&](const RedirectHop& h) { return h.url == f_.url; });
    if (loop) {
      hint(fmt::format(
          "the redirects go round in a loop ({} was probed before): a server that redirects until "
          "it sees a session cookie or a certificate it accepts does this",
          f_.url));
    } else {
      hint("raise --max-redirs N (-1: no limit) to follow more redirects");
    }
  }

  void redirect_not_followed_hint(const std::string& why) {
    const std::optional<std::string> location = response_header(f_, "location");
    const std::string to = location ? location->c_str() : "";
    if (why == "it leads to plain HTTP") {
      hint(fmt::format(
          "the server redirects to plain HTTP ({}): no client certificate can be presented there, "
          "and mtls-probe only speaks https, so the redirect was not followed",
          to));
    } else {
      hint(fmt::format("the redirect to {} was not followed: {}", to, why));
    }
  }

  // A certificate refused or asked for at hop `at` while an earlier hop accepted it or did not ask.
  void earlier_hops_hint(std::size_t at) {
    for (std::size_t i = 0; i < f_.redirects.size(); ++i) {
      const RedirectHop& h = f_.redirects[i];
      if (!h.client_cert_sent && h.client_cert_requested) continue;
      const std::string cas =
          f_.acceptable_ca_names.empty() ? std::string() : fmt::format(" (it lists {})", ca_list_text(f_));
      const std::string issuer =
          f_.client_cert ? fmt::format(" issued by \"{}\"", f_.client_cert->issuer) : "";
      const std::string tail =
          f_.client_cert_sent ? fmt::format(": the certificate{} will not do there", issuer) : std::string();
      d_.hints.insert(
          d_.hints.begin(),
          fmt::format(
              "hop {} ({}) {}; hop {} ({}:{}) is another server that wants a client certificate its own "
              "CA trusts{}{}; get one for that server, or ask why {} redirects there",
              i + 1, h.url,
              h.client_cert_sent ? "accepted your certificate" : "did not ask for a certificate", at, f_.host,
              f_.port, cas, tail, h.url));
      return;
    }
  }

  // The verdict above is the HTTP/1.1 retry's; say what HTTP/2 clients get.
  void h1_retry_notes(const H2Refusal& r) {
    const std::string how =
        r.error ? fmt::format("{} {}", r.error->goaway ? "GOAWAY" : "RST_STREAM", r.error->name)
                : fmt::format("HTTP {} \"{}\"", r.http_status.value_or(403), kApacheNoPha);
    d_.summary += fmt::format(
        " (Over HTTP/1.1: the server refused HTTP/2 for this path with {}, and the probe "
        "retried on a new connection.)",
        how);
    hint(std::string(kH2CannotAskHint));
    hint("--no-h1-retry reports what HTTP/2-only clients get; --http1.1 skips the HTTP/2 attempt");
  }

  // Hints that hold whatever the verdict.
  void add_general_hints() {
    const Verdict v = d_.verdict;
    if (v == Verdict::usage_error || v == Verdict::identity_error) return;
    // (After a 421 the SNI is the likely reason the server did not ask: misdirected_hint says so.)
    // (After HTTP_1_1_REQUIRED the server wanted to ask and could not: h2_refusal says so.)
    const bool h2_pha_refused = f_.h2_error && f_.h2_error->code == kHttp11Required;
    if (f_.handshake_completed && f_.identity_configured && !f_.no_cert && !f_.client_cert_requested &&
        f_.http_status != std::optional<int>(421) && !h2_pha_refused && !interception_.suspected) {
      hint("you gave a client certificate, but the server never asked for one: client authentication is not "
           "enabled for this host/path (nginx: ssl_verify_client; Apache: SSLVerifyClient)");
    }
    if (f_.client_cert && (v == Verdict::ok || v == Verdict::http_error)) {
      if (f_.client_cert->days_left >= 0 && f_.client_cert->days_left <= 30 && !f_.client_cert->expired) {
        hint(fmt::format(hints::kExpiringSoon.probe, date_of(f_.client_cert->not_after),
                         f_.client_cert->days_left));
      }
    }
    strict_clients_hint(v);
    accepted_though_revoked_hint(v);
    if (f_.insecure) {
      if (f_.verify_error) {
        hint(fmt::format("-k: the server's certificate was NOT verified ({}); do not rely on this connection",
                         *f_.verify_error));
      } else if (f_.handshake_completed) {
        hint("-k: server verification was switched off (it would have passed)");
      }
    }
  }

  // The server took a certificate that --check-revocation found revoked: it checks no revocation.
  void accepted_though_revoked_hint(Verdict v) {
    const RevocationCheck* r = f_.revocation ? first_revoked(*f_.revocation) : nullptr;
    if (r == nullptr || !f_.client_cert_sent || (v != Verdict::ok && v != Verdict::http_error)) return;
    hint(fmt::format(
        "{} says your certificate is revoked ({}), yet the server accepted it: it checks no "
        "revocation (Apache: SSLCARevocationCheck; nginx: ssl_crl; or OCSP); others will refuse it",
        answered_by(*r), describe_revocation_answer(*r)));
  }

  // OpenSSL sent our certificate although its issuer is not in the server's list; most other clients would
  // not have (other_clients_would_send).
  void strict_clients_hint(Verdict v) {
    if (other_clients_would_send(f_) != std::optional<bool>(false) || !f_.client_cert) return;
    const std::string issuer = f_.client_cert->issuer;
    if (v == Verdict::ok || v == Verdict::http_error) {
      hint(fmt::format("curl works but your Java/Go/iOS app will not: strict clients (Java, Go, .NET, GnuTLS, "
                       "browsers, Apple's URLSession) send a certificate only when its issuer is among the CAs the "
                       "server lists ({}); yours is issued by \"{}\", so they send none and the server sees no "
                       "certificate. Have the server list \"{}\" (nginx: ssl_client_certificate / "
                       "ssl_trusted_certificate; Apache: SSLCADNRequestFile), or send the chain that links it to a "
                       "listed CA; --as strict shows what those clients get",
                       ca_list_text(f_), issuer, issuer));
    } else if (f_.client_cert_sent) {
      hint(fmt::format("strict clients (Java, Go, .NET, GnuTLS, browsers, URLSession) would not even send this "
                       "certificate: its issuer \"{}\" is not among the CAs the server lists, so the server would "
                       "see no certificate from them",
                       issuer));
    }
  }

  const ProbeFacts& f_;
  Diagnosis d_;
  InterceptionAssessment interception_;
};

}  // namespace

Diagnosis diagnose(const ProbeFacts& facts) { return Builder(facts).run(); }

std::optional<bool> other_clients_would_send(const ProbeFacts& f) {
  if (!f.client_cert_requested || !f.identity_configured || f.no_cert || !f.client_cert) return std::nullopt;
  if (f.acceptable_ca_names.empty()) return true;  // an empty list: any certificate will do, for them too
  if (!f.issuer_in_acceptable_ca_names) return std::nullopt;
  return *f.issuer_in_acceptable_ca_names;
}

std::vector<std::string> unverifiable_certificate_evidence(const ProbeFacts& f) {
  std::vector<std::string> out;
  if (!f.client_cert_sent || !f.client_cert) return out;
  const CertificateSummary& c = *f.client_cert;
  if (f.issuer_in_acceptable_ca_names == std::optional<bool>(false)) {
    out.push_back(fmt::format("its issuer \"{}\" is not among the CAs the server listed", c.issuer));
  }
  if (c.expired) out.push_back(fmt::format("it expired on {}", date_of(c.not_after)));
  if (c.not_yet_valid) out.push_back(fmt::format("it is not valid before {}", date_of(c.not_before)));
  if (c.has_client_auth_eku == std::optional<bool>(false)) {
    out.push_back("its Extended Key Usage lacks clientAuth");
  }
  return out;
}

}  // namespace mtls_probe
