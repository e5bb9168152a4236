// The pure function at the heart of the tool: facts in, one verdict with evidence and hints out.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "mtls_probe/engine/facts.h"
#include "mtls_probe/diagnosis/verdict.h"

namespace mtls_probe {

struct Diagnosis {
  Verdict verdict = Verdict::ok;
  std::string summary;             // one sentence a person can act on
  std::vector<std::string> hints;  // concrete next steps, most useful first
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

struct ProbeResult {
  ProbeFacts facts;
  Diagnosis diagnosis;
};

}  // namespace mtls_probe
