// The human printer: verdict line, summary, evidence per phase with timings, hints, warnings.
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/base/alerts.h"
#include "mtls_probe/base/words.h"
#include "mtls_probe/engine/http.h"
#include "mtls_probe/report/report.h"
#include "mtls_probe/report/revocation_report.h"
#include "mtls_probe/report/text_layout.h"

namespace mtls_probe {
namespace {

constexpr std::size_t kTimingMargin = 4;     // timings end this many columns before the width
constexpr std::size_t kEvidenceIndent = 10;  // "  DNS     "
constexpr std::size_t kMaxCaNames = 20;
constexpr std::size_t kMaxBodyLines = 3;
constexpr std::size_t kMaxBodyLineChars = 100;
constexpr std::size_t kMaxAddresses = 4;

using text::kBold;
using text::kGreen;
using text::kRed;
using text::kReset;
using text::kYellow;
using text::room;
using text::wrap;

std::size_t width(std::string_view s) {
  return text::display_width(s);
}

// Untrusted text (anything from the network, the command line or a file) for one report line.
std::string esc(std::string_view s) {
  return escape_terminal(s);
}

// At most max code points, with "…" when shortened.
std::string clip(std::string_view s, std::size_t max) {
  if (width(s) <= max) return std::string(s);
  std::size_t seen = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (seen == max - 1) break;
      ++seen;
    }
  }
  return std::string(s.substr(0, i)) + "…";
}

std::string indented(std::string_view text, std::string_view first_prefix, std::size_t indent,
                     std::size_t line_width) {
  return text::indent_wrapped(text, first_prefix, indent, line_width);
}

std::string ms(std::optional<double> v) {
  if (!v) return "";
  const double x = *v < 0 ? 0 : *v;
  if (x >= 10000) return fmt::format("{:.1f} s", x / 1000);
  if (x >= 100) return fmt::format("{:.0f} ms", x);
  return fmt::format("{:.1f} ms", x);
}

// "2027-03-01", escaped (the time comes from the peer's certificate).
std::string day(std::string_view iso) {
  return esc(date(iso));
}

std::string validity(const CertificateSummary& c) {
  if (c.not_yet_valid) return fmt::format("not valid before {}", day(c.not_before));
  if (c.expired || c.days_left < 0) {
    // days_left is any long: LONG_MIN cannot be negated.
    const long ago =
        c.days_left == std::numeric_limits<long>::min() ? std::numeric_limits<long>::max() : -c.days_left;
    return fmt::format("expired {} ({} ago)", day(c.not_after), plural(ago, "day"));
  }
  return fmt::format("valid until {} ({})", day(c.not_after), plural(c.days_left, "day"));
}

std::string timeout_text(const ProbeFacts& f, std::string_view what) {
  if (f.timeout_limit.empty()) return fmt::format("timed out {}", what);
  return fmt::format("timed out {} ({})", what, esc(f.timeout_limit));
}

std::string alert_text(const AlertRecord& a) {
  const std::string name = esc(a.name.empty() ? alert_name(a.code) : a.name);
  std::string s = a.from == Side::server ? fmt::format("the server sent alert {} {}", a.code, name)
                                         : fmt::format("we sent alert {} {}", a.code, name);
  if (!a.fatal) s += " (warning)";
  if (a.after_handshake) s += ", after the handshake";
  return s;
}

// An alert that belongs to the CLIENT section: it is the server's answer about our certificate.
bool is_client_cert_alert(const ProbeFacts& f, const AlertRecord& a) {
  if (a.from != Side::server || !a.fatal) return false;
  const AlertClass c = classify_alert(a.code);
  if (c == AlertClass::client_cert_missing || c == AlertClass::client_cert_problem) return true;
  return f.client_cert_requested && a.after_client_certificate;
}

// One phase: a label, evidence lines, and the phase's timing (shown on the first line).
struct Section {
  std::string_view label;
  std::vector<std::string> lines;
  std::optional<double> timing;
};

std::string render_section(const Section& s, const TextStyle& style) {
  std::string label = fmt::format("{:<{}}", s.label, kEvidenceIndent - 2);
  if (style.color) label = fmt::format("{}{}{}", kBold, label, kReset);
  const std::string timing = ms(s.timing);
  std::string out;
  bool first = true;
  for (const auto& line : s.lines.empty() ? std::vector<std::string>{"not reached"} : s.lines) {
    // Continuation lines that start with spaces (a list) keep their extra indent.
    const std::size_t extra =
        line.find_first_not_of(' ') == std::string::npos ? 0 : line.find_first_not_of(' ');
    const std::size_t indent = kEvidenceIndent + extra + (extra ? 0 : 2);
    std::string_view body = std::string_view(line).substr(extra);
    const std::size_t timing_column = room(style.width, kTimingMargin);
    std::size_t first_width = room(style.width, kEvidenceIndent + extra);
    if (first && !timing.empty())
      first_width = room(timing_column, kEvidenceIndent + extra + timing.size() + 2);
    std::vector<std::string> wrapped = wrap(body, first_width, room(style.width, indent));
    for (std::size_t i = 0; i < wrapped.size(); ++i) {
      std::string text;
      if (first) {
        text = "  " + label + std::string(extra, ' ') + wrapped[i];
      } else {
        text = std::string(i == 0 ? kEvidenceIndent + extra : indent, ' ') + wrapped[i];
      }
      if (first && !timing.empty()) {
        const std::size_t used = kEvidenceIndent + extra + width(wrapped[i]);
        const std::size_t pad =
            used + 2 + timing.size() <= timing_column ? timing_column - used - timing.size() : 2;
        text += std::string(pad, ' ') + timing;
      }
      out += text;
      out += '\n';
      first = false;
    }
  }
  return out;
}

// ---- the phases

Section dns_section(const ProbeFacts& f) {
  Section s{"DNS", {}, f.dns_ms};
  const bool timed_out = f.timed_out_in == Phase::dns;
  if (!f.dns_attempted && !timed_out) return s;
  // With --connect-to the name resolved is HOST2 (the proxy's, through a proxy: the CONNECT carries HOST2).
  const std::string resolved = f.connect_to_host && !f.proxy ? *f.connect_to_host : f.host;
  const std::string host = esc(f.proxy ? "proxy " + f.proxy->host : resolved);
  if (f.dns_error) {
    s.lines.push_back(fmt::format("{}: could not resolve: {}", host, esc(*f.dns_error)));
  } else if (timed_out && f.addresses.empty()) {
    s.lines.push_back(fmt::format("{}: {}", host, timeout_text(f, "resolving")));
  } else if (f.resolved_by_override && std::find(f.addresses.begin(), f.addresses.end(),
                                                 f.proxy ? f.proxy->host : resolved) != f.addresses.end()) {
    s.lines.push_back(
        fmt::format("{} (IP literal{})", host, resolved != f.host && !f.proxy ? ", --connect-to" : ""));
  } else {
    std::string addrs;
    for (std::size_t i = 0; i < f.addresses.size() && i < kMaxAddresses; ++i) {
      addrs += (i ? ", " : "") + esc(f.addresses[i]);
    }
    if (f.addresses.size() > kMaxAddresses)
      addrs += fmt::format(" (+{} more)", f.addresses.size() - kMaxAddresses);
    if (addrs.empty()) addrs = "(no addresses)";
    s.lines.push_back(fmt::format("{} -> {}{}", host, addrs, f.resolved_by_override ? " (--resolve)" : ""));
  }
  if (timed_out && !f.addresses.empty()) s.lines.push_back(timeout_text(f, "resolving"));
  return s;
}

std::string attempt_result_words(const std::string& result) {
  if (result == "refused") return "connection refused";
  if (result == "timeout") return "timed out";
  if (result == "cancelled") return "cancelled (another address connected first)";
  return result;
}

// One line per attempt that did not connect, when more than one address was tried.
void add_attempt_lines(const ProbeFacts& f, Section& s) {
  if (f.connect_attempts.size() < 2) return;
  for (const auto& a : f.connect_attempts) {
    if (a.result == "connected") continue;
    s.lines.push_back(
        fmt::format("tried {}: {} ({:.1f} ms)", esc(a.address), esc(attempt_result_words(a.result)), a.ms));
  }
}

Section tcp_section(const ProbeFacts& f) {
  Section s{"TCP", {}, f.connect_ms};
  const bool timed_out = f.timed_out_in == Phase::connect;
  if (!f.connect_attempted && !timed_out) return s;
  const uint16_t port = f.proxy ? f.proxy->port : f.port;  // through a proxy, TCP goes to the proxy
  if (f.bind_error) {
    s.lines.push_back(
        fmt::format("could not bind to {} (--interface): {}", esc(f.interface_spec), esc(*f.bind_error)));
  } else if (f.connected_address && f.connect_to_host && !f.proxy) {
    s.lines.push_back(fmt::format("connected to {} for {}:{} (--connect-to)", esc(*f.connected_address),
                                  esc(f.host), f.port));
  } else if (f.connected_address) {
    s.lines.push_back(fmt::format("connected to {}{}", f.proxy ? "proxy " : "", esc(*f.connected_address)));
  } else if (timed_out) {
    s.lines.push_back(fmt::format("port {}: {}", f.port, timeout_text(f, f.proxy ? "connecting to the proxy" : "connecting")));
  } else if (f.connect_error) {
    const std::string tried =
        f.addresses.size() > 1 ? fmt::format(" (tried {} addresses)", f.addresses.size()) : std::string();
    const std::string target = f.addresses.size() == 1
                                   ? fmt::format("{} port {}", esc(f.addresses[0]), port)
                                   : fmt::format("port {}", port);
    s.lines.push_back(fmt::format("could not connect to {}: {}{}", target, esc(*f.connect_error), tried));
  } else {
    s.lines.push_back("not connected");
  }
  if (f.connect_to_host && f.proxy)
    s.lines.push_back(fmt::format("CONNECT to {}:{} for {}:{} (--connect-to)", esc(*f.connect_to_host),
                                  f.connect_to_port, esc(f.host), f.port));
  if (f.local_ip && !f.interface_spec.empty())
    s.lines.push_back(fmt::format("from {} port {} (--interface {})", esc(*f.local_ip), f.local_port,
                                  esc(f.interface_spec)));
  add_attempt_lines(f, s);
  if (!f.proxy_bypassed_by.empty())
    s.lines.push_back(fmt::format("direct: {} is in {}, so the configured proxy was not used", esc(f.host),
                                  esc(f.proxy_bypassed_by)));
  return s;
}

Section proxy_section(const ProbeFacts& f, const InterceptionAssessment& a) {
  Section s{"Proxy", {}, f.proxy ? f.proxy->tunnel_ms : std::nullopt};
  if (!f.proxy) return s;
  const ProxyFacts& p = *f.proxy;
  s.lines.push_back(fmt::format("{} (from {}){}", esc(p.url), esc(p.source),
                                p.credentials_sent ? ", with Proxy-Authorization (Basic)" : ""));
  if (p.tls) {
    if (p.tls_handshake_completed) {
      s.lines.push_back(fmt::format("TLS to the proxy: {}, certificate {} (issued by {}) {}", esc(p.tls_version.value_or("?")),
                                    esc(p.tls_cert_subject), esc(p.tls_cert_issuer),
                                    p.tls_verify_error ? "did not verify: " + esc(*p.tls_verify_error) : std::string("verified")));
    } else if (!p.tls_error.empty()) {
      s.lines.push_back("TLS to the proxy failed: " + esc(clip(p.tls_error, 200)));
    }
    if (p.tls_cert_requested)
      s.lines.push_back(p.tls_cert_sent ? "the proxy asked for a client certificate: sent (--proxy-cert)"
                                        : "the proxy asked for a client certificate: none sent");
    if (p.tls_alert) s.lines.push_back("the proxy sent " + alert_text(*p.tls_alert));
  }
  if (!p.tunnel_attempted && f.timed_out_in != Phase::proxy) return s;
  const std::string connect = fmt::format("CONNECT {}:{}", esc(f.host), f.port);
  if (f.timed_out_in == Phase::proxy) {
    s.lines.push_back(fmt::format("{}: {}", connect, timeout_text(f, "waiting for the answer")));
  } else if (p.connect_status) {
    s.lines.push_back(fmt::format("{} -> {} {}", connect, *p.connect_status, esc(clip(p.reason, 120))));
    if (!p.auth_schemes.empty()) {
      std::string schemes;
      for (const auto& a : p.auth_schemes) schemes += (schemes.empty() ? "" : ", ") + esc(a);
      s.lines.push_back("Proxy-Authenticate offers " + schemes);
    }
  }
  if (p.error) s.lines.push_back(esc(*p.error));
  if (f.direct_path) {
    const DirectPathFacts& d = *f.direct_path;
    s.lines.push_back(d.reachable ? fmt::format("directly (without the proxy): server certificate issued by {}{}",
                                                esc(d.server_cert_issuer),
                                                d.client_cert_requested ? ", client certificate requested" : "")
                                  : "directly (without the proxy): " + esc(clip(d.error, 160)));
  }
  if (a.suspected) {
    s.lines.push_back("TLS interception suspected:");
    for (const auto& e : a.evidence) s.lines.push_back("  " + esc(e));
  }
  return s;
}

// --cert-status: the stapled OCSP response, what it said and who signed it.
void add_cert_status_lines(const ServerCertStatus& st, Section& s) {
  if (!st.checked) {
    s.lines.push_back("certificate status (OCSP, --cert-status): not checked, the handshake ended before it");
    return;
  }
  s.lines.push_back(st.error ? "certificate status (OCSP, --cert-status) FAILED: " + esc(*st.error)
                             : "certificate status (OCSP, --cert-status): " + esc(st.cert_status));
  if (!st.stapled) return;
  std::string line = "stapled response";
  if (!st.responder.empty()) line += fmt::format(" from {}", esc(st.responder));
  line += st.verified ? " (signature verified)" : " (signature NOT verified)";
  if (st.this_update) line += ", thisUpdate " + esc(*st.this_update);
  if (st.next_update) line += ", nextUpdate " + esc(*st.next_update);
  s.lines.push_back(std::move(line));
}

Section tls_section(const ProbeFacts& f) {
  Section s{"TLS", {}, f.tls_ms};
  const bool timed_out = f.timed_out_in == Phase::tls;
  if (!f.tls_attempted && !timed_out) return s;

  if (f.tls_version || f.cipher) {
    std::string line = esc(f.tls_version.value_or("TLS"));
    if (f.cipher) line += ", " + esc(*f.cipher);
    if (f.alpn) line += ", ALPN " + esc(*f.alpn);
    if (!f.handshake_completed) line += " (handshake not completed)";
    s.lines.push_back(std::move(line));
  } else if (!timed_out) {
    s.lines.push_back("handshake failed");
  }
  if (timed_out) s.lines.push_back(timeout_text(f, "during the handshake"));
  if (f.peer_not_tls) s.lines.push_back("the peer did not answer with TLS");
  if (f.peer_closed_during_handshake)
    s.lines.push_back("the server closed the connection during the handshake");
  if (!f.tls_error.empty() && !f.handshake_completed) {
    std::string_view rest = f.tls_error;
    for (int n = 0; n < 3 && !rest.empty(); ++n) {
      const std::size_t nl = rest.find('\n');
      const std::string_view one = rest.substr(0, nl);
      if (!one.empty()) s.lines.push_back("error: " + clip(esc(one), 200));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
  }

  if (f.server_cert) {
    const CertificateSummary& c = *f.server_cert;
    s.lines.push_back(fmt::format("server certificate {}, issued by {},", esc(c.subject), esc(c.issuer)));
    if (!f.verify_error) {
      // The chain verified; a failed --cert-status check (told below) still makes it untrusted.
      const bool status_failed = f.server_cert_status && f.server_cert_status->error;
      s.lines.push_back(fmt::format("{}, {}", status_failed ? "chain verified" : "verified", validity(c)));
    } else {
      std::string line = fmt::format("NOT verified: {}", esc(*f.verify_error));
      if (f.verify_error_depth > 0) {
        line += fmt::format(" (at depth {}", f.verify_error_depth);
        const auto depth = static_cast<std::size_t>(f.verify_error_depth);
        if (depth < f.server_chain.size()) line += ": " + esc(f.server_chain[depth].subject);
        line += ")";
      }
      if (f.insecure) line += "; ignored because of -k";
      s.lines.push_back(std::move(line));
      s.lines.push_back(validity(c));
      if (f.hostname_mismatch) {
        std::string names;
        for (const auto& n : c.subject_alt_names) names += (names.empty() ? "" : ", ") + esc(n);
        s.lines.push_back(fmt::format("the certificate names {}; we asked for {}",
                                      names.empty() ? "no subjectAltName" : names,
                                      esc(f.sni.empty() ? f.host : f.sni)));
      }
      if (f.server_chain.size() > 1) {
        s.lines.push_back(fmt::format("the server sent {} certificates:", f.server_chain.size()));
        for (const auto& cc : f.server_chain) {
          s.lines.push_back(fmt::format("  {}  (issued by {})", esc(cc.subject), esc(cc.issuer)));
        }
      }
    }
  }
  if (f.server_cert_status) add_cert_status_lines(*f.server_cert_status, s);
  if (f.sni.empty()) {
    if (f.tls_attempted) s.lines.push_back("no SNI sent (the name is an IP address)");
  } else if (f.sni != f.host) {
    s.lines.push_back(fmt::format("SNI {}", esc(f.sni)));
  }
  for (const auto& a : f.alerts) {
    if (is_client_cert_alert(f, a)) continue;
    if (a.code == 0 && !a.fatal) continue;  // close_notify: the normal end of a connection
    s.lines.push_back(alert_text(a));
  }
  return s;
}

// Where a token-held key lives, and what the token can sign with when that matters.
void add_token_lines(const ProbeFacts& f, Section& s) {
  if (!f.pkcs11) return;
  const Pkcs11Facts& p = *f.pkcs11;
  std::string where = fmt::format("key on PKCS#11 token \"{}\"", esc(p.token_label));
  if (!p.token_model.empty() || !p.token_serial.empty())
    where += fmt::format(" ({} {}, serial {})", esc(p.token_manufacturer), esc(p.token_model), esc(p.token_serial));
  where += fmt::format(", object \"{}\"", esc(p.object_label));
  if (!p.object_id.empty()) where += " id " + p.object_id;
  s.lines.push_back(where + ", " + esc(p.key_type));
  const std::string backend = p.backend == "engine" ? "libp11's pkcs11 engine" : p.backend;
  s.lines.push_back(fmt::format("through {}, module {}", esc(backend), esc(p.module)));
  const bool lists_pss = std::find(p.mechanisms.begin(), p.mechanisms.end(), "RSA-PKCS-PSS") != p.mechanisms.end();
  if (p.key_type == "RSA" && !p.mechanisms.empty() && !lists_pss)
    s.lines.push_back("the token lists no RSA-PSS mechanism: TLS 1.3 needs it to sign with an RSA key");
  if (p.pin_count_low) s.lines.push_back("the token says a wrong PIN was given since its last good login");
}

Section client_section(const ProbeFacts& f) {
  Section s{"CLIENT", {}, std::nullopt};
  if (f.identity_error) {
    const bool in_handshake = f.identity_error->phase != "load";
    s.lines.push_back(fmt::format("identity unusable ({}{}): {}",
                                  identity_problem_name(f.identity_error->problem),
                                  in_handshake ? ", in " + f.identity_error->phase : std::string(),
                                  esc(f.identity_error->message)));
    add_token_lines(f, s);
    if (!f.identity_error->openssl_detail.empty()) {
      const std::string_view d = f.identity_error->openssl_detail;
      s.lines.push_back("openssl: " + clip(esc(d.substr(0, d.find('\n'))), 200));
    }
    return s;
  }
  if (!f.tls_attempted) return s;

  if (f.client_cert_requested) {
    std::string when;
    if (f.cert_request_in_handshake) {
      when = " in the handshake";
    } else if (f.cert_request_post_handshake) {
      when = " after the handshake (TLS 1.3 post-handshake authentication)";
    } else if (f.renegotiation_cert_request) {
      when = " in a renegotiation (TLS 1.2)";
    }
    if (f.acceptable_ca_names.empty()) {
      s.lines.push_back(
          fmt::format("the server asked for a certificate{}; it listed no acceptable CAs", when));
    } else {
      s.lines.push_back(fmt::format("the server asked{} for a certificate issued by one of:", when));
      for (std::size_t i = 0; i < f.acceptable_ca_names.size() && i < kMaxCaNames; ++i) {
        s.lines.push_back("  " + esc(f.acceptable_ca_names[i]));
      }
      if (f.acceptable_ca_names.size() > kMaxCaNames) {
        s.lines.push_back(fmt::format("  ... and {} more", f.acceptable_ca_names.size() - kMaxCaNames));
      }
    }
  } else if (f.handshake_completed) {
    s.lines.push_back("the server did not ask for a client certificate");
  } else {
    s.lines.push_back("the server had not asked for a client certificate when the handshake stopped");
  }

  if (f.client_cert_sent && f.client_cert) {
    const CertificateSummary& c = *f.client_cert;
    std::string line = fmt::format("we sent {}, issued by {}", esc(c.subject), esc(c.issuer));
    if (f.issuer_in_acceptable_ca_names == false) line += "  <- not in that list";
    s.lines.push_back(std::move(line));
    if (other_clients_would_send(f) == false) {
      s.lines.push_back("Java, Go, .NET, GnuTLS, browsers and URLSession would have sent no certificate here");
    }
    if (c.expired || c.not_yet_valid) s.lines.push_back("our certificate is " + validity(c));
    if (c.has_client_auth_eku == false)
      s.lines.push_back("our certificate lacks the clientAuth extended key usage");
  } else if (f.client_cert_sent) {
    s.lines.push_back("we sent a certificate");
  } else if (f.client_cert_requested || f.renegotiation_requested) {
    if (f.no_cert) {
      s.lines.push_back("we sent no certificate (--no-cert)");
    } else if (f.strict_selection_withheld) {
      s.lines.push_back("--as strict: no certificate sent because none matched the server's CA list");
    } else if (!f.identity_configured) {
      s.lines.push_back("we sent no certificate: no client identity configured (--p12 or --cert)");
    } else if (f.client_cert) {
      s.lines.push_back(
          fmt::format("we sent no certificate (our identity {} was not used)", esc(f.client_cert->subject)));
    } else {
      s.lines.push_back("we sent no certificate");
    }
  } else if (f.client_cert && !f.no_cert && f.h2_error && f.h2_error->code == 0xd) {
    // HTTP_1_1_REQUIRED: the server wanted a certificate for this path and could not ask over HTTP/2.
    s.lines.push_back(fmt::format("our identity {} was never asked for: HTTP/2 cannot ask after the handshake",
                                  esc(f.client_cert->subject)));
  } else if (f.client_cert && !f.no_cert) {
    s.lines.push_back(fmt::format("our identity {} was not needed", esc(f.client_cert->subject)));
  }
  if (!f.client_chain_subjects.empty() && f.client_cert_sent) {
    std::string chain;
    for (const auto& c : f.client_chain_subjects) chain += (chain.empty() ? "" : "; ") + esc(c);
    s.lines.push_back("with chain certificates: " + chain);
  }
  if (f.legacy_pkcs12) s.lines.push_back("(legacy PKCS#12 file, loaded with OpenSSL's legacy provider)");
  add_token_lines(f, s);

  for (const auto& a : f.alerts) {
    if (!is_client_cert_alert(f, a)) continue;
    std::string line = fmt::format("the server answered with alert {} {}", a.code,
                                   esc(a.name.empty() ? alert_name(a.code) : a.name));
    if (a.after_handshake) line += ", after the handshake";
    s.lines.push_back(std::move(line));
  }
  return s;
}

bool looks_like_html(std::string_view body) {
  const std::size_t start = body.find_first_not_of(" \t\r\n");
  if (start == std::string_view::npos || body[start] != '<') return false;
  std::string head(body.substr(start, 64));
  for (char& c : head) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  return head.starts_with("<html") || head.starts_with("<!doctype html") || head.starts_with("<head") ||
         head.starts_with("<body") || head.starts_with("<title");
}

// "<head><title>400 No required SSL certificate was sent</title></head>" -> the text between the tags.
std::string strip_tags(std::string_view line) {
  std::string out;
  bool in_tag = false;
  for (char c : line) {
    if (c == '<') {
      in_tag = true;
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else if (c == '>') {
      in_tag = false;
    } else if (!in_tag) {
      out += c;
    }
  }
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

// A few readable lines of an error body (HTML reduced to its text), control characters escaped, bounded.
std::vector<std::string> body_lines(std::string_view body) {
  const bool html = looks_like_html(body);
  std::vector<std::string> out;
  std::vector<std::string> seen;
  std::size_t pos = 0;
  while (pos < body.size() && out.size() < kMaxBodyLines) {
    std::size_t nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view raw = body.substr(pos, nl - pos);
    pos = nl + 1;
    std::string text = html ? strip_tags(raw) : std::string(raw);
    std::string_view line = trim(text);
    if (line.empty() || std::find(seen.begin(), seen.end(), line) != seen.end()) continue;
    seen.emplace_back(line);
    out.push_back("body: " + clip(esc(line), kMaxBodyLineChars));
  }
  return out;
}

// -i: the response's header fields (then its trailers) in the order they came, credentials redacted.
void add_header_lines(const ProbeFacts& f, Section& s) {
  for (const auto& [name, value] : f.response_headers) s.lines.push_back(esc(header_trace_line(name, value)));
  for (const auto& [name, value] : f.response_trailers)
    s.lines.push_back("trailer " + esc(header_trace_line(name, value)));
}

// -o: where the body went.
void add_body_file_line(const ProbeFacts& f, Section& s) {
  if (f.body_file.empty()) return;
  s.lines.push_back(fmt::format("body: {} written to {}{}", plural(static_cast<long>(f.body_bytes), "byte"),
                                f.body_file == "-" ? "stdout" : esc(f.body_file),
                                f.max_filesize_exceeded ? " (stopped at --max-filesize)" : ""));
}

Section http_section(const ProbeFacts& f, bool include_headers) {
  Section s{"HTTP", {}, f.ttfb_ms};
  const bool timed_out = f.timed_out_in == Phase::http;
  if (!f.request_sent && !f.http_status && !timed_out && !f.http_error) return s;
  if (!f.request_line.empty()) s.lines.push_back(esc(f.request_line));
  if (f.http_status) {
    std::string line = fmt::format("status {}", *f.http_status);
    if (!f.http_reason.empty()) line += " " + clip(esc(f.http_reason), 80);
    s.lines.push_back(std::move(line));
    if (include_headers) add_header_lines(f, s);
    add_body_file_line(f, s);
    if (!include_headers && *f.http_status >= 300 && *f.http_status < 400) {
      if (auto location = response_header(f, "location")) s.lines.push_back("Location: " + clip(esc(*location), 200));
    }
    if (*f.http_status >= 400) {
      for (auto& l : body_lines(f.body_excerpt)) s.lines.push_back(std::move(l));
      if (f.body_bytes > 0) {
        s.lines.push_back(fmt::format("({}{})", plural(static_cast<long>(f.body_bytes), "byte"),
                                      f.body_truncated ? ", stopped reading" : ""));
      }
    }
  }
  if (f.h2_fallback_noted && f.http_version == std::optional<std::string>("1.1")) {
    s.lines.push_back("HTTP/2 was asked for, the server picked HTTP/1.1 (ALPN)");
  }
  if (f.h2_error) {
    s.lines.push_back(fmt::format("HTTP/2 {} {} (0x{:x}) {}", f.h2_error->goaway ? "GOAWAY" : "RST_STREAM",
                                  esc(f.h2_error->name), f.h2_error->code,
                                  f.h2_error->from == Side::server ? "from the server" : "sent by us"));
  }
  if (const auto& w = f.h2_window_stall) {
    s.lines.push_back(fmt::format("body held by HTTP/2 flow control: {} of {} bytes sent, {} window 0",
                                  w->body_bytes_sent, w->body_bytes,
                                  w->connection_window ? "connection" : "stream"));
  }
  if (f.closed_before_response) {
    // After a fatal alert the closing is the alert's doing, already told in TLS/CLIENT.
    s.lines.push_back(f.fatal_alert
                          ? fmt::format("no response: the connection ended with alert {} {}",
                                        f.fatal_alert->code, esc(f.fatal_alert->name))
                          : std::string("the server closed the connection before sending a response, without an "
                                        "alert"));
  }
  if (f.reset_after_request) s.lines.push_back("the connection was reset after the request was sent");
  if (f.http_error) s.lines.push_back("error: " + clip(esc(*f.http_error), 200));
  if (timed_out) s.lines.push_back(timeout_text(f, "waiting for the response"));
  return s;
}

// The HTTP/2 attempt the server refused before the probe retried over HTTP/1.1 (the other sections are the
// retry's). Only for facts with h2_refusal.
Section h2_attempt_section(const ProbeFacts& f) {
  Section s{"HTTP/2", {}, std::nullopt};
  const H2Refusal& r = *f.h2_refusal;
  s.timing = r.ms;
  s.lines.push_back("first attempt: " + esc(r.request_line));
  std::string where = r.connected_address.empty() ? "" : "to " + esc(r.connected_address) + " ";
  if (r.tls_version) where += "over " + esc(*r.tls_version) + ", ";
  s.lines.push_back(where + "ALPN h2");
  if (r.error) {
    s.lines.push_back(fmt::format("refused: {} {} (0x{:x}) {}", r.error->goaway ? "GOAWAY" : "RST_STREAM",
                                  esc(r.error->name), r.error->code,
                                  r.error->from == Side::server ? "from the server" : "sent by us"));
  } else {
    s.lines.push_back(fmt::format("refused: HTTP {} \"Cannot perform Post-Handshake Authentication\"",
                                  r.http_status.value_or(403)));
  }
  s.lines.push_back(r.client_cert_requested ? "the server asked for a client certificate on that connection"
                                            : "no CertificateRequest: HTTP/2 cannot ask after the handshake");
  s.lines.push_back("retried once over HTTP/1.1 on a new connection (below)");
  return s;
}

// --grpc-health: what the health check asked and what came back (the HTTP section has the request line).
Section grpc_section(const GrpcFacts& g) {
  Section s{"GRPC", {}, std::nullopt};
  s.lines.push_back(g.service.empty() ? std::string("health check of the server (no service name)")
                                      : "health check of service \"" + clip(esc(g.service), 120) + "\"");
  if (g.status) {
    s.lines.push_back(fmt::format("grpc-status {} {}{}", *g.status, esc(g.status_name),
                                  g.trailers_only ? " (trailers-only answer)" : ""));
  }
  if (g.message) s.lines.push_back("grpc-message: " + clip(esc(*g.message), 200));
  if (g.serving_status) s.lines.push_back("serving status: " + esc(g.serving_status_name));
  if (g.problem) s.lines.push_back("error: " + clip(esc(*g.problem), 200));
  return s;
}

// --check-revocation: the client certificate's answers, per certificate and method.
Section revocation_section(const RevocationFacts& r) {
  Section s{"OCSP/CRL", {}, std::nullopt};  // as wide as the label column: the lines are list items
  for (const std::string& line : revocation_lines(r)) s.lines.push_back("  " + esc(line));
  if (r.certificates.empty()) s.lines.push_back("  nothing to check");
  return s;
}

// The DNs this report names (as escaped for it): wrapping must never split one at its inner spaces.
std::vector<std::string> named_dns(const ProbeFacts& f) {
  std::vector<std::string> dns;
  auto add = [&dns](const std::string& dn) {
    if (!dn.empty()) dns.push_back(esc(dn));
  };
  for (const auto* c :
       {f.server_cert ? &*f.server_cert : nullptr, f.client_cert ? &*f.client_cert : nullptr}) {
    if (c != nullptr) add(c->subject), add(c->issuer);
  }
  for (const auto& c : f.server_chain) add(c.subject), add(c.issuer);
  for (const auto& n : f.acceptable_ca_names) add(n);
  for (const auto& n : f.client_chain_subjects) add(n);
  // Longest first: a DN that contains a shorter one is glued as a whole.
  std::sort(dns.begin(), dns.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  return dns;
}

Section keep_dns_together(Section s, const std::vector<std::string>& dns) {
  for (auto& line : s.lines) line = text::keep_together(line, dns);
  return s;
}

}  // namespace

// -L: the hops before the one the rest of the report describes, one paragraph each.
std::string redirects_text(const ProbeFacts& f, std::size_t cols) {
  std::string out = "  Redirects\n";
  for (std::size_t i = 0; i < f.redirects.size(); ++i) {
    const RedirectHop& h = f.redirects[i];
    std::string cert = h.client_cert_sent        ? "client certificate requested and sent"
                       : h.client_cert_requested ? "client certificate requested, none sent"
                                                 : "no client certificate requested";
    std::string line =
        fmt::format("{} {} -> {} {} (Location: {}); {}; {}: {}", h.method, esc(h.url), h.status,
                    esc(h.next_url), esc(clip(h.location, 300)), cert, h.verdict, esc(h.summary));
    if (h.auth_headers_dropped) line += " Authorization/Cookie headers not sent on to the other host.";
    out += indented(line, fmt::format("    {}. ", i + 1), 7, cols);
  }
  out += indented(fmt::format("{} (this report)", esc(f.url)),
                  fmt::format("    {}. ", f.redirects.size() + 1), 7, cols);
  return out + '\n';
}

std::string render_text(const ProbeResult& result, const TextStyle& style) {
  const ProbeFacts& f = result.facts;
  const Diagnosis& d = result.diagnosis;
  const bool ok = d.verdict == Verdict::ok;
  auto paint = [&](std::string_view color, std::string_view text) {
    return style.color ? fmt::format("{}{}{}", color, text, kReset) : std::string(text);
  };

  std::string out;
  std::string head =
      fmt::format("{} {} (exit {})", ok ? "✓" : "✗", verdict_name(d.verdict), exit_code(d.verdict));
  out += paint(ok ? kGreen : kRed, head);
  if (!f.url.empty()) {
    const std::string url = clip(esc(f.url), 300);
    out += (width(head) + 2 + width(url) <= style.width ? "  " : "\n  ") + url;  // a long URL: own line
  }
  out += '\n';
  const std::size_t cols = style.width;
  const std::vector<std::string> dns = named_dns(f);
  if (!d.summary.empty()) out += indented(text::keep_together(esc(d.summary), dns), "  ", 2, cols);

  if (f.usage_error) {
    if (d.summary.find(*f.usage_error) == std::string::npos) {
      out += indented(esc(*f.usage_error), "  error: ", 9, cols);
    }
  } else {
    out += '\n';
    if (!f.redirects.empty()) out += redirects_text(f, cols);
    std::vector<Section> sections{dns_section(f)};
    if (f.h2_refusal) sections.push_back(h2_attempt_section(f));  // only after a retry over HTTP/1.1
    sections.push_back(tcp_section(f));
    if (f.proxy) sections.push_back(proxy_section(f, d.interception));  // only a proxied probe has the phase
    for (Section s : {tls_section(f), client_section(f), http_section(f, style.include_headers)})
      sections.push_back(std::move(s));
    // A gRPC probe that got as far as its request; before that the other sections tell the story.
    if (f.grpc) sections.push_back(grpc_section(*f.grpc));
    if (f.revocation) sections.push_back(revocation_section(*f.revocation));
    for (const Section& s : sections) out += render_section(keep_dns_together(s, dns), style);
  }

  const bool any_notes = !d.hints.empty() || !f.warnings.empty() || f.insecure;
  if (any_notes) out += '\n';
  for (const auto& h : d.hints)
    out += indented(text::keep_together(esc(h), dns), "  " + paint(kYellow, "hint:") + " ", 8, cols);
  for (const auto& w : f.warnings) out += indented(esc(w), "  " + paint(kYellow, "warning:") + " ", 11, cols);
  if (f.insecure) {
    const bool mentioned = std::any_of(f.warnings.begin(), f.warnings.end(), [](const std::string& w) {
      return w.find("-k") != std::string::npos || w.find("insecure") != std::string::npos;
    });
    if (!mentioned) {
      out += indented("-k/--insecure: the server's certificate was not required to verify",
                      "  " + paint(kYellow, "warning:") + " ", 11, cols);
    }
  }
  return out;
}

}  // namespace mtls_probe
