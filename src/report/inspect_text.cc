// `inspect`'s human report: the verdict line and summary, one labelled section per fact (FORMAT, PKCS#12,
// SUBJECT, ..., CHAIN, VERIFY), then the findings with their hints and the command-line notes. 100 columns.
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mtls_probe/identity/pkcs11_uri.h"
#include "mtls_probe/report/inspect_report.h"
#include "mtls_probe/report/revocation_report.h"
#include "mtls_probe/report/text_layout.h"

namespace mtls_probe::inspect {
namespace {

constexpr std::size_t kWidth = 100;
constexpr std::size_t kLabelWidth = 10;  // "KEY USAGE "
constexpr std::size_t kIndent = 2 + kLabelWidth;

using text::kBold;
using text::kGreen;
using text::kRed;
using text::kReset;
using text::kYellow;
using text::wrap;

std::string esc(std::string_view s) {
  return escape_terminal(s);
}

struct Section {
  std::string_view label;
  std::vector<std::string> lines;  // already escaped; a leading "  " marks a list item (kept indented)
};
using Sections = std::vector<Section>;

std::string render_section(const Section& s, const TextStyle& style) {
  std::string label = fmt::format("{:<{}}", s.label, kLabelWidth);
  if (style.color) label = fmt::format("{}{}{}", kBold, label, kReset);
  std::string out;
  bool first = true;
  for (const auto& line : s.lines) {
    const std::size_t extra = line.starts_with("  ") ? 2 : 0;
    const std::string_view body = std::string_view(line).substr(extra);
    const std::vector<std::string> wrapped =
        wrap(body, kWidth - kIndent - extra, kWidth - kIndent - extra - 2);
    for (std::size_t i = 0; i < wrapped.size(); ++i) {
      out += first ? "  " + label : std::string(kIndent, ' ');
      out += std::string(extra + (i > 0 ? 2 : 0), ' ');
      out += wrapped[i];
      out += '\n';
      first = false;
    }
  }
  return out;
}

std::string indented(std::string_view text, std::string_view first_prefix, std::size_t indent) {
  return text::indent_wrapped(text, first_prefix, indent, kWidth);
}

std::string key_text(const KeyFacts& k) {
  if (k.curve) return fmt::format("{} {} ({} bits)", k.type, *k.curve, k.bits);
  return fmt::format("{} {} bits", k.type, k.bits);
}

std::string validity_text(const CertificateSummary& s) {
  std::string range = fmt::format("{} to {}", date(s.not_before), date(s.not_after));
  if (s.not_yet_valid) return range + " (not valid yet)";
  if (s.expired) return fmt::format("{} (expired {} ago)", range, plural(-s.days_left, "day"));
  return fmt::format("{} ({} left)", range, plural(s.days_left, "day"));
}

// The loader's problem in short (its message is the first finding).
void add_identity(const IdentityFacts& f, Sections& out) {
  Section s{"IDENTITY", {}};
  s.lines.push_back(
      fmt::format("not usable as it is ({})", identity_problem_name(f.identity_error->problem)));
  if (!f.identity_error->openssl_detail.empty()) {
    const std::string_view d = f.identity_error->openssl_detail;
    s.lines.push_back("openssl: " + esc(d.substr(0, std::min<std::size_t>(d.find('\n'), 200))));
  }
  out.push_back(std::move(s));
}

void add_pkcs12(const Pkcs12Facts& p, Sections& out) {
  auto iter = [](long n) { return n > 0 ? fmt::format(", {} iterations", n) : std::string(); };
  Section s{"PKCS#12", {}};
  s.lines.push_back("key: " + (p.key_encryption ? esc(*p.key_encryption) + iter(p.key_iterations)
                                                : std::string("(no key bag found)")));
  s.lines.push_back("certificates: " + (p.cert_encryption ? esc(*p.cert_encryption) + iter(p.cert_iterations)
                                                          : std::string("(no certificate bag found)")));
  s.lines.push_back("MAC: " + (p.mac_algorithm ? esc(*p.mac_algorithm) + iter(p.mac_iterations)
                                               : std::string("none (the file has no integrity MAC)")));
  s.lines.push_back(pkcs12_compatibility(p));
  out.push_back(std::move(s));
}

std::string key_line(const IdentityFacts& f) {
  std::string key = key_text(f.leaf->public_key);
  if (!f.private_key) {
    key += "; no private key";
  } else if (f.key_matches == true) {
    key += "; the private key matches";
  } else if (f.key_matches == false) {
    key += "; the private key (" + key_text(*f.private_key) + ") does NOT match";
  }
  return esc(key);
}

void add_certificate(const IdentityFacts& f, Sections& out) {
  const CertificateFacts& c = *f.leaf;
  const CertificateSummary& cs = c.summary;
  out.push_back({"SUBJECT", {esc(cs.subject)}});
  out.push_back({"ISSUER", {esc(cs.issuer)}});
  out.push_back({"SERIAL", {esc(cs.serial_hex)}});
  std::string sans;
  for (const auto& n : cs.subject_alt_names) sans += (sans.empty() ? "" : ", ") + esc(n);
  out.push_back({"SAN", {sans.empty() ? "(none)" : sans}});
  out.push_back({"VALIDITY", {validity_text(cs)}});
  out.push_back({"KEY", {key_line(f)}});
  out.push_back({"SIGNATURE", {esc(c.signature_algorithm)}});
  out.push_back(
      {"KEY USAGE", {c.key_usage ? esc(join(*c.key_usage, ", ")) : "(no extension: any use allowed)"}});
  out.push_back({"EXT USAGE",
                 {c.extended_key_usage ? esc(join(*c.extended_key_usage, ", "))
                                       : "(no extension: any purpose allowed)"}});
  out.push_back({"SHA-256", {esc(c.sha256_fingerprint)}});
}

void add_chain(const IdentityFacts& f, Sections& out) {
  const CertificateFacts& c = *f.leaf;
  Section chain{"CHAIN", {}};
  if (c.self_signed) chain.lines.push_back("self-signed: the certificate is its own root");
  if (f.chain.empty()) {
    if (!c.self_signed) chain.lines.push_back("no chain certificates carried");
  } else {
    chain.lines.push_back(
        fmt::format("{} carried:", plural(static_cast<long>(f.chain.size()), "certificate")));
    for (const ChainEntry& e : f.chain) {
      chain.lines.push_back(fmt::format("  {} (issued by {}){}", esc(e.cert.summary.subject),
                                        esc(e.cert.summary.issuer),
                                        e.in_path ? "" : "  <- not in the chain"));
    }
  }
  if (!c.self_signed) {
    if (f.chain_reaches_root) {
      chain.lines.push_back(fmt::format("links up to the root {}", esc(f.chain_end.value_or(""))));
    } else if (f.leaf_issuer_carried) {
      chain.lines.push_back(fmt::format("ends at {}; its issuer is not carried (the server must have it)",
                                        esc(f.chain_end.value_or(""))));
    } else {
      chain.lines.push_back(fmt::format("the issuer {} is not carried", esc(c.summary.issuer)));
    }
  }
  out.push_back(std::move(chain));
}

void add_verification(const VerificationFacts& v, Sections& out) {
  Section s{"VERIFY", {}};
  if (v.verified) {
    s.lines.push_back(fmt::format("verified to {} for client authentication (security level {})",
                                  esc(v.cacert), v.security_level));
  } else {
    std::string line =
        fmt::format("NOT verified to {}: {}", esc(v.cacert), esc(v.error.value_or("unknown error")));
    if (v.error_depth >= 0 && !v.error_subject.empty())
      line += fmt::format(" (at depth {}: {})", v.error_depth, esc(v.error_subject));
    s.lines.push_back(std::move(line));
  }
  out.push_back(std::move(s));
}

std::string token_flags(const TokenInfo& t) {
  std::string out = t.login_required ? "login required" : "no login needed";
  if (t.pin_locked) out += ", USER PIN LOCKED";
  if (t.pin_final_try) out += ", final PIN try";
  if (t.pin_count_low) out += ", a wrong PIN was given since the last login";
  return out;
}

std::string object_line(const TokenObject& o) {
  std::string line = fmt::format("  {} \"{}\"", o.object_class, esc(o.label));
  if (!o.id.empty()) line += " id " + pkcs11_id_hex(o.id);
  if (!o.key_type.empty()) line += " " + esc(o.key_type);
  if (o.can_sign == false) line += ", may not sign (CKA_SIGN false)";
  if (o.matches_uri) line += "  <- the URI";
  return line;
}

// The module, the tokens present (the one the URI names marked) and that token's objects.
void add_token(const TokenInspection& t, Sections& out) {
  const TokenSurvey& s = t.survey;
  Section m{"MODULE", {esc(s.module)}};
  if (!s.library_description.empty())
    m.lines.push_back(esc(s.library_description) + " (" + esc(s.library_manufacturer) + ")");
  out.push_back(std::move(m));
  Section tokens{"TOKENS", {}};
  for (size_t i = 0; i < s.tokens.size(); ++i) {
    const TokenInfo& k = s.tokens[i];
    const bool named = std::find(s.matching.begin(), s.matching.end(), i) != s.matching.end();
    tokens.lines.push_back(fmt::format("\"{}\" {} {}, serial {}, slot {}: {}{}", esc(k.label),
                                       esc(k.manufacturer), esc(k.model), esc(k.serial), k.slot_id,
                                       token_flags(k), named ? "  <- the URI" : ""));
  }
  if (s.tokens.empty()) tokens.lines.emplace_back("no token present");
  out.push_back(std::move(tokens));
  if (s.matching.size() != 1) return;
  Section objects{"OBJECTS", {}};
  objects.lines.emplace_back(s.logged_in ? "as seen after the login:"
                                         : "as seen without a login (public objects):");
  for (const TokenObject& o : s.objects) objects.lines.push_back(object_line(o));
  if (s.objects_truncated) objects.lines.emplace_back("  ... (more than 256 objects)");
  if (!s.mechanisms.empty()) {
    std::string mechs;
    for (const auto& x : s.mechanisms) mechs += (mechs.empty() ? "" : ", ") + x;
    objects.lines.push_back("signature mechanisms: " + mechs);
  }
  if (t.key)
    objects.lines.push_back("the key signed a test message (through " +
                            esc(t.key->backend == "engine" ? "libp11's pkcs11 engine" : t.key->backend) +
                            ")" + " and matches the certificate");
  out.push_back(std::move(objects));
}

// --check-revocation: per certificate, what the OCSP responder and the CRL say (list items, so that the
// label "REVOCATION", as wide as the column, stays apart from them).
void add_revocation(const RevocationFacts& r, Sections& out) {
  Section s{"REVOCATION", {}};
  for (const std::string& line : revocation_lines(r)) s.lines.push_back("  " + esc(line));
  if (r.certificates.empty()) s.lines.push_back("  nothing to check");
  out.push_back(std::move(s));
}

Sections sections_of(const IdentityFacts& f) {
  Sections out;
  out.push_back({"FORMAT",
                 {f.format == Format::pkcs12   ? "PKCS#12"
                  : f.format == Format::pkcs11 ? "PKCS#11 token"
                                               : "PEM"}});
  if (f.identity_error) add_identity(f, out);
  if (f.token) add_token(*f.token, out);
  if (f.pkcs12) add_pkcs12(*f.pkcs12, out);
  if (f.leaf) {
    add_certificate(f, out);
    add_chain(f, out);
  }
  if (f.verification) add_verification(*f.verification, out);
  if (f.revocation) add_revocation(*f.revocation, out);
  return out;
}

// The findings with their hints, then the notes about the command line.
std::string findings_text(const InspectResult& r, const TextStyle& style) {
  auto paint = [&](std::string_view color, std::string_view text) {
    return style.color ? fmt::format("{}{}{}", color, text, kReset) : std::string(text);
  };
  std::string out;
  if (!r.findings.empty()) out += '\n';
  for (const Finding& x : r.findings) {
    const bool err = x.severity == Severity::error;
    const std::string prefix = "  " + paint(err ? kRed : kYellow, err ? "error:" : "warning:") + " ";
    out += indented(fmt::format("[{}] {}", x.code, esc(x.message)), prefix, err ? 9 : 11);
    if (!x.hint.empty())
      out += indented(esc(x.hint), std::string(err ? 9 : 11, ' ') + "hint: ", err ? 15 : 17);
  }
  if (!r.warnings.empty()) out += '\n';
  for (const auto& w : r.warnings) out += indented(esc(w), "  " + paint(kYellow, "note:") + " ", 8);
  return out;
}

}  // namespace

std::string report_text(const InspectResult& r, const TextStyle& style) {
  const bool ok = r.usable();
  const std::string verdict = ok ? "✓ usable for client authentication (exit 0)"
                                 : fmt::format("✗ identity-error (exit {})", r.exit_code());
  std::string out = style.color ? fmt::format("{}{}{}", ok ? kGreen : kRed, verdict, kReset) : verdict;
  out += "  " + esc(r.facts.file) + '\n';
  out += indented(esc(summary(r)), "  ", 2);
  out += '\n';
  for (const Section& s : sections_of(r.facts)) out += render_section(s, style);
  out += findings_text(r, style);
  return out;
}

}  // namespace mtls_probe::inspect
