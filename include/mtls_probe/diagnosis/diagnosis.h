// The pure function at the heart of the tool: facts in, one verdict with evidence and hints out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/diagnosis/verdict.h"

namespace mtls_probe {

// Whether something between us and the server ended our TLS connection and opened its own to the server (a
// TLS-inspecting proxy: Zscaler, Blue Coat, squid ssl-bump, mitmproxy; or a transparent device without a
// proxy configured), so that our client certificate went to it, not to the server. From the facts alone.
struct InterceptionAssessment {
  bool suspected = false;
  std::string issuer;                 // the issuer of the certificate we were shown (the inspecting CA)
  std::vector<std::string> evidence;  // one sentence each, strongest first
};

struct Diagnosis {
  Verdict verdict = Verdict::ok;
  std::string summary;             // one sentence a person can act on
  std::vector<std::string> hints;  // concrete next steps, most useful first
  InterceptionAssessment interception;  // evidence that the TLS peer was not the server
};

// No I/O, no clock, no globals: the same facts always give the same diagnosis.
Diagnosis diagnose(const ProbeFacts& facts);

// Would the strict clients (Java's JSSE, Go, .NET, GnuTLS, browsers, Apple's URLSession) have sent our
// certificate to this server? They send one only when its issuer (or a certificate of the chain sent with
// it) is among the CA names the server listed, or the list is empty. OpenSSL (curl, this probe) sends it
// regardless. nullopt: no certificate was asked for, or none configured.
std::optional<bool> other_clients_would_send(const ProbeFacts& facts);

// Why the server could not have verified the certificate we sent, from the facts alone (issuer not listed,
// expired, not yet valid, no clientAuth EKU): one phrase per reason, empty when none is known.
std::vector<std::string> unverifiable_certificate_evidence(const ProbeFacts& facts);

// The interception evidence in `facts` (diagnose() puts it in Diagnosis::interception).
InterceptionAssessment assess_interception(const ProbeFacts& facts);

// Whether the probe through a proxy shows signs that a direct probe of the same origin should be compared
// with (the front end then runs one, bounded, and records DirectPathFacts).
bool wants_direct_comparison(const ProbeFacts& facts);

struct ProbeResult {
  ProbeFacts facts;
  Diagnosis diagnosis;
};

}  // namespace mtls_probe
