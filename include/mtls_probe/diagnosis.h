// The pure function at the heart of the tool: facts in, one verdict with evidence and hints out.
#pragma once

#include <string>
#include <vector>

#include "mtls_probe/facts.h"
#include "mtls_probe/verdict.h"

namespace mtls_probe {

struct Diagnosis {
  Verdict verdict = Verdict::ok;
  std::string summary;             // one sentence a person can act on
  std::vector<std::string> hints;  // concrete next steps, most useful first
};

// No I/O, no clock, no globals: the same facts always give the same diagnosis.
Diagnosis diagnose(const ProbeFacts& facts);

struct ProbeResult {
  ProbeFacts facts;
  Diagnosis diagnosis;
};

}  // namespace mtls_probe
